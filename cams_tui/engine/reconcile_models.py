"""What a lookup of unknown batches is given (its settings) and what it concludes (its report)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cams_tui.listing import DEFAULT_LOOKUP_RATE

DEFAULT_GRACE_S = 120.0
DEFAULT_SAMPLES = 3
DEFAULT_SKEW_S = 300.0
RESOLVED_BY_LOOKUP = "lookup"


@dataclass(frozen=True)
class ReconcileSettings:
    """How unknown batches are looked up."""

    grace_s: float = DEFAULT_GRACE_S
    """A batch is declared not sent only this long after its last attempt."""
    samples: int = DEFAULT_SAMPLES
    """Recipients looked up per batch before it is declared not sent."""
    skew_s: float = DEFAULT_SKEW_S
    """Clock difference allowed between this machine and CAMS, on both ends of the window."""
    lookup_rate: float = DEFAULT_LOOKUP_RATE
    """ListChatappMessage calls per second."""
    max_wait_s: float | None = None
    """How long to wait for a batch's grace to run out; ``None``: as long as it takes
    (at most ``grace_s``); 0: never wait (the batch stays unknown)."""

    def __post_init__(self) -> None:
        if self.grace_s < 0:
            raise ValueError(f"grace_s={self.grace_s}: must be 0 or more seconds")
        if self.samples < 1:
            raise ValueError(f"samples={self.samples}: look up at least 1 recipient")
        if self.skew_s < 0:
            raise ValueError(f"skew_s={self.skew_s}: must be 0 or more seconds")
        if self.lookup_rate <= 0:
            raise ValueError(f"lookup_rate={self.lookup_rate}: must be above 0 calls per second")


@dataclass(frozen=True)
class Resolution:
    """What the lookup concluded about one unknown batch."""

    index: int
    size: int
    state: str
    """``ok``, ``not_sent_verified`` or ``unknown`` (unresolved)."""
    reason: str
    evidence: dict[str, Any]
    lookups: int


@dataclass
class ReconcileReport:
    """The outcome of one reconciliation run of a job."""

    job_id: str
    resolutions: list[Resolution] = field(default_factory=list)
    lookups: int = 0
    elapsed_s: float = 0.0
    control: str = ""
    """What the controls showed (empty when none was consulted)."""
    blocked: str = ""
    """Why nothing was looked up (no CustSpaceId); empty when lookups ran."""

    def count(self, state: str) -> int:
        """Batches that ended in ``state``."""
        return sum(1 for r in self.resolutions if r.state == state)

    def recipients(self, state: str) -> int:
        """Recipients of the batches that ended in ``state``."""
        return sum(r.size for r in self.resolutions if r.state == state)


Notify = Callable[[str], None]
