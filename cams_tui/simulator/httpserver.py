"""A small HTTP/1.1 server on asyncio streams and h11.

Keep-alive connections stay open for a long idle time (so a client's pooled connection is
not closed under it), request lines up to 1 MiB are accepted (a full SenderList in the query
string is ~130 KB), and a handler may ask for its answer to be delayed or for the
connection to be dropped without one.
"""

from __future__ import annotations

import asyncio
import contextlib
import http
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from email.utils import formatdate

import h11

MAX_HEAD_BYTES = 1024 * 1024 + 64 * 1024
"""Request line plus headers: a 1 MiB URL fits."""
MAX_BODY_BYTES = 4 * 1024 * 1024
IDLE_TIMEOUT_S = 120.0
_READ_CHUNK = 64 * 1024
SERVER_NAME = "cams-tui-simulator"


@dataclass(frozen=True)
class HttpRequest:
    """One complete request."""

    method: str
    target: str
    headers: list[tuple[str, str]]
    """Names lowercased, in arrival order."""
    body: bytes

    @property
    def path(self) -> str:
        """The target without its query string."""
        return self.target.partition("?")[0]

    @property
    def query_string(self) -> str:
        """The raw query string (may be empty)."""
        return self.target.partition("?")[2]

    def header(self, name: str) -> str | None:
        """The first value of a header, or ``None``."""
        return next((value for key, value in self.headers if key == name), None)


@dataclass
class HttpResponse:
    """What to answer, and how."""

    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    content_type: str = "application/json;charset=utf-8"
    delay_s: float = 0.0
    """Wait this long before answering."""
    drop: bool = False
    """Close the connection without answering (after ``delay_s``)."""


Handler = Callable[[HttpRequest], Awaitable[HttpResponse]]


class HttpServer:
    """Serves one handler on a TCP port until closed."""

    def __init__(self, handler: Handler, *, idle_timeout_s: float = IDLE_TIMEOUT_S) -> None:
        self._handler = handler
        self._idle_timeout_s = idle_timeout_s
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    async def start(self, host: str, port: int) -> tuple[str, int]:
        """Listen; returns the (host, port) actually bound."""
        self._server = await asyncio.start_server(self._on_connection, host, port, backlog=1024)
        bound = self._server.sockets[0].getsockname()
        return bound[0], bound[1]

    async def close(self) -> None:
        """Stop listening and close every open connection."""
        if self._server is not None:
            self._server.close()
        for task in list(self._connections):
            task.cancel()
        if self._connections:
            await asyncio.gather(*self._connections, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    async def _on_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            await self._serve(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, h11.LocalProtocolError):
            pass
        except asyncio.CancelledError:
            # Cancelled by close(); asyncio's stream protocol would report a cancelled
            # connection task as an unhandled error, so end it normally.
            pass
        finally:
            self._connections.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD_BYTES)
        while True:
            try:
                request = await self._read_request(conn, reader, writer)
            except h11.RemoteProtocolError as exc:
                await self._refuse(conn, writer, exc.error_status_hint, str(exc))
                return
            except _TooLarge:
                await self._refuse(conn, writer, 413, "request body too large")
                return
            if request is None:
                return
            response = await self._handler(request)
            if response.delay_s > 0:
                await asyncio.sleep(response.delay_s)
            if response.drop:
                return
            await self._write(conn, writer, response)
            if conn.our_state is not h11.DONE or conn.their_state is not h11.DONE:
                return
            conn.start_next_cycle()

    async def _read_request(
        self, conn: h11.Connection, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> HttpRequest | None:
        head: h11.Request | None = None
        body = bytearray()
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                if conn.they_are_waiting_for_100_continue:
                    writer.write(conn.send(h11.InformationalResponse(status_code=100, headers=[])) or b"")
                try:
                    data = await asyncio.wait_for(reader.read(_READ_CHUNK), self._idle_timeout_s)
                except TimeoutError:
                    return None
                conn.receive_data(data)
            elif isinstance(event, h11.Request):
                head = event
                length = _content_length(event)
                if length is not None and length > MAX_BODY_BYTES:
                    raise _TooLarge
            elif isinstance(event, h11.Data):
                body += event.data
                if len(body) > MAX_BODY_BYTES:
                    raise _TooLarge
            elif isinstance(event, h11.EndOfMessage):
                assert head is not None
                return HttpRequest(
                    method=head.method.decode("ascii"),
                    target=head.target.decode("ascii", errors="replace"),
                    headers=[(name.decode("ascii"), _decode(value)) for name, value in head.headers],
                    body=bytes(body),
                )
            else:  # ConnectionClosed, or PAUSED after a protocol switch we never accept
                return None

    async def _write(self, conn: h11.Connection, writer: asyncio.StreamWriter, response: HttpResponse) -> None:
        headers = [
            ("content-type", response.content_type),
            ("content-length", str(len(response.body))),
            ("date", formatdate(usegmt=True)),
            ("server", SERVER_NAME),
            *response.headers,
        ]
        reason = _reason(response.status)
        writer.write(conn.send(h11.Response(status_code=response.status, headers=headers, reason=reason)) or b"")
        writer.write(conn.send(h11.Data(data=response.body)) or b"")
        writer.write(conn.send(h11.EndOfMessage()) or b"")
        await writer.drain()

    async def _refuse(self, conn: h11.Connection, writer: asyncio.StreamWriter, status: int, why: str) -> None:
        if conn.our_state not in (h11.IDLE, h11.SEND_RESPONSE):
            return
        body = f"{status} {_reason(status).decode()}: {why}\n".encode()
        with contextlib.suppress(h11.LocalProtocolError, ConnectionError):
            await self._write(
                conn,
                writer,
                HttpResponse(status, body, [("connection", "close")], content_type="text/plain;charset=utf-8"),
            )


class _TooLarge(Exception):
    pass


def _content_length(request: h11.Request) -> int | None:
    for name, value in request.headers:
        if name == b"content-length":
            return int(value)
    return None


def _decode(value: bytes) -> str:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.decode("latin-1")


def _reason(status: int) -> bytes:
    try:
        return http.HTTPStatus(status).phrase.encode("ascii")
    except ValueError:
        return b""
