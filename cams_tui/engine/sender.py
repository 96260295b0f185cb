"""The sender: sends a journaled job's batches, pipelined under the rate limiter.

Several requests are kept in flight (latency must not cap throughput: at 250 ms and 10
calls/s, three are needed), and the limiter decides when each may start. Each answer is
acted on as the outcome taxonomy says (``cams_tui.api.errors``):

- ``ok``: recorded with its GroupMessageId; the batch is never sent again.
- ``throttled``: back to ``planned``, retried first; every start pauses for the delay the
  server asked for and the rate drops (AIMD). Throttling has a ceiling: when every answer
  for ``throttle_ceiling_s`` (5 minutes) was a throttle, with no batch settled meanwhile,
  the job stops (code ``ThrottledTooLong``), resumable, with advice.
- ``not_sent``: back to ``planned``, retried with exponential backoff; the job stops (the
  endpoint is unreachable, code ``Unreachable``), resumable, only after ``NOT_SENT_LIMIT``
  failures in a row without any answer *and* ``unreachable_after_s`` (30 s) since the
  first of them: several requests in flight fail together when a server restarts, and a
  restart takes seconds.
- ``fatal``: the caller is refused (credentials, permission, clock, account), or the gateway
  did not read the body: the batch goes back to ``planned``, no new request starts, the
  requests already in flight finish, and the job stops with the error and its advice;
  resumable.
- ``too_large``: the gateway refused the request's size (413/414), or it does not fit a URL:
  nothing was sent; the batch is split in two in the journal (one transaction) and the
  halves are sent first, split again if need be. A single recipient that is too large fails.
- ``failed``: recorded; the other batches go on.
- ``unknown``: recorded, never resent automatically (``resume --retry-unknown`` does);
  reconciliation may resolve it to ``ok`` or ``not_sent_verified``, which is resent only
  with ``resend_verified``. An unknown answer that refuses the caller (``CHAT.APIError`` with
  HTTP 500: :attr:`CamsError.stops_job`) also stops the job like a fatal one.

``until_batch`` sends only the batches before that index (the canary slice); the others
stay ``planned`` and the job ``interrupted``, resumable.

Every state change is committed to the journal before the request it describes leaves.
Subscribe with :meth:`Sender.subscribe`; control with :meth:`pause`, :meth:`resume` and
:meth:`cancel` from the same event loop.
"""

from __future__ import annotations

import asyncio
import gc
import json
import math
import time
from collections import deque
from collections.abc import Callable

from cams_tui.api.client import CamsClient, RequestTooLarge
from cams_tui.api.errors import CamsError, Outcome
from cams_tui.api.models import MassMessageOptions, SendMassMessageRequest
from cams_tui.engine.events import (
    BatchEvent,
    DoneEvent,
    Event,
    LimiterEvent,
    PlanEvent,
    ProgressEvent,
    RateEvent,
    StateEvent,
)
from cams_tui.engine.journal import Answer, BatchState, JobState, Journal
from cams_tui.engine.limiters.base import Grant, Limiter, LimiterNotice
from cams_tui.engine.planning import split_in_halves
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


def freeze_startup_objects() -> None:
    """Take every object alive now out of the garbage collector's sight (``gc.freeze``).

    A full collection otherwise walks every module, class and function of the process each
    time, pausing the event loop for tens of milliseconds on a slow machine: long enough
    to make a start late. Call it once before sending, in a process whose startup objects
    live until it ends (the command line does).
    """
    gc.collect()
    gc.freeze()


def default_in_flight(rate: float) -> int:
    """Requests kept in flight at ``rate``: enough for 3 s of latency, 4 to 64.

    The limiter paces starts, so more slots than needed cost nothing but bound how many
    answers a crash can leave unknown."""
    return max(4, min(64, math.ceil(rate * 3)))


