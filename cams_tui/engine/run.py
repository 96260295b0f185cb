"""One job's lifecycle, the same for the command line and the TUI.

A run goes through up to five stages, each recorded in the journal before the next starts:

0. **Scheduled** (when the job has a start time still ahead, :mod:`cams_tui.schedule`): the
   run waits for it, emitting a :class:`~cams_tui.engine.events.ScheduleEvent` about every
   second; :meth:`JobRunner.cancel` ends the wait with nothing sent (the job is left
   ``interrupted``, and a resume waits again). The start is read from the journal, so a job
   killed while waiting and resumed keeps its time.
1. **Canary** (when the job has one and no verdict yet): its batches alone, then their
   delivery judged (:mod:`cams_tui.engine.canary`). Unhealthy: the job stops with
   ``CanaryFailed`` and nothing more is sent. Healthy: ``hooks.canary_healthy`` decides how
   the rest starts (the command line may ask; the TUI starts it paused when asked to).
2. **The rest**, watched by a failure-spike detector when the job has a canary. What a spike
   does is the front end's choice (``hooks.spike``): the command line stops the job
   (:meth:`JobRunner.stop`), the TUI pauses it (:meth:`JobRunner.pause`).
3. **Its own unknowns looked up**, once every batch has an answer (``lookup`` settings given):
   a batch CAMS lists becomes ``ok``, one verifiably never accepted becomes
   ``not_sent_verified`` (:mod:`cams_tui.engine.reconcile`), the rest stays unknown.
4. **Verified batches resent** when ``resend_verified`` says so, then looked up again if
   any of those became unknown, for at most ``max_rounds`` rounds.

A run ends with one :class:`~cams_tui.engine.events.DoneEvent` whose counts are the job's,
read from the journal after the lookups: the stages' own ends are not the run's.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from cams_tui.api.endpoints import Placement
from cams_tui.engine.canary import (
    CANARY_FAILED,
    DEFAULT_THRESHOLD,
    CanarySettings,
    CanaryVerdict,
    SpikeDetector,
    judge_canary,
)
from cams_tui.engine.canary_slice import canary_indices
from cams_tui.engine.countdown import SCHEDULE_TICK_S, count_down
from cams_tui.engine.events import CanaryEvent, DoneEvent, Event, LimiterEvent, LookupEvent, StateEvent
from cams_tui.engine.journal import BatchState, JobState, Journal
from cams_tui.engine.lookup_summary import lookup_counts, lookup_text
from cams_tui.engine.pausable_limiter import PausableLimiter
from cams_tui.engine.planning import replan_for_placement
from cams_tui.engine.reconcile import Reconciler
from cams_tui.engine.run_controls import RunControls, process_limiter, process_lookup_limiter
from cams_tui.engine.run_options import DEFAULT_MAX_ROUNDS, RunHooks, RunOptions, RunResult
from cams_tui.engine.sender import Sender
from cams_tui.engine.window_gate import WindowGate
from cams_tui.schedule import JobSchedule, start_of, window_of

if TYPE_CHECKING:
    from cams_tui.delivery import Funnel

__all__ = [
    "DEFAULT_MAX_ROUNDS",
    "SCHEDULE_TICK_S",
    "JobRunner",
    "PausableLimiter",
    "RunHooks",
    "RunOptions",
    "RunResult",
    "WindowGate",
    "placement_for_run",
    "process_limiter",
    "process_lookup_limiter",
]


def placement_for_run(journal: Journal, job_id: str, profile: Placement, max_query_length: int) -> Placement:
    """Where a run of the job sends its parameters.

    A job is sent the way its batches were sized (a profile switched to ``body`` sends a
    query-sized job as it was planned), except that a body-sized job whose profile now says
    ``query`` (as the advice says after CAMS did not read a body) has its unsent batches
    re-planned to fit the URL, in one transaction, under the job's lock."""
    job = journal.job(job_id)
    if job.placement is Placement.BODY and profile is Placement.QUERY:
        with journal.lock_job(job_id):
            replan_for_placement(journal, job_id, Placement.QUERY, max_query_length)
        return Placement.QUERY
    return job.sent_placement(profile)


