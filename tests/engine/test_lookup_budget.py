"""Lookups (ListChatappMessage) share the account's lookup budget: the canary, the failure-
spike watch, the lookups of unknowns and the delivery funnel of every sender of the account
are paced by one shared limiter of their own, against the simulator over real HTTP."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from cams_tui.delivery import fetch_records
from cams_tui.engine.canary import CanarySettings
from cams_tui.engine.journal import Journal
from cams_tui.engine.limiters.base import Limiter
from cams_tui.engine.limiters.factory import LIST_MESSAGES, account_usage, build_limiter
from cams_tui.engine.ratelimit import RateLimiter
from cams_tui.engine.reconcile import ReconcileSettings
from cams_tui.engine.run import JobRunner, RunOptions
from cams_tui.engine.sender import Sender
from cams_tui.simulator import SimulatorConfig
from tests.support.engine import CUST_SPACE_ID, LOOKUP_OPTIONS, OPTIONS, client, make_job
from tests.support.limiters import LoggingSimulator, busiest_window, lock_file_for

LOOKUP_RATE = 4.0


class ListingSimulator(LoggingSimulator):
    """The simulator, noting when each ListChatappMessage arrived too."""

    def __init__(self, config: SimulatorConfig) -> None:
        super().__init__(config)
        self.lookups: list[float] = []

    async def handle(self, request):  # type: ignore[no-untyped-def]
        if request.header("x-acs-action") == LIST_MESSAGES:
            self.lookups.append(time.monotonic())
        return await super().handle(request)


def _simulator() -> ListingSimulator:
    return ListingSimulator(SimulatorConfig(rate=100, latency_ms=5, seed=31, delivery_delay_s=(0.05, 0.1)))


async def _sent_groups(url: str, journal: Journal, batches: int) -> tuple[str, list[str]]:
    job_id = make_job(journal, url, batches * 10, 10, options=LOOKUP_OPTIONS)
    async with client(url) as cams:
        done = await Sender(cams, journal, job_id, limiter=RateLimiter(50)).run()
    assert done.ok == batches * 10
    return job_id, [b.group_message_id for b in journal.batches(job_id) if b.group_message_id]


async def test_two_senders_funnels_share_one_lookup_budget(tmp_path: Path) -> None:
    simulator = _simulator()
    async with simulator.serve(port=0) as url:
        with Journal(tmp_path / "journal") as journal:
            _job, groups = await _sent_groups(url, journal, 8)
        limiters = [
            build_limiter("host", LOOKUP_RATE, account="acct", data_dir=tmp_path, operation=LIST_MESSAGES)
            for _ in range(2)
        ]
        simulator.lookups.clear()

        async def funnel(limiter: Limiter) -> int:
            pages = 0
            async with client(url) as cams:
                async for _page in fetch_records(
                    cams, business_number=OPTIONS.from_, group_message_ids=groups,
                    cust_space_id=CUST_SPACE_ID, limiter=limiter,
                ):
                    pages += 1
            return pages

        pages = await asyncio.gather(*(funnel(limiter) for limiter in limiters))
        sharing = [limiter.sharing().senders for limiter in limiters]
        for limiter in limiters:
            await limiter.aclose()
    assert pages == [8, 8]
    assert len(simulator.lookups) == 16
    # Two funnels of one account at 4/s each would make 8 in a second without sharing.
    assert busiest_window(simulator.lookups) <= LOOKUP_RATE
    assert sharing == [2, 2]
    # The mass send's budget is another one: the lookups left it untouched.
    usage = await account_usage("host", account="acct", access_key_id=None, data_dir=tmp_path)
    assert usage.senders == 0


async def test_a_run_paces_its_canary_and_lookups_with_the_accounts_lookup_limiter(tmp_path: Path) -> None:
    simulator = _simulator()
    built: list[tuple[str, float]] = []

    def lookup_factory(rate: float) -> Limiter:
        built.append((LIST_MESSAGES, rate))
        return build_limiter("host", rate, account="acct", data_dir=tmp_path, operation=LIST_MESSAGES)

    async with simulator.serve(port=0) as url:
        with Journal(tmp_path / "journal") as journal:
            job_id = make_job(journal, url, 200, 10, options=LOOKUP_OPTIONS)
            canary = CanarySettings(size=50, poll_s=0.1, settle_timeout_s=20)
            journal.set_canary(job_id, {**canary.to_json(), "batches": 5, "verdict": None})
            # A competing sender of the same account takes lookup starts the whole time.
            other = build_limiter("host", LOOKUP_RATE, account="acct", data_dir=tmp_path, operation=LIST_MESSAGES)
            other_starts: list[float] = []
            stop = asyncio.Event()

            async def compete() -> None:
                while not stop.is_set():
                    permit = await other.acquire()
                    permit.started()
                    other_starts.append(time.monotonic())

            competitor = asyncio.create_task(compete())
            options = RunOptions(rate=50, lookup=ReconcileSettings(grace_s=0), lookup_rate=LOOKUP_RATE)
            async with client(url) as cams:
                runner = JobRunner(cams, journal, job_id, options, lookup_limiter_factory=lookup_factory)
                result = await runner.run()
            stop.set()
            await competitor
            await other.aclose()
    assert result.verdict is not None and result.verdict.healthy
    assert result.done.ok == 200
    # One lookup limiter per run, at the run's lookup rate, for the canary and the spike watch.
    assert built == [(LIST_MESSAGES, LOOKUP_RATE)]
    run_lookups = list(simulator.lookups)
    assert run_lookups, "the canary looked its statuses up"
    # The run's lookups and the competitor's starts together never exceed the account's rate.
    assert busiest_window(run_lookups + other_starts) <= LOOKUP_RATE
    # Closed when the run ended: no sender left on the account's lookup budget.
    usage = await account_usage(
        "host", account="acct", access_key_id=None, data_dir=tmp_path, operation=LIST_MESSAGES
    )
    assert usage.senders == 0


async def test_the_eta_counts_this_jobs_share_of_the_account(tmp_path: Path) -> None:
    from cams_tui.engine.events import ProgressEvent

    simulator = _simulator()
    async with simulator.serve(port=0) as url:
        with Journal(tmp_path / "journal") as journal:
            job_id = make_job(journal, url, 300, 10, options=LOOKUP_OPTIONS)
            other = build_limiter("host", 10, account="acct", data_dir=tmp_path)
            (await other.acquire()).started()  # another sender of the account, active now
            mine = build_limiter("host", 10, account="acct", data_dir=tmp_path)
            progress: list[ProgressEvent] = []
            async with client(url) as cams:
                sender = Sender(cams, journal, job_id, limiter=mine)
                sender.subscribe(lambda e: progress.append(e) if isinstance(e, ProgressEvent) else None)
                await sender.run()
            await mine.aclose()
            await other.aclose()
    shared = [p for p in progress if p.senders == 2 and p.pending and p.eta_s]
    assert shared, "progress was reported while two senders shared the account"
    for p in shared:
        # 10 recipients a call at this job's share (10 calls/s / 2), at most: never faster.
        assert p.eta_s >= p.pending / (10 * 5.0) - 0.05


async def test_a_run_whose_lookup_budget_cannot_be_reached_says_so_and_goes_on_alone_if_asked(
    tmp_path: Path,
) -> None:
    from cams_tui.engine.events import Event, LimiterEvent
    from cams_tui.engine.limiters.host import FILE_NAME
    from cams_tui.engine.run import RunHooks

    simulator = _simulator()
    # The host file exists (another sender used it), then another program holds it locked.
    first = build_limiter("host", LOOKUP_RATE, account="acct", data_dir=tmp_path, operation=LIST_MESSAGES)
    (await first.acquire()).started()
    await first.aclose()
    events: list[Event] = []

    def lookup_factory(rate: float) -> Limiter:
        return build_limiter("host", rate, account="acct", data_dir=tmp_path, operation=LIST_MESSAGES)

    async with simulator.serve(port=0) as url:
        with Journal(tmp_path / "journal") as journal:
            job_id = make_job(journal, url, 100, 10, options=LOOKUP_OPTIONS)
            canary = CanarySettings(size=20, poll_s=0.1, settle_timeout_s=20)
            journal.set_canary(job_id, {**canary.to_json(), "batches": 2, "verdict": None})
            holder = lock_file_for(tmp_path / FILE_NAME, 3.0)
            options = RunOptions(rate=50, lookup_rate=LOOKUP_RATE, local_when_unavailable=2)
            async with client(url) as cams:
                runner = JobRunner(cams, journal, job_id, options, RunHooks(event=events.append),
                                   lookup_limiter_factory=lookup_factory)
                result = await asyncio.wait_for(runner.run(), 20)
    holder.join()
    limiter_events = [e for e in events if isinstance(e, LimiterEvent)]
    assert [(e.operation, e.state) for e in limiter_events] == [
        (LIST_MESSAGES, "unavailable"), (LIST_MESSAGES, "local"),
    ]
    assert limiter_events[0].reason.startswith("lookups: ") and "cannot be used" in limiter_events[0].reason
    assert limiter_events[1].rate == LOOKUP_RATE / 2
    assert runner.local_senders == 2
    assert result.verdict is not None and result.verdict.healthy and result.done.ok == 100
