"""What a front end gives a job run (its options and hooks) and gets back (its result)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from cams_tui.engine.canary import CanaryVerdict
from cams_tui.engine.events import DoneEvent, Event
from cams_tui.engine.reconcile import ReconcileReport, ReconcileSettings
from cams_tui.listing import DEFAULT_LOOKUP_RATE

if TYPE_CHECKING:
    from cams_tui.engine.run import JobRunner


DEFAULT_MAX_ROUNDS = 5
"""Lookup-then-resend rounds at the end of a run: each round resends only what a lookup
verified as never accepted, so a second or third is needed only on a very lossy network."""


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
