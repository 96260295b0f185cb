"""Writing a job, and where it stands."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterable
from typing import Any

from cams_tui.api.endpoints import Placement
from cams_tui.api.models import MassMessageOptions
from cams_tui.engine.journal.database import JournalDatabase
from cams_tui.engine.journal.records import BatchState, JobState, PlannedBatch, Reject


def _new_job_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S", time.localtime()) + "-" + secrets.token_hex(2)


class JobWrites(JournalDatabase):
    """Creating jobs and recording their state and canary."""

    def create_job(
        self,
        *,
        options: MassMessageOptions,
        params: dict[str, str],
        batches: Iterable[PlannedBatch],
        endpoint: str,
        placement: Placement | None = None,
        schedule: dict[str, Any] | None = None,
        variables: Iterable[str] | None = None,
        campaign: str | None = None,
        profile: str | None = None,
        rejects: Iterable[Reject] = (),
        rejected: int | None = None,
        duplicates: int = 0,
        suppressed: int = 0,
        canary: dict[str, Any] | None = None,
    ) -> str:
        """Write a job with all its batches (``planned``) in one transaction; return its id.

        ``placement`` is how the batches were sized to travel (``body`` or ``query``), so that
        a resume sends them the same way; ``schedule`` is when it may start (in the same
        transaction: a job must never exist without the wait it was given); ``variables`` are the
        template's variables as checked (``None``: not checked);
        ``rejects`` lists rejected input lines (exported with their reason); ``rejected`` is
        their count when the list was cut short; ``canary`` is the job's canary as
        :meth:`set_canary` records it, written with the job."""
        job_id = _new_job_id()
        now = self._now()
        batch_rows = [
            (job_id, index, batch.size, BatchState.PLANNED.value, batch.blob, now, *batch.row_extras())
            for index, batch in enumerate(batches)
        ]
        reject_rows = [(job_id, r.line, r.input, r.reason) for r in rejects]
        total = sum(row[2] for row in batch_rows)
        self._transaction(
            [
                (
                    "INSERT INTO jobs (id, created_at, updated_at, state, campaign, endpoint, profile, "
                    "options_json, params_json, recipients, rejected, duplicates, suppressed, batches, "
                    "variables_json, placement, schedule_json, canary_json) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        job_id,
                        now,
                        now,
                        JobState.PLANNED.value,
                        campaign,
                        endpoint,
                        profile,
                        options.model_dump_json(by_alias=True, exclude_none=True),
                        json.dumps(params, ensure_ascii=False),
                        total,
                        len(reject_rows) if rejected is None else rejected,
                        duplicates,
                        suppressed,
                        len(batch_rows),
                        None if variables is None else json.dumps(list(variables), ensure_ascii=False),
                        None if placement is None else placement.value,
                        None if schedule is None else json.dumps(schedule),
                        None if canary is None else json.dumps(canary, ensure_ascii=False),
                    ),
                ),
                (
                    "INSERT INTO batches (job_id, idx, size, state, sender_list, updated_at, language, zones, "
                    "not_before) VALUES (?,?,?,?,?,?,?,?,?)",
                    batch_rows,
                ),
                ("INSERT INTO rejects (job_id, line, input, reason) VALUES (?,?,?,?)", reject_rows),
            ]
        )
        return job_id

    def set_canary(self, job_id: str, canary: dict[str, Any] | None) -> None:
        """Record the job's canary: its settings, batches and, once judged, its verdict."""
        self._transaction(
            [
                (
                    "UPDATE jobs SET canary_json=?, updated_at=? WHERE id=?",
                    (None if canary is None else json.dumps(canary, ensure_ascii=False), self._now(), job_id),
                )
            ]
        )

    def set_job_state(
        self, job_id: str, state: JobState, *, stop_code: str | None = None, stop_message: str | None = None
    ) -> None:
        """Record where the job stands (and why it stopped, if it did)."""
        self._transaction(
            [
                (
                    "UPDATE jobs SET state=?, stop_code=?, stop_message=?, updated_at=? WHERE id=?",
                    (state.value, stop_code, stop_message, self._now(), job_id),
                )
            ]
        )
