"""Reconciliation of unknown batches against the simulator over real HTTP: found → ok with
the evidence, never sent → not sent (verified) after the grace period, records later than
the grace period → still unknown, never wrongly "not sent"."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from cams_tui.engine.journal import BatchState, Journal
from cams_tui.engine.ratelimit import RateLimiter
from cams_tui.engine.reconcile import ReconcileSettings, Reconciler
from cams_tui.engine.sender import Sender
from cams_tui.simulator import Faults, Simulator, SimulatorConfig
from tests.support.engine import LOOKUP_OPTIONS, client, make_job


@pytest.fixture
async def sim() -> AsyncIterator[tuple[Simulator, str]]:
    simulator = Simulator(SimulatorConfig(rate=50, latency_ms=5, seed=11))
    async with simulator.serve(port=0) as url:
        yield simulator, url


async def _send(journal: Journal, url: str, job_id: str, **kwargs: object) -> None:
    async with client(url) as cams:
        await Sender(cams, journal, job_id, limiter=RateLimiter(50), **kwargs).run()  # type: ignore[arg-type]


async def _reconcile(journal: Journal, url: str, job_id: str, **settings: object):  # type: ignore[no-untyped-def]
    async with client(url) as cams:
        return await Reconciler(cams, journal, job_id, ReconcileSettings(**settings)).run()  # type: ignore[arg-type]


def _numbers(journal: Journal, job_id: str, index: int) -> list[str]:
    return [item["To"] for item in json.loads(journal.sender_list(job_id, index))]


async def test_lost_answers_are_found_and_become_ok_with_evidence(sim: tuple[Simulator, str], tmp_path: Path) -> None:
    simulator, url = sim
    simulator.config.record_delay_s = 0.3
    with Journal(tmp_path) as journal:
        job_id = make_job(journal, url, 1000, 100, options=LOOKUP_OPTIONS)
        simulator.faults = Faults(drop=0.3, seed=4)
        await _send(journal, url, job_id)
        simulator.faults = Faults()
        unknown = journal.batches(job_id, [BatchState.UNKNOWN])
        assert unknown, "the fault left no unknown batch: change its seed"
        report = await _reconcile(journal, url, job_id, grace_s=1.0)
        assert report.count("ok") == len(unknown) and report.count("unknown") == 0
        # Found at the first look (after waiting out the record delay at most).
        assert report.lookups <= 2 * len(unknown)
        for batch in unknown:
            after = journal.batches(job_id)[batch.index]
            assert after.state == "ok" and after.reconciled_by == "lookup"
            assert after.evidence is not None and after.evidence["message_ids"]
            assert after.evidence["template_code"] == LOOKUP_OPTIONS.template_code
            assert set(_numbers(journal, job_id, batch.index)) >= {after.evidence["found_number"]}
        assert journal.job(job_id).counts.get("unknown", 0) == 0
    assert max(simulator.accepted.values()) == 1


async def test_a_batch_that_never_left_is_verified_not_sent_then_resent_once(
    sim: tuple[Simulator, str], tmp_path: Path
) -> None:
    simulator, url = sim
    with Journal(tmp_path) as journal:
        job_id = make_job(journal, url, 500, 100, options=LOOKUP_OPTIONS)
        # The process committed "sending" for batch 4, then died before the request left.
        journal.mark_sending(job_id, 4)
        await _send(journal, url, job_id)
        assert journal.batches(job_id)[4].state == "unknown"
        started = time.monotonic()
        report = await _reconcile(journal, url, job_id, grace_s=0.5)
        elapsed = time.monotonic() - started
        (resolution,) = report.resolutions
        assert resolution.state == "not_sent_verified", resolution.reason
        # One early look, the grace period waited out, three samples, one control.
        assert report.lookups == 1 + 3 + 1
        assert 0.3 <= elapsed < 5
        batch = journal.batches(job_id)[4]
        assert batch.state == "not_sent_verified" and batch.reconciled_by == "lookup"
        assert len(batch.evidence["checked"]) == 3 and "listed" in batch.evidence["control"]
        # Resending it needs the explicit choice; it is then accepted exactly once.
        await _send(journal, url, job_id)
        assert journal.batches(job_id)[4].state == "not_sent_verified"
        await _send(journal, url, job_id, resend_verified=True)
        assert journal.batches(job_id)[4].state == "ok"
    assert len(simulator.accepted) == 500 and max(simulator.accepted.values()) == 1


async def test_records_later_than_the_grace_period_leave_batches_unknown(
    sim: tuple[Simulator, str], tmp_path: Path
) -> None:
    simulator, url = sim
    simulator.config.record_delay_s = 30.0
    with Journal(tmp_path) as journal:
        job_id = make_job(journal, url, 800, 100, options=LOOKUP_OPTIONS)
        journal.mark_sending(job_id, 7)  # never left
        simulator.faults = Faults(drop=0.3, seed=4)  # accepted, answers lost
        await _send(journal, url, job_id)
        simulator.faults = Faults()
        unknown = journal.batches(job_id, [BatchState.UNKNOWN])
        assert len(unknown) >= 2
        time.sleep(0.4)
        report = await _reconcile(journal, url, job_id, grace_s=0.3)
        assert report.count("unknown") == len(unknown), [r.reason for r in report.resolutions]
        assert report.count("not_sent_verified") == 0
        assert "NOT listed" in report.control
        assert all(b.state == "unknown" for b in journal.batches(job_id, [BatchState.UNKNOWN]))
        assert len(journal.batches(job_id, [BatchState.UNKNOWN])) == len(unknown)


async def test_too_early_without_waiting_stays_unknown(sim: tuple[Simulator, str], tmp_path: Path) -> None:
    _, url = sim
    with Journal(tmp_path) as journal:
        job_id = make_job(journal, url, 200, 100, options=LOOKUP_OPTIONS)
        journal.mark_sending(job_id, 1)
        await _send(journal, url, job_id)
        report = await _reconcile(journal, url, job_id, grace_s=60.0, max_wait_s=0)
        (resolution,) = report.resolutions
        assert resolution.state == "unknown" and "too early" in resolution.reason
        assert report.lookups == 1


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="samples"):
        ReconcileSettings(samples=0)
    with pytest.raises(ValueError, match="lookup_rate"):
        ReconcileSettings(lookup_rate=0)
