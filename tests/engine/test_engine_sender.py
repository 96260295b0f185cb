"""The sender against the simulator over real HTTP: exactly-once, pipelining, the fault
matrix of the outcome taxonomy, pause/resume/cancel."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from cams_tui.api.models import Recipient, sender_list_json
from cams_tui.engine.events import BatchEvent, DoneEvent, Event, PlanEvent, ProgressEvent
from cams_tui.engine.journal import Journal
from cams_tui.engine.ratelimit import RateLimiter
from cams_tui.engine.sender import Sender
from cams_tui.engine.planning import sender_item
from cams_tui.simulator import Faults, Simulator, SimulatorConfig
from tests.support.engine import client, items, make_job, numbers


@pytest.fixture
async def sim() -> AsyncIterator[tuple[Simulator, str]]:
    simulator = Simulator(SimulatorConfig(rate=50, latency_ms=20, seed=7))
    async with simulator.serve(port=0) as url:
        yield simulator, url


def _mass_calls(simulator: Simulator) -> Counter[str]:
    return simulator.stats["SendChatappMassMessage"]


async def _send(
    journal: Journal, url: str, job_id: str, *, rate: float = 50, events: list[Event] | None = None, **kwargs: object
) -> DoneEvent:
    async with client(url, read_timeout=kwargs.pop("read_timeout", 30.0)) as cams:  # type: ignore[arg-type]
        sender = Sender(cams, journal, job_id, limiter=RateLimiter(rate), **kwargs)  # type: ignore[arg-type]
        if events is not None:
            sender.subscribe(events.append)
        return await sender.run()


def test_sender_items_are_the_sdk_sender_list() -> None:
    recipients = [Recipient(to="639171234567", template_params={"a": "ü x"}), Recipient(to="639171234568")]
    packed = "[" + ",".join(sender_item(r.to, r.template_params) for r in recipients) + "]"
    assert packed == sender_list_json(recipients)


async def test_every_recipient_accepted_exactly_once_with_requests_in_flight(
    sim: tuple[Simulator, str], tmp_path: Path
) -> None:
    simulator, url = sim
    simulator.config.latency_ms = 200
    events: list[Event] = []
    with Journal(tmp_path) as journal:
        job_id = make_job(journal, url, 2000, 100)
        started = time.monotonic()
        done = await _send(journal, url, job_id, rate=20, events=events)
        elapsed = time.monotonic() - started
        assert (done.state, done.ok, done.failed, done.unknown, done.pending) == ("done", 2000, 0, 0, 0)
        assert journal.job(job_id).state == "done"
    assert Counter(simulator.accepted.values()) == {1: 2000}
    assert set(simulator.accepted) == set(numbers(2000))
    # 20 requests of 200 ms one after another take 4 s; pipelined at 20/s about 1.2 s.
    assert elapsed < 2.5
    assert max(e.in_flight for e in events if isinstance(e, ProgressEvent)) >= 2
    assert isinstance(events[0], PlanEvent) and events[0].batches == 20
    assert isinstance(events[-1], DoneEvent)
    batches = [e for e in events if isinstance(e, BatchEvent)]
    assert sorted(e.index for e in batches) == list(range(20))
    assert all(e.group_message_id and e.request_id and e.http_status == 200 for e in batches)


async def test_throttled_requests_are_retried_and_the_rate_drops(sim: tuple[Simulator, str], tmp_path: Path) -> None:
    simulator, url = sim
    simulator.faults = Faults(burst=3)
    events: list[Event] = []
    with Journal(tmp_path) as journal:
        job_id = make_job(journal, url, 500, 100)
        done = await _send(journal, url, job_id, events=events)
        assert (done.ok, done.throttled) == (500, 3)
        assert sum(b.attempts for b in journal.batches(job_id)) == 5 + 3
    assert Counter(simulator.accepted.values()) == {1: 500}
    outcomes = [e.outcome for e in events if isinstance(e, BatchEvent)]
    assert outcomes.count("throttled") == 3 and outcomes.count("ok") == 5
    assert any(e.name == "rate" and e.reason == "throttled" for e in events)


@pytest.mark.parametrize(
    ("spec", "outcome", "accepted"),
    [
        ("5xx=1", "unknown", 0),
        ("5xx_after_accept=1", "unknown", 300),
        ("drop=1", "unknown", 300),
        ("slow=1,slow_ms=3000", "unknown", 300),
    ],
)
async def test_answers_lost_or_broken_are_unknown_and_never_resent(
    sim: tuple[Simulator, str], tmp_path: Path, spec: str, outcome: str, accepted: int
) -> None:
    simulator, url = sim
    simulator.faults = Faults.parse(spec)
    with Journal(tmp_path) as journal:
        job_id = make_job(journal, url, 300, 100)
        done = await _send(journal, url, job_id, read_timeout=0.5)
        assert (done.state, done.unknown, done.ok) == ("done", 300, 0)
        assert [b.state for b in journal.batches(job_id)] == [outcome] * 3
        simulator.faults = Faults()
        again = await _send(journal, url, job_id)  # a plain resume leaves unknown alone
        assert again.unknown == 300
    assert sum(_mass_calls(simulator).values()) == 3
    assert sum(simulator.accepted.values()) == accepted


async def test_resume_with_retry_unknown_resends_them(sim: tuple[Simulator, str], tmp_path: Path) -> None:
    simulator, url = sim
    simulator.faults = Faults.parse("5xx=1")
    with Journal(tmp_path) as journal:
        job_id = make_job(journal, url, 200, 100)
        assert (await _send(journal, url, job_id)).unknown == 200
        simulator.faults = Faults()
        done = await _send(journal, url, job_id, retry_unknown=True)
        assert (done.ok, done.unknown) == (200, 0)
    assert Counter(simulator.accepted.values()) == {1: 200}


async def test_a_refused_batch_fails_and_the_others_go_on(sim: tuple[Simulator, str], tmp_path: Path) -> None:
    simulator, url = sim
    bad = [sender_item(n, {"name": "Ana"}) for n in numbers(100, start=100)]  # order_id missing
    with Journal(tmp_path) as journal:
        job_id = make_job(journal, url, 300, 100, item_list=items(100) + bad + items(100, start=200))
        done = await _send(journal, url, job_id)
        assert (done.state, done.ok, done.failed) == ("done", 200, 100)
        failed = journal.batches(job_id)[1]
        assert failed.state == "failed" and failed.code == "InvalidParameter.TemplateParams"
        assert failed.attempts == 1 and failed.http_status == 400
    assert len(simulator.accepted) == 200


@pytest.mark.parametrize(
    ("spec", "code", "words"),
    [
        ("deny=1", "Ram.PermissionDeny", "cams:SendChatappMassMessage"),
        ("unsubscribed=1", "Product.Unsubscript", "activate it in the CAMS console"),
    ],
)
async def test_a_fatal_answer_stops_the_job_and_resume_completes_it(
    sim: tuple[Simulator, str], tmp_path: Path, spec: str, code: str, words: str
) -> None:
    simulator, url = sim
    simulator.config.latency_ms = 100
    simulator.faults = Faults.parse(spec)
    events: list[Event] = []
    with Journal(tmp_path) as journal:
        job_id = make_job(journal, url, 3000, 100)
        done = await _send(journal, url, job_id, rate=20, events=events, max_in_flight=4)
        assert (done.state, done.code, done.ok, done.pending) == ("stopped", code, 0, 3000)
        assert done.advice is not None and words in done.advice
        job = journal.job(job_id)
        assert (job.state, job.stop_code) == ("stopped", code)
        # Nothing starts after the first fatal answer: only what was already in flight.
        assert sum(_mass_calls(simulator).values()) <= 4
        simulator.faults = Faults()
        resumed = await _send(journal, url, job_id)
        assert (resumed.state, resumed.ok, resumed.pending) == ("done", 3000, 0)
        assert journal.job(job_id).stop_code is None
    assert Counter(simulator.accepted.values()) == {1: 3000}


async def test_an_unreachable_endpoint_is_retried_then_stops_the_job(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}"
    events: list[Event] = []
    with Journal(tmp_path) as journal:
        job_id = make_job(journal, url, 200, 100)
        done = await _send(journal, url, job_id, events=events, not_sent_backoff_s=(0.01,), unreachable_after_s=0)
        assert (done.state, done.code, done.pending) == ("stopped", "Unreachable", 200)
        assert "Check the endpoint" in (done.advice or "")
        assert [b.state for b in journal.batches(job_id)] == ["planned", "planned"]
    assert [e.outcome for e in events if isinstance(e, BatchEvent)] == ["not_sent"] * 6


async def test_pause_holds_new_requests_and_resume_finishes(sim: tuple[Simulator, str], tmp_path: Path) -> None:
    simulator, url = sim
    events: list[Event] = []
    with Journal(tmp_path) as journal:
        job_id = make_job(journal, url, 2000, 100)
        async with client(url) as cams:
            sender = Sender(cams, journal, job_id, limiter=RateLimiter(20), max_in_flight=2)
            sender.subscribe(events.append)

            def on_event(event: Event) -> None:
                if isinstance(event, BatchEvent) and event.index == 2:
                    sender.pause()

            sender.subscribe(on_event)
            task = asyncio.create_task(sender.run())
            while not sender.paused:
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.3)  # in-flight answers land
            settled = len([e for e in events if isinstance(e, BatchEvent)])
            await asyncio.sleep(0.5)
            assert len([e for e in events if isinstance(e, BatchEvent)]) == settled
            assert settled < 20
            sender.resume()
            done = await task
    assert done.ok == 2000
    assert [e.state for e in events if e.name == "state"] == ["paused", "running"]


async def test_cancel_lets_in_flight_finish_and_the_job_resumes(sim: tuple[Simulator, str], tmp_path: Path) -> None:
    simulator, url = sim
    with Journal(tmp_path) as journal:
        job_id = make_job(journal, url, 3000, 100)
        async with client(url) as cams:
            sender = Sender(cams, journal, job_id, limiter=RateLimiter(20))
            sender.subscribe(lambda e: sender.cancel() if isinstance(e, BatchEvent) and e.index == 3 else None)
            done = await sender.run()
        assert done.state == "interrupted" and 0 < done.pending < 3000
        assert done.unknown == 0  # every request in flight was answered within the grace time
        assert journal.job(job_id).state == "interrupted"
        resumed = await _send(journal, url, job_id)
        assert (resumed.state, resumed.ok) == ("done", 3000)
    assert Counter(simulator.accepted.values()) == {1: 3000}


async def test_cancel_gives_up_on_slow_answers_as_unknown(sim: tuple[Simulator, str], tmp_path: Path) -> None:
    simulator, url = sim
    simulator.faults = Faults.parse("slow=1,slow_ms=5000")
    with Journal(tmp_path) as journal:
        job_id = make_job(journal, url, 1000, 100)
        async with client(url) as cams:
            sender = Sender(cams, journal, job_id, limiter=RateLimiter(20), max_in_flight=3, cancel_grace_s=0.2)
            asyncio.get_running_loop().call_later(0.3, sender.cancel)
            started = time.monotonic()
            done = await sender.run()
        assert time.monotonic() - started < 2
        assert done.unknown > 0 and done.pending > 0 and done.state == "interrupted"
        unknown = [b for b in journal.batches(job_id) if b.state == "unknown"]
        assert all(b.code == "Interrupted" for b in unknown)
        simulator.faults = Faults()
        resumed = await _send(journal, url, job_id)
        assert resumed.unknown == done.unknown and resumed.pending == 0
    assert max(simulator.accepted.values()) == 1


async def test_query_placement_packs_batches_that_fit_a_url(sim: tuple[Simulator, str], tmp_path: Path) -> None:
    from cams_tui.api.client import Placement
    from cams_tui.api.models import MAX_RECIPIENTS_PER_REQUEST
    from cams_tui.engine.planning import plan_batches
    from tests.support.engine import OPTIONS

    simulator, url = sim
    async with client(url, placement=Placement.QUERY) as cams:
        batches = list(
            plan_batches(items(3000), OPTIONS, placement=Placement.QUERY, max_query_length=cams.max_query_length)
        )
        # ~80 encoded bytes a recipient: a 64 KiB URL holds several hundred, not 1,000.
        assert 1 < max(b.size for b in batches) < MAX_RECIPIENTS_PER_REQUEST
        assert sum(b.size for b in batches) == 3000
        for batch in batches:  # each one builds: its URL fits
            request = OPTIONS.with_recipients(json.loads(batch.sender_list))
            cams.build(request)
        with Journal(tmp_path) as journal:
            job_id = journal.create_job(options=OPTIONS, params={}, batches=batches, endpoint=url)
            done = await Sender(cams, journal, job_id, limiter=RateLimiter(50)).run()
    assert (done.ok, done.failed) == (3000, 0)
    assert Counter(simulator.accepted.values()) == {1: 3000}


def test_packing_closes_a_batch_exactly_at_the_budget() -> None:
    from cams_tui.api import signing
    from cams_tui.engine.planning import pack_batches

    entries = items(50)
    budget = len(signing.encode_component("[" + ",".join(entries[:7]) + "]"))
    batches = list(pack_batches(entries, max_encoded=budget))
    assert batches[0].size == 7
    assert sum(b.size for b in batches) == 50
    start = 0
    for batch in batches:  # every batch fits, and is full: its next entry would not fit
        assert len(signing.encode_component(batch.sender_list)) <= budget
        end = start + batch.size
        if end < len(entries):
            assert len(signing.encode_component("[" + ",".join(entries[start : end + 1]) + "]")) > budget
        start = end
    assert [b.size for b in pack_batches(entries, max_size=20)] == [20, 20, 10]


async def test_cancelling_the_task_running_the_sender_leaves_a_resumable_job(
    sim: tuple[Simulator, str], tmp_path: Path
) -> None:
    simulator, url = sim
    simulator.config.latency_ms = 200
    with Journal(tmp_path) as journal:
        job_id = make_job(journal, url, 2000, 100)
        async with client(url) as cams:
            task = asyncio.create_task(Sender(cams, journal, job_id, limiter=RateLimiter(20)).run())
            await asyncio.sleep(0.6)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        job = journal.job(job_id)
        assert job.state == "interrupted" and job.pending > 0
        assert "sending" not in {b.state for b in journal.batches(job_id)}
        done = await _send(journal, url, job_id)
        assert done.ok + done.unknown == 2000
    assert max(simulator.accepted.values()) == 1
