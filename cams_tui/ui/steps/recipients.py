"""Step 2: the recipients, pasted or imported from a file, and the live report on them."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.timer import Timer
from textual.widgets import DataTable, Input, ProgressBar, TextArea
from textual.worker import get_current_worker

from cams_tui.untrusted import escape_controls
from cams_tui.compose import Step, counted
from cams_tui.ui.steps.base import StepPane, explain
from cams_tui.ui.widgets.path_input import PathInput
from cams_tui.ui.widgets.text import Label, Static

# Rejected lines shown in the table: a DataTable of every line of a huge file would block the UI.
MAX_REJECTED_ROWS = 500
PASTE_SETTLE_S = 0.4


class RecipientsStep(StepPane):
    """A paste area, a file import and the intake report: accepted, rejected, per country."""

    step = Step.RECIPIENTS
    HELP = """
## 2 Recipients
Paste numbers (one per line, or CSV with a header such as `phone,name`) in the **paste
area**, or type a **file** path (enter imports it, F3 browses). National numbers are read
in the **default region** (e.g. PH). The report lists every rejected line with its reason;
duplicates and opted-out numbers are dropped.
"""

    BINDINGS = [Binding("f3", "browse", "Browse", id="browse-file", tooltip="Choose a file to import")]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._settle: Timer | None = None

    def compose(self) -> ComposeResult:
        with Horizontal(classes="controls"):
            yield Label("File", classes="field-label")
            yield PathInput(
                suffixes=(".txt", ".csv", ".tsv"), placeholder="path of a .txt/.csv file (F3 browse)",
                id="recipients-file", compact=True,
            )
            yield Label("Region", classes="field-label")
            # An empty region must not look like one: a placeholder of "PH" read as PH being set.
            yield Input(placeholder="--", id="recipients-region", compact=True, max_length=2)
        with Horizontal(id="recipients-main"):
            paste = TextArea(id="recipients-paste", soft_wrap=False, show_line_numbers=False)
            paste.border_title = "Paste numbers"
            yield paste
            with Vertical(id="recipients-report"):
                yield Static("No recipients yet.", id="recipients-counts")
                yield ProgressBar(id="recipients-progress", show_eta=False)
                rejected: DataTable[str] = DataTable(id="recipients-rejected", cursor_type="row")
                rejected.border_title = "Rejected"
                yield rejected
        yield Static("Paste or import numbers · ctrl+n for params", id="recipients-status", classes="hint")

    def on_mount(self) -> None:
        table = self.query_one("#recipients-rejected", DataTable)
        # The reason before the text: at 80 columns it is what must be read (enter: all of it).
        table.add_column("Line", key="line")
        table.add_column("Reason", key="reason")
        table.add_column("Text", key="text")
        self.query_one("#recipients-region", Input).value = self.state.default_region
        self.query_one(ProgressBar).display = False

    def focus_first(self) -> None:
        self.query_one("#recipients-paste", TextArea).focus()

    def commands(self) -> Iterable[SystemCommand]:
        yield SystemCommand("Browse for a recipients file", "Pick a file to import (F3)", self.action_browse)
        yield SystemCommand("Paste numbers", "Focus the paste area", self.query_one("#recipients-paste").focus)
        yield SystemCommand("Default region", "Set the region of national numbers", self.query_one("#recipients-region").focus)

    def on_step_shown(self) -> None:
        paste = self.query_one("#recipients-paste", TextArea)
        if paste.text != self.state.pasted:
            paste.load_text(self.state.pasted)
        self.query_one("#recipients-file", Input).value = self.state.recipients_file
        self.query_one("#recipients-region", Input).value = self.state.default_region

    # ---------------------------------------------------------------- triggers

    @on(TextArea.Changed, "#recipients-paste")
    def _pasted(self) -> None:
        text = self.query_one("#recipients-paste", TextArea).text
        if text == self.state.pasted:
            return
        self.state.pasted = text
        self.state.recipients_file = ""
        # Wait for the typing or pasting to settle: re-reading on every key would waste work.
        if self._settle is not None:
            self._settle.stop()
        self._settle = self.set_timer(PASTE_SETTLE_S, self.reread)

    @on(Input.Submitted, "#recipients-file")
    def _file_submitted(self, event: Input.Submitted) -> None:
        self.import_file(event.value)

    @on(Input.Changed, "#recipients-region")
    def _region_changed(self, event: Input.Changed) -> None:
        region = event.value.strip().upper()
        if region == self.state.default_region or len(region) not in (0, 2):
            return
        self.state.default_region = region
        self.reread()

    def action_browse(self) -> None:
        """Pick a file in a dialog, then import it."""
        from cams_tui.ui.screens.file_picker import FilePickerDialog

        start = self.state.recipients_file or str(Path.cwd())
        self.app.push_screen(FilePickerDialog(start), self._picked)

    def _picked(self, path: Path | None) -> None:
        if path is not None:
            self.import_file(str(path))

    def import_file(self, text: str) -> None:
        """Import the recipients of a file (in a worker, with a progress bar)."""
        path = text.strip()
        if not path:
            return
        self.state.recipients_file = path
        self.query_one("#recipients-file", Input).value = path
        self.reread()

    def reread(self) -> None:
        """Read the current source again (file, else pasted text) in a worker."""
        self._read(self.state.recipients_file, self.state.pasted, self.state.default_region)

    # ------------------------------------------------------------------ intake

    @work(thread=True, exclusive=True, group="intake", exit_on_error=False)
    def _read(self, file: str, pasted: str, region: str) -> None:
        from cams_tui.recipients import IntakeOptions, read_recipients, read_recipients_text

        worker = get_current_worker()
        try:
            # Inside: an unknown region (XX) is refused by the number reader, in words.
            options = IntakeOptions(default_region=region or None, suppressed=self.cams.suppression(region or None))
            if file:
                path = Path(file).expanduser()
                report = read_recipients(
                    path,
                    options,
                    progress=lambda done, total: self.app.call_from_thread(self._progress, done, total or 0),
                )
            else:
                report = read_recipients_text(pasted, options)
        except Exception as exc:  # noqa: BLE001 - a bad file is reported, never a crash
            if not worker.is_cancelled:
                self.app.call_from_thread(self._failed, explain(exc))
            return
        if not worker.is_cancelled:
            self.app.call_from_thread(self._show, report, bool(file) or bool(pasted.strip()))

    def _progress(self, done: int, total: int) -> None:
        bar = self.query_one(ProgressBar)
        bar.display = True
        bar.update(total=total or None, progress=done)

    def _failed(self, message: str) -> None:
        self.query_one(ProgressBar).display = False
        status = self.query_one("#recipients-status", Static)
        status.update(f"! {message}")
        status.add_class("error-line")

    def _show(self, report: Any, has_input: bool) -> None:
        self.query_one(ProgressBar).display = False
        self.state.report = report if has_input else None
        self.state.test_send = None
        self.show_report()
        self.changed()

    @on(DataTable.RowSelected, "#recipients-rejected")
    def _reject_chosen(self, event: DataTable.RowSelected) -> None:
        """Show a rejected line whole: its number, text and reason, however long."""
        report = self.state.report
        if report is None or not 0 <= event.cursor_row < len(report.rejected):
            return
        from cams_tui.ui.screens.send_dialogs import InfoDialog

        reject = list(report.rejected)[event.cursor_row]
        self.app.push_screen(
            InfoDialog(f"Line {reject.line} was not taken", f"Reason: {reject.reason}\n\nAs written:\n{reject.text}")
        )

    def show_report(self) -> None:
        """Show the state's report: counts, per country, rejected lines."""
        report = self.state.report
        counts = self.query_one("#recipients-counts", Static)
        table = self.query_one("#recipients-rejected", DataTable)
        status = self.query_one("#recipients-status", Static)
        status.remove_class("error-line")
        table.clear()
        if report is None:
            counts.update("No recipients yet.")
            status.update("Paste or import numbers · ctrl+n for params")
            return
        countries = sorted(report.per_country.items(), key=lambda item: -item[1])
        counts.update(
            Content.assemble(
                (f"{len(report.recipients):,}", "bold $success"),
                " recipient   " if len(report.recipients) == 1 else " recipients   ",
                (f"{report.rejected_count:,}", "bold $error" if report.rejected_count else "bold"),
                f" rejected\n{counted(report.duplicate_count, 'duplicate')}   {report.suppressed_count:,} suppressed\n",
                (" · ".join(f"{country} {count:,}" for country, count in countries[:6]) or "no countries", "$text-muted"),
            )
        )
        for reject in list(report.rejected)[:MAX_REJECTED_ROWS]:
            # The line as pasted, not markup, with its control characters shown, not obeyed.
            table.add_row(str(reject.line), Text(escape_controls(reject.reason)), Text(escape_controls(reject.text)))
        more = report.rejected_count - min(len(report.rejected), MAX_REJECTED_ROWS)
        source = f"file {escape_controls(self.state.recipients_file)}" if self.state.recipients_file else "pasted numbers"
        shown = min(len(report.rejected), MAX_REJECTED_ROWS)
        note = f" · first {shown:,} of {report.rejected_count:,} rejects shown" if more > 0 else ""
        status.update(f"From {source}{note}")
