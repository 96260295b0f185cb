"""What the send monitor knows about a run, folded from the engine's events.

The monitor drains the engine's buffer a few times a second and feeds the whole batch of
events to :meth:`SendState.apply`, which returns the log lines to add; widgets are then
refreshed once per drain, however many events came in. Pure: no Textual here.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from cams_tui.engine.events import (
    BatchEvent,
    CanaryEvent,
    DoneEvent,
    LimiterEvent,
    LookupEvent,
    PlanEvent,
    ProgressEvent,
    RateEvent,
    ScheduleEvent,
    StateEvent,
)
from cams_tui.schedule import countdown
from cams_tui.ui.log_entries import LogEntry
from cams_tui.ui.send_target import BatchTally, Stamped

SETTLED = ("ok", "failed", "unknown")
SPARK_SAMPLES = 60
"""Calls-per-second samples kept for the sparkline (one per second of the run)."""
PHASE_TEXT = {
    "starting": "starting",
    "scheduled": "scheduled",
    "running": "sending",
    "paused": "paused",
    "stopping": "stopping: waiting for requests in flight",
    "looking": "looking up unknown batches",
    "done": "done",
    "stopped": "stopped by an error (resumable)",
    "interrupted": "cancelled (resumable)",
    "failed-to-start": "could not start",
}
"""Each phase in the words of the monitor's title."""


