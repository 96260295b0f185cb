"""The final report's delivery statuses, fetched batch by batch so an interrupted report goes on."""

from __future__ import annotations

from cams_tui.engine.journal.database import JournalDatabase
from cams_tui.engine.journal.records import ReportStatus


class ReportStore(JournalDatabase):
    """Report runs and the statuses they fetched."""

    def report_run(self, job_id: str) -> tuple[int, bool]:
        """The report run to fetch in: the unfinished one (``True``: it goes on where it
        stopped), else a new one (``False``), whose fetches replace the older statuses."""
        row = self._db.execute(
            "SELECT run, finished_at FROM report_runs WHERE job_id=? ORDER BY run DESC LIMIT 1", (job_id,)
        ).fetchone()
        if row is not None and row[1] is None:
            return int(row[0]), True
        run = 1 if row is None else int(row[0]) + 1
        self._transaction(
            [("INSERT INTO report_runs (job_id, run, started_at) VALUES (?,?,?)", (job_id, run, self._now()))]
        )
        return run, False

    def report_fetched(self, job_id: str, run: int) -> set[int]:
        """The batches whose statuses report run ``run`` has already fetched."""
        return {
            idx for (idx,) in self._db.execute("SELECT idx FROM report_batches WHERE job_id=? AND run=?", (job_id, run))
        }

    def record_report_batch(
        self, job_id: str, index: int, run: int, statuses: list[ReportStatus], *, listed: bool
    ) -> None:
        """Commit one batch's fetched statuses (each number's latest) and that run ``run``
        fetched it, in one transaction: an interrupted report goes on after the last one."""
        now = self._now()
        self._transaction(
            [
                ("DELETE FROM report_statuses WHERE job_id=? AND idx=?", (job_id, index)),
                (
                    "INSERT OR REPLACE INTO report_statuses (job_id, number, idx, status, fail_reason, fallback, "
                    "message_id, send_time, fetched_at) VALUES (?,?,?,?,?,?,?,?,?)",
                    [
                        (
                            job_id,
                            st.number,
                            index,
                            st.status,
                            st.fail_reason,
                            st.fallback,
                            st.message_id,
                            st.send_time,
                            now,
                        )
                        for st in statuses
                    ],
                ),
                (
                    "INSERT OR REPLACE INTO report_batches (job_id, idx, run, fetched_at, listed) VALUES (?,?,?,?,?)",
                    (job_id, index, run, now, int(listed)),
                ),
            ]
        )

    def finish_report_run(self, job_id: str, run: int) -> None:
        """Record that report run ``run`` fetched every batch it had to."""
        self._transaction(
            [("UPDATE report_runs SET finished_at=? WHERE job_id=? AND run=?", (self._now(), job_id, run))]
        )

    def report_statuses(self, job_id: str, index: int) -> dict[str, ReportStatus]:
        """The statuses last fetched for one batch's recipients, by number (digits)."""
        return {
            row[0]: ReportStatus(*row)
            for row in self._db.execute(
                "SELECT number, status, fail_reason, fallback, message_id, send_time, fetched_at "
                "FROM report_statuses WHERE job_id=? AND idx=?",
                (job_id, index),
            )
        }

    def report_batch_times(self, job_id: str) -> dict[int, float]:
        """When each batch's statuses were last fetched (batches never fetched are absent)."""
        return {
            int(idx): float(at)
            for idx, at in self._db.execute("SELECT idx, fetched_at FROM report_batches WHERE job_id=?", (job_id,))
        }
