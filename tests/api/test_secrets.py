"""The AccessKey secret never leaves the HMAC: not in a repr, an error, a log line or a request.

Each place text can escape to is a *sink*: a function, sync or async, that exercises some
code with credentials holding :data:`SECRET` and yields ``(label, text)`` pairs of what that
code let out. Every sink is checked twice: its output must not contain the secret, and
while it runs nothing logged (any logger, DEBUG and up) or printed may contain it either.

To cover a new place (a journal, a config file, a screen), write one more function that
yields what it wrote, and decorate it with ``@sink``.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import inspect
import logging
import pickle
import traceback
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from typing import Any

import httpx
import pytest

from cams_tui.api.client import CamsClient, EndpointError, Placement
from cams_tui.api.credentials import Credentials
from cams_tui.api.errors import CamsError
from cams_tui.api.models import MassMessageOptions, Recipient, SendMassMessageRequest

SECRET = "S3cr3t-XYZZY-Never-Show"
TOKEN = "STS-T0ken-PLUGH-Never-Show"
KEY_ID = "LTAI5tVisibleKeyId"
ENDPOINT = "https://cams.ap-southeast-1.aliyuncs.com"

Leak = tuple[str, "str | bytes"]
Sink = Callable[[], "Iterable[Leak] | AsyncIterator[Leak]"]
SINKS: dict[str, Sink] = {}


def sink(function: Sink) -> Sink:
    """Register a place text escapes to; its name becomes the test id."""
    SINKS[function.__name__] = function
    return function


def credentials(sts: bool = False) -> Credentials:
    return Credentials(KEY_ID, SECRET, TOKEN if sts else None)


def request(size: int = 3) -> SendMassMessageRequest:
    return MassMessageOptions(template_code="tpl", language="en", from_="12345").with_recipients(
        [Recipient(to=str(6591000000 + i), template_params={"name": f"n{i}"}) for i in range(size)]
    )


def error_texts(label: str, error: BaseException) -> Iterator[Leak]:
    """Everything an exception may show: str, repr, fields, formatted traceback."""
    yield f"{label}: str", str(error)
    yield f"{label}: repr", repr(error)
    yield f"{label}: args", repr(error.args)
    yield f"{label}: traceback", "".join(traceback.format_exception(error))
    if isinstance(error, CamsError):
        yield f"{label}: fields", repr(vars(error))
        yield f"{label}: advice", error.advice or ""


def assert_hidden(label: str, text: str | bytes, *, token_allowed: bool = False) -> None:
    data = text.encode("utf-8", "replace") if isinstance(text, str) else text
    assert SECRET.encode() not in data, f"the AccessKey secret leaks through {label}"
    if not token_allowed:
        assert TOKEN.encode() not in data, f"the STS token leaks through {label}"


async def collect(function: Sink) -> list[Leak]:
    produced = function()
    if inspect.isasyncgen(produced):
        return [leak async for leak in produced]
    return list(produced)  # type: ignore[arg-type]


# -------------------------------------------------------------------------- sinks


@sink
def credential_reprs() -> Iterator[Leak]:
    for sts in (False, True):
        creds = credentials(sts)
        yield "repr(Credentials)", repr(creds)
        yield "str(Credentials)", str(creds)
        yield "f-string", f"{creds} {creds!r} {creds!s}"
        yield "masked_id", creds.masked_id
        yield "containers", repr({"creds": [creds, (creds,)]})
        yield "dir", repr(dir(creds))
    from_env = Credentials.from_env(
        {"ALIBABA_CLOUD_ACCESS_KEY_ID": KEY_ID, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": SECRET}
    )
    yield "repr(Credentials.from_env)", repr(from_env)


@sink
def client_reprs() -> Iterator[Leak]:
    for sts in (False, True):
        for placement in Placement:
            client = CamsClient(credentials(sts), ENDPOINT, placement=placement)
            yield "repr(CamsClient)", repr(client)
            yield "str(CamsClient)", str(client)
            yield "repr(CamsClient.credentials)", repr(client.credentials)


@sink
def pickling_attempts() -> Iterator[Leak]:
    """Pickling or copying credentials is refused, and the refusal does not quote them."""
    creds = credentials(sts=True)
    client = CamsClient(creds, ENDPOINT)
    attempts: list[tuple[str, Callable[[], object]]] = [
        ("pickle(Credentials)", lambda: pickle.dumps(creds)),
        ("pickle(Credentials, protocol 0)", lambda: pickle.dumps(creds, protocol=0)),
        ("pickle([Credentials])", lambda: pickle.dumps([creds])),
        ("pickle(CamsClient)", lambda: pickle.dumps(client)),
        ("copy(Credentials)", lambda: copy.copy(creds)),
        ("deepcopy(Credentials)", lambda: copy.deepcopy(creds)),
    ]
    for label, attempt in attempts:
        try:
            produced = attempt()
        except Exception as error:  # the refusal is what we expect; its text is checked
            yield from error_texts(label, error)
        else:
            assert not isinstance(produced, Credentials), f"{label} copied the credentials"
            yield label, produced if isinstance(produced, bytes) else repr(produced)


@sink
def constructor_errors() -> Iterator[Leak]:
    for label, build in [
        ("Credentials without ID", lambda: Credentials("", SECRET, TOKEN)),
        ("Credentials without secret", lambda: Credentials(KEY_ID, "", TOKEN)),
        ("CamsClient on plain http", lambda: CamsClient(credentials(True), "http://cams.example.com")),
        ("CamsClient on a bad URL", lambda: CamsClient(credentials(True), f"https://{SECRET[:4]}x/y")),
    ]:
        with pytest.raises((ValueError, EndpointError)) as caught:
            build()
        yield from error_texts(label, caught.value)


@sink
def built_requests() -> Iterator[Leak]:
    """On the wire only the HMAC depends on the secret; the token goes in its own header."""
    for sts in (False, True):
        for placement in Placement:
            built = CamsClient(credentials(sts), ENDPOINT, placement=placement).build(request())
            label = f"{placement.value} request, sts={sts}"
            yield f"{label}: url", str(built.url)
            yield f"{label}: request line target", built.extensions.get("target", b"")
            yield f"{label}: body", built.content
            for name, value in built.headers.items():
                if name == "x-acs-security-token":
                    assert value == TOKEN
                    continue
                yield f"{label}: header {name}", f"{name}: {value}"
            # Nor any simple derivative of it.
            for derived in (SECRET.lower(), hashlib.sha256(SECRET.encode()).hexdigest()):
                assert derived not in repr(built.headers.raw) + str(built.url)


def _mock_answers() -> list[tuple[str, Callable[[httpx.Request], httpx.Response]]]:
    def answer(status: int, **body: Any) -> Callable[[httpx.Request], httpx.Response]:
        return lambda r: httpx.Response(status, json={"RequestId": "r", **body})

    def echo(request: httpx.Request) -> httpx.Response:
        # A gateway that quotes the whole request back, as SignatureDoesNotMatch does with
        # its string to sign: what we sent holds nothing secret, so nothing leaks.
        return httpx.Response(
            400,
            json={
                "Code": "SignatureDoesNotMatch",
                "Message": f"{request.method} {request.url} {dict(request.headers)} {request.content!r}",
            },
        )

    def fail(exception: type[httpx.TransportError]) -> Callable[[httpx.Request], httpx.Response]:
        def handler(request: httpx.Request) -> httpx.Response:
            raise exception("connection trouble", request=request)

        return handler

    answers: list[tuple[str, Callable[[httpx.Request], httpx.Response]]] = [
        (code, answer(400, Code=code, Message="refused"))
        for code in (
            "System.LimitControl",
            "Throttling.User",
            "Ram.PermissionDeny",
            "Product.Unsubscript",
            "Unknown.ResourceOwnerId",
            "InvalidAccessKeyId.NotFound",
            "InvalidSecurityToken.Expired",
            "IncompleteSignature",
            "Authentication.NoAuth",
            "InvalidParameter.PhoneNumberError",
            "DetailError.TemplateNotExist",
        )
    ]
    answers += [
        ("echoing gateway", echo),
        ("HTTP 200 business error", answer(200, Code="InvalidParameter.MessageInvalid")),
        ("HTTP 503", lambda r: httpx.Response(503, text="<html>Service Unavailable</html>")),
        ("unreadable 200", lambda r: httpx.Response(200, text="{not json")),
        ("retry-after", lambda r: httpx.Response(400, json={"Code": "Throttling"}, headers={"x-acs-retry-after": "200"})),
    ]
    answers += [
        (exception.__name__, fail(exception))
        for exception in (httpx.ConnectError, httpx.ConnectTimeout, httpx.ReadTimeout, httpx.ReadError, httpx.RemoteProtocolError)
    ]
    return answers


@sink
async def errors_from_every_path() -> AsyncIterator[Leak]:
    for sts in (False, True):
        for label, handler in _mock_answers():
            async with CamsClient(credentials(sts), ENDPOINT, transport=httpx.MockTransport(handler)) as client:
                with pytest.raises(CamsError) as caught:
                    await client.send_mass_message(request())
                for leak in error_texts(f"{label}, sts={sts}", caught.value):
                    yield leak


@sink
async def real_loopback_exchanges() -> AsyncIterator[Leak]:
    """Real sockets, so that httpx and httpcore log what they really log."""
    answers = iter(
        [
            b'{"RequestId":"r1","Code":"OK","GroupMessageId":"g1"}',
            b'{"RequestId":"r2","Code":"SignatureDoesNotMatch","Message":"no"}',
        ]
    )

    async def on_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(int(l.split(b":")[1]) for l in head.split(b"\r\n") if l.lower().startswith(b"content-length"))
        await reader.readexactly(length)
        body = next(answers)
        status = b"200 OK" if b'"OK"' in body else b"400 Bad Request"
        writer.write(
            b"HTTP/1.1 " + status + b"\r\ncontent-type: application/json\r\n"
            b"content-length: " + str(len(body)).encode() + b"\r\nconnection: close\r\n\r\n" + body
        )
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(on_connection, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with CamsClient(credentials(True), f"http://127.0.0.1:{port}") as client:
            ok = await client.send_mass_message(request())
            yield "response", repr(ok)
            with pytest.raises(CamsError) as caught:
                await client.send_mass_message(request())
            for leak in error_texts("SignatureDoesNotMatch over loopback", caught.value):
                yield leak
    finally:
        server.close()
        await server.wait_closed()
    # Nothing listens on that port any more: a refused connection.
    async with CamsClient(credentials(True), f"http://127.0.0.1:{port}") as client:
        with pytest.raises(CamsError) as caught:
            await client.send_mass_message(request())
        for leak in error_texts("refused connection", caught.value):
            yield leak


# -------------------------------------------------------------------------- tests


@pytest.mark.parametrize("name", sorted(SINKS))
async def test_sink_hides_the_secret(name: str) -> None:
    leaks = await collect(SINKS[name])
    assert leaks, f"sink {name} produced nothing to check"
    for label, text in leaks:
        assert_hidden(f"{name}: {label}", text)


@pytest.mark.parametrize("name", sorted(SINKS))
async def test_logs_and_output_hide_the_secret(
    name: str, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)  # the root logger: httpx, httpcore, asyncio, ours
    for logger_name in ("httpx", "httpcore", "cams_tui"):
        caplog.set_level(logging.DEBUG, logger=logger_name)
    await collect(SINKS[name])
    for record in caplog.records:
        assert_hidden(f"log record from {record.name}", record.getMessage())
        assert_hidden(f"log record args from {record.name}", repr(record.args))
    assert_hidden("captured log text", caplog.text)
    out, err = capsys.readouterr()
    assert_hidden("stdout", out)
    assert_hidden("stderr", err)


async def test_http_logging_is_actually_captured(caplog: pytest.LogCaptureFixture) -> None:
    """The log check above means something only if httpx's records reach it."""
    caplog.set_level(logging.DEBUG)
    await collect(SINKS["real_loopback_exchanges"])
    names = {record.name.split(".")[0] for record in caplog.records}
    assert {"httpx", "httpcore"} <= names


def test_the_checks_can_fail() -> None:
    with pytest.raises(AssertionError):
        assert_hidden("a deliberate leak", f"key={SECRET}")
    with pytest.raises(AssertionError):
        assert_hidden("a deliberate leak", f"token={TOKEN}".encode())
