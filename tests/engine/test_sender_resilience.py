"""The sender against servers that misbehave for a long time, over real loopback HTTP:
endless throttling stops the job (resumable) instead of retrying forever, and a server
restarted within seconds is waited for rather than declared unreachable."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from pathlib import Path

from cams_tui.engine.events import BatchEvent, Event
from cams_tui.engine.journal import Journal
from cams_tui.engine.ratelimit import RateLimiter
from cams_tui.engine.sender import THROTTLED_TOO_LONG, Sender
from cams_tui.simulator import Faults, Simulator, SimulatorConfig
from cams_tui.simulator.httpserver import HttpServer
from tests.support.engine import client, make_job, numbers
from tests.support.loopback import loopback_server


async def _throttling_503(writer: asyncio.StreamWriter) -> None:
    body = json.dumps({"Code": "Throttling", "Message": "Request was denied due to request throttling.",
                       "RequestId": "R-1"}).encode()
    writer.write(
        b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n"
        + f"content-length: {len(body)}\r\nconnection: close\r\n\r\n".encode()
        + body
    )
    await writer.drain()


async def test_a_server_throttling_every_call_with_503_stops_the_job_resumable(tmp_path: Path) -> None:
    events: list[Event] = []
    with Journal(tmp_path) as journal:
        async with loopback_server(_throttling_503) as url:
            job_id = make_job(journal, url, 300, 100)
            async with client(url) as cams:
                sender = Sender(cams, journal, job_id, limiter=RateLimiter(50), throttle_ceiling_s=1.5)
                sender.subscribe(events.append)
                started = time.monotonic()
                done = await asyncio.wait_for(sender.run(), 30)
                elapsed = time.monotonic() - started
        assert (done.state, done.code, done.ok, done.unknown, done.pending) == ("stopped", THROTTLED_TOO_LONG, 0, 0, 300)
        assert "rate limit" in (done.advice or "") and "resume" in (done.advice or "")
        # Bounded: the ceiling plus the last pauses the server asked for, not forever.
        assert 1.5 <= elapsed < 15
        job = journal.job(job_id)
        assert job.state == "stopped" and job.pending == 300
        # Throttled means not sent: every batch is planned again, nothing unknown.
        assert {b.state for b in journal.batches(job_id)} == {"planned"}
    outcomes = {e.outcome for e in events if isinstance(e, BatchEvent)}
    assert outcomes == {"throttled"}


async def test_endless_limit_control_stops_then_a_resume_sends_each_recipient_once(tmp_path: Path) -> None:
    simulator = Simulator(SimulatorConfig(rate=50, latency_ms=5, seed=3))
    simulator.faults = Faults(throttle=1.0)
    async with simulator.serve(port=0) as url:
        with Journal(tmp_path) as journal:
            job_id = make_job(journal, url, 300, 100)
            async with client(url) as cams:
                done = await asyncio.wait_for(
                    Sender(cams, journal, job_id, limiter=RateLimiter(50), throttle_ceiling_s=1.0).run(), 30
                )
                assert (done.state, done.code, done.pending) == ("stopped", THROTTLED_TOO_LONG, 300)
                assert not simulator.accepted
                simulator.faults = Faults()
                again = await Sender(cams, journal, job_id, limiter=RateLimiter(50), throttle_ceiling_s=1.0).run()
            assert (again.state, again.ok, again.pending) == ("done", 300, 0)
    assert Counter(simulator.accepted.values()) == {1: 300}


async def test_throttles_between_accepted_batches_never_reach_the_ceiling(tmp_path: Path) -> None:
    simulator = Simulator(SimulatorConfig(rate=50, latency_ms=5, seed=5))
    simulator.faults = Faults(throttle=0.5, seed=5)
    async with simulator.serve(port=0) as url:
        with Journal(tmp_path) as journal:
            job_id = make_job(journal, url, 1500, 100)
            async with client(url) as cams:
                done = await Sender(cams, journal, job_id, limiter=RateLimiter(50), throttle_ceiling_s=1.0).run()
            assert (done.state, done.ok) == ("done", 1500)
            assert done.throttled > 0
    assert Counter(simulator.accepted.values()) == {1: 1500}


async def test_a_server_restarted_mid_send_is_waited_for_and_each_recipient_sent_once(tmp_path: Path) -> None:
    simulator = Simulator(SimulatorConfig(rate=50, latency_ms=5, seed=11))
    server = HttpServer(simulator.handle)
    host, port = await server.start("127.0.0.1", 0)
    url = f"http://{host}:{port}"
    events: list[Event] = []
    restarts: list[asyncio.Task[None]] = []
    up: list[float] = []

    async def restart() -> None:
        nonlocal server
        await server.close()  # every connection closed, new ones refused
        await asyncio.sleep(1.5)
        server = HttpServer(simulator.handle)
        await server.start("127.0.0.1", port)
        up.append(time.monotonic())

    def on_event(event: Event) -> None:
        # Stopped between requests (none in flight, the next one paced later), so nothing
        # that left is cut: the restart is seen as refused connections only.
        if (
            isinstance(event, BatchEvent)
            and event.outcome == "ok"
            and not restarts
            and len(simulator.accepted) >= 300
            and sender.progress().in_flight == 0
        ):
            restarts.append(asyncio.ensure_future(restart()))

    try:
        with Journal(tmp_path) as journal:
            job_id = make_job(journal, url, 1000, 50)
            async with client(url) as cams:
                sender = Sender(cams, journal, job_id, limiter=RateLimiter(5), max_in_flight=4)
                sender.subscribe(events.append)
                sender.subscribe(on_event)
                done = await asyncio.wait_for(sender.run(), 60)
            assert (done.state, done.ok, done.failed, done.unknown, done.pending) == ("done", 1000, 0, 0, 0)
            assert journal.job(job_id).state == "done"
        await restarts[0]
    finally:
        await server.close()
    refused = [e for e in events if isinstance(e, BatchEvent) and e.outcome == "not_sent"]
    # The restart was seen (more refused connections than used to stop the job), and survived.
    assert len(refused) >= 6 and up
    assert Counter(simulator.accepted.values()) == {1: 1000}
    assert set(simulator.accepted) == set(numbers(1000))