class JobRunner(RunControls):
    """Runs one journaled job through its stages (see the module docstring).

    Use from one event loop. :meth:`pause`, :meth:`resume`, :meth:`cancel` and :meth:`stop`
    act on whichever stage is running, and are remembered when called before it starts."""

    async def run(self) -> RunResult:
        """Run the job's stages; returns how it ended (also emitted as its DoneEvent)."""
        try:
            return await self._run()
        finally:
            lookups, self._lookup_limiter = self._lookup_limiter, None
            if lookups is not None:
                await lookups.aclose()

    async def _run(self) -> RunResult:
        self._started = time.monotonic()
        result = RunResult(done=self._job_done())
        if not await self._wait_for_start():
            self.journal.set_job_state(self.job_id, JobState.INTERRUPTED)
            return self._end(result, self._job_done())
        self._started = time.monotonic()  # the run's elapsed time is its sending, not its wait
        canary = self.journal.job(self.job_id).canary
        retry_unknown, resend_verified = self.options.retry_unknown, self.options.resend_verified
        if canary is not None and canary.get("verdict") is None:
            done = await self._send(
                only_batches=canary_indices(canary), retry_unknown=retry_unknown, resend_verified=resend_verified
            )
            if done.state == JobState.STOPPED.value or self._cancelled:
                return self._end(result, done)
            result.verdict = await self._judge(canary)
            if not result.verdict.healthy:
                return self._end(result, self._job_done())
            if not canary.get("auto_continue", True):
                self.hooks.canary_healthy(result.verdict, self)
            # What was asked about unknown and verified batches was done by the canary stage.
            retry_unknown = resend_verified = False
        elif canary is not None and not canary["verdict"]["healthy"]:
            reason = canary["verdict"]["reason"]
            self._note_canary("overridden", f"the canary was not healthy ({reason}): sending the rest as asked")
        done = await self._send_watched(
            canary, result, retry_unknown=retry_unknown, resend_verified=resend_verified
        )
        if done.state == JobState.DONE.value and not self._cancelled:
            await self._settle_unknowns(result)
        return self._end(result, self._job_done(done))

    async def _wait_for_start(self) -> bool:
        """Wait for the job's start time, if it has one still ahead; ``False`` when the run
        was cancelled first (nothing was sent)."""
        if self._cancelled:
            return not self._has_future_start()
        schedule = start_of(self.journal.job(self.job_id).schedule)
        if schedule is None:
            return True
        if schedule.at <= self._clock():
            return True
        self._cancel_requested = asyncio.Event()
        try:
            # The job's lock is held while waiting, so that a second `resume` of it is refused
            # at once instead of waiting beside this one; it is let go just before the sender
            # takes it.
            with self.journal.lock_job(self.job_id):
                return await self._count_down(schedule, self._cancel_requested)
        finally:
            self._cancel_requested = None

    async def _count_down(
        self, schedule: JobSchedule, cancel: asyncio.Event, waiting_for: str = "start", recipients: int = 0
    ) -> bool:
        """Sleep until the start, telling the time left about every second."""
        return await count_down(
            self.job_id, schedule, cancel, clock=self._clock, sleep=self._sleep, emit=self.hooks.event,
            cancelled=lambda: self._cancelled, waiting_for=waiting_for, recipients=recipients,
        )

    def _has_future_start(self) -> bool:
        schedule = start_of(self.journal.job(self.job_id).schedule)
        return schedule is not None and schedule.at > self._clock()

    async def _send(
        self, *, only_batches: frozenset[int] | None, retry_unknown: bool, resend_verified: bool
    ) -> DoneEvent:
        """The job's planned batches (only those of ``only_batches``, when given); with a
        delivery window, those its window lets go now, then, after waiting for each next opening, the others: the
        job carries on across days in one run (and a resume waits the same way, the zones
        being the batches' own in the journal)."""
        window = window_of(self.journal.job(self.job_id).schedule)
        if window is None:
            return await self._send_once(
                only_batches=only_batches, retry_unknown=retry_unknown, resend_verified=resend_verified
            )
        gate = WindowGate(window, self._clock)
        while True:
            done = await self._send_once(
                only_batches=only_batches, retry_unknown=retry_unknown, resend_verified=resend_verified, eligible=gate
            )
            # What was asked about unknown and verified batches was done by the first pass.
            retry_unknown = resend_verified = False
            if done.state == JobState.STOPPED.value or self._cancelled:
                return done
            waiting = [
                batch
                for batch in self.journal.batches(self.job_id, [BatchState.PLANNED])
                if only_batches is None or batch.index in only_batches
            ]
            if not waiting:
                return done
            zones = [batch.zones for batch in waiting]
            if any(gate(z) for z in zones):
                if done.calls == 0:
                    return done  # sendable yet not sent: leave it to a resume, never spin
                continue
            opening = gate.next_opening(zones)
            if opening is None:
                return done
            recipients = sum(batch.size for batch in waiting)
            if not await self._wait_for_window(opening, recipients):
                return self._job_done()

    async def _wait_for_window(self, opening: float, recipients: int) -> bool:
        """Wait for the next opening of the delivery window; ``False``: cancelled first."""
        moment = datetime.fromtimestamp(opening, UTC).astimezone()
        schedule = JobSchedule.of(moment)
        self._cancel_requested = asyncio.Event()
        try:
            # Held like a scheduled start's wait: a second `resume` is refused at once.
            with self.journal.lock_job(self.job_id):
                self.journal.set_job_state(self.job_id, JobState.RUNNING)
                waited = await self._count_down(schedule, self._cancel_requested, "window", recipients)
        finally:
            self._cancel_requested = None
        if not waited:
            self.journal.set_job_state(self.job_id, JobState.INTERRUPTED)
        return waited

    async def _send_once(
        self,
        *,
        only_batches: frozenset[int] | None,
        retry_unknown: bool,
        resend_verified: bool,
        eligible: Callable[[tuple[str, ...] | None], bool] | None = None,
    ) -> DoneEvent:
        """One sender over the job's planned batches (those of ``only_batches`` when given,
        those
        ``eligible`` lets go)."""
        limiter = PausableLimiter(self._limiter_factory(self.options.rate))
        if self._local_senders is not None:
            limiter.use_local(self._local_senders)
        sender = Sender(
            self.client,
            self.journal,
            self.job_id,
            limiter=limiter,
            max_in_flight=self._in_flight,
            retry_unknown=retry_unknown,
            resend_verified=resend_verified,
            only_batches=only_batches,
            eligible=eligible,
        )
        sender.subscribe(self._forward)
        self._sender, self._limiter = sender, limiter
        running = asyncio.ensure_future(sender.run())
        if self._cancelled:
            sender.cancel()
        elif self._paused:
            # After the sender's first step, which announces its plan: a pause announced
            # before it would be overtaken by the plan's "running".
            asyncio.get_running_loop().call_soon(self.pause)
        try:
            done = await running
        finally:
            self._sender = self._limiter = None
            await limiter.aclose()
        self._calls += done.calls
        self._throttled += done.throttled
        return done

    async def _send_watched(
        self, canary: dict[str, Any] | None, result: RunResult, *, retry_unknown: bool, resend_verified: bool
    ) -> DoneEvent:
        """The rest of the job, beside a failure-spike detector when it has a canary."""
        watcher: asyncio.Task[None] | None = None
        if canary is not None:
            options = self.journal.job(self.job_id).options

            def spike(reason: str) -> None:
                result.spike = reason
                self._note_canary("spike", f"failure spike: {reason}")
                self.hooks.spike(reason, self)

            detector = SpikeDetector(
                self.client,
                options.from_,
                spike,
                threshold=float(canary.get("threshold", DEFAULT_THRESHOLD)),
                cust_space_id=options.cust_space_id,
                limiter=self.lookup_limiter(),
            )
            self._observers = [detector.observe]
            watcher = asyncio.create_task(detector.run())
        try:
            return await self._send(only_batches=None, retry_unknown=retry_unknown, resend_verified=resend_verified)
        finally:
            self._observers = []
            if watcher is not None:
                watcher.cancel()

    async def _judge(self, canary: dict[str, Any]) -> CanaryVerdict:
        """Judge the canary's delivery; record the verdict, and stop the job when unhealthy."""
        settings = CanarySettings.from_json(canary)

        said: list[str] = []

        def funnel(f: Funnel) -> None:
            # Said once per change: a poll that finds what the last one found says nothing new.
            text = f"canary: {f.reported:,}/{f.accepted:,} listed, {f.failed:,} failed"
            if said[-1:] != [text]:
                said.append(text)
                self._note_canary("judging", text)

        self._note_canary(
            "judging", f"canary sent: reading its delivery statuses (at most {settings.settle_timeout_s:g} s)"
        )
        verdict = await judge_canary(
            self.client, self.journal, self.job_id, canary_indices(canary), settings, on_funnel=funnel,
            limiter=self.lookup_limiter(),
        )
        self.journal.set_canary(self.job_id, {**canary, "verdict": verdict.to_json()})
        self.hooks.canary_judged(verdict)
        if verdict.healthy:
            self._note_canary("healthy", f"canary healthy: {verdict.reason}")
        else:
            message = f"paused after the canary: {verdict.reason}"
            self.journal.set_job_state(self.job_id, JobState.STOPPED, stop_code=CANARY_FAILED, stop_message=message)
            self._note_canary("failed", f"canary failed: {verdict.reason}")
        return verdict

    async def _settle_unknowns(self, result: RunResult) -> None:
        """Look the job's unknown batches up; resend what was verified never accepted, if
        asked; repeat while a resend left new unknowns, at most ``max_rounds`` times."""
        settings = self.options.lookup
        if settings is None:
            return
        for _round in range(self.options.max_rounds):
            if self._cancelled or not self._unknown_batches():
                return
            self.hooks.event(LookupEvent(self.job_id, "looking", "looking up the unknown batches with CAMS"))
            reconciler = Reconciler(
                self.client,
                self.journal,
                self.job_id,
                settings,
                limiter=self.lookup_limiter(),
                notify=lambda text: self.hooks.event(LookupEvent(self.job_id, "looking", text)),
            )
            self._lookup_task = asyncio.ensure_future(reconciler.run())
            try:
                report = await self._lookup_task
            except asyncio.CancelledError:
                if not self._cancelled:
                    raise
                return
            finally:
                self._lookup_task = None
            result.lookups.append(report)
            self.hooks.event(LookupEvent(self.job_id, "done", lookup_text(report), **lookup_counts(report)))
            self.hooks.lookup_done(report)
            verified = self.journal.batches(self.job_id, [BatchState.NOT_SENT_VERIFIED])
            if not (self.options.resend_new_verified and verified):
                return
            done = await self._send(only_batches=None, retry_unknown=False, resend_verified=True)
            if done.state != JobState.DONE.value:
                return

    def _unknown_batches(self) -> int:
        return self.journal.job(self.job_id).counts.get(BatchState.UNKNOWN.value, 0)

    # ------------------------------------------------------------------ events

    def _forward(self, event: Event) -> None:
        """The sender's events go on to the front end, except a stage's own end."""
        for observe in self._observers:
            observe(event)
        if isinstance(event, DoneEvent):
            return
        if isinstance(event, StateEvent) and event.state == "stopping" and self._limiter is not None:
            self._limiter.stopping.set()
        self.hooks.event(event)
        if isinstance(event, LimiterEvent) and event.state == "unavailable":
            # After the "unavailable" line, so that "local" follows it.
            self._limiter_unavailable()

    def _note_canary(self, stage: str, text: str) -> None:
        self.hooks.event(CanaryEvent(self.job_id, stage, text))

    def _job_done(self, last: DoneEvent | None = None) -> DoneEvent:
        """The run's end, with the job's counts as the journal has them now."""
        job = self.journal.job(self.job_id)
        counts = job.counts
        state = job.state if job.state in {s.value for s in JobState} else JobState.DONE.value
        done = DoneEvent(
            job_id=self.job_id,
            state=state,
            total=job.recipients,
            ok=counts.get(BatchState.OK.value, 0),
            failed=counts.get(BatchState.FAILED.value, 0),
            unknown=counts.get(BatchState.UNKNOWN.value, 0),
            pending=job.pending,
            calls=self._calls,
            throttled=self._throttled,
            elapsed_s=round(time.monotonic() - self._started, 2),
            not_sent_verified=counts.get(BatchState.NOT_SENT_VERIFIED.value, 0),
            code=job.stop_code,
            message=job.stop_message,
        )
        if last is not None and last.advice:
            done = dataclasses.replace(done, advice=last.advice)
        return done

    def _end(self, result: RunResult, done: DoneEvent) -> RunResult:
        if self._stop is not None:
            code, message = self._stop
            self.journal.set_job_state(self.job_id, JobState.STOPPED, stop_code=code, stop_message=message)
            done = dataclasses.replace(self._job_done(), advice=done.advice)
        if done.state == JobState.STOPPED.value and done.code == CANARY_FAILED and not done.advice:
            done = dataclasses.replace(
                done,
                advice="Nothing more was sent. Check the template, its values and the Service ID; "
                "resume the job to send the rest anyway.",
            )
        result.done = done
        self.hooks.event(done)
        return result

