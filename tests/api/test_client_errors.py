"""Every answer (or its absence) maps to the outcome DESIGN.md's taxonomy prescribes.

Answers come from ``httpx.MockTransport``; the connection failures that only a real socket
shows (refused, reset, silent server) come from loopback servers. Also here: request-model
validation, parameter placement and endpoint rules.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import socket
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
from pydantic import ValidationError

from cams_tui.api.client import (
    CamsClient,
    EndpointError,
    Placement,
    RequestTooLarge,
    normalize_endpoint,
)
from cams_tui.api.credentials import Credentials
from cams_tui.api.errors import CamsApiError, CamsError, CamsTransportError, Outcome
from cams_tui.api.models import (
    MAX_RECIPIENTS_PER_REQUEST,
    MassMessageOptions,
    Recipient,
    SendMassMessageRequest,
    SendMassMessageResponse,
)

ENDPOINT = "https://cams.ap-southeast-1.aliyuncs.com"
CREDENTIALS = Credentials("LTAI5tExampleKeyId", "example-secret")
OPTIONS = MassMessageOptions(template_code="tpl-1", language="en", from_="12345")

Handler = Callable[[httpx.Request], httpx.Response]


def batch(size: int) -> SendMassMessageRequest:
    """A request to ``size`` distinct numbers."""
    return OPTIONS.with_recipients(
        [Recipient(to=str(6591000000 + i), template_params={"name": f"n{i}"}) for i in range(size)]
    )


def gateway_error(code: str, message: str = "refused", **extra: Any) -> dict[str, Any]:
    """An error body shaped like the gateway's."""
    return {"RequestId": "req-42", "HostId": "cams.ap-southeast-1.aliyuncs.com", "Code": code, "Message": message, "Recommend": "https://api.aliyun.com/troubleshoot?q=" + code, **extra}


async def send_with(handler: Handler, size: int = 2, placement: Placement = Placement.BODY) -> SendMassMessageResponse:
    async with CamsClient(CREDENTIALS, ENDPOINT, placement=placement, transport=httpx.MockTransport(handler)) as client:
        return await client.send_mass_message(batch(size))


async def error_from(handler: Handler) -> CamsError:
    with pytest.raises(CamsError) as caught:
        await send_with(handler)
    return caught.value


def answer(status: int, body: Any = None, *, text: str | None = None, headers: dict[str, str] | None = None) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        if text is not None:
            return httpx.Response(status, text=text, headers=headers)
        return httpx.Response(status, json=body, headers=headers)

    return handler


# ------------------------------------------------------------------- success


async def test_ok_answer_gives_a_typed_response() -> None:
    response = await send_with(answer(200, {"RequestId": "req-1", "Code": "OK", "Message": "OK", "GroupMessageId": "g-9"}))
    assert response.code == "OK"
    assert response.group_message_id == "g-9"
    assert response.request_id == "req-1"
    assert response.http_status == 200
    assert response.latency_ms >= 0


# ------------------------------------------- every documented code, by outcome

# (code, the HTTP status the gateway sends it with, the outcome) for every code CAMS-API.md lists.
DOCUMENTED_CODES = [
    ("System.LimitControl", 400, Outcome.THROTTLED),
    ("Throttling", 400, Outcome.THROTTLED),
    ("Throttling.User", 400, Outcome.THROTTLED),
    ("Ram.PermissionDeny", 400, Outcome.FATAL),
    ("Product.Unsubscript", 400, Outcome.FATAL),
    ("Unknown.ResourceOwnerId", 400, Outcome.FATAL),
    ("InvalidAccessKeyId.NotFound", 404, Outcome.FATAL),
    ("SignatureDoesNotMatch", 400, Outcome.FATAL),
    ("IncompleteSignature", 400, Outcome.FATAL),
    ("Authentication.NoAuth", 400, Outcome.FATAL),
    ("InvalidParameter.PhoneNumberError", 400, Outcome.FAILED),
    ("InvalidParameter.FromOnlyNumeric", 400, Outcome.FAILED),
    ("InvalidParameter.LanguageNotSupport", 400, Outcome.FAILED),
    ("InvalidParameter.ChannelTypeNotSupport", 400, Outcome.FAILED),
    ("InvalidParameter.MessageInvalid", 400, Outcome.FAILED),
    ("DetailError.TemplateNotExist", 400, Outcome.FAILED),
    ("ServiceUnavailable", 503, Outcome.UNKNOWN),
]


