"""A job run's controls (pause, resume, cancel, stop, local limiters) and the state they act on."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from cams_tui.engine.events import Event, LimiterEvent
from cams_tui.engine.journal import Journal
from cams_tui.engine.limiters.base import Limiter, LimiterNotice
from cams_tui.engine.pausable_limiter import PausableLimiter
from cams_tui.engine.ratelimit import RateLimiter
from cams_tui.engine.reconcile import ReconcileReport
from cams_tui.engine.run_options import RunHooks, RunOptions
from cams_tui.engine.sender import Sender, default_in_flight
from cams_tui.listing import LIST_MESSAGES

if TYPE_CHECKING:
    from cams_tui.api.client import CamsClient


def process_limiter(rate: float) -> Limiter:
    """A limiter of this process alone (tests, and profiles with ``limiter = "process"``)."""
    return RateLimiter(rate)


def process_lookup_limiter(rate: float) -> Limiter:
    """A ListChatappMessage limiter of this process alone (where no profile is known)."""
    return RateLimiter(rate, operation=LIST_MESSAGES)


class RunControls:
    """A run's state and the controls a front end acts on it with: pause, resume, cancel,
    stop, and going on with process-local limiters.

    Use from one event loop. The controls act on whichever stage is running, and are
    remembered when called before it starts (:class:`~cams_tui.engine.run.JobRunner` runs
    the stages)."""

    def __init__(
        self,
        client: CamsClient,
        journal: Journal,
        job_id: str,
        options: RunOptions,
        hooks: RunHooks | None = None,
        *,
        limiter_factory: Callable[[float], Limiter] = process_limiter,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        lookup_limiter_factory: Callable[[float], Limiter] = process_lookup_limiter,
    ) -> None:
        """``clock`` (Unix time) and ``sleep`` are what the scheduled stage waits with."""
        self.client = client
        self.journal = journal
        self.job_id = job_id
        self.options = options
        self.hooks = hooks or RunHooks()
        self._limiter_factory = limiter_factory
        self._lookup_limiter_factory = lookup_limiter_factory
        self._lookup_limiter: Limiter | None = None
        self._local_senders: int | None = None
        self._in_flight = options.in_flight or default_in_flight(options.rate)
        self._sender: Sender | None = None
        self._limiter: PausableLimiter | None = None
        self._paused = False
        self._cancelled = False
        self._stop: tuple[str, str] | None = None
        self._lookup_task: asyncio.Task[ReconcileReport] | None = None
        self._observers: list[Callable[[Event], None]] = []
        self._calls = 0
        self._throttled = 0
        self._started = time.monotonic()
        self._clock = clock
        self._sleep = sleep
        self._cancel_requested: asyncio.Event | None = None

    @property
    def cancelled(self) -> bool:
        """Whether the run was cancelled or stopped."""
        return self._cancelled

    @property
    def paused(self) -> bool:
        """Whether new requests are held back."""
        return self._paused

    def pause(self) -> None:
        """Start no new request until :meth:`resume`."""
        self._paused = True
        if self._limiter is not None:
            self._limiter.gate.clear()
        if self._sender is not None:
            self._sender.pause()

    def resume(self) -> None:
        """Start requests again."""
        self._paused = False
        if self._sender is not None:
            self._sender.resume()
        if self._limiter is not None:
            self._limiter.gate.set()

    def cancel(self) -> None:
        """Stop (requests in flight are waited for); a second call stops at once."""
        self._cancelled = True
        if self._cancel_requested is not None:
            self._cancel_requested.set()
        if self._sender is not None:
            self._sender.cancel()
        if self._limiter is not None:
            self._limiter.gate.set()  # workers held at the gate must be free to leave
        if self._lookup_task is not None:
            self._lookup_task.cancel()

    @property
    def local_senders(self) -> int | None:
        """N once the run went on with a process-local limiter at ``rate / N``, else ``None``."""
        return self._local_senders

    def use_local(self, senders: int) -> None:
        """Go on with process-local limiters at ``rate / senders`` (the sends) and
        ``lookup_rate / senders`` (the lookups) for the rest of the run, whether or not the
        shared limiter is reachable: for when it is down and the operator knows how many
        senders share the account. A second call changes nothing."""
        if senders < 1:
            raise ValueError("senders must be at least 1")
        if self._local_senders is not None:
            return
        self._local_senders = senders
        if self._limiter is not None:
            self._limiter.use_local(senders)
        if self._lookup_limiter is not None:
            self._lookup_limiter.use_local(senders)

    def _limiter_unavailable(self) -> None:
        """The shared limiter cannot be reached: go local if the options say so."""
        n = self.options.local_when_unavailable
        if n is not None and self._local_senders is None:
            self.use_local(n)

    def stop(self, code: str, message: str) -> None:
        """Cancel, and record the job as stopped with ``code``: resumable, but only by
        someone who looked (``resume`` says why it stopped)."""
        self._stop = (code, message)
        self.cancel()

    def lookup_limiter(self) -> Limiter:
        """The account's ListChatappMessage limiter of this run (built on first use, shared by
        the canary, the spike watch and the lookups of unknowns, closed when the run ends)."""
        if self._lookup_limiter is None:
            limiter = self._lookup_limiter_factory(self.options.lookup_rate)
            limiter.on_notice = self._lookup_notice
            if self._local_senders is not None:
                limiter.use_local(self._local_senders)
            self._lookup_limiter = limiter
        return self._lookup_limiter

    def _lookup_notice(self, notice: LimiterNotice) -> None:
        """The lookups' limiter has news for the operator (who shares it is not news)."""
        if notice.state == "sharing":
            return
        self.hooks.event(LimiterEvent.of(self.job_id, notice, about="lookups: "))
        if notice.state == "unavailable":
            self._limiter_unavailable()
