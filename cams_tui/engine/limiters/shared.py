"""A limiter whose budget is the account's, shared by every sender that uses the same store.

:class:`SharedLimiter` is the sender's side: it reserves each start in a :class:`Store`
(the host's file, Redis) that applies :mod:`cams_tui.engine.limiters.window`'s rules in one
atomic step, sleeps until the reserved moment, and reports back what the store must know:
a start that left late, an answer that came back slow, a throttled answer, a good one.

When the store cannot be reached, no request starts: the limiter says so once
(:class:`~cams_tui.engine.limiters.base.LimiterNotice` ``unavailable``), asks again every
``retry_s``, and says ``available`` when it answers again. :meth:`SharedLimiter.use_local`
ends the wait for good: the rest of the run is paced by a process-local limiter at
``ceiling / senders``.
"""

from __future__ import annotations

import asyncio
import math
import os
import socket
import time
import uuid
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any, Protocol

from cams_tui.engine.limiters.base import Grant, LimiterNotice, Sharing
from cams_tui.engine.limiters.window import Pacing, Reservation
from cams_tui.engine.ratelimit import (
    DEFAULT_COLD_MARGIN_S,
    DEFAULT_MARGIN_S,
    DEFAULT_RATE,
    DEFAULT_THROTTLE_PAUSE_S,
    MAX_LATENCY_SHIFT_S,
    SPIN_S,
    RateChange,
    RateLimiter,
)

RETRY_S = 0.5
"""How often an unreachable store is asked again."""
_WINDOW_S = 1.0
"""The sliding window the rate is counted over."""
# A start that left less than this after its reserved moment is not worth a round trip.
_SHIFT_MIN_S = 0.0005


class LimiterUnavailable(Exception):
    """The shared limiter's store cannot be used now; the message says why (never a secret)."""


class Store(Protocol):
    """Where one (account, operation)'s budget is kept; every call is one atomic step.

    Each raises :class:`LimiterUnavailable` when the store cannot be reached."""

    description: str
    """Where the budget is kept, for people (``host``, ``redis://host:port/0``): no secret."""

    async def reserve(self, sender: str, pacing: Pacing) -> Reservation:
        """Reserve the next start (see :meth:`WindowState.reserve`)."""

    async def shift(self, key: str, by_s: float) -> None:
        """Move a reserved start ``by_s`` later."""

    async def throttle(self, epoch: int, pause_s: float, min_factor: float) -> float:
        """Record a throttled answer; returns the account's factor."""

    async def succeed(self) -> float:
        """Record an answer that was not throttled; returns the account's factor."""

    async def senders(self) -> int:
        """How many senders are active on the account now."""

    async def leave(self, sender: str) -> None:
        """The sender is done."""

    async def aclose(self) -> None:
        """Release the connection."""


def new_sender_id() -> str:
    """A name for this sender, unique across hosts and processes."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class SharedPermit:
    """One start reserved in the store (see :class:`cams_tui.engine.ratelimit.Permit`)."""

    __slots__ = ("_key", "_limiter", "_target")

    def __init__(self, limiter: SharedLimiter, key: str, target: float) -> None:
        self._limiter = limiter
        self._key = key
        self._target = target

    def started(self) -> None:
        """Record that the request is leaving now: a late departure moves the start."""
        now = self._limiter.now()
        self._limiter._note_start(now)
        late = now - self._target
        if late > _SHIFT_MIN_S and not self._limiter.local:
            self._limiter._background(self._limiter._store.shift(self._key, late))

    def answered(self, latency_s: float) -> None:
        """Record the answer's latency: an answer slower than usual moves the start."""
        self._limiter._answered(self._key, latency_s)


