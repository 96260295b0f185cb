"""Where the TUI sends a job from and to, and what its send engine hands the UI."""

from __future__ import annotations

import threading
import time
from collections import deque
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


class SendControls:
    """What the UI holds of a running send: the events it drains and the controls it sends
    (the same for the child-process run and the in-thread run it starts there).

    A subclass delivers a control's name in :meth:`_control` (``pause``, ``resume``,
    ``cancel``, ``local:N``); one that comes before the run can take it waits in
    :attr:`_early`, under :attr:`_lock`."""

    def __init__(
        self,
        target: SendTarget,
        job_id: str,
        *,
        retry_unknown: bool = False,
        resend_verified: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.target = target
        self.job_id = job_id
        self.retry_unknown = retry_unknown
        self.resend_verified = resend_verified
        self.events: deque[Stamped] = deque()
        """Stamped events not yet drained (appended by the thread that receives them)."""
        self._clock = clock
        self._lock = threading.Lock()
        self._early: list[str] = []

    def drain(self) -> list[Stamped]:
        """Take every buffered event, oldest first."""
        taken: list[Stamped] = []
        events = self.events
        while events:
            taken.append(events.popleft())
        return taken

    def pause(self) -> None:
        """Start no new request until :meth:`resume`."""
        self._control("pause")

    def resume(self) -> None:
        """Start requests again."""
        self._control("resume")

    def cancel(self) -> None:
        """Stop (requests in flight are waited for); a second call stops at once."""
        self._control("cancel")

    def use_local(self, senders: int) -> None:
        """Go on with a limiter of this process alone at ``rate / senders`` for the rest of
        the run (:meth:`~cams_tui.engine.run.JobRunner.use_local`): for when the shared
        limiter is unavailable."""
        if senders < 1:
            raise ValueError("senders must be at least 1")
        self._control(f"local:{senders}")

    def _control(self, name: str) -> None:
        raise NotImplementedError
