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
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
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
from cams_tui.engine.events import (
    CanaryEvent,
    DoneEvent,
    Event,
    LimiterEvent,
    LookupEvent,
    ScheduleEvent,
    StateEvent,
)
from cams_tui.engine.journal import BatchState, JobState, Journal
from cams_tui.engine.limiters.base import Grant, Limiter, LimiterNotice, Sharing
from cams_tui.engine.planning import replan_for_placement
from cams_tui.engine.ratelimit import RateChange, RateLimiter
from cams_tui.engine.reconcile import Reconciler, ReconcileReport, ReconcileSettings
from cams_tui.engine.sender import Sender, default_in_flight
from cams_tui.listing import DEFAULT_LOOKUP_RATE, LIST_MESSAGES
from cams_tui.schedule import DeliveryWindow, JobSchedule, start_of, window_of

if TYPE_CHECKING:
    from cams_tui.api.client import CamsClient
    from cams_tui.delivery import Funnel

SCHEDULE_TICK_S = 1.0
"""How often a scheduled run tells how long is left (and looks at the clock again: a
machine that slept through the start time sends when it wakes)."""

DEFAULT_MAX_ROUNDS = 5
"""Lookup-then-resend rounds at the end of a run: each round resends only what a lookup
verified as never accepted, so a second or third is needed only on a very lossy network."""


class WindowGate:
    """Which of a job's batches its delivery window lets go at the clock's time: the
    Sender's ``eligible`` filter, and when the next of those waiting opens."""

    def __init__(self, window: DeliveryWindow, clock: Callable[[], float]) -> None:
        self.window = window
        self._clock = clock

    def __call__(self, zones: tuple[str, ...] | None) -> bool:
        """Whether a batch kept in ``zones`` (``None``: any time) may be sent now."""
        return zones is None or self.window.is_open(zones, self._clock())

    def next_opening(self, waiting: list[tuple[str, ...] | None]) -> float | None:
        """The soonest opening among batches in these zones; ``None``: never."""
        now = self._clock()
        openings = [
            moment
            for zones in dict.fromkeys(waiting)
            if (moment := now if zones is None else self.window.next_open(zones, now)) is not None
        ]
        return min(openings, default=None)


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


class _NoStart:
    """What a worker queued for a slot gets once the run is stopping: the sender sees that
    it is stopping and leaves without sending, so no start is ever recorded."""

    def started(self) -> None:
        """Nothing leaves: nothing to record."""

    def answered(self, latency_s: float) -> None:
        """Nothing left: nothing to record."""