@dataclass
class SendState:
    """Counters, rate and state of one job's send, across its runs on this screen."""

    job_id: str
    total: int = 0
    """Recipients in the job."""
    recipients: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SETTLED, 0))
    """Recipients per settled state."""
    pending: int = 0
    """Recipients not settled yet (those in flight included)."""
    in_flight: int = 0
    """Recipients of the requests on their way now (not unknown: their answer is awaited)."""
    not_sent_verified: int = 0
    """Recipients a lookup verified not sent (after the run)."""
    batches: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SETTLED, 0))
    """Batches per settled state."""
    batches_total: int = 0
    throttled: int = 0
    """Answers that were throttled (each retried)."""
    not_sent: int = 0
    """Requests that never left (each retried)."""
    ceiling: float = 0.0
    """The rate the run started with (calls/s)."""
    limit: float = 0.0
    """The limiter's current rate (calls/s)."""
    calls_per_s: float = 0.0
    eta_s: float | None = None
    elapsed_s: float = 0.0
    phase: str = "starting"
    """``starting``, ``running``, ``paused``, ``stopping``, or the job's state after a run:
    ``done``, ``stopped`` (a fatal error) or ``interrupted``."""
    done: DoneEvent | None = None
    """The last run's end, once it has ended."""
    samples: deque[float] = field(default_factory=lambda: deque(maxlen=SPARK_SAMPLES))
    """calls/s, one sample per second of sending."""
    group_message_ids: list[str] = field(default_factory=list)
    """GroupMessageIds of the batches accepted during these runs."""
    canary: str = ""
    """Where the job's canary stands (empty: no canary), e.g. its verdict."""
    lookup: str = ""
    """What the run's lookup of its own unknown batches is doing or found (empty: none)."""
    scheduled: str = ""
    """While a scheduled job waits: when it starts and the time left (empty: not waiting)."""
    senders: int = 1
    """Senders sharing the account's budget now, this one included."""
    share: float = 1.0
    """This job's part of the account's budget (``1 / senders``)."""
    limiter_unavailable: str = ""
    """Why the account's shared limiter cannot be reached now (empty: it can): nothing
    starts until it is back, unless the run goes on alone (:attr:`local_senders`)."""
    local_senders: int | None = None
    """N once the run went on with a limiter of this process alone at rate / N."""
    _sampled_second: int = -1

    @property
    def settled(self) -> int:
        """Recipients whose batch has a final outcome."""
        return sum(self.recipients.values())

    @property
    def answered(self) -> int:
        """Recipients whose batch has a sure answer: ok or failed (unknown is not one)."""
        return self.recipients["ok"] + self.recipients["failed"]

    @property
    def unsettled(self) -> int:
        """After a run: recipients it left unknown or verified not sent."""
        return self.recipients["unknown"] + self.not_sent_verified

    @property
    def running(self) -> bool:
        """Whether a run is under way (its end not yet seen)."""
        return self.phase in ("starting", "scheduled", "running", "paused", "stopping", "looking")

    @property
    def adapting(self) -> bool:
        """Whether the limiter is below its ceiling after throttling."""
        return self.limit > 0 and self.limit < self.ceiling - 1e-6

    def phase_text(self) -> str:
        """The phase in words; after a run that left batches unsettled, what to do about them."""
        if self.phase != "done" or not self.unsettled:
            return PHASE_TEXT.get(self.phase, self.phase)
        left = []
        if self.recipients["unknown"]:
            left.append(f"{self.recipients['unknown']:,} unknown: L in Jobs (j) looks them up")
        if self.not_sent_verified:
            left.append(f"{self.not_sent_verified:,} verified not sent: S in Jobs (j) sends them")
        return "ended, unsettled: " + "; ".join(left)

    def start_run(self) -> None:
        """A new run of the job begins (its first, or a resume)."""
        self.phase = "starting"
        self.limiter_unavailable = ""
        self.local_senders = None
        self.done = None
        self.scheduled = ""
        self._sampled_second = -1

    def apply(self, stamped: Iterable[Stamped]) -> list[LogEntry]:
        """Fold events in; return the log lines they make."""
        lines: list[LogEntry] = []
        for at, event in stamped:
            if isinstance(event, BatchEvent):
                lines.append(LogEntry.from_event(event, at))
                self._batch(event)
            elif isinstance(event, ProgressEvent):
                self._progress(event)
            elif isinstance(event, PlanEvent):
                self.total = event.recipients
                self.pending = event.pending_recipients
                self.batches_total = event.batches
                self.ceiling = self.ceiling or event.rate
                self.limit = event.rate
                self.phase = "running"
            elif isinstance(event, BatchTally):
                for state in SETTLED:
                    self.batches[state] = event.counts.get(state, 0)
            elif isinstance(event, RateEvent):
                self.limit = event.rate
            elif isinstance(event, LimiterEvent):
                self._limiter(event)
            elif isinstance(event, StateEvent):
                self.phase = event.state
            elif isinstance(event, CanaryEvent):
                self.canary = event.text
            elif isinstance(event, LookupEvent):
                self.lookup = event.text
                if event.stage == "looking" and self.running:
                    self.phase = "looking"
            elif isinstance(event, ScheduleEvent):
                self._schedule(event)
            elif isinstance(event, DoneEvent):
                self._done(event)
        return lines

    def _schedule(self, event: ScheduleEvent) -> None:

        window = event.waiting_for == "window"
        if event.stage == "waiting":
            self.phase = "scheduled"
            if window:
                self.scheduled = (
                    f"{event.recipients:,} wait for their delivery window: next at {event.at_text}, "
                    f"in {countdown(event.remaining_s)}"
                )
            else:
                self.scheduled = f"starts {event.at_text}, in {countdown(event.remaining_s)}"
        elif event.stage == "cancelled":
            self.scheduled = (
                f"stopped while waiting for a delivery window ({event.at_text}): the rest stays planned"
                if window
                else f"cancelled before {event.at_text}: nothing sent"
            )
        else:
            self.phase = "starting"
            self.scheduled = ""

    def _batch(self, event: BatchEvent) -> None:
        if event.outcome in SETTLED:
            self.batches[event.outcome] += 1
            if event.outcome == "ok" and event.group_message_id:
                self.group_message_ids.append(event.group_message_id)
        elif event.outcome == "throttled":
            self.throttled += 1
        elif event.outcome == "not_sent":
            self.not_sent += 1

    def _limiter(self, event: LimiterEvent) -> None:
        # Who shares the account is the mass send's budget; the lookups' only says whether
        # it can be reached.
        if event.operation == "SendChatappMassMessage":
            self.senders, self.share = event.senders, event.share
        if event.state == "unavailable":
            self.limiter_unavailable = event.reason
        elif event.state in ("available", "local"):
            self.limiter_unavailable = ""
        if event.state == "local":
            self.local_senders = self.local_senders or event.senders
            if event.operation == "SendChatappMassMessage":
                self.limit = event.rate

    def _progress(self, event: ProgressEvent) -> None:
        self.senders, self.share = event.senders, event.share
        self.total = event.total
        self.recipients = {"ok": event.ok, "failed": event.failed, "unknown": event.unknown}
        self.pending = event.pending
        self.in_flight = event.in_flight_recipients
        self.limit = event.rate
        self.calls_per_s = event.calls_per_s
        self.eta_s = event.eta_s
        self.elapsed_s = event.elapsed_s
        # One sample per second of the run, from the engine's own clock.
        second = int(event.elapsed_s)
        if second > self._sampled_second:
            self._sampled_second = second
            self.samples.append(event.calls_per_s)

    def _done(self, event: DoneEvent) -> None:
        self.done = event
        self.phase = event.state
        self.total = event.total
        self.recipients = {"ok": event.ok, "failed": event.failed, "unknown": event.unknown}
        self.pending = event.pending
        self.in_flight = 0
        self.not_sent_verified = event.not_sent_verified
        self.eta_s = None
        self.elapsed_s = event.elapsed_s
