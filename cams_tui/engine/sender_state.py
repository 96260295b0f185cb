"""A sender's state, its controls (pause, resume, cancel) and the events it emits."""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Callable, Collection

from cams_tui.api.client import CamsClient
from cams_tui.api.errors import CamsError
from cams_tui.api.models import MassMessageOptions
from cams_tui.engine.events import Event, LimiterEvent, ProgressEvent, RateEvent, StateEvent
from cams_tui.engine.journal import Journal
from cams_tui.engine.limiters.base import Limiter, LimiterNotice
from cams_tui.engine.ratelimit import RateChange, RateLimiter

NOT_SENT_LIMIT = 6
NOT_SENT_BACKOFF_S = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0)
# Connections refused (or failing before the request was written) for this long, without
# any answer in between, make the endpoint unreachable: longer than a server's restart.
UNREACHABLE_AFTER_S = 30.0
# Throttled for this long without any batch settled stops the job: the account's limit is
# taken by someone else (or the quota is spent), and retrying forever helps nobody.
THROTTLE_CEILING_S = 300.0
# How long a cancel waits for requests in flight to be answered before giving up on them
# (they then become ``unknown``). A second cancel gives up at once.
CANCEL_GRACE_S = 10.0
# A batch is built this long before its start is allowed: building 1,000 recipients takes
# a few milliseconds, or tens when a full garbage collection runs meanwhile.
PREPARE_LEAD_S = 0.06
_WINDOW_S = 5.0
THROTTLED_TOO_LONG = "ThrottledTooLong"
"""The stop code of a job throttled for ``throttle_ceiling_s`` without a settled batch."""

Subscriber = Callable[[Event], None]


def default_in_flight(rate: float) -> int:
    """Requests kept in flight at ``rate``: enough for 3 s of latency, 4 to 64.

    The limiter paces starts, so more slots than needed cost nothing but bound how many
    answers a crash can leave unknown."""
    return max(4, min(64, math.ceil(rate * 3)))


