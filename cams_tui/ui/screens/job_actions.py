"""What both jobs screens do to the chosen job: resume it, retry its failed or unknown batches,
look its unknown ones up with ListChatappMessage (resending those verified not sent after the
operator confirms), export its results, open its delivery report."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import work
from textual.screen import Screen

from cams_tui.engine.journal import BatchState, Journal
from cams_tui.engine.reconcile import ReconcileSettings
from cams_tui.errors import UserError
from cams_tui.job_status import JobStatus, job_status
from cams_tui.ui.app_access import app_host, host_connection, journal_dir
from cams_tui.ui.job_services import (
    export_job,
    load_status,
    reconcile_job,
    requeue,
    resolve_target,
)
from cams_tui.ui.navigation import navigator
from cams_tui.ui.screens.dialogs import ConfirmDialog
from cams_tui.ui.screens.send_dialogs import ExportDialog, TypedCountDialog
from cams_tui.ui.send_target import SendTarget

if TYPE_CHECKING:
    from cams_tui.engine.journal import JobRecord


class JobActions(Screen[None]):
    """What both jobs screens can do to a job: resume, retry failed, retry unknown, export."""

    def __init__(self, *, target: SendTarget | None = None, show_clock: bool = False) -> None:
        super().__init__()
        self.target = target
        """Where resumed jobs are sent (the app's connection when ``None``)."""
        self._show_clock = show_clock

    @property
    def data_dir(self) -> Path:
        """The journal's folder."""
        return journal_dir(self, self.target)

    def chosen_job(self) -> JobRecord | None:
        """The job the actions apply to."""
        raise NotImplementedError

    def _monitor(self, job_id: str, *, retry_unknown: bool = False) -> None:
        navigator(self.app).open_send_monitor(
            job_id, target=self.target, retry_unknown=retry_unknown, show_clock=self._show_clock
        )

    @work(group="job-action", exclusive=True, exit_on_error=False)
    async def action_resume(self) -> None:
        """Send what is left of the job, once its count is typed (as a headless resume asks)."""

        chosen = self.chosen_job()
        if chosen is None:
            return
        job, status = await asyncio.to_thread(load_status, self.data_dir, chosen.id)
        if status.live:
            self.notify(f"Job {job.id} is being sent now (by this or another cams-tui).", severity="warning")
            return
        if not status.pending:
            if status.not_sent_verified:
                self.action_send_verified()
                return
            more = f" {status.next_step()}." if status.next_step() else ""
            self.notify(f"Job {job.id} has nothing left to send.{more}", severity="warning")
            return
        body = f"{status.pending:,} recipients of job {job.id} are still to send ({status.ok:,} already ok)."
        if status.unknown:
            body += (f" {status.unknown:,} unknown are looked up first and not sent again unless "
                     "the lookup verifies them not sent.")
        dialog = TypedCountDialog(f"Resume job {job.id}?", body, status.pending, yes="Resume")

        def answered(yes: bool | None) -> None:
            if yes:
                self._monitor(job.id)

        self.app.push_screen(dialog, answered)

    @work(group="job-action", exclusive=True, exit_on_error=False)
    async def action_send_verified(self) -> None:
        """Send the job's recipients verified not sent, once their count is typed."""

        chosen = self.chosen_job()
        if chosen is None:
            return

        def read() -> tuple[JobStatus, list[Any]]:
            with Journal(self.data_dir) as journal:
                job = journal.job(chosen.id)
                status = job_status(job, live=journal.job_is_live(job.id))
                return status, journal.batches(job.id, [BatchState.NOT_SENT_VERIFIED])

        status, verified = await asyncio.to_thread(read)
        if not verified:
            self.notify(f"Job {chosen.id} has no recipients verified not sent.", severity="warning")
            return
        if status.live:
            self.notify(f"Job {chosen.id} is being sent now.", severity="warning")
            return
        self._offer_resend(chosen.id, verified)

    @work(group="job-action", exclusive=True, exit_on_error=False)
    async def action_retry_failed(self) -> None:
        """Send the job's failed batches again (and anything still pending)."""
        job = self.chosen_job()
        if job is None:
            return
        if not job.counts.get("failed", 0):
            self.notify(f"Job {job.id} has no failed recipients.", severity="warning")
            return
        try:
            count = await asyncio.to_thread(requeue, self.data_dir, job.id)
        except Exception as exc:  # noqa: BLE001 - shown to the operator
            self.notify(f"Cannot retry job {job.id}: {exc}", severity="error")
            return
        self.notify(f"{count:,} failed recipients of job {job.id} will be sent again.")
        self._monitor(job.id)

    def action_retry_unknown(self) -> None:
        """Warn, then send the job's unknown batches again."""

        job = self.chosen_job()
        if job is None:
            return
        unknown = job.counts.get("unknown", 0) + job.counts.get("sending", 0)
        if not unknown:
            self.notify(f"Job {job.id} has no unknown recipients.", severity="warning")
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._monitor(job.id, retry_unknown=True)

        self.app.push_screen(
            ConfirmDialog(
                "Retry unknown recipients?",
                f"{unknown:,} recipients of job {job.id} got no clear answer: CAMS may already have "
                "accepted them, and they may already have been delivered. Sending again can deliver "
                "the message twice. Check the delivery funnel or ListChatappMessage first if you can.",
                yes="Send them again",
                no="Don't",
                warning=True,
            ),
            answered,
        )

    @work(group="job-action", exclusive=True, exit_on_error=False)
    async def action_reconcile(self) -> None:
        """Look the job's unknown batches up with ListChatappMessage; offer to resend the
        ones verified not sent, with the evidence."""

        job = self.chosen_job()
        if job is None:
            return
        if not job.counts.get("unknown", 0) + job.counts.get("sending", 0) + job.counts.get("not_sent_verified", 0):
            self.notify(f"Job {job.id} has no unknown recipients.", severity="warning")
            return
        connection = app_host(self).connection
        profile = connection.context.profile if connection is not None else None
        settings = (
            ReconcileSettings(grace_s=profile.reconcile_grace_s, lookup_rate=profile.lookup_rate)
            if profile is not None
            else ReconcileSettings()
        )
        self.notify(f"Looking up the unknown batches of job {job.id} (may wait up to {settings.grace_s:g} s)…")
        try:
            target = self.target or await resolve_target(host_connection(self))
            report = await asyncio.to_thread(reconcile_job, target, job.id, settings)
        except Exception as exc:  # noqa: BLE001 - shown to the operator
            self.notify(f"Cannot look job {job.id} up: {exc}", severity="error")
            return
        self.notify(
            f"Job {job.id}: {report.count('ok'):,} batches found accepted, {report.count('not_sent_verified'):,} "
            f"verified not sent, {report.count('unknown'):,} still unknown ({report.lookups:,} lookups).",
            timeout=10,
        )
        self.reloaded()
        # Every batch verified not sent, by this lookup or an earlier one.

        def verified_batches() -> list[Any]:
            with Journal(self.data_dir) as journal:
                return journal.batches(job.id, [BatchState.NOT_SENT_VERIFIED])

        verified = await asyncio.to_thread(verified_batches)
        if verified:
            self._offer_resend(job.id, verified)

    def _offer_resend(self, job_id: str, verified: list[Any]) -> None:
        """Show the evidence of the batches verified not sent; resend them once their count
        is typed. "Not now" leaves them: S (or L) offers them again at any later time."""

        total = sum(r.size for r in verified)
        evidence = "\n".join(
            f"batch {r.index}: looked up {', '.join((r.evidence or {}).get('checked', []))}; "
            f"{(r.evidence or {}).get('control', '')}"
            for r in verified[:5]
        )

        def answered(yes: bool | None) -> None:
            if yes:
                self._resend_verified(job_id)

        self.app.push_screen(
            TypedCountDialog(
                "Resend recipients verified not sent?",
                f"{total:,} recipients of job {job_id} are not listed by ListChatappMessage after the grace "
                f"period, so CAMS never accepted them:\n{evidence}\nNot now keeps them: S sends them later.",
                total,
                yes="Resend them",
            ),
            answered,
        )

    @work(group="job-action", exclusive=True, exit_on_error=False)
    async def _resend_verified(self, job_id: str) -> None:
        try:
            count = await asyncio.to_thread(requeue, self.data_dir, job_id, verified_not_sent=True)
        except Exception as exc:  # noqa: BLE001 - shown to the operator
            self.notify(f"Cannot resend job {job_id}: {exc}", severity="error")
            return
        self.notify(f"{count:,} recipients of job {job_id} verified not sent will be sent again.")
        self._monitor(job_id)

    def reloaded(self) -> None:
        """Read the job(s) shown again (after an action changed them)."""

    def action_export(self) -> None:
        """Ask where, then export the job's per-recipient results."""

        job = self.chosen_job()
        if job is None:
            return
        def chosen(choice: tuple[str, Path] | None) -> None:
            self._export(job.id, choice)

        self.app.push_screen(ExportDialog(job.id, Path.cwd()), chosen)

    def action_report(self) -> None:
        """Each recipient's delivery status from CAMS, the totals, and retarget lists."""
        job = self.chosen_job()
        if job is not None:
            navigator(self.app).open_report(job.id, target=self.target, show_clock=self._show_clock)

    @work(group="job-export", exclusive=True, exit_on_error=False)
    async def _export(self, job_id: str, choice: tuple[str, Path] | None) -> None:
        if choice is None:
            return
        fmt, path = choice
        shown = [0.0]
        before = self.sub_title

        def progress(done: int, total: int) -> None:  # in the export's thread
            now = time.monotonic()
            if now - shown[0] >= 0.2:
                shown[0] = now
                self.app.call_from_thread(setattr, self, "sub_title", f"exporting {done:,} of {total:,} rows…")

        self.sub_title = f"exporting job {job_id}…"
        try:
            count = await asyncio.to_thread(export_job, self.data_dir, job_id, fmt, path, progress)
        except (OSError, UserError) as exc:
            self.notify(f"Cannot write {path}: {getattr(exc, 'strerror', None) or exc}", severity="error")
            return
        finally:
            self.sub_title = before
        self.notify(f"Exported {count:,} rows of job {job_id} to {path}.")
