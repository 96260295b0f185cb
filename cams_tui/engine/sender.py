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

``only_batches`` sends only the batches of those indices (the canary's); the others stay
``planned`` and the job ``interrupted``, resumable.

Every state change is committed to the journal before the request it describes leaves.
Subscribe with :meth:`Sender.subscribe`; control with :meth:`pause`, :meth:`resume` and
:meth:`cancel` from the same event loop.
"""

from __future__ import annotations

import asyncio
import gc
import json
import time

from cams_tui.api.client import RequestTooLarge
from cams_tui.api.errors import CamsError, Outcome
from cams_tui.api.models import MassMessageOptions, SendMassMessageRequest
from cams_tui.engine.events import DoneEvent, PlanEvent
from cams_tui.engine.journal import Answer, BatchState, JobState
from cams_tui.engine.limiters.base import Grant
from cams_tui.engine.sender_answers import SenderAnswers, stop_advice
from cams_tui.engine.sender_state import (
    CANCEL_GRACE_S,
    NOT_SENT_BACKOFF_S,
    NOT_SENT_LIMIT,
    PREPARE_LEAD_S,
    THROTTLE_CEILING_S,
    THROTTLED_TOO_LONG,
    UNREACHABLE_AFTER_S,
    Subscriber,
    default_in_flight,
)

__all__ = [
    "CANCEL_GRACE_S",
    "NOT_SENT_BACKOFF_S",
    "NOT_SENT_LIMIT",
    "PREPARE_LEAD_S",
    "THROTTLED_TOO_LONG",
    "THROTTLE_CEILING_S",
    "UNREACHABLE_AFTER_S",
    "Sender",
    "Subscriber",
    "default_in_flight",
    "freeze_startup_objects",
]


def freeze_startup_objects() -> None:
    """Take every object alive now out of the garbage collector's sight (``gc.freeze``).

    A full collection otherwise walks every module, class and function of the process each
    time, pausing the event loop for tens of milliseconds on a slow machine: long enough
    to make a start late. Call it once before sending, in a process whose startup objects
    live until it ends (the command line does).
    """
    gc.collect()
    gc.freeze()



class Sender(SenderAnswers):
    """Sends the pending batches of one job. Run it once with :meth:`run`.

    Its state and controls are :class:`~cams_tui.engine.sender_state.SenderState`'s, what
    it does with each answer :class:`~cams_tui.engine.sender_answers.SenderAnswers`'."""

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
            if self._only_batches is not None and batch.index not in self._only_batches:
                continue  # not in the slice asked for (a canary): left planned
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
            advice=stop_advice(fatal),
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
