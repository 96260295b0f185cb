"""One run of the send engine in a thread of its own, for the TUI.

The engine commits every batch state to SQLite with ``synchronous=FULL`` and signs and
parses every request: done on the UI's event loop, that would stall key handling at high
rates. So the sender gets its own thread, its own event loop, its own journal connection
(SQLite connections belong to one thread) and its own HTTP client. Its events are stamped
and appended to a thread-safe buffer that the UI drains on a timer, and the controls cross
over with ``call_soon_threadsafe``.

A job with a canary (:mod:`cams_tui.engine.canary`) is sent in two stages: the canary's
batches, then, once their delivery is judged healthy, the rest, watched by a failure-spike
detector that pauses the run. :class:`~cams_tui.engine.canary.CanaryEvent` says where the
canary stands; an unhealthy canary ends the run ``stopped`` with code ``CanaryFailed``; a
healthy one goes on, paused first when the canary asks the operator to confirm.

Nothing here imports Textual: a Textual thread worker calls :meth:`EngineRun.run`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cams_tui.engine.events import DoneEvent, Event, PlanEvent, StateEvent
from cams_tui.engine.ratelimit import Permit, RateLimiter

if TYPE_CHECKING:
    from cams_tui.api.client import Placement
    from cams_tui.api.credentials import Credentials
    from cams_tui.api.client import CamsClient
    from cams_tui.delivery import Funnel
    from cams_tui.engine.journal import Journal
    from cams_tui.engine.sender import Sender


@dataclass(frozen=True)
class SendTarget:
    """Where a job is sent from and to: the account, the rate and the journal's folder."""

    endpoint: str
    credentials: Credentials
    placement: Placement
    rate: float
    """SendChatappMassMessage calls per second (the limiter's ceiling)."""
    data_dir: Path
    """The folder of the journal that holds the job."""


@dataclass(frozen=True)
class BatchTally:
    """How many of a job's batches are in each state, read from the journal when a run
    starts (a resumed job has batches settled by earlier runs)."""

    counts: dict[str, int]


Stamped = tuple[float, "Event | BatchTally"]
"""An event with the wall-clock time it was received."""


class _NoStart:
    """What a worker queued for a slot gets once the run is stopping: the sender sees that
    it is stopping and leaves without sending, so no start is ever recorded."""

    def started(self) -> None:
        """Nothing leaves: nothing to record."""


class PausableLimiter(RateLimiter):
    """The engine's limiter, holding grants back while the run is paused, and letting
    every waiter go at once when the run stops.

    The sender's own pause and stop act on workers before they queue for a slot; the
    workers already queued (up to its in-flight limit) would each wait for a slot, and
    after a pause start a request. Closing :attr:`gate` holds them too, so a pause takes
    effect at once; setting :attr:`stopping` hands them a void permit, so a cancel does
    not wait ``in_flight / rate`` seconds for the queue to drain (they see the sender
    stopping and leave without sending)."""

    def __init__(self, rate: float) -> None:
        super().__init__(rate)
        self.gate = asyncio.Event()
        """Set while starts are allowed."""
        self.gate.set()
        self.stopping = asyncio.Event()
        """Set once the run is stopping."""

    async def acquire(self) -> Permit:
        await self.gate.wait()
        grant = asyncio.ensure_future(super().acquire())
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
            # real departure (Permit.started), so the window stays conservative.
            await self.gate.wait()
            return permit
        return _NoStart()  # type: ignore[return-value]


