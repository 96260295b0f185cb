"""The client's bounds against real loopback servers: an overall deadline for the exchange
(a trickled answer never trips the read timeout) and a cap on the decompressed answer (a
gzip bomb). Past either, the outcome is ``unknown``: the request had left.

Each server listens on 127.0.0.1 only, answers a bounded number of bytes, and is closed by
the test.
"""

from __future__ import annotations

import asyncio
import time
import tracemalloc
import zlib

import pytest

from cams_tui.api.client import MAX_ANSWER_BYTES, CamsClient
from cams_tui.api.credentials import Credentials
from cams_tui.api.errors import CamsTransportError, Outcome
from cams_tui.api.models import MassMessageOptions, Recipient
from tests.support.loopback import loopback_server

CREDENTIALS = Credentials("LTAI5tExampleKeyId", "example-secret")
OPTIONS = MassMessageOptions(template_code="tpl-1", language="en", from_="12345")


async def send(url: str, **kwargs: float) -> CamsTransportError:
    async with CamsClient(CREDENTIALS, url, **kwargs) as client:  # type: ignore[arg-type]
        with pytest.raises(CamsTransportError) as caught:
            await client.send_mass_message(OPTIONS.with_recipients([Recipient(to="6591000001")]))
    return caught.value


async def test_a_trickled_answer_is_cut_at_the_overall_deadline() -> None:
    async def trickle(writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n")
        for _ in range(200):  # one byte every 0.05 s: at most 10 s, each byte well within the read timeout
            writer.write(b" ")
            await writer.drain()
            await asyncio.sleep(0.05)

    async with loopback_server(trickle) as url:
        started = time.monotonic()
        error = await send(url, deadline=1.0, read_timeout=5.0)
        elapsed = time.monotonic() - started
    assert error.outcome is Outcome.UNKNOWN
    assert "within 1 s" in error.message
    # The deadline ended it, not the trickle's end (10 s) nor any read timeout.
    assert elapsed < 8.0


async def test_a_gzip_bomb_is_not_decompressed_past_the_cap() -> None:
    expanded = 256 * 1024 * 1024
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # gzip framing
    block = bytes(1024 * 1024)
    bomb = b"".join(compressor.compress(block) for _ in range(expanded // len(block))) + compressor.flush()
    assert len(bomb) < 1024 * 1024

    async def gzip_answer(writer: asyncio.StreamWriter) -> None:
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
            + f"Content-Length: {len(bomb)}\r\n\r\n".encode()
        )
        writer.write(bomb)
        await writer.drain()

    async with loopback_server(gzip_answer) as url:
        tracemalloc.start()
        try:
            error = await send(url)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert error.outcome is Outcome.UNKNOWN
    assert f"{MAX_ANSWER_BYTES:,} bytes" in error.message
    # Decompressed up to the cap, never the 256 MiB.
    print(f"peak {peak:,} bytes")
    assert peak < 4 * MAX_ANSWER_BYTES, f"peak {peak:,} bytes"


async def test_an_answer_within_the_bounds_is_read() -> None:
    body = b'{"RequestId":"r-1","Code":"OK","GroupMessageId":"g-1"}'
    gzipped = zlib.compress(body, 9, wbits=31)

    async def fine(writer: asyncio.StreamWriter) -> None:
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
            + f"Content-Length: {len(gzipped)}\r\n\r\n".encode()
            + gzipped
        )
        await writer.drain()

    async with loopback_server(fine) as url:
        async with CamsClient(CREDENTIALS, url, deadline=5.0, max_answer_bytes=len(body)) as client:
            response = await client.send_mass_message(OPTIONS.with_recipients([Recipient(to="6591000001")]))
    assert response.group_message_id == "g-1"
