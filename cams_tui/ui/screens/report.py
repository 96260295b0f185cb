"""The report screen: one job's delivery statuses fetched from CAMS, with progress, totals
per status and per country, and the report or a retarget list written to a file.

The fetch is :func:`cams_tui.report.fetch_report`, the same as ``cams-tui report``: it
commits each batch's statuses as it reads them, so leaving the screen mid-way (or pressing
``g`` again later) goes on where it stopped.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Button, DataTable, Header, Input

from cams_tui.api.client import CamsClient
from cams_tui.engine.journal import Journal
from cams_tui.output_files import atomic_text_file
from cams_tui.report import (
    ALL_STATUSES,
    ReportProgress,
    RetargetRule,
    Totals,
    fetch_report,
    report_rows,
    retarget_numbers,
    write_report,
    write_retarget,
)
from cams_tui.ui.app_access import app_host, host_connection, journal_dir
from cams_tui.ui.job_services import resolve_target
from cams_tui.ui.widgets.footer import Footer
from cams_tui.ui.widgets.text import Static

if TYPE_CHECKING:
    from cams_tui.report import FetchSummary
    from cams_tui.ui.send_target import SendTarget


class _Left(Exception):
    """The screen was closed while fetching: stop after the batch being committed."""


def fetch_statuses(target: SendTarget, job_id: str, lookup_rate: float, progress: object) -> FetchSummary:
    """Fetch the job's statuses into the journal (blocking: a thread of its own)."""

    async def fetch() -> FetchSummary:
        with Journal(target.data_dir) as journal:
            endpoint = target.endpoint
            async with CamsClient(target.credentials, endpoint, placement=target.placement) as client:
                return await fetch_report(client, journal, job_id, lookup_rate=lookup_rate, on_progress=progress)  # type: ignore[arg-type]

    return asyncio.run(fetch())


def read_totals(data_dir: Path, job_id: str) -> Totals:
    """The totals of what the journal holds for the job (blocking)."""

    totals = Totals()
    with Journal(data_dir) as journal:
        for row in report_rows(journal, job_id):
            totals.add(row)
    return totals


def write_file(data_dir: Path, job_id: str, path: Path, rule: str | None) -> int:
    """Write the report (CSV), or with ``rule`` the retarget list, to ``path``; returns the
    rows or numbers written (blocking). Raises :class:`~cams_tui.errors.UserError`."""

    rules = [RetargetRule.parse(rule)] if rule else []
    totals = Totals()
    with Journal(data_dir) as journal, atomic_text_file(path) as handle:
        rows = report_rows(journal, job_id)
        if rules:
            return write_retarget(retarget_numbers(rows, rules, totals), handle)
        write_report(rows, handle, "csv", totals)
    return totals.recipients


