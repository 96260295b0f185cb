"""The run's account limiter, which a pause holds back and a stop lets go at once."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from cams_tui.engine.limiters.base import Grant, Limiter, LimiterNotice, Sharing
from cams_tui.engine.ratelimit import RateChange


class _NoStart:
    """What a worker queued for a slot gets once the run is stopping: the sender sees that
    it is stopping and leaves without sending, so no start is ever recorded."""

    def started(self) -> None:
        """Nothing leaves: nothing to record."""

    def answered(self, latency_s: float) -> None:
        """Nothing left: nothing to record."""


class PausableLimiter:
    """Any account limiter (:class:`~cams_tui.engine.limiters.base.Limiter`), holding
    grants back while the run is paused, and letting every waiter go at once when it stops.

    The sender's own pause and stop act on workers before they queue for a slot; the
    workers already queued (up to its in-flight limit) would each wait for a slot, and
    after a pause start a request. Closing :attr:`gate` holds them too, so a pause takes
    effect at once; setting :attr:`stopping` hands them a void grant, so a cancel does
    not wait ``in_flight / rate`` seconds for the queue to drain (they see the sender
    stopping and leave without sending). Everything else is the wrapped limiter's."""

    def __init__(self, inner: Limiter) -> None:
        self.inner = inner
        self.gate = asyncio.Event()
        """Set while starts are allowed."""
        self.gate.set()
        self.stopping = asyncio.Event()
        """Set once the run is stopping."""

    @property
    def on_change(self) -> Callable[[RateChange], None] | None:
        """Told when the rate changes (the wrapped limiter's)."""
        return self.inner.on_change

    @on_change.setter
    def on_change(self, callback: Callable[[RateChange], None] | None) -> None:
        self.inner.on_change = callback

    @property
    def on_notice(self) -> Callable[[LimiterNotice], None] | None:
        """Told what the operator should see about the limiter (the wrapped limiter's)."""
        return self.inner.on_notice

    @on_notice.setter
    def on_notice(self, callback: Callable[[LimiterNotice], None] | None) -> None:
        self.inner.on_notice = callback

    @property
    def rate(self) -> float:
        """The wrapped limiter's current rate."""
        return self.inner.rate

    @property
    def ceiling(self) -> float:
        """The wrapped limiter's ceiling."""
        return self.inner.ceiling

    async def ready(self, lead_s: float) -> None:
        """Wait until about ``lead_s`` before the next start is allowed."""
        await self.inner.ready(lead_s)

    async def acquire(self) -> Grant:
        """A slot, once the gate is open; a void grant once the run stops."""
        await self.gate.wait()
        grant = asyncio.ensure_future(self.inner.acquire())
        stop = asyncio.ensure_future(self.stopping.wait())
        try:
            await asyncio.wait((grant, stop), return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
            if not grant.done():
                grant.cancel()
        if grant.done() and not grant.cancelled():
            permit = grant.result()
            # Paused while queued: hold the granted slot; the start time moves to the
            # real departure (Grant.started), so the window stays conservative.
            await self.gate.wait()
            return permit
        return _NoStart()

    def throttled(self, retry_after_s: float | None, started_at: float | None = None) -> None:
        """Throttled by the server: the wrapped limiter backs off."""
        self.inner.throttled(retry_after_s, started_at)

    def succeeded(self) -> None:
        """An answer that was not throttled."""
        self.inner.succeeded()

    def now(self) -> float:
        """The wrapped limiter's clock."""
        return self.inner.now()

    def sharing(self) -> Sharing:
        """Who shares the account's budget now."""
        return self.inner.sharing()

    def use_local(self, senders: int) -> None:
        """Go on with a process-local limiter at ``ceiling / senders``."""
        self.inner.use_local(senders)

    async def aclose(self) -> None:
        """Leave the account's senders."""
        await self.inner.aclose()