@pytest.mark.parametrize(("code", "status", "outcome"), DOCUMENTED_CODES, ids=[c[0] for c in DOCUMENTED_CODES])
async def test_documented_code_maps_to_its_outcome(code: str, status: int, outcome: Outcome) -> None:
    error = await error_from(answer(status, gateway_error(code, AccessDeniedDetail={"AuthAction": "cams:SendChatappMassMessage"})))
    assert isinstance(error, CamsApiError)
    assert error.outcome is outcome
    assert error.code == code
    assert error.http_status == status
    assert error.request_id == "req-42"
    assert error.action == "SendChatappMassMessage"
    assert error.message == "refused"
    assert error.recommend and code in error.recommend
    assert error.access_denied_detail and "cams:SendChatappMassMessage" in error.access_denied_detail
    assert code in str(error) and f"HTTP {status}" in str(error) and "req-42" in str(error)
    if outcome is Outcome.FATAL:
        # A fatal error tells the operator what to do, in plain words.
        assert error.advice and len(error.advice) > 40
    if outcome is not Outcome.THROTTLED:
        assert error.retry_after_s is None


@pytest.mark.parametrize(
    ("code", "outcome"),
    [(c, o) for c, s, o in DOCUMENTED_CODES if s < 500] + [("SomeFutureError.Unheard", Outcome.FAILED)],
)
async def test_code_in_an_http_200_body_is_read_not_trusted(code: str, outcome: Outcome) -> None:
    """A business error may come as HTTP 200: the Code decides, never the status."""
    error = await error_from(answer(200, gateway_error(code)))
    assert error.outcome is outcome
    assert error.code == code
    assert error.http_status == 200


@pytest.mark.parametrize(
    ("code", "status", "outcome"),
    [
        (code, status, Outcome.THROTTLED)
        for code in ("InvalidParameter.MessageInvalid", "System.LimitControl", "ServiceUnavailable")
        for status in (200, 400, 429)
    ]
    + [
        # A 5xx may come after the messages were queued: a retry-after header does not make
        # it safe to resend, only a throttling code does.
        ("System.LimitControl", 503, Outcome.THROTTLED),
        ("InvalidParameter.MessageInvalid", 503, Outcome.UNKNOWN),
        ("ServiceUnavailable", 503, Outcome.UNKNOWN),
        # "OK" with another status is not an answer we can trust either way.
        ("OK", 400, Outcome.UNKNOWN),
        ("OK", 429, Outcome.THROTTLED),  # 429 is "too many requests" whatever the body says
        ("OK", 503, Outcome.UNKNOWN),
    ],
)
async def test_retry_after_header_means_throttled_unless_the_request_may_have_been_accepted(
    code: str, status: int, outcome: Outcome
) -> None:
    error = await error_from(answer(status, gateway_error(code), headers={"x-acs-retry-after": "1500"}))
    assert error.outcome is outcome
    assert error.retry_after_s == pytest.approx(1.5)


async def test_an_answer_without_a_code_is_unknown_even_with_http_200() -> None:
    error = await error_from(answer(200, {"error": "blocked by policy"}))
    assert error.outcome is Outcome.UNKNOWN


async def test_an_ok_answer_that_does_not_fit_the_model_is_unknown_not_failed() -> None:
    error = await error_from(answer(200, {"RequestId": "r", "Code": "OK", "GroupMessageId": {"x": 1}}))
    assert error.outcome is Outcome.UNKNOWN
    assert error.code == "OK" and error.request_id == "r"


async def test_throttling_exception_code_is_throttling() -> None:
    error = await error_from(answer(400, gateway_error("ThrottlingException")))
    assert error.outcome is Outcome.THROTTLED


async def test_retry_after_header_on_an_accepted_request_is_ignored() -> None:
    response = await send_with(
        answer(200, {"RequestId": "r", "Code": "OK", "GroupMessageId": "g"}, headers={"x-acs-retry-after": "10"})
    )
    assert response.group_message_id == "g"


async def test_throttling_code_without_header_has_no_delay() -> None:
    error = await error_from(answer(400, gateway_error("Throttling.User")))
    assert error.outcome is Outcome.THROTTLED
    assert error.retry_after_s is None


async def test_unparseable_retry_after_still_throttles_with_a_positive_delay() -> None:
    error = await error_from(answer(400, gateway_error("Throttling"), headers={"x-acs-retry-after": "soon"}))
    assert error.outcome is Outcome.THROTTLED
    assert error.retry_after_s is not None and error.retry_after_s > 0


