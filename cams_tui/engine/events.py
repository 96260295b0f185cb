"""Typed events the sender emits; the command line and the TUI subscribe to them.

Plain frozen dataclasses, so a subscriber needs nothing but ``isinstance``. Every event
turns into one JSON object with :func:`event_to_json` (the ``--json`` output).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cams_tui.engine.limiters.base import LimiterNotice


@dataclass(frozen=True)
class PlanEvent:
    """The job about to be sent: its counts, and how much of it is still to send."""

    job_id: str | None
    recipients: int
    rejected: int
    duplicates: int
    suppressed: int
    batches: int
    pending_recipients: int
    pending_batches: int
    rate: float
    name: str = field(default="plan", init=False)


@dataclass(frozen=True)
class BatchEvent:
    """One request's outcome (``ok``, ``throttled``, ``not_sent``, ``fatal``, ``failed``,
    ``unknown``). Throttled and not-sent batches are retried; the others are settled."""

    job_id: str
    index: int
    size: int
    outcome: str
    http_status: int | None
    code: str | None
    message: str | None
    request_id: str | None
    group_message_id: str | None
    attempt: int
    latency_ms: float | None
    name: str = field(default="batch", init=False)


@dataclass(frozen=True)
class CanaryEvent:
    """Where a job's canary stands (:mod:`cams_tui.engine.canary`): ``judging`` (its
    statuses are being read), ``healthy`` or ``failed`` (the verdict), or ``spike`` (a
    failure spike paused the rest)."""

    job_id: str
    stage: str
    text: str
    name: str = field(default="canary", init=False)


@dataclass(frozen=True)
class RateEvent:
    """The limiter changed its rate: ``reason`` is ``throttled`` or ``recovered``."""

    job_id: str
    rate: float
    previous: float
    reason: str
    pause_s: float
    name: str = field(default="rate", init=False)


@dataclass(frozen=True)
class LimiterEvent:
    """The account's limiter has news: ``state`` is ``unavailable`` (the shared limiter
    cannot be reached: no request starts until it is back, ``reason`` says why),
    ``available`` (back: sending goes on by itself), ``local`` (the rest of the job is
    paced by this process alone, at ``rate``) or ``sharing`` (``senders`` changed).

    ``senders`` counts the senders sharing the account's budget now, this one included;
    ``share`` is this job's part of it; ``limiter`` says where the budget is kept
    (``process``, ``host``, ``redis://host:port/db``, never with a password)."""

    job_id: str
    state: str
    reason: str
    limiter: str
    account: str
    senders: int
    share: float
    rate: float
    operation: str = "SendChatappMassMessage"
    """Whose budget: the mass send's, or the lookups' (``ListChatappMessage``)."""
    name: str = field(default="limiter", init=False)

    @classmethod
    def of(cls, job_id: str, notice: LimiterNotice, *, about: str = "") -> LimiterEvent:
        """The event telling ``notice`` for ``job_id``; ``about`` goes before its reason
        (``"lookups: "`` for the lookups' limiter)."""
        sharing = notice.sharing
        return cls(
            job_id,
            notice.state,
            f"{about}{notice.reason}",
            sharing.limiter,
            sharing.account,
            sharing.senders,
            round(sharing.share, 3),
            round(notice.rate, 2),
            operation=sharing.operation,
        )


@dataclass(frozen=True)
class StateEvent:
    """The sender's state changed: ``running``, ``paused``, ``stopping``."""

    job_id: str
    state: str
    reason: str = ""
    name: str = field(default="state", init=False)


@dataclass(frozen=True)
class ProgressEvent:
    """Where the job stands, in recipients; emitted after every settled batch and every second."""

    job_id: str
    total: int
    ok: int
    failed: int
    unknown: int
    pending: int
    in_flight: int
    rate: float
    calls_per_s: float
    recipients_per_s: float
    elapsed_s: float
    eta_s: float | None
    senders: int = 1
    """Senders sharing the account's budget now, this one included."""
    share: float = 1.0
    """This job's part of the account's budget (``1 / senders``)."""
    in_flight_recipients: int = 0
    """Recipients of the requests in flight (counted in ``pending`` until answered)."""
    name: str = field(default="progress", init=False)

    @property
    def settled(self) -> int:
        """Recipients whose batch has a final outcome."""
        return self.ok + self.failed + self.unknown


@dataclass(frozen=True)
class DoneEvent:
    """The run ended. ``state`` is the job's: ``done``, ``stopped`` (a fatal error, see
    ``code``/``message``/``advice``) or ``interrupted`` (cancelled; resumable)."""

    job_id: str
    state: str
    total: int
    ok: int
    failed: int
    unknown: int
    pending: int
    calls: int
    throttled: int
    elapsed_s: float
    code: str | None = None
    message: str | None = None
    advice: str | None = None
    not_sent_verified: int = 0
    """Recipients a lookup verified as never accepted, not (yet) resent."""
    name: str = field(default="done", init=False)


@dataclass(frozen=True)
class LookupEvent:
    """The run looks up its own unknown batches (:mod:`cams_tui.engine.reconcile`):
    ``looking`` while it does (``text`` says what), ``done`` with what it found, in
    recipients."""

    job_id: str
    stage: str
    text: str
    found: int = 0
    not_sent: int = 0
    unknown: int = 0
    name: str = field(default="lookup", init=False)


@dataclass(frozen=True)
class ScheduleEvent:
    """A scheduled job waits for its start (:mod:`cams_tui.schedule`): ``waiting`` when the
    wait begins and then about every second with the time left, ``starting`` when the time
    has come, ``cancelled`` when the run was cancelled first (nothing was sent). ``at`` is the start as a Unix time,
    ``at_text`` as the operator gave it."""

    job_id: str
    stage: str
    at: float
    at_text: str
    remaining_s: float
    waiting_for: str = "start"
    """``start``: the job's start time; ``window``: the next opening of the delivery window
    of the batches still planned (the others were sent)."""
    recipients: int = 0
    """With ``window``: how many recipients wait for it."""
    name: str = field(default="schedule", init=False)


Event = (
    PlanEvent
    | BatchEvent
    | RateEvent
    | LimiterEvent
    | StateEvent
    | ProgressEvent
    | DoneEvent
    | CanaryEvent
    | LookupEvent
    | ScheduleEvent
)


def event_to_json(event: Event) -> dict[str, Any]:
    """The event as one JSON object, ``"event"`` (its name) first."""
    data = asdict(event)
    name = data.pop("name")
    return {"event": name, **data}
