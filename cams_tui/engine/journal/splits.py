"""Splitting unsent batches into smaller ones (a gateway refused their size, or the placement changed)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from cams_tui.api.endpoints import Placement
from cams_tui.engine.canary_slice import with_pieces
from cams_tui.engine.journal.database import JournalDatabase
from cams_tui.engine.journal.records import Answer, BatchState, JournalError, PlannedBatch


class BatchSplits(JournalDatabase):
    """Replacing unsent batches by pieces holding the same recipients."""

    def split_batch(
        self,
        job_id: str,
        index: int,
        pieces: Iterable[PlannedBatch],
        *,
        attempt: int | None = None,
        answer: Answer | None = None,
    ) -> list[int]:
        """Replace unsent batch ``index`` by ``pieces`` (``planned``, the same recipients in
        the same order) in one transaction; returns their new indices.

        A crash leaves either the old batch or the new ones. ``attempt`` and ``answer`` close
        the attempt that was refused (a gateway's 413/414): it is kept, as history, under the
        old index, which is never reused."""
        closing: list[tuple[str, Any]] = []
        if attempt is not None and answer is not None:
            closing.append(
                (
                    "UPDATE attempts SET finished_at=?, outcome=?, http_status=?, code=?, message=?, "
                    "request_id=?, latency_ms=? WHERE job_id=? AND idx=? AND attempt=?",
                    (
                        self._now(),
                        answer.outcome,
                        answer.http_status,
                        answer.code,
                        answer.message,
                        answer.request_id,
                        answer.latency_ms,
                        job_id,
                        index,
                        attempt,
                    ),
                )
            )
        unsent = (BatchState.PLANNED, BatchState.SENDING)
        return self._split({index: list(pieces)}, job_id, unsent, closing=closing)[index]

    def replan_batches(
        self, job_id: str, splits: dict[int, list[PlannedBatch]], placement: Placement
    ) -> dict[int, list[int]]:
        """Split ``planned`` batches (index → its pieces) and record that the job's batches
        now travel in ``placement``, in one transaction; returns each old index's new ones."""
        record = (
            "UPDATE jobs SET placement=?, updated_at=? WHERE id=?",
            (placement.value, self._now(), job_id),
        )
        return self._split(splits, job_id, (BatchState.PLANNED,), closing=[record])

    def _split(
        self,
        splits: dict[int, list[PlannedBatch]],
        job_id: str,
        allowed: tuple[BatchState, ...],
        *,
        closing: list[tuple[str, Any]],
    ) -> dict[int, list[int]]:
        with self._writing():
            return self._split_in_transaction(splits, job_id, allowed, closing=closing)

    def _split_in_transaction(
        self,
        splits: dict[int, list[PlannedBatch]],
        job_id: str,
        allowed: tuple[BatchState, ...],
        *,
        closing: list[tuple[str, Any]],
    ) -> dict[int, list[int]]:
        now = self._now()
        self._db.execute("BEGIN IMMEDIATE")
        try:
            # New indices follow every index the job ever used, its attempts' included: an
            # old index's attempts must never be taken for a new batch's.
            next_index = (
                1
                + self._db.execute(
                    "SELECT MAX(m) FROM (SELECT MAX(idx) AS m FROM batches WHERE job_id=? "
                    "UNION ALL SELECT MAX(idx) FROM attempts WHERE job_id=?)",
                    (job_id, job_id),
                ).fetchone()[0]
                if splits
                else 0
            )
            created: dict[int, list[int]] = {}
            for index, pieces in splits.items():
                row = self._db.execute(
                    "SELECT size, state, language, zones, not_before FROM batches WHERE job_id=? AND idx=?",
                    (job_id, index),
                ).fetchone()
                if row is None:
                    raise JournalError(f"job {job_id!r} has no batch {index}")
                # The pieces keep the batch's language and window: they are its recipients.
                size, state, *extras = row
                if state not in {s.value for s in allowed}:
                    raise JournalError(f"batch {index} of job {job_id!r} is {state}: only an unsent batch is split")
                if len(pieces) < 2 or sum(p.size for p in pieces) != size:
                    raise ValueError(f"batch {index} ({size} recipients) cannot become {[p.size for p in pieces]}")
                self._db.execute("DELETE FROM batches WHERE job_id=? AND idx=?", (job_id, index))
                created[index] = list(range(next_index, next_index + len(pieces)))
                self._db.executemany(
                    "INSERT INTO batches (job_id, idx, size, state, sender_list, updated_at, language, zones, "
                    "not_before) VALUES (?,?,?,?,?,?,?,?,?)",
                    [
                        (job_id, new, piece.size, BatchState.PLANNED.value, piece.blob, now, *extras)
                        for new, piece in zip(created[index], pieces, strict=True)
                    ],
                )
                next_index += len(pieces)
            self._db.execute(
                "UPDATE jobs SET batches=(SELECT COUNT(*) FROM batches WHERE job_id=?), updated_at=? WHERE id=?",
                (job_id, now, job_id),
            )
            self._keep_pieces_in_canary(job_id, created)
            for sql, args in closing:
                self._db.execute(sql, args)
        except BaseException:
            self._rollback()
            raise
        self._commit()
        return created

    def _keep_pieces_in_canary(self, job_id: str, created: dict[int, list[int]]) -> None:
        """Inside the split's transaction: pieces of a canary batch stay in the canary."""
        row = self._db.execute("SELECT canary_json FROM jobs WHERE id=?", (job_id,)).fetchone()
        if row is None or row[0] is None:
            return
        canary = with_pieces(json.loads(row[0]), created)
        if canary is not None:
            self._db.execute(
                "UPDATE jobs SET canary_json=? WHERE id=?", (json.dumps(canary, ensure_ascii=False), job_id)
            )
