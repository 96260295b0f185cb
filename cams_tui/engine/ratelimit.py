"""An account-wide limiter: never more than ``rate`` request starts in any 1-second window.

CAMS counts SendChatappMassMessage calls in a sliding one-second window. A token bucket with
a burst of ``rate`` lets nearly twice the rate through in its first second. This limiter
spaces starts evenly instead: one every ``(1 s + margin) / rate``, so any ``rate + 1``
consecutive starts span more than a second (plus a small safety margin for clock and network
skew). That gives ``rate`` starts per second from the very first second, and no burst at all:
a burst of ``rate`` simultaneous starts (each opening a connection) reaches the server with
more spread than the margin covers, and the next second's starts on warm connections overtake
it; evenly spaced starts do not.

It is adaptive (AIMD): a throttled answer pauses every start for the delay the server asked
for (``x-acs-retry-after``) and cuts the rate by a factor; each answer that is not throttled
adds back a little, so the rate climbs back to its ceiling within seconds.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

DEFAULT_RATE = 10.0
# Enough to absorb the scheduling jitter between "allowed to start" and "bytes on the wire"
# plus the server's own clock granularity, small enough to cost under 1 % of the ceiling.
DEFAULT_MARGIN_S = 0.010
DECREASE_FACTOR = 0.7
# Without an x-acs-retry-after header, a throttled answer pauses starts this long.
DEFAULT_THROTTLE_PAUSE_S = 1.0


@dataclass(frozen=True)
class RateChange:
    """The limiter's rate moved: ``reason`` is ``"throttled"`` or ``"recovered"``."""

    rate: float
    previous: float
    reason: str
    pause_s: float = 0.0


class Permit:
    """One granted start. Call :meth:`started` right before the request leaves, so that
    the window counts from the real departure rather than from the grant."""

    __slots__ = ("_stamp", "_clock")

    def __init__(self, stamp: list[float], clock: Callable[[], float]) -> None:
        self._stamp = stamp
        self._clock = clock

    def started(self) -> None:
        """Move this start's time to now (only ever later: the window stays conservative)."""
        self._stamp[0] = max(self._stamp[0], self._clock())


class RateLimiter:
    """Paces request starts for one account; safe to share between coroutines of one loop.

    ``rate`` is the ceiling in starts per second (fractions allowed, as an average: the
    adaptive decrease produces them). ``min_rate`` is the floor the decrease stops at.
    """

    def __init__(
        self,
        rate: float = DEFAULT_RATE,
        *,
        min_rate: float = 0.5,
        margin_s: float = DEFAULT_MARGIN_S,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        on_change: Callable[[RateChange], None] | None = None,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be above 0")
        self._ceiling = float(rate)
        self._rate = float(rate)
        self._min_rate = min(float(min_rate), self._ceiling)
        self._margin = margin_s
        self._clock = clock
        self._sleep = sleep
        self._last_start: list[float] = [-math.inf]
        self._paused_until = 0.0
        self._last_decrease = -math.inf
        self._lock = asyncio.Lock()
        self.on_change = on_change

    @property
    def rate(self) -> float:
        """The current rate in starts per second."""
        return self._rate

    @property
    def ceiling(self) -> float:
        """The most the rate may climb back to."""
        return self._ceiling

    def _gap(self) -> float:
        # With an integer rate r, any r + 1 consecutive starts span r gaps = 1 s + margin.
        return (1.0 + self._margin) / self._rate

    def _wait_needed(self, now: float) -> float:
        if self._paused_until > now:
            return self._paused_until - now
        return max(0.0, self._last_start[0] + self._gap() - now)

    async def acquire(self) -> Permit:
        """Wait until a start is allowed, then take it. Waiters are served in order."""
        async with self._lock:
            while True:
                wait = self._wait_needed(self._clock())
                if wait <= 0:
                    break
                await self._sleep(wait)
            self._last_start = [self._clock()]
            return Permit(self._last_start, self._clock)

    def throttled(self, retry_after_s: float | None, started_at: float | None = None) -> None:
        """A start was refused by the server's limit: pause, and lower the rate.

        Several requests in flight are often throttled together; only the first of them
        (one started after the last decrease) lowers the rate again.
        """
        now = self._clock()
        pause = DEFAULT_THROTTLE_PAUSE_S if retry_after_s is None else retry_after_s
        self._paused_until = max(self._paused_until, now + pause)
        if started_at is not None and started_at < self._last_decrease:
            return
        previous = self._rate
        self._rate = max(self._min_rate, self._rate * DECREASE_FACTOR)
        self._last_decrease = now
        if self.on_change:
            self.on_change(RateChange(self._rate, previous, "throttled", pause))

    def succeeded(self) -> None:
        """An answer that was not throttled: climb back (about +1 start/s per second)."""
        if self._rate >= self._ceiling:
            return
        previous = self._rate
        self._rate = min(self._ceiling, self._rate + 1.0 / self._rate)
        if self._rate >= self._ceiling and self.on_change:
            self.on_change(RateChange(self._rate, previous, "recovered"))

    def now(self) -> float:
        """The limiter's clock (for ``started_at`` of :meth:`throttled`)."""
        return self._clock()