async def test_429_without_code_is_throttled() -> None:
    error = await error_from(answer(429, text="Too Many Requests"))
    assert error.outcome is Outcome.THROTTLED


# ------------------------------------------------------ answers we cannot read


@pytest.mark.parametrize(
    ("status", "text"),
    [
        (500, '{"RequestId":"r","Code":"InternalError","Message":"boom"}'),
        (502, "<html><body>Bad Gateway</body></html>"),
        (503, ""),
        (504, "upstream timed out"),
        (200, "<html>captive portal</html>"),
        (200, '{"RequestId":"r","Code":"OK","GroupMe'),
        (200, '["not", "an", "object"]'),
        (200, ""),
    ],
    ids=["500-json", "502-html", "503-empty", "504-text", "200-html", "200-truncated", "200-list", "200-empty"],
)
async def test_server_errors_and_unreadable_200_are_unknown(status: int, text: str) -> None:
    """The request may have been accepted: never retried automatically."""
    error = await error_from(answer(status, text=text))
    assert isinstance(error, CamsApiError)
    assert error.outcome is Outcome.UNKNOWN
    assert error.http_status == status
    assert error.body == text
    assert str(error)  # a readable message even without a Code


async def test_long_unreadable_body_is_kept_as_an_excerpt() -> None:
    error = await error_from(answer(502, text="x" * 100_000))
    assert error.body is not None and 0 < len(error.body) < 10_000


# -------------------------------------------------- failures of the connection


@pytest.mark.parametrize(
    ("exception", "outcome"),
    [
        (httpx.ConnectError, Outcome.NOT_SENT),
        (httpx.ConnectTimeout, Outcome.NOT_SENT),
        (httpx.PoolTimeout, Outcome.NOT_SENT),
        (httpx.ReadTimeout, Outcome.UNKNOWN),
        (httpx.WriteTimeout, Outcome.UNKNOWN),
        (httpx.ReadError, Outcome.UNKNOWN),
        (httpx.WriteError, Outcome.UNKNOWN),
        (httpx.RemoteProtocolError, Outcome.UNKNOWN),
    ],
    ids=lambda v: v.__name__ if isinstance(v, type) else v.value,
)
async def test_transport_failure_maps_to_its_outcome(exception: type[httpx.TransportError], outcome: Outcome) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exception("[Errno 104] Connection reset by peer", request=request)

    error = await error_from(handler)
    assert isinstance(error, CamsTransportError)
    assert error.outcome is outcome
    assert error.http_status is None
    assert error.action == "SendChatappMassMessage"
    assert "cams.ap-southeast-1.aliyuncs.com" in error.message


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_real_refused_connection_is_not_sent() -> None:
    port = _free_port()  # nothing listens there any more
    async with CamsClient(CREDENTIALS, f"http://127.0.0.1:{port}", connect_timeout=2) as client:
        with pytest.raises(CamsTransportError) as caught:
            await client.send_mass_message(batch(1))
    assert caught.value.outcome is Outcome.NOT_SENT


