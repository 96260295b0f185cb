"""What a sender does with each answer: settle the batch, retry it, split it, or stop the job."""

from __future__ import annotations

import time

from cams_tui.api.errors import CamsError, Outcome
from cams_tui.engine.events import BatchEvent
from cams_tui.engine.journal import Answer, BatchState
from cams_tui.engine.planning import split_in_halves
from cams_tui.engine.sender_state import NOT_SENT_LIMIT, THROTTLED_TOO_LONG, SenderState


class SenderAnswers(SenderState):
    """Acting on answers as the outcome taxonomy says (see :mod:`cams_tui.engine.sender`)."""

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


def stop_advice(error: CamsError | None) -> str | None:
    """What the operator should do about the error that stopped the job (``None``: no stop)."""
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
