"""The jobs screen: the journal's history, and one job's log and per-recipient results.

From either screen a job can be resumed, its failed batches retried, its unknown batches
looked up with ListChatappMessage (found: accepted; verified not sent: resent after the
operator confirms, with the evidence shown) or retried (after a warning: those may already
have been delivered), and its results exported as CSV or JSON Lines. Sending itself
happens on the send monitor.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Header, TabbedContent, TabPane

from cams_tui.account_sharing import senders_of_jobs_being_sent, sharing_line
from cams_tui.engine.journal import BatchState, Journal
from cams_tui.engine.reconcile import ReconcileSettings
from cams_tui.errors import UserError
from cams_tui.job_status import JobStatus, job_status
from cams_tui.ui.app_access import app_host, compose_state, host_connection, journal_dir
from cams_tui.ui.engine_run import SendTarget
from cams_tui.ui.job_services import (
    export_job,
    load_job_log,
    load_jobs,
    load_status,
    read_attempts,
    reconcile_job,
    requeue,
    resolution_text,
    resolve_target,
    template_name,
)
from cams_tui.ui.navigation import navigator
from cams_tui.ui.screens.dialogs import ConfirmDialog
from cams_tui.ui.screens.send_dialogs import EntryDialog, ExportDialog, TypedCountDialog
from cams_tui.ui.widgets.footer import Footer
from cams_tui.ui.widgets.results_table import ResultsTable
from cams_tui.ui.widgets.send_log import SendLog
from cams_tui.ui.widgets.text import Static
from cams_tui.untrusted import escape_controls
from cams_tui.wording import counted

if TYPE_CHECKING:
    from cams_tui.engine.journal import JobRecord
    from cams_tui.ui.campaign_draft import ComposeState

REFRESH_S = 2.0
"""How often the jobs screens read the journal again while on show (a job may be sending)."""



def _when(stamp: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(stamp))


def _template_text(state: ComposeState | None, job: JobRecord) -> str:
    """``name (code) language``, or ``code language`` when the name is not known."""
    code, language = job.options.template_code, job.options.language
    name = template_name(state, code, language)
    return f"{name} ({code}) {language}" if name != code else f"{code} {language}"


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


class JobsScreen(JobActions):
    """The journal's jobs, newest first."""

    CSS_PATH = "jobs.tcss"
    BINDINGS = [
        Binding("enter", "open_job", "Open", id="jobs-open", tooltip="Its log and per-recipient results"),
        Binding("r", "resume", "Resume", id="jobs-resume", tooltip="Send what is left of the job"),
        Binding("R", "retry_failed", "Retry failed", id="jobs-retry-failed", tooltip="Send failed batches again"),
        Binding(
            "U", "retry_unknown", "Retry unknown", id="jobs-retry-unknown", tooltip="Send unknown batches again (warns)"
        ),
        Binding(
            "L", "reconcile", "Look up", id="jobs-reconcile", tooltip="Resolve unknown batches with ListChatappMessage"
        ),
        Binding(
            "S", "send_verified", "Send not sent", id="jobs-send-verified",
            tooltip="Send the recipients a lookup verified not sent (asks their count)",
        ),
        Binding("e", "export", "Export", id="jobs-export", tooltip="CSV or JSON Lines, one row per recipient"),
        Binding("d", "report", "Report", id="jobs-report", tooltip="Delivery status per recipient; retarget lists"),
        Binding("g", "reload", "Refresh", id="jobs-reload", tooltip="Read the journal again"),
        Binding("escape", "close", "Back", id="jobs-close"),
    ]

    def __init__(self, *, target: SendTarget | None = None, show_clock: bool = False) -> None:
        super().__init__(target=target, show_clock=show_clock)
        self.jobs: list[JobRecord] = []
        """The jobs shown, in table order."""
        self.statuses: list[JobStatus] = []
        """Their statuses, in the same order."""

    def compose(self) -> ComposeResult:
        yield Header(show_clock=self._show_clock, icon="✉")
        yield Static("Jobs", id="jobs-title")
        table: DataTable[str] = DataTable(id="jobs-table", cursor_type="row", zebra_stripes=True)
        yield table
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#jobs-table", DataTable)
        # The job id last: at 80 columns what an operator scans (counts, state) stays in view.
        # The counts first, then the template whole, then the job id: at 80 columns what an
        # operator scans stays in view, and no name is cut (the table scrolls sideways).
        table.add_columns(
            "When", "State", "Recipients", "OK", "Failed", "In flight", "Unknown", "Not sent", "Pending",
            "Template", "Job",
        )
        table.focus()
        self.action_reload()
        # Read again while on show: a job sending here or elsewhere moves on by itself.
        self.set_interval(REFRESH_S, self._refresh_if_shown)

    def _refresh_if_shown(self) -> None:
        if self.is_current:
            self.action_reload()

    def on_screen_resume(self) -> None:
        """Back from a job or the send monitor: the counts may have moved."""
        if self.is_mounted:
            self.action_reload()

    @work(group="jobs-load", exclusive=True, exit_on_error=False)
    async def action_reload(self) -> None:
        """Read the jobs from the journal again."""
        table = self.query_one("#jobs-table", DataTable)
        try:
            jobs = await asyncio.to_thread(load_jobs, self.data_dir)
        except Exception as exc:  # noqa: BLE001 - shown to the operator
            self.query_one("#jobs-title", Static).update(Text(escape_controls(f"The journal cannot be read: {exc}")))
            return
        row = table.cursor_row
        self.jobs = [job for job, _ in jobs]
        self.statuses = [status for _, status in jobs]
        table.clear()
        for job, status in jobs:
            name = template_name(compose_state(self), job.options.template_code, job.options.language)
            name = escape_controls(name)  # a template name comes from CAMS
            table.add_row(
                time.strftime("%m-%d %H:%M", time.localtime(job.created_at)),
                status.text,
                f"{job.recipients:,}",
                f"{status.ok:,}",
                f"{status.failed:,}",
                f"{status.in_flight:,}",
                f"{status.unknown:,}",
                f"{status.not_sent_verified:,}",
                f"{status.pending:,}",
                Text(f"{name} {job.options.language}"),
                job.id,
                key=job.id,
            )
        if jobs:
            table.move_cursor(row=min(row, len(jobs) - 1))
        chosen = self.chosen_status()
        hint = f" · {chosen.next_step()}" if chosen is not None and chosen.next_step() else ""
        title = (
            f"{counted(len(jobs), 'job')} · enter opens one{hint}"
            if jobs
            else "No jobs yet: they appear here once sent"
        )
        self.query_one("#jobs-title", Static).update(title)
        sharing = await self._sharing_text(self.jobs)
        if sharing:
            self.query_one("#jobs-title", Static).update(f"{title} · {sharing}")

    async def _sharing_text(self, jobs: list[JobRecord]) -> str:
        """Who shares the account of the jobs being sent now (empty: none is, or unknown)."""

        account = self._limiter_account()
        if account is None:
            return ""
        limiter, name, access_key_id = account
        try:
            senders = await asyncio.to_thread(
                senders_of_jobs_being_sent,
                self.data_dir,
                jobs,
                limiter=limiter,
                account=name,
                access_key_id=access_key_id,
            )
        except Exception:  # noqa: BLE001 - the list of jobs is worth showing without it
            return ""
        return sharing_line(senders)

    def _limiter_account(self) -> tuple[str, str | None, str | None] | None:
        """(limiter, account, AccessKey ID) of the target or the app's profile, if known."""
        if self.target is not None:
            return self.target.limiter, self.target.account, self.target.credentials.access_key_id
        connection = app_host(self).connection
        if connection is None:
            return None
        context = connection.context
        credentials = context.credentials
        limiter = "process" if connection.demo else context.profile.limiter
        return limiter, context.profile.account, credentials.access_key_id if credentials is not None else None

    def chosen_status(self) -> JobStatus | None:
        """The status of the job under the cursor."""
        table = self.query_one("#jobs-table", DataTable)
        if not self.statuses or not 0 <= table.cursor_row < len(self.statuses):
            return None
        return self.statuses[table.cursor_row]

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        """Say what the highlighted job's next step is."""
        status = self.chosen_status()
        if status is not None and self.jobs:
            hint = f" · {status.next_step()}" if status.next_step() else ""
            self.query_one("#jobs-title", Static).update(f"{counted(len(self.jobs), 'job')} · enter opens one{hint}")

    def reloaded(self) -> None:
        self.action_reload()

    def chosen_job(self) -> JobRecord | None:
        table = self.query_one("#jobs-table", DataTable)
        if not self.jobs or not 0 <= table.cursor_row < len(self.jobs):
            return None
        return self.jobs[table.cursor_row]

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Open the job chosen with enter or a click."""
        event.stop()
        self.action_open_job()

    def action_open_job(self) -> None:
        """Show the chosen job's log and per-recipient results."""
        job = self.chosen_job()
        if job is not None:
            self.app.push_screen(JobDetailScreen(job.id, target=self.target, show_clock=self._show_clock))

    def action_close(self) -> None:
        """Back to where the jobs were opened from."""
        self.dismiss(None)


