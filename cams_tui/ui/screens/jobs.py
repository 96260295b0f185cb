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
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Header, TabbedContent, TabPane

from cams_tui.account_sharing import senders_of_jobs_being_sent, sharing_line
from cams_tui.job_status import JobStatus
from cams_tui.ui.app_access import app_host, compose_state
from cams_tui.ui.job_services import (
    load_job_log,
    load_jobs,
    load_status,
    read_attempts,
    resolution_text,
    template_name,
)
from cams_tui.ui.screens.job_actions import JobActions
from cams_tui.ui.screens.send_dialogs import EntryDialog
from cams_tui.ui.send_target import SendTarget
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