class EngineRun:
    """Sends one job with the engine, in the calling thread (use a thread worker).

    Events go to :attr:`events` as ``(time, event)`` pairs, preceded by a
    :class:`BatchTally` right after the plan; :meth:`drain` takes them. :meth:`pause`,
    :meth:`resume` and :meth:`cancel` may be called from any thread, even before the
    engine has started."""

    def __init__(
        self,
        target: SendTarget,
        job_id: str,
        *,
        retry_unknown: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.target = target
        self.job_id = job_id
        self.retry_unknown = retry_unknown
        self.events: deque[Stamped] = deque()
        """Stamped events not yet drained (appended by the engine's thread)."""
        self._clock = clock
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._sender: Sender | None = None
        self._limiter: PausableLimiter | None = None
        self._journal: Journal | None = None
        self._early: list[str] = []
        self._hold_done = False

    def run(self) -> DoneEvent:
        """Send the job; blocks until the run ends and returns its :class:`DoneEvent`."""
        return asyncio.run(self._main())

    def drain(self) -> list[Stamped]:
        """Take every buffered event, oldest first."""
        taken: list[Stamped] = []
        events = self.events
        while events:
            taken.append(events.popleft())
        return taken

    # ------------------------------------------------------------------ controls

    def pause(self) -> None:
        """Start no new request until :meth:`resume`."""
        self._control("pause")

    def resume(self) -> None:
        """Start requests again."""
        self._control("resume")

    def cancel(self) -> None:
        """Stop (requests in flight are waited for); a second call stops at once."""
        self._control("cancel")

    def _control(self, name: str) -> None:
        with self._lock:
            loop = self._loop
            if loop is None:
                self._early.append(name)
                return
        try:
            loop.call_soon_threadsafe(self._apply, name)
        except RuntimeError:
            pass  # the run's loop is closed: it has ended, there is nothing to control

    def _apply(self, name: str) -> None:
        """Apply a control in the engine's loop."""
        sender, limiter = self._sender, self._limiter
        if sender is None or limiter is None:
            return
        if name == "pause":
            limiter.gate.clear()
            sender.pause()
        elif name == "resume":
            sender.resume()
            limiter.gate.set()
        elif name == "spike":
            limiter.gate.clear()
            sender.pause()
        else:
            sender.cancel()
            limiter.gate.set()  # workers held at the gate must be free to leave

    # ------------------------------------------------------------------ the run

    async def _main(self) -> DoneEvent:
        from cams_tui.api.client import CamsClient
        from cams_tui.engine.journal import Journal
        from cams_tui.engine.sender import default_in_flight

        target = self.target
        in_flight = default_in_flight(target.rate)
        journal = Journal(target.data_dir)
        self._journal = journal
        try:
            job = journal.job(self.job_id)
            placement = job.sent_placement(target.placement)  # as the batches were planned
            async with CamsClient(
                target.credentials, target.endpoint, placement=placement, max_connections=in_flight
            ) as client:
                canary = job.canary
                if canary is not None and canary.get("verdict") is None:
                    # Stage one: the canary's batches alone, then its verdict.
                    self._hold_done = True
                    sender = self._sender_for(client, journal, in_flight, until_batch=canary["batches"])
                    done = await sender.run()
                    self._hold_done = False
                    if done.state == "stopped" or sender.cancelled:
                        self._receive(done)
                        return done
                    stopped = await self._judge(client, journal, canary, done)
                    if stopped is not None:
                        return stopped
                sender = self._sender_for(client, journal, in_flight, until_batch=None)
                watcher = self._watch(client, journal, sender, canary)
                try:
                    return await sender.run()
                finally:
                    if watcher is not None:
                        watcher.cancel()
        finally:
            with self._lock:
                self._loop = None
            self._sender = self._limiter = None
            self._journal = None
            journal.close()

    def _sender_for(self, client: CamsClient, journal: Journal, in_flight: int, *, until_batch: int | None) -> Sender:
        """A sender for this run, wired to the controls (and to controls sent early)."""
        from cams_tui.engine.sender import Sender

        limiter = PausableLimiter(self.target.rate)
        sender = Sender(
            client,
            journal,
            self.job_id,
            limiter=limiter,
            max_in_flight=in_flight,
            retry_unknown=self.retry_unknown and until_batch is None,
            until_batch=until_batch,
        )
        sender.subscribe(self._receive)
        self._sender, self._limiter = sender, limiter
        with self._lock:
            self._loop = asyncio.get_running_loop()
            early, self._early = self._early, []
        for name in early:
            self._loop.call_soon(self._apply, name)
        return sender

    async def _judge(
        self, client: CamsClient, journal: Journal, canary: dict[str, Any], done: DoneEvent
    ) -> DoneEvent | None:
        """Judge the canary; the run's end when it is not healthy, else ``None``."""
        from cams_tui.engine.canary import CANARY_FAILED, CanaryEvent, CanarySettings, judge_canary
        from cams_tui.engine.journal import JobState

        settings = CanarySettings.from_json(canary)

        def funnel(f: Funnel) -> None:
            text = f"canary: {f.reported:,}/{f.accepted:,} listed, {f.failed:,} failed"
            self._receive(CanaryEvent(self.job_id, "judging", text))

        self._receive(CanaryEvent(self.job_id, "judging", "canary sent: reading its delivery statuses"))
        batches = int(canary["batches"])
        verdict = await judge_canary(client, journal, self.job_id, batches, settings, on_funnel=funnel)
        journal.set_canary(self.job_id, {**canary, "verdict": verdict.to_json()})
        if verdict.healthy:
            text = f"canary healthy: {verdict.reason}"
            if not settings.auto_continue:
                # The operator confirms: the rest starts paused.
                text += "; press p to send the rest"
                with self._lock:
                    self._early.append("pause")
            self._receive(CanaryEvent(self.job_id, "healthy", text))
            return None
        message = f"paused after the canary: {verdict.reason}"
        journal.set_job_state(self.job_id, JobState.STOPPED, stop_code=CANARY_FAILED, stop_message=message)
        self._receive(CanaryEvent(self.job_id, "failed", f"canary failed: {verdict.reason}"))
        stopped = dataclasses.replace(
            done,
            state=JobState.STOPPED.value,
            code=CANARY_FAILED,
            message=message,
            advice="Nothing more was sent. Check the template, its values and the Service ID; "
            "resume the job to send the rest anyway.",
        )
        self._receive(stopped)
        return stopped

    def _watch(
        self, client: CamsClient, journal: Journal, sender: Sender, canary: dict[str, Any] | None
    ) -> asyncio.Task[None] | None:
        """Beside a job with a canary: pause the run on a failure spike."""
        if canary is None:
            return None
        from cams_tui.engine.canary import DEFAULT_THRESHOLD, CanaryEvent, SpikeDetector

        options = journal.job(self.job_id).options

        def spike(reason: str) -> None:
            self._receive(CanaryEvent(self.job_id, "spike", f"paused by a failure spike: {reason}"))
            self._apply("spike")

        detector = SpikeDetector(
            client,
            options.from_,
            spike,
            threshold=float(canary.get("threshold", DEFAULT_THRESHOLD)),
            cust_space_id=options.cust_space_id,
        )
        sender.subscribe(detector.observe)
        return asyncio.create_task(detector.run())

    def _receive(self, event: Event) -> None:
        if self._hold_done and isinstance(event, DoneEvent):
            return  # the canary stage's end is not the run's
        now = self._clock()
        self.events.append((now, event))
        if isinstance(event, StateEvent) and event.state == "stopping" and self._limiter is not None:
            self._limiter.stopping.set()
        if isinstance(event, PlanEvent) and self._journal is not None:
            # Runs in the engine's thread, after the journal's recovery: the baseline of
            # batch states this run starts from.
            counts = Counter(batch.state for batch in self._journal.batches(self.job_id))
            self.events.append((now, BatchTally(dict(counts))))