async def _serve(on_request: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Any]) -> AsyncIterator[str]:
    server = await asyncio.start_server(on_request, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()
        await server.wait_closed()


async def _read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(
        (int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")),
        0,
    )
    return head + await reader.readexactly(length)


@pytest.fixture
async def closing_server() -> AsyncIterator[str]:
    """Reads the whole request, then drops the connection without a word."""

    async def on_request(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.transport.abort()

    async for url in _serve(on_request):
        yield url


@pytest.fixture
async def silent_server() -> AsyncIterator[str]:
    """Reads the whole request and never answers."""

    async def on_request(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        await reader.read()  # until the client gives up and closes
        writer.close()

    async for url in _serve(on_request):
        yield url


async def test_real_connection_dropped_after_the_request_is_unknown(closing_server: str) -> None:
    async with CamsClient(CREDENTIALS, closing_server) as client:
        with pytest.raises(CamsTransportError) as caught:
            await client.send_mass_message(batch(3))
    assert caught.value.outcome is Outcome.UNKNOWN
    assert "may have been accepted" in caught.value.message


async def test_real_read_timeout_after_the_request_is_unknown(silent_server: str) -> None:
    async with CamsClient(CREDENTIALS, silent_server, read_timeout=0.3) as client:
        with pytest.raises(CamsTransportError) as caught:
            await client.send_mass_message(batch(3))
    assert caught.value.outcome is Outcome.UNKNOWN
    assert "may have been accepted" in caught.value.message


# ------------------------------------------------------ request-model validation


@pytest.mark.parametrize(
    ("fields", "field_name"),
    [
        ({"ttl": 29}, "ttl"),
        ({"ttl": 1_209_601}, "ttl"),
        ({"fall_back_duration": 59}, "fall_back_duration"),
        ({"fall_back_duration": 43_201}, "fall_back_duration"),
        ({"fall_back_rule": "always"}, "fall_back_rule"),
        ({"label": "pormotion"}, "label"),
        ({"label": "marketing"}, "label"),
        ({"template_code": ""}, "template_code"),
        ({"from_": ""}, "from_"),
        ({"channel_type": "whatsapp"}, "channel_type"),
    ],
)
def test_out_of_range_options_are_refused_naming_the_field(fields: dict[str, Any], field_name: str) -> None:
    base: dict[str, Any] = {"template_code": "tpl", "language": "en", "from_": "12345"}
    with pytest.raises(ValidationError) as caught:
        MassMessageOptions(**{**base, **fields})
    assert [e["loc"][0] for e in caught.value.errors()] == [field_name]
    assert field_name in str(caught.value)


@pytest.mark.parametrize("ttl", [30, 1_209_600])
@pytest.mark.parametrize("duration", [60, 43_200])
def test_range_bounds_are_inclusive(ttl: int, duration: int) -> None:
    options = MassMessageOptions(template_code="t", language="en", from_="1", ttl=ttl, fall_back_duration=duration)
    assert options.to_params()["Ttl"] == str(ttl)
    assert options.to_params()["FallBackDuration"] == str(duration)


@pytest.mark.parametrize("number", ["+6591234567", "65912345ab", "6591 234567", "0659123456", "123456", "1234567890123456", ""])
def test_malformed_numbers_are_refused_naming_the_field(number: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Recipient(to=number)
    assert caught.value.errors()[0]["loc"] == ("to",)
    with pytest.raises(ValidationError) as caught:
        OPTIONS.with_recipients([Recipient(to="6591234567"), {"to": number}])  # type: ignore[list-item]
    assert caught.value.errors()[0]["loc"] == ("sender_list", 1, "to")
    assert "sender_list.1.to" in str(caught.value)


def test_more_than_1000_recipients_are_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        batch(MAX_RECIPIENTS_PER_REQUEST + 1)
    assert caught.value.errors()[0]["loc"] == ("sender_list",)
    assert "1000" in str(caught.value)
    assert len(batch(MAX_RECIPIENTS_PER_REQUEST).sender_list) == 1000


def test_an_empty_sender_list_is_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        OPTIONS.with_recipients([])
    assert caught.value.errors()[0]["loc"] == ("sender_list",)


# --------------------------------------------------------------- placement


def test_query_placement_refuses_a_full_batch() -> None:
    client = CamsClient(CREDENTIALS, ENDPOINT, placement=Placement.QUERY)
    with pytest.raises(RequestTooLarge) as caught:
        client.build(batch(1000))
    message = str(caught.value)
    assert "SendChatappMassMessage" in message and "fewer recipients" in message and "body" in message


def test_query_placement_fits_a_smaller_batch_in_the_url() -> None:
    client = CamsClient(CREDENTIALS, ENDPOINT, placement=Placement.QUERY)
    request = batch(200)
    built = client.build(request)
    assert built.content == b""
    # The request line's target, handed to httpx through its "target" extension.
    path, _, query = built.extensions["target"].decode("ascii").partition("?")
    assert path == "/"
    assert len(f"{ENDPOINT}/?{query}") <= 65_536
    assert dict(parse_qsl(query, keep_blank_values=True)) == request.to_params()
    assert built.headers["x-acs-content-sha256"] == hashlib.sha256(b"").hexdigest()


@pytest.fixture
async def recording_server() -> AsyncIterator[tuple[str, list[bytes]]]:
    """Answers OK and keeps every raw request it read."""
    seen: list[bytes] = []

    async def on_request(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(await _read_request(reader))
        body = b'{"RequestId":"r","Code":"OK","GroupMessageId":"g"}'
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\nconnection: close\r\n\r\n%s" % (len(body), body))
        await writer.drain()
        writer.close()

    async for url in _serve(on_request):
        yield url, seen


@pytest.mark.parametrize("placement", list(Placement))
async def test_parameters_reach_a_real_server(recording_server: tuple[str, list[bytes]], placement: Placement) -> None:
    url, seen = recording_server
    request = batch(300 if placement is Placement.QUERY else 1000)
    async with CamsClient(CREDENTIALS, url, placement=placement) as client:
        response = await client.send_mass_message(request)
    assert response.group_message_id == "g"
    (raw,) = seen
    head, _, body = raw.partition(b"\r\n\r\n")
    request_line = head.split(b"\r\n")[0].decode("ascii")
    method, target, version = request_line.split(" ")
    assert (method, version) == ("POST", "HTTP/1.1")
    path, _, query = target.partition("?")
    assert path == "/"
    sent = query if placement is Placement.QUERY else body.decode("ascii")
    assert dict(parse_qsl(sent, keep_blank_values=True)) == request.to_params()
    assert (query == "") is (placement is Placement.BODY)


async def test_body_placement_sends_a_full_batch_as_a_signed_form() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"RequestId": "r", "Code": "OK", "GroupMessageId": "g"})

    response = await send_with(handler, size=1000, placement=Placement.BODY)
    assert response.group_message_id == "g"
    (request,) = seen
    body = request.content
    assert request.method == "POST" and request.url.path == "/" and request.url.query == b""
    assert "target" not in request.extensions
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert request.headers["x-acs-content-sha256"] == hashlib.sha256(body).hexdigest()
    assert int(request.headers["content-length"]) == len(body)
    params = dict(parse_qsl(body.decode("ascii"), keep_blank_values=True))
    assert len(json.loads(params["SenderList"])) == 1000
    assert params == batch(1000).to_params()


# --------------------------------------------------------------- endpoints


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://cams.ap-southeast-1.aliyuncs.com", "https://cams.ap-southeast-1.aliyuncs.com"),
        ("https://cams.ap-southeast-1.aliyuncs.com/", "https://cams.ap-southeast-1.aliyuncs.com"),
        ("cams.ap-southeast-1.aliyuncs.com", "https://cams.ap-southeast-1.aliyuncs.com"),
        ("  https://example.com:8443  ", "https://example.com:8443"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://127.5.6.7:9", "http://127.5.6.7:9"),
        ("http://localhost:8080", "http://localhost:8080"),
        ("http://[::1]:8080", "http://[::1]:8080"),
    ],
)
def test_accepted_endpoints(given: str, expected: str) -> None:
    assert normalize_endpoint(given) == expected


@pytest.mark.parametrize(
    ("given", "words"),
    [
        ("", ["empty"]),
        ("   ", ["empty"]),
        ("http://cams.ap-southeast-1.aliyuncs.com", ["https", "loopback"]),
        ("http://10.0.0.5:8080", ["https", "loopback"]),
        ("http://0.0.0.0:8080", ["https", "loopback"]),
        ("http://127.0.0.1.example.com", ["https", "loopback"]),
        ("http://localhost.example.com", ["https", "loopback"]),
        ("ftp://cams.ap-southeast-1.aliyuncs.com", ["http(s)"]),
        ("https://cams.ap-southeast-1.aliyuncs.com/api", ["no path"]),
        ("https://cams.ap-southeast-1.aliyuncs.com/?a=1", ["no path"]),
        ("https://", ["http(s)"]),
    ],
)
def test_refused_endpoints_say_why(given: str, words: list[str]) -> None:
    with pytest.raises(EndpointError) as caught:
        normalize_endpoint(given)
    for word in words:
        assert word in str(caught.value)
    with pytest.raises(EndpointError):
        CamsClient(CREDENTIALS, given)


async def test_unreadable_4xx_is_unknown_as_the_taxonomy_says() -> None:
    error = await error_from(answer(403, text="<html>Forbidden by proxy</html>"))
    assert error.outcome is Outcome.UNKNOWN


async def test_an_answer_that_cannot_be_decoded_is_unknown() -> None:
    def corrupt_gzip(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"not gzip at all", headers={"content-encoding": "gzip"})

    error = await error_from(corrupt_gzip)
    assert error.outcome is Outcome.UNKNOWN


@pytest.mark.parametrize("key_id", ["LTAI\u00a0abc", "LTAIabc\n", "LTAIäbc"])
def test_credentials_with_unusable_characters_are_refused_in_plain_words(key_id: str) -> None:
    from cams_tui.api.credentials import Credentials, CredentialsError
    from cams_tui.errors import UserError

    with pytest.raises(CredentialsError, match="not plain printable ASCII") as caught:
        Credentials(key_id, "secret-value")
    assert isinstance(caught.value, UserError)
    assert "secret-value" not in str(caught.value)
