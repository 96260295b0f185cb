"""Where the TUI sends a job from and to, and what its send engine hands the UI."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cams_tui.api.credentials import Credentials
from cams_tui.engine.limiters.factory import account_key, limiter_factory
from cams_tui.listing import DEFAULT_LOOKUP_RATE

if TYPE_CHECKING:
    from cams_tui.api.endpoints import Placement
    from cams_tui.engine.events import Event
    from cams_tui.engine.limiters.base import Limiter
    from cams_tui.engine.reconcile import ReconcileSettings


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
    lookup: ReconcileSettings | None = None
    """How a run looks its own unknown batches up once every batch has an answer
    (``None``: it does not)."""
    limiter: str = "process"
    """Where the account's rate budget is kept: ``process``, ``host`` or ``redis://…``
    (the profile's ``limiter``)."""
    account: str | None = None
    """The account the budget belongs to (the profile's ``account``; ``None``: the
    AccessKey ID)."""

    def limiter_factory(self, operation: str = "SendChatappMassMessage") -> Callable[[float], Limiter]:
        """Builds this target's account limiter for ``operation`` at a given rate (the
        sends: for each stage of a run; ``ListChatappMessage``: the lookups)."""

        account = account_key(self.account, self.credentials.access_key_id).key
        return limiter_factory(self.limiter, account=account, data_dir=self.data_dir, operation=operation)

    def lookup_limiter(self) -> Limiter:
        """The account's ListChatappMessage limiter at this target's lookup rate (close it
        when done: :meth:`Limiter.aclose`)."""
        return self.limiter_factory("ListChatappMessage")(self.lookup_rate)

    @property
    def lookup_rate(self) -> float:
        """ListChatappMessage calls per second (the profile's ``lookup_rate``)."""

        return self.lookup.lookup_rate if self.lookup is not None else DEFAULT_LOOKUP_RATE


@dataclass(frozen=True)
class BatchTally:
    """How many of a job's batches are in each state, read from the journal when a run
    starts (a resumed job has batches settled by earlier runs) and after a lookup."""

    counts: dict[str, int]


Stamped = tuple[float, "Event | BatchTally"]
"""An event with the wall-clock time it was received."""
