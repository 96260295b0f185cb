"""A batch's state transitions: sending, its answer, recovery after a crash, a lookup's verdict."""

from __future__ import annotations

import json
from typing import Any

from cams_tui.engine.journal.database import JournalDatabase
from cams_tui.engine.journal.records import Answer, BatchState


class BatchWrites(JournalDatabase):
    """The writes that move a batch from state to state, each committed before what it describes."""

    def recover(
        self,
        job_id: str,
        *,
        retry_unknown: bool = False,
        resend_verified: bool = False,
        retry_failed: bool = False,
    ) -> int:
        """Prepare a job to be sent (again): batches found ``sending`` become ``unknown``;
        with ``retry_unknown`` every ``unknown`` batch goes back to ``planned``, with
        ``resend_verified`` every ``not_sent_verified`` one, with ``retry_failed`` every
        ``failed`` one. Returns how many batches were found ``sending``."""
        now = self._now()
        found = self._db.execute(
            "SELECT COUNT(*) FROM batches WHERE job_id=? AND state=?", (job_id, BatchState.SENDING.value)
        ).fetchone()[0]
        statements: list[tuple[str, Any]] = [
            (
                "UPDATE batches SET state=?, code=?, message=?, updated_at=? WHERE job_id=? AND state=?",
                (
                    BatchState.UNKNOWN.value,
                    "Interrupted",
                    "the process stopped while this batch was being sent: it may have been accepted",
                    now,
                    job_id,
                    BatchState.SENDING.value,
                ),
            ),
            (
                "UPDATE attempts SET outcome=?, message=? WHERE job_id=? AND outcome IS NULL",
                (BatchState.UNKNOWN.value, "interrupted before an answer was recorded", job_id),
            ),
        ]
        requeued = (
            (BatchState.UNKNOWN, retry_unknown),
            (BatchState.NOT_SENT_VERIFIED, resend_verified),
            (BatchState.FAILED, retry_failed),
        )
        statements.extend(
            (
                "UPDATE batches SET state=?, updated_at=? WHERE job_id=? AND state=?",
                (BatchState.PLANNED.value, now, job_id, state.value),
            )
            for state, wanted in requeued
            if wanted
        )
        self._transaction(statements)
        return found

    def resolve_batch(
        self,
        job_id: str,
        index: int,
        state: BatchState,
        *,
        by: str,
        evidence: dict[str, Any],
        group_message_id: str | None = None,
    ) -> None:
        """Commit what a lookup concluded about an ``unknown`` batch: ``ok`` (accepted; its
        GroupMessageId when found) or ``not_sent_verified``, with the evidence. A batch no
        longer ``unknown`` is left alone."""
        code, message = (
            ("ResolvedByLookup", "accepted: its messages are listed by ListChatappMessage")
            if state is BatchState.OK
            else ("NotSentVerified", "not listed by ListChatappMessage after the grace period: never accepted")
        )
        now = self._now()
        self._transaction(
            [
                (
                    "UPDATE batches SET state=?, code=?, message=?, group_message_id=COALESCE(?, group_message_id), "
                    "reconciled_by=?, evidence_json=?, reconciled_at=?, updated_at=? "
                    "WHERE job_id=? AND idx=? AND state=?",
                    (
                        state.value,
                        code,
                        message,
                        group_message_id,
                        by,
                        json.dumps(evidence, ensure_ascii=False),
                        now,
                        now,
                        job_id,
                        index,
                        BatchState.UNKNOWN.value,
                    ),
                )
            ]
        )

    def mark_sending(self, job_id: str, index: int) -> int:
        """Commit that batch ``index`` is about to be sent; returns the attempt number.
        Call this before the request leaves."""
        now = self._now()
        attempt = (
            self._db.execute("SELECT attempts FROM batches WHERE job_id=? AND idx=?", (job_id, index)).fetchone()[0] + 1
        )
        self._transaction(
            [
                (
                    "UPDATE batches SET state=?, attempts=?, first_sent_at=COALESCE(first_sent_at, ?), "
                    "last_sent_at=?, updated_at=? WHERE job_id=? AND idx=?",
                    (BatchState.SENDING.value, attempt, now, now, now, job_id, index),
                ),
                (
                    "INSERT INTO attempts (job_id, idx, attempt, started_at) VALUES (?,?,?,?)",
                    (job_id, index, attempt, now),
                ),
            ]
        )
        return attempt

    def record_answer(self, job_id: str, index: int, attempt: int, state: BatchState, answer: Answer) -> None:
        """Commit what attempt ``attempt`` of batch ``index`` came back with, and the batch's
        new state (``planned`` again when it was throttled or never sent)."""
        now = self._now()
        self._transaction(
            [
                (
                    "UPDATE batches SET state=?, http_status=?, code=?, message=?, request_id=?, "
                    "group_message_id=?, latency_ms=?, answered_at=?, updated_at=? WHERE job_id=? AND idx=?",
                    (
                        state.value,
                        answer.http_status,
                        answer.code,
                        answer.message,
                        answer.request_id,
                        answer.group_message_id,
                        answer.latency_ms,
                        now,
                        now,
                        job_id,
                        index,
                    ),
                ),
                (
                    "UPDATE attempts SET finished_at=?, outcome=?, http_status=?, code=?, message=?, "
                    "request_id=?, group_message_id=?, latency_ms=? WHERE job_id=? AND idx=? AND attempt=?",
                    (
                        now,
                        answer.outcome,
                        answer.http_status,
                        answer.code,
                        answer.message,
                        answer.request_id,
                        answer.group_message_id,
                        answer.latency_ms,
                        job_id,
                        index,
                        attempt,
                    ),
                ),
            ]
        )