class SharedLimiter:
    """Paces one sender's starts within the account's shared budget (see the module)."""

    def __init__(
        self,
        store: Store,
        rate: float = DEFAULT_RATE,
        *,
        account: str,
        operation: str = "SendChatappMassMessage",
        min_rate: float = 0.5,
        margin_s: float = DEFAULT_MARGIN_S,
        cold_margin_s: float = DEFAULT_COLD_MARGIN_S,
        retry_s: float = RETRY_S,
        clock: Callable[[], float] = time.monotonic,
        on_change: Callable[[RateChange], None] | None = None,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be above 0")
        self._store = store
        self._ceiling = float(rate)
        self._min_rate = min(float(min_rate), self._ceiling)
        self._pacing = Pacing(self._ceiling, self._min_rate, margin_s, cold_margin_s)
        self._retry_s = retry_s
        self._clock = clock
        self._account = account
        self._operation = operation
        self._sender = new_sender_id()
        self._lock = asyncio.Lock()
        self._held: tuple[str, float] | None = None
        self._factor = 1.0
        self._epoch = 0
        self._senders = 1
        self._reserved: deque[tuple[float, int]] = deque(maxlen=256)
        self._paused_until = 0.0
        self._usual_latency: float | None = None
        self._unavailable: str | None = None
        self._local: RateLimiter | None = None
        self._local_senders = 1
        self._margin_s = margin_s
        self._last_start = -math.inf
        self._wake = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()
        self.on_change = on_change
        self.on_notice: Callable[[LimiterNotice], None] | None = None

    # ------------------------------------------------------------------ reading

    @property
    def rate(self) -> float:
        """This sender's current rate: the ceiling times the account's back-off factor."""
        if self._local is not None:
            return self._local.rate
        return max(self._ceiling * self._factor, self._min_rate)

    @property
    def ceiling(self) -> float:
        """The most the rate may climb back to."""
        return self._ceiling

    @property
    def unavailable(self) -> str | None:
        """Why the store cannot be reached now, or ``None`` when it can."""
        return self._unavailable

    @property
    def local(self) -> bool:
        """Whether the rest of the run is paced by a process-local limiter."""
        return self._local is not None

    def sharing(self) -> Sharing:
        """Who shares the account's budget now (as of the last reservation)."""
        if self._local is not None:
            n = self._local_senders
            return Sharing(self._account, self._operation, f"process (1/{n} of the account)", n, 1 / n)
        return Sharing(self._account, self._operation, self._store.description, self._senders, 1 / self._senders)

    def now(self) -> float:
        """The limiter's clock."""
        return self._clock()

    # ------------------------------------------------------------------ pacing

    async def ready(self, lead_s: float) -> None:
        """Reserve the next start, then wait until ``lead_s`` before it."""
        async with self._lock:
            if self._local is None and self._held is None:
                self._held = await self._reserve()
            if self._held is None:
                assert self._local is not None
                local = self._local
            else:
                local = None
                wait = max(self._held[1], self._paused_until) - self.now() - lead_s
        if local is not None:
            await local.ready(lead_s)
        elif wait > 0:
            await asyncio.sleep(wait)

    async def acquire(self) -> Grant:
        """Wait until the reserved start (reserving one if none is held), then take it."""
        async with self._lock:
            if self._local is None and self._held is None:
                self._held = await self._reserve()
            if self._held is None:
                assert self._local is not None
                local = self._local
            else:
                key, target = self._held
                self._held = None
                while True:
                    wait = max(target, self._paused_until) - self.now()
                    if wait <= 0:
                        break
                    # Timers wake up to a millisecond late: sleep short, then yield.
                    await asyncio.sleep(wait - SPIN_S if wait > SPIN_S else 0)
                return SharedPermit(self, key, target)
        return await local.acquire()

    async def _reserve(self) -> tuple[str, float] | None:
        """Reserve a start in the store; ``None`` once :meth:`use_local` took over."""
        while self._local is None:
            try:
                reservation = await self._store.reserve(self._sender, self._pacing)
            except LimiterUnavailable as exc:
                if self._unavailable is None:
                    self._unavailable = str(exc)
                    self._notify("unavailable", f"{exc}: no request starts until it is back")
                await self._nap(self._retry_s)
                continue
            if self._unavailable is not None:
                self._unavailable = None
                self._notify("available", f"the account's limiter ({self._store.description}) is back")
            self._learn(reservation)
            if reservation.id is None:
                await self._nap(reservation.wait_s)
                continue
            now = self.now()
            self._reserved.append((now, reservation.epoch))
            return reservation.id, now + reservation.wait_s
        return None

    async def _nap(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._wake.wait(), seconds)
        except TimeoutError:
            pass

    # ------------------------------------------------------------------ answers

    def _answered(self, key: str, latency_s: float) -> None:
        if self._usual_latency is None:
            self._usual_latency = latency_s
            return
        excess = min(latency_s - self._usual_latency, MAX_LATENCY_SHIFT_S)
        self._usual_latency += 0.1 * (latency_s - self._usual_latency)
        if excess > _SHIFT_MIN_S and self._local is None:
            self._background(self._store.shift(key, excess))

    def throttled(self, retry_after_s: float | None, started_at: float | None = None) -> None:
        """A start was refused by the server's limit: every sender of the account pauses for
        the delay asked, and the account's rate drops once for the requests reserved before."""
        if self._local is not None:
            self._local.throttled(retry_after_s, started_at)
            return
        pause = DEFAULT_THROTTLE_PAUSE_S if retry_after_s is None else retry_after_s
        self._paused_until = max(self._paused_until, self.now() + pause)
        epoch = self._epoch
        if started_at is not None:
            # The epoch of the newest reservation made before the request started.
            for reserved_at, reserved_epoch in reversed(self._reserved):
                if reserved_at <= started_at:
                    epoch = reserved_epoch
                    break
        self._background(self._report_throttle(epoch, pause))

    async def _report_throttle(self, epoch: int, pause: float) -> None:
        factor = await self._store.throttle(epoch, pause, self._min_rate / self._ceiling)
        self._set_factor(factor, pause)

    def succeeded(self) -> None:
        """An answer that was not throttled: the account's rate climbs back a little."""
        if self._local is not None:
            self._local.succeeded()
        elif self._factor < 1.0:
            self._background(self._report_success())

    async def _report_success(self) -> None:
        self._set_factor(await self._store.succeed())

    def _learn(self, reservation: Reservation) -> None:
        self._epoch = reservation.epoch
        self._set_factor(reservation.factor)
        if reservation.senders != self._senders:
            self._senders = max(1, reservation.senders)
            self._notify("sharing", f"{self._senders} sender(s) share the account's budget")

    def _set_factor(self, factor: float, pause_s: float = 0.0) -> None:
        previous = self.rate
        before = self._factor
        self._factor = factor
        if self.on_change is None or factor == before:
            return
        if factor < before:
            self.on_change(RateChange(self.rate, previous, "throttled", pause_s))
        elif factor >= 1.0:
            self.on_change(RateChange(self.rate, previous, "recovered"))

    def _notify(self, state: str, reason: str) -> None:
        if self.on_notice is not None:
            self.on_notice(LimiterNotice(state, reason, self.sharing(), self.rate))

    def _background(self, work: Coroutine[Any, Any, Any]) -> None:
        """Report to the store without holding the request up; a store that cannot be
        reached then loses the report, which only makes the next starts more careful
        (a lost shift) or the back-off shorter-lived on this sender (a lost throttle: its
        pause is kept locally)."""

        async def quietly() -> None:
            try:
                await work
            except LimiterUnavailable:
                pass

        task = asyncio.ensure_future(quietly())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ----------------------------------------------------------------- fallback

    def _note_start(self, at: float) -> None:
        """A start granted by the store left at ``at``: a process-local limiter taking over
        starts nothing within a window of it (the account's window still holds it)."""
        self._last_start = max(self._last_start, at)
        if self._local is not None:
            self._local.hold_until(at + _WINDOW_S + self._margin_s)

    def use_local(self, senders: int) -> None:
        """Go on with a process-local limiter at ``ceiling / senders`` for the rest of the
        run (say how many senders share the account, this one included). A start already
        reserved in the store is dropped."""
        if senders < 1:
            raise ValueError("senders must be at least 1")
        if self._local is not None:
            return
        self._local_senders = senders
        local = RateLimiter(
            self._ceiling / senders,
            min_rate=min(self._min_rate, self._ceiling / senders),
            account=self._account,
            operation=self._operation,
        )
        local.on_change = lambda change: self.on_change(change) if self.on_change else None
        # The starts of the last second, granted by the store, are still in the account's
        # window: the local limiter does not know them, so it waits the window out.
        local.hold_until(self._last_start + _WINDOW_S + self._margin_s)
        self._local = local
        self._held = None
        self._wake.set()
        self._notify("local", f"the rest of this run is paced here alone, at {local.rate:g} calls/s")

    async def aclose(self) -> None:
        """Finish the reports still on their way, leave the account's senders, close."""
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=1.0)
        try:
            await self._store.leave(self._sender)
        except LimiterUnavailable:
            pass
        await self._store.aclose()

