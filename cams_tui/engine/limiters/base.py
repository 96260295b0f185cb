"""What every account limiter offers the sender, whatever keeps its state.

A limiter paces the starts of one operation (``SendChatappMassMessage``, a lookup) for one
account: never more than ``rate`` starts in any sliding 1-second window, and an adaptive
(AIMD) back-off when the server throttles. The process limiter
(:class:`cams_tui.engine.ratelimit.RateLimiter`) keeps that state in memory; the shared
ones (:mod:`cams_tui.engine.limiters.shared`) keep it where every sender of the account
reads it: a file of the host, or Redis.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from cams_tui.engine.ratelimit import RateChange


@dataclass(frozen=True)
class Sharing:
    """Who shares the account's budget now.

    ``senders`` counts the senders of the account active in the last few seconds, this one
    included; ``share`` is this sender's part of the budget (``1 / senders``); ``limiter``
    names where the budget is kept (``process``, ``host``, ``redis://host:port/db``, never
    with a password)."""

    account: str
    operation: str
    limiter: str
    senders: int
    share: float


@dataclass(frozen=True)
class LimiterNotice:
    """Something the operator should see about the limiter.

    ``state`` is ``unavailable`` (the shared limiter cannot be reached: no request starts
    until it is back; ``reason`` says why), ``available`` (back: sending goes on),
    ``local`` (the rest of the job goes on with a process-local limiter at ``rate``) or
    ``sharing`` (the number of senders on the account changed: see ``sharing``)."""

    state: str
    reason: str
    sharing: Sharing
    rate: float


class Grant(Protocol):
    """One granted start (see :class:`cams_tui.engine.ratelimit.Permit`)."""

    def started(self) -> None:
        """Record that the request is leaving now."""

    def answered(self, latency_s: float) -> None:
        """Record the answer's latency, counted from :meth:`started`."""


@runtime_checkable
class Limiter(Protocol):
    """The limiter the sender paces its starts with."""

    on_change: Callable[[RateChange], None] | None
    on_notice: Callable[[LimiterNotice], None] | None

    @property
    def rate(self) -> float:
        """The current rate in starts per second (after any back-off)."""

    @property
    def ceiling(self) -> float:
        """The most the rate may climb back to."""

    async def ready(self, lead_s: float) -> None:
        """Wait until about ``lead_s`` before the next start is allowed."""

    async def acquire(self) -> Grant:
        """Wait until a start is allowed, then take it."""

    def throttled(self, retry_after_s: float | None, started_at: float | None = None) -> None:
        """A start was refused by the server's limit: every sender of the account pauses and
        slows down."""

    def succeeded(self) -> None:
        """An answer that was not throttled: the rate climbs back a little."""

    def now(self) -> float:
        """The limiter's clock (for ``started_at`` of :meth:`throttled`)."""

    def sharing(self) -> Sharing:
        """Who shares the account's budget now."""

    def use_local(self, senders: int) -> None:
        """Go on with a process-local limiter at ``ceiling / senders`` for the rest of the
        run, whether or not the shared one is reachable."""

    async def aclose(self) -> None:
        """Leave the account's senders (the others get this one's share)."""
