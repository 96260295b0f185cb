"""An account-wide limiter: never more than ``rate`` request starts in any 1-second window.

CAMS counts SendChatappMassMessage calls in a sliding one-second window. A token bucket with
a burst of ``rate`` lets nearly twice the rate through in its first second. This limiter
applies two rules to every start:

1. the window rule, the one the server enforces: a start waits until the ``rate``-th start
   before it left more than a second ago (plus a small safety margin for scheduling jitter
   and the server's parsing time), counted from the moments requests really *left*;
2. the spacing rule, for smoothness: starts are about ``1/rate`` apart, so there is no burst
   at all. A burst of ``rate`` simultaneous starts (each opening a connection) reaches the
   server with more spread than the margin covers, and the next second's starts on warm
   connections overtake it. Spacing is kept on an ideal timeline, so a late wake-up does
   not slow every later start; the window rule alone guards the server's limit.

When a request really leaves is learnt from :meth:`Permit.started`; an answer much slower
than usual (:meth:`Permit.answered`) may mean the request reached the server late, and its
start then counts from that much later. The first start after a quiet spell gets an extra
allowance (``cold_margin_s``): a cold connection and a cold server path make it arrive later
than the ones a second after it.

It is adaptive (AIMD): a throttled answer pauses every start for the delay the server asked
for (``x-acs-retry-after``) and cuts the rate by a factor; each answer that is not throttled
adds back a little, so the rate climbs back to its ceiling within seconds.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from cams_tui.engine.limiters.base import LimiterNotice, Sharing

DEFAULT_RATE = 10.0
# Enough to absorb the scheduling jitter between "allowed to start" and "bytes on the wire"
# plus the server's own clock granularity, small enough to cost under 1 % of the ceiling.
DEFAULT_MARGIN_S = 0.010
DEFAULT_COLD_MARGIN_S = 0.030
SPIN_S = 0.002
DECREASE_FACTOR = 0.7
# Each answer that is not throttled adds back this share of the ceiling: from 70 % back to
# 100 % in about a dozen answers.
INCREASE_SHARE = 1 / 40
# A slow answer moves its start's time by at most this much.
MAX_LATENCY_SHIFT_S = 0.25
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
    """One granted start. Call :meth:`started` right before the request leaves.

    The time between grant and departure (a journal commit, signing) is usually the same
    for every request and then shifts nothing. A departure later than usual, such as the
    first request on a cold connection, moves this start's time by the excess, so the next
    start keeps its distance from the real departure.
    """

    __slots__ = ("_limiter", "_stamp")

    def __init__(self, stamp: list[float], limiter: RateLimiter) -> None:
        self._stamp = stamp
        self._limiter = limiter

    def started(self) -> None:
        """Record that the request is leaving now."""
        self._limiter._departed(self._stamp)

    def answered(self, latency_s: float) -> None:
        """Record the answer's latency (from :meth:`started`). An answer slower than usual
        may have reached the server late too: the start then counts from that much later,
        so the start ``rate`` places after it keeps a full second from its arrival."""
        self._limiter._answered(self._stamp, latency_s)


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
        cold_margin_s: float = DEFAULT_COLD_MARGIN_S,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        on_change: Callable[[RateChange], None] | None = None,
        account: str = "",
        operation: str = "SendChatappMassMessage",
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be above 0")
        self._ceiling = float(rate)
        self._rate = float(rate)
        self._min_rate = min(float(min_rate), self._ceiling)
        self._margin = margin_s
        self._cold_margin = cold_margin_s
        self._clock = clock
        self._sleep = sleep
        self._departures: deque[list[float]] = deque()
        self._next_slot = -math.inf
        self._usual_delay = 0.0
        self._usual_latency: float | None = None
        self._paused_until = 0.0
        self._last_decrease = -math.inf
        self._lock = asyncio.Lock()
        self.on_change = on_change
        self.on_notice: Callable[[LimiterNotice], None] | None = None
        self._account = account
        self._operation = operation

    @property
    def rate(self) -> float:
        """The current rate in starts per second."""
        return self._rate

    @property
    def ceiling(self) -> float:
        """The most the rate may climb back to."""
        return self._ceiling

    def _window(self) -> tuple[int, float]:
        # n starts per n/rate seconds: for an integer rate, exactly rate per 1 s window.
        n = max(1, math.floor(self._rate))
        return n, n / self._rate

    def _wait_needed(self, now: float) -> float:
        if self._paused_until > now:
            return self._paused_until - now
        n, window = self._window()
        while len(self._departures) > n:
            self._departures.popleft()
        wait = self._next_slot - now
        if len(self._departures) == n:
            wait = max(wait, self._departures[0][0] + window + self._margin - now)
        return max(0.0, wait)

    async def ready(self, lead_s: float) -> None:
        """Wait until about ``lead_s`` before the next start is allowed (no permit taken):
        time to prepare a request so that it can leave the moment its permit is granted."""
        async with self._lock:
            wait = self._wait_needed(self._clock()) - lead_s
        if wait > 0:
            await self._sleep(wait)

    async def acquire(self) -> Permit:
        """Wait until a start is allowed, then take it. Waiters are served in order."""
        async with self._lock:
            while True:
                wait = self._wait_needed(self._clock())
                if wait <= 0:
                    break
                # The loop's timers wake up to a millisecond late, and every late start
                # delays the one a window later: sleep short, then yield until the moment.
                await self._sleep(wait - SPIN_S if wait > SPIN_S else 0)
            now = self._clock()
            _, window = self._window()
            stamp = [now]
            if not self._departures or self._departures[-1][0] < now - 2 * window:
                stamp[0] += self._cold_margin
            self._departures.append(stamp)
            # At most half a slot of catching up after a late wake-up (never a burst); after
            # a quiet spell the timeline restarts from now.
            slot = 1.0 / self._rate
            base = self._next_slot if self._next_slot >= now - 0.5 * slot else now
            self._next_slot = base + slot
            return Permit(stamp, self)

    def _departed(self, stamp: list[float]) -> None:
        delay = self._clock() - stamp[0]
        excess = delay - self._usual_delay
        # The usual delay is learnt from below: it starts at 0, so early outliers count fully.
        self._usual_delay += 0.2 * (delay - self._usual_delay)
        if excess > 0:
            stamp[0] += excess

    def _answered(self, stamp: list[float], latency_s: float) -> None:
        if self._usual_latency is None:
            self._usual_latency = latency_s
            return
        excess = min(latency_s - self._usual_latency, MAX_LATENCY_SHIFT_S)
        self._usual_latency += 0.1 * (latency_s - self._usual_latency)
        if excess > 0:
            stamp[0] += excess

    def hold_until(self, moment: float) -> None:
        """Start nothing before ``moment`` (on :meth:`now`'s clock): for a limiter taking over
        from another whose starts of the last second it does not know."""
        self._paused_until = max(self._paused_until, moment)

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
        """An answer that was not throttled: climb back by a small share of the ceiling."""
        if self._rate >= self._ceiling:
            return
        previous = self._rate
        self._rate = min(self._ceiling, self._rate + self._ceiling * INCREASE_SHARE)
        if self._rate >= self._ceiling and self.on_change:
            self.on_change(RateChange(self._rate, previous, "recovered"))

    def now(self) -> float:
        """The limiter's clock (for ``started_at`` of :meth:`throttled`)."""
        return self._clock()

    def sharing(self) -> Sharing:
        """This process alone: it knows of no other sender."""
        return Sharing(self._account, self._operation, "process", 1, 1.0)

    def use_local(self, senders: int) -> None:
        """Already process-local: nothing changes."""

    async def aclose(self) -> None:
        """Nothing to leave."""