class ReportScreen(Screen[None]):
    """One job's final report."""

    DEFAULT_CSS = """
    ReportScreen #report-title { height: auto; padding: 0 1; background: $panel; text-style: bold; }
    ReportScreen #report-progress { height: auto; padding: 0 1; }
    ReportScreen DataTable { height: 1fr; }
    ReportScreen .report-row { height: auto; }
    ReportScreen .report-row Input { width: 1fr; }
    """
    BINDINGS = [
        Binding("g", "fetch", "Fetch again", id="report-fetch", tooltip="Read the statuses from CAMS again"),
        Binding("escape", "close", "Back", id="report-close"),
    ]

    def __init__(self, job_id: str, *, target: SendTarget | None = None, show_clock: bool = False) -> None:
        super().__init__()
        self.job_id = job_id
        self.target = target
        self._show_clock = show_clock
        self._leaving = False
        self.totals: Totals | None = None
        """What the table shows, once read."""

    @property
    def data_dir(self) -> Path:
        """The journal's folder."""
        return journal_dir(self, self.target)

    def compose(self) -> ComposeResult:
        yield Header(show_clock=self._show_clock, icon="✉")
        yield Static(f"Report of job {self.job_id}", id="report-title")
        yield Static("", id="report-progress")
        yield DataTable(id="report-table", zebra_stripes=True, cursor_type="row")
        with Horizontal(classes="report-row"):
            yield Input(str(Path.cwd() / f"report-{self.job_id}.csv"), id="report-path", compact=True)
            yield Button("Write report", id="write-report", compact=True)
        with Horizontal(classes="report-row"):
            yield Input(placeholder="failed:SRVC_NOT_VIBER_USER, not_listed, unread:24 …", id="retarget-rule",
                        compact=True)
            yield Input(str(Path.cwd() / f"retarget-{self.job_id}.txt"), id="retarget-path", compact=True)
            yield Button("Write retarget list", id="write-retarget", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        self.action_fetch()

    def on_unmount(self) -> None:
        self._leaving = True

    # ------------------------------------------------------------------ fetching

    @work(group="report-fetch", exclusive=True, exit_on_error=False)
    async def action_fetch(self) -> None:
        """Fetch the statuses (going on after an interrupted fetch), then show the totals."""

        connection = app_host(self).connection
        rate = connection.context.profile.lookup_rate if connection is not None else 5.0
        progress = self.query_one("#report-progress", Static)
        progress.update("Fetching the delivery statuses from CAMS…")
        loop = asyncio.get_running_loop()

        def show(p: ReportProgress) -> None:
            if self._leaving:
                raise _Left()
            text = (
                f"Fetching: {p.batches_done:,}/{p.batches_total:,} batches · {p.records:,} records · "
                f"{p.calls:,} calls" + (" (going on after an interrupted fetch)" if p.resumed else "")
            )
            loop.call_soon_threadsafe(progress.update, text)

        try:
            target = self.target or await resolve_target(host_connection(self))
            summary = await asyncio.to_thread(fetch_statuses, target, self.job_id, rate, show)
        except _Left:
            return
        except Exception as exc:  # noqa: BLE001 - shown to the operator
            progress.update(f"Statuses not fetched ({exc}); showing what the journal holds. g tries again.")
        else:
            progress.update(
                f"Fetched {summary.batches_fetched:,} batches ({summary.records:,} records, {summary.calls:,} calls, "
                f"{summary.elapsed_s:.1f} s)."
            )
        await self._show_totals()

    async def _show_totals(self) -> None:
        totals = await asyncio.to_thread(read_totals, self.data_dir, self.job_id)
        self.totals = totals
        table = self.query_one("#report-table", DataTable)
        table.clear(columns=True)
        statuses = [s for s in ALL_STATUSES if totals.by_status.get(s)]
        table.add_columns("Country", "Recipients", *statuses)
        table.add_row("all", f"{totals.recipients:,}", *(f"{totals.by_status[s]:,}" for s in statuses))
        for country, counts in sorted(totals.by_country.items(), key=lambda item: -sum(item[1].values())):
            table.add_row(country, f"{sum(counts.values()):,}", *(f"{counts.get(s, 0):,}" for s in statuses))
        reasons = ", ".join(f"{r} {n:,}" for r, n in totals.failure_reasons.most_common(3))
        self.query_one("#report-title", Static).update(
            f"Report of job {self.job_id} · {totals.recipients:,} recipients"
            + (f" · fallback SMS {totals.fallback_sent:,}" if totals.fallback_sent else "")
            + (f" · failed: {reasons}" if reasons else "")
        )

    # ------------------------------------------------------------------ writing

    async def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        retarget = event.button.id == "write-retarget"
        rule = self.query_one("#retarget-rule", Input).value.strip() if retarget else None
        if retarget and not rule:
            self.notify("Give the status to retarget, e.g. failed:SRVC_NOT_VIBER_USER.", severity="warning")
            return
        raw = self.query_one("#retarget-path" if retarget else "#report-path", Input).value.strip()
        if not raw:
            self.notify("Give a file to write to.", severity="warning")
            return
        path = Path(raw).expanduser()
        try:
            count = await asyncio.to_thread(write_file, self.data_dir, self.job_id, path, rule)
        except Exception as exc:  # noqa: BLE001 - a UserError says what is wrong
            self.notify(str(exc), severity="error")
            return
        what = f"{count:,} numbers ({rule})" if retarget else f"{count:,} rows"
        self.notify(f"Wrote {what} to {path}.")

    def action_close(self) -> None:
        """Back to the jobs (a fetch under way stops after its current batch)."""
        self._leaving = True
        self.app.pop_screen()