class JobDetailScreen(JobActions):
    """One job: its summary, its log (every attempt) and its per-recipient results."""

    CSS_PATH = "jobs.tcss"
    BINDINGS = [
        Binding("r", "resume", "Resume", id="job-resume", tooltip="Send what is left of the job"),
        Binding("R", "retry_failed", "Retry failed", id="job-retry-failed", tooltip="Send failed batches again"),
        Binding(
            "U", "retry_unknown", "Retry unknown", id="job-retry-unknown", tooltip="Send unknown batches again (warns)"
        ),
        Binding(
            "L", "reconcile", "Look up", id="job-reconcile", tooltip="Resolve unknown batches with ListChatappMessage"
        ),
        Binding(
            "S",
            "send_verified",
            "Send not sent",
            id="job-send-verified",
            tooltip="Send the recipients a lookup verified not sent (asks their count)",
        ),
        Binding("e", "export", "Export", id="job-export", tooltip="CSV or JSON Lines, one row per recipient"),
        Binding("d", "report", "Report", id="job-report", tooltip="Delivery status per recipient; retarget lists"),
        Binding("escape", "close", "Back", id="job-close"),
    ]

    def __init__(self, job_id: str, *, target: SendTarget | None = None, show_clock: bool = False) -> None:
        super().__init__(target=target, show_clock=show_clock)
        self.job_id = job_id
        """The job shown."""
        self.job: JobRecord | None = None
        """The job as last read."""

    def compose(self) -> ComposeResult:
        yield Header(show_clock=self._show_clock, icon="✉")
        yield Static(f"Job {self.job_id}", id="job-summary")
        with TabbedContent(initial="job-log-tab"):
            with TabPane("Log", id="job-log-tab"):
                yield SendLog(id="job-log")
            with TabPane("Recipients", id="job-results-tab"):
                yield ResultsTable(self.data_dir, self.job_id, id="job-results")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#job-log", SendLog).focus()
        self.reload()
        self._live = False
        self.set_interval(REFRESH_S, self._refresh_if_live)

    def _refresh_if_live(self) -> None:
        # Only while the job is being sent: a finished job's log stays where it was scrolled.
        if self.is_current and self._live:
            self.reload()

    def on_screen_resume(self) -> None:
        """Back from the send monitor: the job has moved on."""
        if self.job is not None:
            self.reload()

    @work(group="job-load", exclusive=True, exit_on_error=False)
    async def reload(self) -> None:
        """Read the job and its attempts (one bulk write into the log)."""
        try:
            job, entries = await asyncio.to_thread(load_job_log, self.data_dir, self.job_id)
            _, status = await asyncio.to_thread(load_status, self.data_dir, self.job_id)
            resolved = await asyncio.to_thread(resolution_text, self.data_dir, self.job_id)
        except Exception as exc:  # noqa: BLE001 - shown to the operator
            self.query_one("#job-summary", Static).update(
                Text(escape_controls(f"Job {self.job_id} cannot be read: {exc}"))
            )
            return
        self.job = job
        self._live = status.live
        log = self.query_one("#job-log", SendLog)
        log.clear()
        log.add_entries(entries)
        results = self.query_one("#job-results", ResultsTable)
        if results.is_mounted and results.row_count:
            results.load(results.page_start)
        summary = (
            f"Job {job.id} · {status.text} · {_when(job.created_at)} · {_template_text(compose_state(self), job)} · "
            f"{counted(job.recipients, 'recipient')}: {status.ok:,} ok, {status.failed:,} failed, "
            + (f"{status.in_flight:,} in flight, " if status.in_flight else "")
            + f"{status.unknown:,} unknown, {status.not_sent_verified:,} verified not sent, "
            f"{status.pending:,} pending"
        )
        if status.next_step():
            summary += f"\nNext: {status.next_step()}"
        if resolved:
            summary += f"\n{resolved}"
        if job.stop_code:
            summary += f"\nStopped by {job.stop_code}: {job.stop_message or ''}"
        # Plain text (no markup), control characters from CAMS or the journal shown, not obeyed.
        self.query_one("#job-summary", Static).update(Text(escape_controls(summary)))

    def chosen_job(self) -> JobRecord | None:
        return self.job

    def reloaded(self) -> None:
        self.reload()

    async def on_send_log_selected(self, event: SendLog.Selected) -> None:
        """Show one attempt's full answer, with its batch's other attempts."""

        attempts: list[dict[str, Any]] = await asyncio.to_thread(
            read_attempts, self.data_dir, self.job_id, event.entry.index
        )
        self.app.push_screen(EntryDialog(event.entry, attempts))

    def action_close(self) -> None:
        """Back to the jobs."""
        self.dismiss(None)