class Sender:
    """Sends the pending batches of one job. Run it once with :meth:`run`."""

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
        until_batch: int | None = None,
        cancel_grace_s: float = CANCEL_GRACE_S,
        not_sent_backoff_s: tuple[float, ...] = NOT_SENT_BACKOFF_S,
        unreachable_after_s: float = UNREACHABLE_AFTER_S,
        throttle_ceiling_s: float = THROTTLE_CEILING_S,
        eligible: Callable[[tuple[str, ...] | None], bool] | None = None,
    ) -> None:
        """``eligible``, given a batch's zones (``None``: no window), says whether it may be
        sent now: a batch that may not is left ``planned``, for a later run (the job's
        delivery window, :class:`cams_tui.engine.run.WindowGate`); it is asked again just
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
        self._until_batch = until_batch
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

    # ------------------------------------------------------------------ control

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

    # ------------------------------------------------------------------- events

    def _emit(self, event: Event) -> None:
        for callback in list(self._subscribers):
            callback(event)

    def _rate_changed(self, change: RateChange) -> None:
        self._emit(
            RateEvent(self.job_id, round(change.rate, 2), round(change.previous, 2), change.reason, change.pause_s)
        )

    def _limiter_notice(self, notice: LimiterNotice) -> None:
        sharing = notice.sharing
        self._emit(
            LimiterEvent(
                self.job_id,
                notice.state,
                notice.reason,
                sharing.limiter,
                sharing.account,
                sharing.senders,
                round(sharing.share, 3),
                round(notice.rate, 2),
                operation=sharing.operation,
            )
        )

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

    # ---------------------------------------------------------------------- run

    @property
    def cancelled(self) -> bool:
        """Whether :meth:`cancel` was called."""
        return self._cancelled

    async def run(self) -> DoneEvent:
        """Send every pending batch; returns (and emits) the final :class:`DoneEvent`.

        Raises :class:`~cams_tui.engine.journal.JournalError` if another process is sending
        the same job."""
        with self._journal.lock_job(self.job_id):
            return await self._run()

    async def _run(self) -> DoneEvent:
        journal = self._journal
        journal.recover(self.job_id, retry_unknown=self._retry_unknown, resend_verified=self._resend_verified)
        job = journal.job(self.job_id)
        self._options = job.options
        for batch in journal.batches(self.job_id, [BatchState.PLANNED]):
            if self._until_batch is not None and batch.index >= self._until_batch:
                continue  # beyond the slice asked for (a canary): left planned
            if self._eligible is not None and not self._eligible(batch.zones):
                continue  # outside its delivery window: left planned for the next opening
            self._queue.append(batch.index)
            self._sizes[batch.index] = batch.size
            self._zones[batch.index] = batch.zones
            self._languages[batch.index] = batch.language
        self._total = job.recipients
        for state in ("ok", "failed", "unknown"):
            self._counts[state] = job.counts.get(state, 0)
        self._counts["pending"] = job.pending
        self._started = time.monotonic()
        journal.set_job_state(self.job_id, JobState.RUNNING)
        self._emit(
            PlanEvent(
                job_id=self.job_id,
                recipients=job.recipients,
                rejected=job.rejected,
                duplicates=job.duplicates,
                suppressed=job.suppressed,
                batches=job.batches,
                pending_recipients=job.pending,
                pending_batches=len(self._queue),
                rate=self.limiter.rate,
            )
        )
        ticker = asyncio.create_task(self._tick())
        error: BaseException | None = None
        try:
            if self._queue:
                await self._warm_up()
            self._workers = [
                asyncio.create_task(self._worker()) for _ in range(min(self.max_in_flight, len(self._queue)))
            ]
            if self._workers:
                await asyncio.wait(self._workers)
        except asyncio.CancelledError:
            # The task running us was cancelled: give up on requests in flight (unknown).
            self._stop("cancelled")
            self._abort()
            if self._workers:
                await asyncio.wait(self._workers)
            self._finish()
            raise
        finally:
            ticker.cancel()
            if self._abort_timer is not None:
                self._abort_timer.cancel()
        for task in self._workers:
            if not task.cancelled() and task.exception() is not None:
                error = task.exception()
                break
        done = self._finish()
        if error is not None:
            raise error
        return done

    async def _warm_up(self) -> None:
        """Open the connection with one cheap read before the first timed start.

        The first request on a cold connection (and to a cold server) arrives tens of
        milliseconds later than the limiter thinks; the requests a second later arrive on
        time and would land in the same server window. A template lookup counts against its
        own operation's limit, not the mass send's. Its answer does not matter.
        """
        assert self._options is not None
        try:
            await self._client.template_detail(
                self._options.template_code, self._options.language, cust_space_id=self._options.cust_space_id
            )
        except CamsError:
            pass

    def _finish(self) -> DoneEvent:
        fatal = self._fatal
        pending = self._counts["pending"]
        if fatal is not None:
            state = JobState.STOPPED
        elif pending:
            state = JobState.INTERRUPTED
        else:
            state = JobState.DONE
        code = fatal.code if fatal is not None else None
        message = fatal.message if fatal is not None else None
        self._journal.set_job_state(self.job_id, state, stop_code=code, stop_message=message)
        done = DoneEvent(
            job_id=self.job_id,
            state=state.value,
            total=self._total,
            ok=self._counts["ok"],
            failed=self._counts["failed"],
            unknown=self._counts["unknown"],
            pending=pending,
            calls=self._calls,
            throttled=self._throttled,
            elapsed_s=round(time.monotonic() - self._started, 2),
            code=code,
            message=message,
            advice=_advice(fatal),
        )
        self._emit(done)
        return done

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            self._emit(self.progress())

    async def _worker(self) -> None:
        try:
            await self._work()
        except Exception:
            # A bug, not an answer: stop starting requests; the run re-raises it.
            self._stop("error")
            raise

    async def _work(self) -> None:
        failures = 0  # this worker's not-sent tries in a row
        while self._queue and not self._stopping:
            await self._running.wait()
            if self._stopping or not self._queue:
                return
            index = self._queue.popleft()
            if self._eligible is not None and not self._eligible(self._zones.get(index)):
                continue  # its window closed while it waited: left planned
            try:
                started = await self._start(index)
            except asyncio.CancelledError:
                self._queue.appendleft(index)
                raise
            if started is None:
                self._queue.appendleft(index)
                return
            attempt, request, permit = started
            backoff = await self._send(index, attempt, request, permit)
            if backoff is None:
                failures = 0
            else:
                # Never sent: this worker holds the batch back, then puts it first in line.
                # Each worker backs off on its own failures: requests in flight together
                # fail together (a server restarting), and their retries spread out.
                failures += 1
                await asyncio.sleep(self._backoff[min(failures, len(self._backoff)) - 1])
                self._queue.appendleft(index)

    async def _start(self, index: int) -> tuple[int, SendMassMessageRequest | ValueError, Grant] | None:
        """Wait for a permit, then build the request and commit ``sending``; ``None`` when
        the sender is stopping.

        One worker at a time does this. The batch is built (the CPU-heavy part) shortly
        before its slot, not right after the previous request was handed to the client
        (whose bytes would then wait), and not between permit and departure (a pause there
        would make the request arrive later than the limiter assumes).
        """
        async with self._start_lock:
            # Paused or stopped while queued behind another worker: honour it here too.
            await self._running.wait()
            if self._stopping:
                return None
            await self.limiter.ready(PREPARE_LEAD_S)
            request = self._prepare(index)
            permit = await self.limiter.acquire()
            await self._running.wait()
            if self._stopping:
                return None
            attempt = self._journal.mark_sending(self.job_id, index)
            permit.started()
            return attempt, request, permit

    def _options_for(self, index: int) -> MassMessageOptions:
        """The request fields of one batch: the job's, in the batch's own language."""
        assert self._options is not None
        language = self._languages.get(index)
        if language is None or language == self._options.language:
            return self._options
        if language not in self._language_options:
            self._language_options[language] = self._options.model_copy(update={"language": language})
        return self._language_options[language]

    def _prepare(self, index: int) -> SendMassMessageRequest | ValueError:
        try:
            return self._options_for(index).with_recipients(
                json.loads(self._journal.sender_list(self.job_id, index))
            )
        except ValueError as exc:
            return exc

    async def _send(
        self, index: int, attempt: int, request: SendMassMessageRequest | ValueError, permit: Grant
    ) -> float | None:
        """Send one started batch; returns a number (not ``None``) when the batch was not
        sent and must be retried after a backoff."""
        size = self._sizes[index]
        if isinstance(request, ValueError):
            # Never left: the stored batch does not make a valid request.
            answer = Answer(Outcome.FAILED.value, code="InvalidBatch", message=str(request)[:500])
            self._settle(index, size, attempt, BatchState.FAILED, answer)
            return None
        started_at = self.limiter.now()
        self._in_flight += 1
        self._in_flight_recipients += size
        self._calls += 1
        try:
            try:
                response = await self._client.send_mass_message(request)
            finally:
                permit.answered(self.limiter.now() - started_at)
        except asyncio.CancelledError:
            answer = Answer(
                Outcome.UNKNOWN.value,
                code="Interrupted",
                message="stopped while waiting for the answer: the request may have been accepted",
            )
            self._settle(index, size, attempt, BatchState.UNKNOWN, answer)
            raise
        except RequestTooLarge as exc:
            # Refused by the client before it left: too long for a URL.
            answer = Answer(Outcome.TOO_LARGE.value, code="RequestTooLarge", message=str(exc)[:500])
            self._split(index, size, attempt, answer)
            return None
        except CamsError as exc:
            return self._handle_error(index, size, attempt, started_at, exc)
        finally:
            self._in_flight -= 1
            self._in_flight_recipients -= size
        self._answered()
        self.limiter.succeeded()
        answer = Answer(
            Outcome.OK.value,
            http_status=response.http_status,
            code=response.code,
            message=response.message,
            request_id=response.request_id,
            group_message_id=response.group_message_id,
            latency_ms=response.latency_ms,
        )
        self._settle(index, size, attempt, BatchState.OK, answer)
        return None

    def _handle_error(self, index: int, size: int, attempt: int, started_at: float, exc: CamsError) -> float | None:
        answer = Answer(
            exc.outcome.value,
            http_status=exc.http_status,
            code=exc.code,
            message=exc.message,
            request_id=exc.request_id,
            latency_ms=exc.latency_ms,
        )
        outcome = exc.outcome
        if outcome is Outcome.THROTTLED:
            self._throttled += 1
            self._not_sent_in_a_row = 0
            self._not_sent_since = None
            self._retry(index, size, attempt, answer)
            self.limiter.throttled(exc.retry_after_s, started_at)
            now = time.monotonic()
            if self._throttled_since is None:
                self._throttled_since = now
            elif now - self._throttled_since >= self._throttle_ceiling_s:
                self._stop_for(
                    CamsError(
                        Outcome.FATAL,
                        f"every answer for {now - self._throttled_since:.0f} s was throttling "
                        f"({exc.code or 'Throttling'}) and no batch was accepted meanwhile",
                        action=exc.action,
                        code=THROTTLED_TOO_LONG,
                    )
                )
        elif outcome is Outcome.NOT_SENT:
            self._not_sent_in_a_row += 1
            now = time.monotonic()
            if self._not_sent_since is None:
                self._not_sent_since = now
            self._journal.record_answer(self.job_id, index, attempt, BatchState.PLANNED, answer)
            self._emit_batch(index, size, attempt, answer)
            if self._not_sent_in_a_row >= NOT_SENT_LIMIT and now - self._not_sent_since >= self._unreachable_after_s:
                self._fatal = CamsError(
                    Outcome.FATAL,
                    f"{exc.message} ({self._not_sent_in_a_row} tries in a row)",
                    action=exc.action,
                    code="Unreachable",
                )
                self._stop("unreachable")
                return None
            return 0.0  # back off (the worker knows how long)
        elif outcome is Outcome.FATAL:
            self._answered(settled=False)
            self._retry(index, size, attempt, answer)
            self._stop_for(exc)
        elif outcome is Outcome.TOO_LARGE:
            self._answered(settled=False)
            self._split(index, size, attempt, answer)
        else:
            self._answered()
            if outcome is not Outcome.UNKNOWN:
                self.limiter.succeeded()
            state = BatchState.UNKNOWN if outcome is Outcome.UNKNOWN else BatchState.FAILED
            self._settle(index, size, attempt, state, answer)
            if exc.stops_job:
                # Refuses the caller, after the request may have been queued (a 5xx): the
                # batch is unknown, and no later one would fare better.
                self._stop_for(exc)
        return None

    def _answered(self, *, settled: bool = True) -> None:
        """The server answered (the endpoint is reachable); ``settled``: and the batch is
        done with (accepted, refused or unknown), which ends a run of throttles too."""
        self._not_sent_in_a_row = 0
        self._not_sent_since = None
        if settled:
            self._throttled_since = None

    def _stop_for(self, exc: CamsError) -> None:
        """Stop the job because of ``exc`` (the first such error is the one reported)."""
        if self._fatal is None:
            self._fatal = exc
        self._stop("fatal")

    def _split(self, index: int, size: int, attempt: int, answer: Answer) -> None:
        """Too large to travel, nothing sent: split the batch in two in the journal and send
        the halves first (a half refused again is split again)."""
        assert self.job_id
        pieces = split_in_halves(self._journal.sender_list(self.job_id, index))
        if not pieces:
            failed = Answer(
                Outcome.FAILED.value,
                http_status=answer.http_status,
                code=answer.code or "RequestTooLarge",
                message=f"a single recipient's request is too large to send: {answer.message or ''}".strip()[:500],
                request_id=answer.request_id,
                latency_ms=answer.latency_ms,
            )
            self._settle(index, size, attempt, BatchState.FAILED, failed)
            return
        created = self._journal.split_batch(self.job_id, index, pieces, attempt=attempt, answer=answer)
        for new_index, piece in zip(created, pieces, strict=True):
            self._sizes[new_index] = piece.size
            self._zones[new_index] = self._zones.get(index)
            self._languages[new_index] = self._languages.get(index)
        self._sizes.pop(index, None)
        self._queue.extendleft(reversed(created))
        self._emit_batch(index, size, attempt, answer)

    def _retry(self, index: int, size: int, attempt: int, answer: Answer) -> None:
        """Not accepted: back to ``planned`` at the front of the queue."""
        self._journal.record_answer(self.job_id, index, attempt, BatchState.PLANNED, answer)
        self._queue.appendleft(index)
        self._emit_batch(index, size, attempt, answer)

    def _settle(self, index: int, size: int, attempt: int, state: BatchState, answer: Answer) -> None:
        self._journal.record_answer(self.job_id, index, attempt, state, answer)
        self._counts["pending"] -= size
        self._counts[state.value] += size
        self._recent.append((time.monotonic(), size))
        self._emit_batch(index, size, attempt, answer)
        self._emit(self.progress())

    def _emit_batch(self, index: int, size: int, attempt: int, answer: Answer) -> None:
        self._emit(
            BatchEvent(
                job_id=self.job_id,
                index=index,
                size=size,
                outcome=answer.outcome,
                http_status=answer.http_status,
                code=answer.code,
                message=answer.message,
                request_id=answer.request_id,
                group_message_id=answer.group_message_id,
                attempt=attempt,
                latency_ms=answer.latency_ms,
            )
        )


def _advice(error: CamsError | None) -> str | None:
    if error is None:
        return None
    if error.code == "Unreachable":
        return "Check the endpoint, the network and any proxy or firewall, then resume the job."
    if error.code == THROTTLED_TOO_LONG:
        return (
            "CAMS keeps refusing this account's calls as over its rate limit: another sender may "
            "be using the account's 10 calls a second, or its quota is spent. Stop the other "
            "senders (or lower their rate) and resume the job later; nothing throttled was sent."
        )
    return error.advice
