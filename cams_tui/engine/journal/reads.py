"""Reading jobs, batches, their recipients, rejects and attempts back."""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable, Iterator
from typing import Any

from cams_tui.api.endpoints import Placement
from cams_tui.api.models import MassMessageOptions
from cams_tui.engine.journal.database import JournalDatabase
from cams_tui.engine.journal.records import (
    _BATCH_COLUMNS,
    _JOB_COLUMNS,
    BatchRecord,
    BatchState,
    JobRecord,
    JournalError,
    Reject,
)

# Rows read per statement by long listings, so that no read holds the database for long.
_PAGE_ROWS = 5000


class JournalReads(JournalDatabase):
    """The journal's queries."""

    def job(self, job_id: str) -> JobRecord:
        """A job by id, or :class:`JournalError` naming the id."""
        row = self._db.execute(
            f"SELECT {_JOB_COLUMNS} FROM jobs WHERE id=?",
            (job_id,),
        ).fetchone()
        if row is None:
            raise JournalError(f"no job {job_id!r} in {self.path}: `cams-tui jobs` lists them")
        return self._job_record(row)

    def _job_record(self, row: tuple[Any, ...]) -> JobRecord:
        counts = {
            state: total
            for state, total in self._db.execute(
                "SELECT state, SUM(size) FROM batches WHERE job_id=? GROUP BY state", (row[0],)
            )
        }
        return JobRecord(
            id=row[0],
            created_at=row[1],
            updated_at=row[2],
            state=row[3],
            campaign=row[4],
            endpoint=row[5],
            profile=row[6],
            options=MassMessageOptions.model_validate_json(row[7]),
            params=json.loads(row[8]),
            recipients=row[9],
            rejected=row[10],
            duplicates=row[11],
            suppressed=row[12],
            batches=row[13],
            stop_code=row[14],
            stop_message=row[15],
            variables=None if row[16] is None else json.loads(row[16]),
            counts=counts,
            canary=None if row[17] is None else json.loads(row[17]),
            placement=Placement(row[18]) if row[18] else None,
            schedule=None if row[19] is None else json.loads(row[19]),
        )

    def jobs(self) -> list[JobRecord]:
        """Every job, newest first."""
        rows = self._db.execute(f"SELECT {_JOB_COLUMNS} FROM jobs ORDER BY created_at DESC").fetchall()
        return [self._job_record(row) for row in rows]

    def batches(self, job_id: str, states: Iterable[BatchState] | None = None) -> list[BatchRecord]:
        """A job's batches in order, optionally only those in ``states``."""
        sql = f"SELECT {_BATCH_COLUMNS} FROM batches WHERE job_id=?"
        args: list[Any] = [job_id]
        if states is not None:
            wanted = [s.value for s in states]
            sql += f" AND state IN ({','.join('?' * len(wanted))})"
            args.extend(wanted)
        return [BatchRecord.from_row(row) for row in self._db.execute(sql + " ORDER BY idx", args)]

    def sender_list(self, job_id: str, index: int) -> str:
        """The SenderList JSON of one batch, exactly as it is sent."""
        row = self._db.execute("SELECT sender_list FROM batches WHERE job_id=? AND idx=?", (job_id, index)).fetchone()
        if row is None:
            raise JournalError(f"job {job_id!r} has no batch {index}")
        return zlib.decompress(row[0]).decode()

    def iter_sender_lists(self, job_id: str) -> Iterator[tuple[BatchRecord, str]]:
        """Every batch with its SenderList JSON, in order, one at a time."""
        for batch in self.batches(job_id):
            yield batch, self.sender_list(job_id, batch.index)

    def rejects(self, job_id: str) -> Iterator[Reject]:
        """The input lines that were not planned, in file order.

        Read a page at a time: a rollback journal's reader keeps writers from committing while
        its statement is open, and a caller may take its time between rows (an export)."""
        after: tuple[int, int] = (-1, -1)
        while True:
            rows = self._db.execute(
                "SELECT line, rowid, input, reason FROM rejects WHERE job_id=? AND (line, rowid) > (?, ?) "
                "ORDER BY line, rowid LIMIT ?",
                (job_id, *after, _PAGE_ROWS),
            ).fetchall()
            for line, _, text, reason in rows:
                yield Reject(line, text, reason)
            if len(rows) < _PAGE_ROWS:
                return
            after = (rows[-1][0], rows[-1][1])

    def attempts(self, job_id: str, index: int) -> list[dict[str, Any]]:
        """Every attempt of one batch: its time window and what it came back with."""
        cursor = self._db.execute(
            "SELECT attempt, started_at, finished_at, outcome, http_status, code, message, request_id, "
            "group_message_id, latency_ms FROM attempts WHERE job_id=? AND idx=? ORDER BY attempt",
            (job_id, index),
        )
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor]