class SenderState:
    """What a :class:`~cams_tui.engine.sender.Sender` knows while it runs, and how a front
    end controls it and hears from it (the sending itself is the Sender's)."""

    def __init__(
        self,
        client: CamsClient,
        journal: Journal,
        job_id: str,
        *,
        limiter: Limiter | None = None,
        max_in_flight: int | None = None,
        retry_unknown: bool = False,
        resend_verified: bool = False,
        only_batches: Collection[int] | None = None,
        cancel_grace_s: float = CANCEL_GRACE_S,
        not_sent_backoff_s: tuple[float, ...] = NOT_SENT_BACKOFF_S,
        unreachable_after_s: float = UNREACHABLE_AFTER_S,
        throttle_ceiling_s: float = THROTTLE_CEILING_S,
        eligible: Callable[[tuple[str, ...] | None], bool] | None = None,
    ) -> None:
        """``eligible``, given a batch's zones (``None``: no window), says whether it may be
        sent now: a batch that may not is left ``planned``, for a later run (the job's
        delivery window, :class:`cams_tui.engine.window_gate.WindowGate`); it is asked again just
        before each batch leaves, so a window closing mid-run holds back the rest."""
        self._client = client
        self._eligible = eligible
        self._zones: dict[int, tuple[str, ...] | None] = {}
        self._languages: dict[int, str | None] = {}
        self._language_options: dict[str, MassMessageOptions] = {}
        self._journal = journal
        self.job_id = job_id
        self.limiter: Limiter = limiter or RateLimiter()
        self.limiter.on_change = self._rate_changed
        self.limiter.on_notice = self._limiter_notice
        self.max_in_flight = max_in_flight or default_in_flight(self.limiter.ceiling)
        self._retry_unknown = retry_unknown
        self._resend_verified = resend_verified
        self._only_batches = None if only_batches is None else frozenset(only_batches)
        self._cancel_grace_s = cancel_grace_s
        self._backoff = not_sent_backoff_s
        self._unreachable_after_s = unreachable_after_s
        self._throttle_ceiling_s = throttle_ceiling_s
        # When the current run of failures without an answer, and of throttles without a
        # settled batch, began (monotonic), or None.
        self._not_sent_since: float | None = None
        self._throttled_since: float | None = None
        self._subscribers: list[Subscriber] = []
        self._queue: deque[int] = deque()
        self._sizes: dict[int, int] = {}
        self._running = asyncio.Event()
        self._running.set()
        self._stopping = False
        self._cancelled = False
        self._fatal: CamsError | None = None
        self._workers: list[asyncio.Task[None]] = []
        self._abort_timer: asyncio.TimerHandle | None = None
        self._start_lock = asyncio.Lock()
        self._not_sent_in_a_row = 0
        self._in_flight = 0
        self._in_flight_recipients = 0
        self._counts = {"ok": 0, "failed": 0, "unknown": 0, "pending": 0}
        self._total = 0
        self._calls = 0
        self._throttled = 0
        self._recent: deque[tuple[float, int]] = deque()
        self._started = 0.0
        self._options: MassMessageOptions | None = None

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call ``callback`` with every event; returns a function that unsubscribes it."""
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback)

    @property
    def paused(self) -> bool:
        """Whether new requests are held back by :meth:`pause`."""
        return not self._running.is_set()

    def pause(self) -> None:
        """Start no new request until :meth:`resume`; requests in flight finish."""
        if self._running.is_set() and not self._stopping:
            self._running.clear()
            self._emit(StateEvent(self.job_id, "paused"))

    def resume(self) -> None:
        """Start requests again after :meth:`pause`."""
        if not self._running.is_set():
            # Time spent paused is not time spent throttled or unreachable.
            self._not_sent_since = self._throttled_since = None
            self._running.set()
            self._emit(StateEvent(self.job_id, "running"))

    def cancel(self) -> None:
        """Stop: no new request starts; requests in flight get ``cancel_grace_s`` to be
        answered, then become ``unknown``. A second call gives up on them at once.
        The job stays resumable."""
        loop = asyncio.get_running_loop()
        if self._cancelled:
            self._abort()
            return
        self._cancelled = True
        self._stop("cancelled")
        self._abort_timer = loop.call_later(self._cancel_grace_s, self._abort)

    def _stop(self, reason: str) -> None:
        if not self._stopping:
            self._stopping = True
            self._emit(StateEvent(self.job_id, "stopping", reason))
        self._running.set()  # wake paused workers so they can leave

    def _abort(self) -> None:
        for task in self._workers:
            task.cancel()

    def _emit(self, event: Event) -> None:
        for callback in list(self._subscribers):
            callback(event)

    def _rate_changed(self, change: RateChange) -> None:
        self._emit(
            RateEvent(self.job_id, round(change.rate, 2), round(change.previous, 2), change.reason, change.pause_s)
        )

    def _limiter_notice(self, notice: LimiterNotice) -> None:
        self._emit(LimiterEvent.of(self.job_id, notice))

    def progress(self) -> ProgressEvent:
        """Where the job stands now."""
        now = time.monotonic()
        while self._recent and self._recent[0][0] < now - _WINDOW_S:
            self._recent.popleft()
        # At least one second: the first call, a few milliseconds in, is one call per
        # second, not hundreds.
        span = min(_WINDOW_S, max(now - self._started, 1.0))
        calls = len(self._recent) / span
        per_s = sum(size for _, size in self._recent) / span
        pending = self._counts["pending"]
        sharing = self.limiter.sharing()
        # The estimate goes at the pace of the last seconds, but never faster than this job's
        # share of the account's rate allows: when another sender joins, the share drops at
        # once while the measured pace takes a few seconds to follow.
        expected = per_s
        if self._recent and per_s > 0:
            per_call = sum(size for _, size in self._recent) / len(self._recent)
            expected = min(per_s, self.limiter.ceiling * sharing.share * per_call)
        eta = pending / expected if expected > 0 else None
        return ProgressEvent(
            job_id=self.job_id,
            total=self._total,
            ok=self._counts["ok"],
            failed=self._counts["failed"],
            unknown=self._counts["unknown"],
            pending=pending,
            in_flight=self._in_flight,
            rate=round(self.limiter.rate, 2),
            calls_per_s=round(calls, 2),
            recipients_per_s=round(per_s, 1),
            elapsed_s=round(now - self._started, 2),
            eta_s=round(eta, 1) if eta is not None else None,
            senders=sharing.senders,
            share=round(sharing.share, 3),
            in_flight_recipients=self._in_flight_recipients,
        )

    @property
    def cancelled(self) -> bool:
        """Whether :meth:`cancel` was called."""
        return self._cancelled
