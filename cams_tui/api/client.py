"""An async CAMS client on one shared ``httpx.AsyncClient``.

Every operation is ``POST /`` signed with ACS3-HMAC-SHA256, and travels exactly as SDK 5.3.1
sends it: every parameter in the query string, an empty body. The one exception is
SendChatappMassMessage, whose parameters travel where the client's ``placement`` says: in
an ``application/x-www-form-urlencoded`` body (``Placement.BODY``, the default: the body is
covered by ``x-acs-content-sha256``, so full 1,000-recipient batches fit; older SDKs sent it
so) or in the query string (``Placement.QUERY``: URLs are kept within 64 KiB, so a full
SenderList does not fit and batches must shrink).

Connect and read timeouts are separate so that a failure is classified precisely: a
connection that never opened means the request was never sent (``not_sent``), an answer
that never came back means it may have been accepted (``unknown``). Two bounds hold for the
whole exchange whatever the server does: an overall deadline (connect, write and read
together: a server trickling its answer a byte at a time never trips the read timeout) and
a cap on the decompressed answer (a small gzip body may expand to gigabytes). Past either,
the outcome is ``unknown``.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
from pydantic import ValidationError

from cams_tui import __version__
from cams_tui.api import signing
from cams_tui.api.answers import (
    MAX_ANSWER_BYTES,
    RETRY_AFTER_HEADER,
    AnswerTooLarge,
    outcome_of,
    read_capped,
    retry_after_seconds,
)
from cams_tui.api.credentials import Credentials
from cams_tui.api.endpoints import (
    DEFAULT_ENDPOINT,
    DEFAULT_REGION,
    MAX_URL_LENGTH,
    EndpointError,
    Placement,
    endpoint_for_region,
    is_loopback_host,
    max_query_length,
    normalize_endpoint,
)
from cams_tui.api.errors import (
    SUCCESS_CODES,
    CamsApiError,
    CamsError,
    CamsTransportError,
    Outcome,
    missing_parameter,
)
from cams_tui.api.models import (
    API_VERSION,
    CamsRequest,
    CamsResponse,
    ListMessagesRequest,
    ListMessagesResponse,
    ListTemplatesRequest,
    ListTemplatesResponse,
    ListViberServicesRequest,
    ListViberServicesResponse,
    Page,
    SendMassMessageRequest,
    SendMassMessageResponse,
    SendMessageRequest,
    SendMessageResponse,
    TemplateDetail,
    TemplateDetailRequest,
    TemplateDetailResponse,
    TemplateSummary,
)

# The one operation whose parameters may travel in the body (see the module docstring).
BODY_PLACEABLE_ACTIONS = frozenset({SendMassMessageRequest.action})
_BODY_EXCERPT = 4096
# The longest a whole exchange may take (connect + write + read), in seconds.
DEFAULT_DEADLINE_S = 60.0

ResponseT = TypeVar("ResponseT", bound=CamsResponse)


class RequestTooLarge(ValueError):
    """The request's query string would exceed the URL length httpx accepts."""


@dataclass(frozen=True)
class RawReply:
    """A successful answer: the parsed JSON body and what came with it."""

    http_status: int
    data: dict[str, Any]
    headers: httpx.Headers
    latency_ms: float