class PausableLimiter:
    """Any account limiter (:class:`~cams_tui.engine.limiters.base.Limiter`), holding
    grants back while the run is paused, and letting every waiter go at once when it stops.

    The sender's own pause and stop act on workers before they queue for a slot; the
    workers already queued (up to its in-flight limit) would each wait for a slot, and
    after a pause start a request. Closing :attr:`gate` holds them too, so a pause takes
    effect at once; setting :attr:`stopping` hands them a void grant, so a cancel does
    not wait ``in_flight / rate`` seconds for the queue to drain (they see the sender
    stopping and leave without sending). Everything else is the wrapped limiter's."""

    def __init__(self, inner: Limiter) -> None:
        self.inner = inner
        self.gate = asyncio.Event()
        """Set while starts are allowed."""
        self.gate.set()
        self.stopping = asyncio.Event()
        """Set once the run is stopping."""

    @property
    def on_change(self) -> Callable[[RateChange], None] | None:
        """Told when the rate changes (the wrapped limiter's)."""
        return self.inner.on_change

    @on_change.setter
    def on_change(self, callback: Callable[[RateChange], None] | None) -> None:
        self.inner.on_change = callback

    @property
    def on_notice(self) -> Callable[[LimiterNotice], None] | None:
        """Told what the operator should see about the limiter (the wrapped limiter's)."""
        return self.inner.on_notice

    @on_notice.setter
    def on_notice(self, callback: Callable[[LimiterNotice], None] | None) -> None:
        self.inner.on_notice = callback

    @property
    def rate(self) -> float:
        """The wrapped limiter's current rate."""
        return self.inner.rate

    @property
    def ceiling(self) -> float:
        """The wrapped limiter's ceiling."""
        return self.inner.ceiling

    async def ready(self, lead_s: float) -> None:
        """Wait until about ``lead_s`` before the next start is allowed."""
        await self.inner.ready(lead_s)

    async def acquire(self) -> Grant:
        """A slot, once the gate is open; a void grant once the run stops."""
        await self.gate.wait()
        grant = asyncio.ensure_future(self.inner.acquire())
        stop = asyncio.ensure_future(self.stopping.wait())
        try:
            await asyncio.wait((grant, stop), return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
            if not grant.done():
                grant.cancel()
        if grant.done() and not grant.cancelled():
            permit = grant.result()
            # Paused while queued: hold the granted slot; the start time moves to the
            # real departure (Grant.started), so the window stays conservative.
            await self.gate.wait()
            return permit
        return _NoStart()

    def throttled(self, retry_after_s: float | None, started_at: float | None = None) -> None:
        """Throttled by the server: the wrapped limiter backs off."""
        self.inner.throttled(retry_after_s, started_at)

    def succeeded(self) -> None:
        """An answer that was not throttled."""
        self.inner.succeeded()

    def now(self) -> float:
        """The wrapped limiter's clock."""
        return self.inner.now()

    def sharing(self) -> Sharing:
        """Who shares the account's budget now."""
        return self.inner.sharing()

    def use_local(self, senders: int) -> None:
        """Go on with a process-local limiter at ``ceiling / senders``."""
        self.inner.use_local(senders)

    async def aclose(self) -> None:
        """Leave the account's senders."""
        await self.inner.aclose()


def process_limiter(rate: float) -> Limiter:
    """A limiter of this process alone (tests, and profiles with ``limiter = "process"``)."""
    return RateLimiter(rate)


def process_lookup_limiter(rate: float) -> Limiter:
    """A ListChatappMessage limiter of this process alone (where no profile is known)."""
    return RateLimiter(rate, operation=LIST_MESSAGES)


def _proceed(_verdict: CanaryVerdict, _runner: JobRunner) -> None:
    """The default after a healthy canary: send the rest at once."""


def _ignore(_reason: str, _runner: JobRunner) -> None:
    """The default on a failure spike: nothing (the front end decides)."""


@dataclass
class RunHooks:
    """What the front end decides or is told during a run."""

    event: Callable[[Event], None] = lambda _event: None
    """Every event of the run, in order (a stage's own :class:`DoneEvent` excluded)."""
    canary_judged: Callable[[CanaryVerdict], None] = lambda _verdict: None
    """Called with the canary's verdict, healthy or not, once it is recorded."""
    canary_healthy: Callable[[CanaryVerdict, JobRunner], None] = _proceed
    """Called when the canary is healthy and ``auto_continue`` is off; may pause the runner,
    or raise to end the run there (the job stays resumable)."""
    spike: Callable[[str, JobRunner], None] = _ignore
    """Called once on a failure spike while the rest sends: pause or stop the runner."""
    lookup_done: Callable[[ReconcileReport], None] = lambda _report: None
    """Called with what each lookup of the job's unknown batches found."""


@dataclass(frozen=True)
class RunOptions:
    """How one run sends and settles its job."""

    rate: float
    """SendChatappMassMessage calls per second (the limiter's ceiling)."""
    retry_unknown: bool = False
    """Resend batches left unknown (the operator accepted the risk of duplicates)."""
    resend_verified: bool = False
    """Resend the batches an earlier lookup verified as never accepted."""
    resend_new_verified: bool = False
    """Resend the batches the run's own lookups verify as never accepted."""
    lookup: ReconcileSettings | None = None
    """How the run looks up its own unknowns once every batch has an answer; ``None``: not."""
    max_rounds: int = DEFAULT_MAX_ROUNDS
    """At most this many lookup rounds (each may be followed by a resend)."""
    in_flight: int | None = None
    """Requests in flight at once; ``None``: what the rate needs."""
    local_when_unavailable: int | None = None
    """When the account's shared limiter cannot be reached, go on with a limiter of this
    process alone at ``rate / N`` (N given here: the senders that share the account) for the
    rest of the run, instead of waiting for it to come back; ``None``: wait."""
    lookup_rate: float = DEFAULT_LOOKUP_RATE
    """ListChatappMessage calls per second of the run's lookups (the canary, the spike watch,
    its unknowns): the ceiling of the account's lookup limiter (the profile's ``lookup_rate``)."""


@dataclass
class RunResult:
    """How a run ended."""

    done: DoneEvent
    verdict: CanaryVerdict | None = None
    """The canary's verdict, when this run judged it."""
    spike: str | None = None
    """The failure spike seen while the rest was sent, if any."""
    lookups: list[ReconcileReport] = field(default_factory=list)
    """What each lookup of the run's own unknowns found."""


class JobRunner:
    """Runs one journaled job through its stages (see the module docstring).

    Use from one event loop. :meth:`pause`, :meth:`resume`, :meth:`cancel` and :meth:`stop`
    act on whichever stage is running, and are remembered when called before it starts."""

    def __init__(
        self,
        client: CamsClient,
        journal: Journal,
        job_id: str,
        options: RunOptions,
        hooks: RunHooks | None = None,
        *,
        limiter_factory: Callable[[float], Limiter] = process_limiter,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        lookup_limiter_factory: Callable[[float], Limiter] = process_lookup_limiter,
    ) -> None:
        """``clock`` (Unix time) and ``sleep`` are what the scheduled stage waits with."""
        self.client = client
        self.journal = journal
        self.job_id = job_id
        self.options = options
        self.hooks = hooks or RunHooks()
        self._limiter_factory = limiter_factory
        self._lookup_limiter_factory = lookup_limiter_factory
        self._lookup_limiter: Limiter | None = None
        self._local_senders: int | None = None
        self._in_flight = options.in_flight or default_in_flight(options.rate)
        self._sender: Sender | None = None
        self._limiter: PausableLimiter | None = None
        self._paused = False
        self._cancelled = False
        self._stop: tuple[str, str] | None = None
        self._lookup_task: asyncio.Task[ReconcileReport] | None = None
        self._observers: list[Callable[[Event], None]] = []
        self._calls = 0
        self._throttled = 0
        self._started = time.monotonic()
        self._clock = clock
        self._sleep = sleep
        self._cancel_requested: asyncio.Event | None = None

    # ------------------------------------------------------------------ controls

    @property
    def cancelled(self) -> bool:
        """Whether the run was cancelled or stopped."""
        return self._cancelled

    @property
    def paused(self) -> bool:
        """Whether new requests are held back."""
        return self._paused

    def pause(self) -> None:
        """Start no new request until :meth:`resume`."""
        self._paused = True
        if self._limiter is not None:
            self._limiter.gate.clear()
        if self._sender is not None:
            self._sender.pause()

    def resume(self) -> None:
        """Start requests again."""
        self._paused = False
        if self._sender is not None:
            self._sender.resume()
        if self._limiter is not None:
            self._limiter.gate.set()

    def cancel(self) -> None:
        """Stop (requests in flight are waited for); a second call stops at once."""
        self._cancelled = True
        if self._cancel_requested is not None:
            self._cancel_requested.set()
        if self._sender is not None:
            self._sender.cancel()
        if self._limiter is not None:
            self._limiter.gate.set()  # workers held at the gate must be free to leave
        if self._lookup_task is not None:
            self._lookup_task.cancel()

    @property
    def local_senders(self) -> int | None:
        """N once the run went on with a process-local limiter at ``rate / N``, else ``None``."""
        return self._local_senders

    def use_local(self, senders: int) -> None:
        """Go on with process-local limiters at ``rate / senders`` (the sends) and
        ``lookup_rate / senders`` (the lookups) for the rest of the run, whether or not the
        shared limiter is reachable: for when it is down and the operator knows how many
        senders share the account. A second call changes nothing."""
        if senders < 1:
            raise ValueError("senders must be at least 1")
        if self._local_senders is not None:
            return
        self._local_senders = senders
        if self._limiter is not None:
            self._limiter.use_local(senders)
        if self._lookup_limiter is not None:
            self._lookup_limiter.use_local(senders)

    def _limiter_unavailable(self) -> None:
        """The shared limiter cannot be reached: go local if the options say so."""
        n = self.options.local_when_unavailable
        if n is not None and self._local_senders is None:
            self.use_local(n)

    def stop(self, code: str, message: str) -> None:
        """Cancel, and record the job as stopped with ``code``: resumable, but only by
        someone who looked (``resume`` says why it stopped)."""
        self._stop = (code, message)
        self.cancel()

    # ------------------------------------------------------------------ the run

    async def run(self) -> RunResult:
        """Run the job's stages; returns how it ended (also emitted as its DoneEvent)."""
        try:
            return await self._run()
        finally:
            lookups, self._lookup_limiter = self._lookup_limiter, None
            if lookups is not None:
                await lookups.aclose()

    def lookup_limiter(self) -> Limiter:
        """The account's ListChatappMessage limiter of this run (built on first use, shared by
        the canary, the spike watch and the lookups of unknowns, closed when the run ends)."""
        if self._lookup_limiter is None:
            limiter = self._lookup_limiter_factory(self.options.lookup_rate)
            limiter.on_notice = self._lookup_notice
            if self._local_senders is not None:
                limiter.use_local(self._local_senders)
            self._lookup_limiter = limiter
        return self._lookup_limiter

    def _lookup_notice(self, notice: LimiterNotice) -> None:
        """The lookups' limiter has news for the operator (who shares it is not news)."""
        if notice.state == "sharing":
            return
        sharing = notice.sharing
        self.hooks.event(
            LimiterEvent(
                self.job_id, notice.state, f"lookups: {notice.reason}", sharing.limiter, sharing.account,
                sharing.senders, round(sharing.share, 3), round(notice.rate, 2), operation=sharing.operation,
            )
        )
        if notice.state == "unavailable":
            self._limiter_unavailable()

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
                until_batch=int(canary["batches"]), retry_unknown=retry_unknown, resend_verified=resend_verified
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

        def event(stage: str, left: float) -> ScheduleEvent:
            return ScheduleEvent(
                self.job_id, stage, schedule.at, schedule.describe(), left,
                waiting_for=waiting_for, recipients=recipients,
            )

        while (left := schedule.at - self._clock()) > 0:
            self.hooks.event(event("waiting", left))
            nap = asyncio.ensure_future(self._sleep(min(left, SCHEDULE_TICK_S)))
            stop = asyncio.ensure_future(cancel.wait())
            try:
                await asyncio.wait((nap, stop), return_when=asyncio.FIRST_COMPLETED)
            finally:
                nap.cancel()
                stop.cancel()
            if self._cancelled:
                self.hooks.event(event("cancelled", max(left, 0.0)))
                return False
        self.hooks.event(event("starting", 0.0))
        return True

    def _has_future_start(self) -> bool:
        schedule = start_of(self.journal.job(self.job_id).schedule)
        return schedule is not None and schedule.at > self._clock()

    async def _send(self, *, until_batch: int | None, retry_unknown: bool, resend_verified: bool) -> DoneEvent:
        """The job's planned batches (up to ``until_batch``); with a delivery window, those
        its window lets go now, then, after waiting for each next opening, the others: the
        job carries on across days in one run (and a resume waits the same way, the zones
        being the batches' own in the journal)."""
        window = window_of(self.journal.job(self.job_id).schedule)
        if window is None:
            return await self._send_once(
                until_batch=until_batch, retry_unknown=retry_unknown, resend_verified=resend_verified
            )
        gate = WindowGate(window, self._clock)
        while True:
            done = await self._send_once(
                until_batch=until_batch, retry_unknown=retry_unknown, resend_verified=resend_verified, eligible=gate
            )
            # What was asked about unknown and verified batches was done by the first pass.
            retry_unknown = resend_verified = False
            if done.state == JobState.STOPPED.value or self._cancelled:
                return done
            waiting = [
                batch
                for batch in self.journal.batches(self.job_id, [BatchState.PLANNED])
                if until_batch is None or batch.index < until_batch
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
        until_batch: int | None,
        retry_unknown: bool,
        resend_verified: bool,
        eligible: Callable[[tuple[str, ...] | None], bool] | None = None,
    ) -> DoneEvent:
        """One sender over the job's planned batches (up to ``until_batch``, those
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
            until_batch=until_batch,
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
            return await self._send(until_batch=None, retry_unknown=retry_unknown, resend_verified=resend_verified)
        finally:
            self._observers = []
            if watcher is not None:
                watcher.cancel()

    async def _judge(self, canary: dict[str, Any]) -> CanaryVerdict:
        """Judge the canary's delivery; record the verdict, and stop the job when unhealthy."""
        settings = CanarySettings.from_json(canary)

        def funnel(f: Funnel) -> None:
            self._note_canary("judging", f"canary: {f.reported:,}/{f.accepted:,} listed, {f.failed:,} failed")

        self._note_canary(
            "judging", f"canary sent: reading its delivery statuses (at most {settings.settle_timeout_s:g} s)"
        )
        verdict = await judge_canary(
            self.client, self.journal, self.job_id, int(canary["batches"]), settings, on_funnel=funnel,
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
            self.hooks.event(LookupEvent(self.job_id, "done", _lookup_text(report), **_lookup_counts(report)))
            self.hooks.lookup_done(report)
            verified = self.journal.batches(self.job_id, [BatchState.NOT_SENT_VERIFIED])
            if not (self.options.resend_new_verified and verified):
                return
            done = await self._send(until_batch=None, retry_unknown=False, resend_verified=True)
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


def _lookup_counts(report: ReconcileReport) -> dict[str, int]:
    return {
        "found": report.recipients(BatchState.OK.value),
        "not_sent": report.recipients(BatchState.NOT_SENT_VERIFIED.value),
        "unknown": report.recipients(BatchState.UNKNOWN.value),
    }


def _lookup_text(report: ReconcileReport) -> str:
    counts = _lookup_counts(report)
    text = (
        f"lookup: {counts['found']:,} recipients found accepted, {counts['not_sent']:,} verified not sent, "
        f"{counts['unknown']:,} still unknown ({report.lookups:,} lookups)"
    )
    reasons = sorted({r.reason for r in report.resolutions if r.state == BatchState.UNKNOWN.value})
    if reasons:
        text += f": {reasons[0]}"
    return text