class CamsClient:
    """Signs and sends CAMS requests; one method per operation.

    Use as an async context manager, or call :meth:`aclose` when done. Errors are raised as
    :class:`~cams_tui.api.errors.CamsError` whose ``outcome`` follows the taxonomy.
    """

    def __init__(
        self,
        credentials: Credentials,
        endpoint: str = DEFAULT_ENDPOINT,
        *,
        placement: Placement = Placement.BODY,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        deadline: float = DEFAULT_DEADLINE_S,
        max_answer_bytes: int = MAX_ANSWER_BYTES,
        max_connections: int = 32,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.time,
        nonce: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        self.endpoint = normalize_endpoint(endpoint)
        self.placement = Placement(placement)
        self._credentials = credentials
        self._clock = clock
        self._nonce = nonce
        self._deadline = deadline
        self._max_answer_bytes = max_answer_bytes
        self._host = urlsplit(self.endpoint).netloc
        self._url = self.endpoint + "/"
        self._user_agent = f"cams-tui/{__version__}"
        timeout = httpx.Timeout(connect=connect_timeout, read=read_timeout, write=read_timeout, pool=None)
        limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
        self._http = httpx.AsyncClient(
            timeout=timeout,
            limits=limits,
            transport=transport,
            verify=True,
            trust_env=False,
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        return (
            f"CamsClient(endpoint={self.endpoint!r}, placement={self.placement.value!r}, "
            f"credentials={self._credentials!r})"
        )

    @property
    def credentials(self) -> Credentials:
        """The credentials requests are signed with."""
        return self._credentials

    @property
    def max_query_length(self) -> int:
        """The longest encoded query string a request may carry in ``query`` placement."""
        return max_query_length(self.endpoint)

    async def __aenter__(self) -> CamsClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    # ------------------------------------------------------------------ building

    def placement_for(self, action: str) -> Placement:
        """Where ``action``'s parameters travel: the client's placement for a mass send,
        the query string (as the SDK sends them) for every other operation."""
        return self.placement if action in BODY_PLACEABLE_ACTIONS else Placement.QUERY

    def build(self, request: CamsRequest) -> httpx.Request:
        """Build the signed HTTP request for one operation, without sending it."""
        return self._build(request.action, request.to_params())

    def _build(self, action: str, params: dict[str, str]) -> httpx.Request:
        placement = self.placement_for(action)
        # The canonical query doubles as the wire encoding: one encoding pass, not two.
        encoded = signing.canonical_query(params)
        # The SDK's wire format writes spaces as "+", which every decoder accepts.
        wire = encoded.replace("%20", "+")
        headers = {
            "host": self._host,
            "x-acs-action": action,
            "x-acs-version": API_VERSION,
            "x-acs-date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self._clock())),
            "x-acs-signature-nonce": self._nonce(),
            "accept": "application/json",
        }
        extensions: dict[str, Any] = {}
        token = self._credentials.security_token
        if token:
            headers["x-acs-accesskey-id"] = self._credentials.access_key_id
            headers["x-acs-security-token"] = token
        if placement is Placement.QUERY:
            if len(wire) > self.max_query_length:
                raise RequestTooLarge(
                    f"{action}: the query string is {len(wire):,} bytes, over the "
                    f"{self.max_query_length:,} that fit in a URL; send fewer recipients per "
                    "request or use the 'body' parameter placement"
                )
            body = b""
            # The query reaches the request line through httpx's documented "target"
            # extension: as part of the URL, httpx would re-validate it character by
            # character in Python (~14 ms of CPU per 1,000 recipients), and its INFO log
            # line of each request would list every phone number of the batch.
            if wire:
                extensions["target"] = f"/?{wire}".encode("ascii")
            signed_query = encoded
        else:
            body = wire.encode("ascii")
            signed_query = ""
            headers["content-type"] = "application/x-www-form-urlencoded"
        payload_hash = signing.payload_sha256(body)
        headers["x-acs-content-sha256"] = payload_hash
        headers["authorization"] = signing.sign(
            method="POST",
            path="/",
            query=signed_query,
            headers=headers.items(),
            payload_hash=payload_hash,
            access_key_id=self._credentials.access_key_id,
            secret=self._credentials.reveal_secret(),
        )
        headers["user-agent"] = self._user_agent
        # Only the encodings _read_capped decodes within its cap.
        headers["accept-encoding"] = "gzip, deflate"
        return self._http.build_request("POST", self._url, headers=headers, content=body, extensions=extensions)

    # ------------------------------------------------------------------- sending

    async def call(self, request: CamsRequest) -> RawReply:
        """Send one request and return its answer, or raise a classified :class:`CamsError`."""
        action = request.action
        params = request.to_params()
        http_request = self._build(action, params)
        in_body = set(params) if self.placement_for(action) is Placement.BODY else set()
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self._deadline):
                response, text = await self._exchange(http_request)
        except TimeoutError:
            raise CamsTransportError(
                Outcome.UNKNOWN,
                f"no complete answer from {self.endpoint} within {self._deadline:g} s: "
                "the request may have been accepted",
                action=action,
                latency_ms=_elapsed_ms(started),
            ) from None
        except AnswerTooLarge:
            raise CamsTransportError(
                Outcome.UNKNOWN,
                f"the answer from {self.endpoint} exceeds {self._max_answer_bytes:,} bytes once "
                "decompressed: not read; the request may have been accepted",
                action=action,
                latency_ms=_elapsed_ms(started),
            ) from None
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol) as exc:
            raise CamsTransportError(
                Outcome.NOT_SENT,
                f"could not connect to {self.endpoint}: {type(exc).__name__} {exc}".strip(),
                action=action,
                latency_ms=_elapsed_ms(started),
            ) from None
        except httpx.TimeoutException as exc:
            raise CamsTransportError(
                Outcome.UNKNOWN,
                f"no answer from {self.endpoint} in time ({type(exc).__name__}): "
                "the request may have been accepted",
                action=action,
                latency_ms=_elapsed_ms(started),
            ) from None
        except httpx.HTTPError as exc:
            # A broken connection, or an answer that cannot be decoded (e.g. corrupt gzip):
            # either way the request left.
            raise CamsTransportError(
                Outcome.UNKNOWN,
                f"the exchange with {self.endpoint} failed after the request was sent "
                f"({type(exc).__name__}): it may have been accepted",
                action=action,
                latency_ms=_elapsed_ms(started),
            ) from None
        latency = _elapsed_ms(started)
        return self._interpret(action, response, text, latency, in_body)

    async def _exchange(self, http_request: httpx.Request) -> tuple[httpx.Response, str]:
        """Send, then read the decompressed answer up to the cap (:class:`AnswerTooLarge`)."""
        response = await self._http.send(http_request, stream=True)
        try:
            body = await read_capped(response, self._max_answer_bytes)
        finally:
            await response.aclose()
        return response, body.decode(response.encoding or "utf-8", errors="replace")

    def _interpret(
        self,
        action: str,
        response: httpx.Response,
        text: str,
        latency_ms: float,
        in_body: set[str] | frozenset[str] = frozenset(),
    ) -> RawReply:
        status = response.status_code
        token = self._credentials.security_token
        if token and token in text:
            # A gateway that quotes the request back (a proxy's error page, a debug echo)
            # would otherwise carry the STS token into messages, logs and the journal.
            text = text.replace(token, "***")
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            data = None
        code = str(data.get("Code") or data.get("code") or "") if data else ""
        request_id = (data.get("RequestId") or data.get("requestId")) if data else None
        retry_after = retry_after_seconds(response.headers)
        if status == 200 and code in SUCCESS_CODES:
            return RawReply(status, data, response.headers, latency_ms)
        outcome = outcome_of(status, code, retry_after)
        # "MissingSenderList" for a SenderList that was in the body: the gateway did not read
        # the body. Nothing was sent, and no batch will fare better: the job must stop.
        body_ignored = outcome is Outcome.FAILED and missing_parameter(code) in in_body
        if body_ignored:
            outcome = Outcome.FATAL
        message = ""
        if data:
            message = str(data.get("Message") or data.get("message") or "")
        if not message:
            message = f"HTTP {status} {response.reason_phrase}".strip()
        raise CamsApiError(
            outcome,
            message,
            action=action,
            http_status=status,
            code=code or None,
            request_id=request_id,
            retry_after_s=retry_after,
            recommend=(data or {}).get("Recommend"),
            access_denied_detail=_text_or_none((data or {}).get("AccessDeniedDetail")),
            latency_ms=latency_ms,
            body=text[:_BODY_EXCERPT],
            body_ignored=body_ignored,
        )

    async def _typed(self, request: CamsRequest, model: type[ResponseT]) -> ResponseT:
        reply = await self.call(request)
        try:
            result = model.model_validate(reply.data)
        except ValidationError as exc:
            # CAMS said OK, so the request was accepted; but an answer we cannot read must not
            # be recorded as a refusal (a refusal may be retried): it is unknown.
            raise CamsApiError(
                Outcome.UNKNOWN,
                f"CAMS answered OK in a form cams-tui does not understand: {exc.errors()[0]['msg']}",
                action=request.action,
                http_status=reply.http_status,
                code=str(reply.data.get("Code") or "OK"),
                request_id=_text_or_none(reply.data.get("RequestId")),
                latency_ms=reply.latency_ms,
            ) from None
        result.http_status = reply.http_status
        result.latency_ms = reply.latency_ms
        return result

    # ---------------------------------------------------------------- operations

    async def send_mass_message(self, request: SendMassMessageRequest) -> SendMassMessageResponse:
        """SendChatappMassMessage: one template to up to 1,000 numbers.

        ``ok`` needs evidence: an accepting answer without a GroupMessageId or a RequestId
        raises ``unknown`` (the batch may be queued, but nothing could look it up)."""
        response = await self._typed(request, SendMassMessageResponse)
        missing = [
            name
            for name, value in (("GroupMessageId", response.group_message_id), ("RequestId", response.request_id))
            if not value
        ]
        if missing:
            raise CamsApiError(
                Outcome.UNKNOWN,
                f"CAMS answered {response.code} without a {' or a '.join(missing)}: the batch may have "
                "been accepted, but there is no evidence of it",
                action=request.action,
                http_status=response.http_status,
                code=response.code,
                request_id=response.request_id or None,
                latency_ms=response.latency_ms,
            )
        return response

    async def send_message(self, request: SendMessageRequest) -> SendMessageResponse:
        """SendChatappMessage: one template to one number (the test send)."""
        return await self._typed(request, SendMessageResponse)

    async def list_templates(self, request: ListTemplatesRequest | None = None) -> ListTemplatesResponse:
        """One page of ListChatappTemplate (approved Viber templates by default)."""
        return await self._typed(request or ListTemplatesRequest(), ListTemplatesResponse)

    async def list_all_templates(
        self,
        *,
        cust_space_id: str | None = None,
        audit_status: str | None = "pass",
        page_size: int = 50,
        max_pages: int = 100,
        on_page: Callable[[int, int], None] | None = None,
    ) -> list[TemplateSummary]:
        """Every Viber template with ``audit_status`` (``None``: every status), page after
        page; ``on_page(listed, total)`` is told after each page."""
        templates: list[TemplateSummary] = []
        for index in range(1, max_pages + 1):
            page = await self.list_templates(
                ListTemplatesRequest(
                    audit_status=audit_status, page=Page(index=index, size=page_size), cust_space_id=cust_space_id
                )
            )
            templates.extend(page.list_template)
            if on_page is not None:
                on_page(len(templates), page.total)
            if not page.list_template or len(templates) >= page.total:
                break
        return templates

    async def template_detail(
        self, template_code: str, language: str, *, cust_space_id: str | None = None
    ) -> TemplateDetail:
        """GetChatappTemplateDetail: a template's components and examples."""
        reply = await self._typed(
            TemplateDetailRequest(template_code=template_code, language=language, cust_space_id=cust_space_id),
            TemplateDetailResponse,
        )
        if reply.data is None:
            raise CamsApiError(
                Outcome.FAILED,
                f"CAMS returned no detail for template {template_code} ({language})",
                action=TemplateDetailRequest.action,
                http_status=reply.http_status,
                code="DetailError.TemplateNotExist",
                request_id=reply.request_id,
            )
        return reply.data

    async def list_viber_services(self, *, cust_space_id: str | None = None) -> ListViberServicesResponse:
        """ListViberServiceMessage: the Service IDs usable as ``From``."""
        return await self._typed(ListViberServicesRequest(cust_space_id=cust_space_id), ListViberServicesResponse)

    async def list_messages(self, request: ListMessagesRequest) -> ListMessagesResponse:
        """ListChatappMessage: one page of per-recipient message records."""
        return await self._typed(request, ListMessagesResponse)


def _elapsed_ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


def _text_or_none(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else json.dumps(value)


__all__ = [
    "DEFAULT_ENDPOINT",
    "DEFAULT_REGION",
    "MAX_ANSWER_BYTES",
    "MAX_URL_LENGTH",
    "RETRY_AFTER_HEADER",
    "AnswerTooLarge",
    "CamsClient",
    "CamsError",
    "EndpointError",
    "Placement",
    "RawReply",
    "RequestTooLarge",
    "endpoint_for_region",
    "is_loopback_host",
    "max_query_length",
    "normalize_endpoint",
]
