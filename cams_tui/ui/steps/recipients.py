"""Step 2: the recipients, pasted or imported from a file, and the live report on them."""

from __future__ import annotations

import sys
import threading
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

from cams_tui.recipients import IntakeOptions, read_recipients_text
from cams_tui.recipients.background import IntakeCancelled, prestart, read_in_process
from cams_tui.ui.campaign_draft import Step
from cams_tui.ui.collector import LARGE_REPORT, freeze_survivors
from cams_tui.ui.screens.file_picker import FilePickerDialog
from cams_tui.ui.screens.send_dialogs import InfoDialog
from cams_tui.ui.steps.base import StepPane, explain
from cams_tui.ui.widgets.paste_area import PasteArea, is_large, summary_of
from cams_tui.ui.widgets.path_input import PathInput
from cams_tui.ui.widgets.text import Label, Static
from cams_tui.untrusted import escape_controls
from cams_tui.wording import counted

# Rejected lines shown in the table: a DataTable of every line of a huge file would block the UI.
MAX_REJECTED_ROWS = 500
PASTE_SETTLE_S = 0.4
# How often the reading's progress is shown: the intake thread only records it, so that it
# never waits for the UI (and the UI never works per line read).
PROGRESS_EVERY_S = 0.1
PASTE_TITLE = "Paste numbers"
# Pasted text longer than this is read in a process of its own, as a file is.
IN_PROCESS_PASTE_CHARS = 200_000
RELEASE_CHUNK = 20_000


def _release(box: list[Any]) -> None:
    """Free a replaced report a slice at a time, in a thread: freeing a million cells at
    once would hold the GIL (and freeze the UI) for as long as it takes. A report someone
    else still holds (a job being written from it) is left whole."""
    report = box.pop()
    # getrefcount counts this frame's name and its own argument: more is someone else's.
    if sys.getrefcount(report) > 2:
        return
    columns = getattr(report.recipients, "columns", {})
    for column in columns.values():
        while column:
            del column[-RELEASE_CHUNK:]
    for listed in (report.rejected, report.duplicates, report.suppressed, report.non_mobile):
        while listed:
            del listed[-RELEASE_CHUNK:]


class RecipientsStep(StepPane):
    """A paste area, a file import and the intake report: accepted, rejected, per country."""

    step = Step.RECIPIENTS
    HELP = """
## 2 Recipients
Paste numbers (one per line, or CSV with a header such as `phone,name`) in the **paste
area**, or type a **file** path (enter imports it, F3 browses). One of them is the source,
as the line above the report says: while a file is imported the paste area is not used
(clear the File field and press enter to use the pasted numbers again). A paste too large
to edit is shown as a summary. F5 clears both. National numbers are read in the **default
region** (e.g. PH). The report lists every rejected line with its reason; duplicates and
opted-out numbers are dropped.
"""

    BINDINGS = [
        Binding("f3", "browse", "Browse", id="browse-file", tooltip="Choose a file to import"),
        Binding("f5", "clear_source", "Clear", id="clear-recipients", tooltip="Clear the file and the pasted numbers"),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._settle: Timer | None = None
        self._progress_timer: Timer | None = None
        self._progress_value: tuple[str, int, int] | None = None

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
            paste = PasteArea(id="recipients-paste", soft_wrap=False, show_line_numbers=False)
            paste.border_title = PASTE_TITLE
            yield paste
            with Vertical(id="recipients-report"):
                yield Static("Source: none yet", id="recipients-source")
                yield Static("No recipients yet.", id="recipients-counts")
                yield Static("", id="recipients-progress-label")
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
        self._show_reading(False)
        self._show_source()
        self._prestart()

    @work(thread=True, group="intake-prestart", exit_on_error=False)
    def _prestart(self) -> None:
        """Have an intake process ready before a file is chosen."""

        prestart()

    def focus_first(self) -> None:
        self.query_one("#recipients-paste", TextArea).focus()

    def commands(self) -> Iterable[SystemCommand]:
        yield SystemCommand("Browse for a recipients file", "Pick a file to import (F3)", self.action_browse)
        yield SystemCommand("Paste numbers", "Focus the paste area", self.query_one("#recipients-paste").focus)
        yield SystemCommand(
            "Default region", "Set the region of national numbers", self.query_one("#recipients-region").focus
        )
        yield SystemCommand(
            "Clear the recipients", "Clear the file and the pasted numbers (F5)", self.action_clear_source
        )

    def on_step_shown(self) -> None:
        self._show_paste()
        self.query_one("#recipients-file", Input).value = self.state.recipients_file
        self.query_one("#recipients-region", Input).value = self.state.default_region
        self._show_source()

    # ------------------------------------------------------------------ source

    def _show_paste(self) -> None:
        """The paste box as the state has it: the text, or a summary of a large paste;
        disabled (and saying so) while a file is the source."""
        paste = self.query_one("#recipients-paste", PasteArea)
        pasted = self.state.pasted
        large = is_large(pasted)
        shown = summary_of(pasted) if large else pasted
        if paste.text != shown:
            paste.load_text(shown)
        paste.read_only = large
        paste.disabled = bool(self.state.recipients_file)
        if self.state.recipients_file:
            paste.border_title = f"{PASTE_TITLE} · not used: the file is the source"
        elif large:
            paste.border_title = f"{PASTE_TITLE} · summary (F5 clears)"
        else:
            paste.border_title = PASTE_TITLE

    def _show_source(self) -> None:
        """Say which source the recipients come from, and what is set aside."""
        source = self.query_one("#recipients-source", Static)
        file, pasted = self.state.recipients_file, self.state.pasted.strip()
        if file:
            aside = " · the pasted numbers are not used (clear File, enter, to use them)" if pasted else ""
            source.update(Content.assemble(("Source: ", "bold"), f"file {file}", (aside, "$warning")))
        elif pasted:
            source.update(Content.assemble(("Source: ", "bold"), "pasted numbers"))
        else:
            source.update(Content.assemble(("Source: ", "bold"), "none yet"))

    def action_clear_source(self) -> None:
        """Clear the file and the pasted numbers: no recipients."""
        self.clear_source()

    def clear_source(self) -> None:
        """Forget both sources and the report."""
        self.state.recipients_file = ""
        self.state.pasted = ""
        self.query_one("#recipients-file", Input).value = ""
        self._show_paste()
        self._show_source()
        self.reread()

    # ---------------------------------------------------------------- triggers

    @on(TextArea.Changed, "#recipients-paste")
    def _pasted(self) -> None:
        paste = self.query_one("#recipients-paste", PasteArea)
        if paste.read_only or paste.disabled:
            return  # a summary or a set-aside paste: the state keeps the text
        text = paste.text
        if text == self.state.pasted:
            return
        self.state.pasted = text
        self._show_source()
        # Wait for the typing or pasting to settle: re-reading on every key would waste work.
        if self._settle is not None:
            self._settle.stop()
        self._settle = self.set_timer(PASTE_SETTLE_S, self.reread)

    @on(PasteArea.LargePaste)
    def _large_paste(self, event: PasteArea.LargePaste) -> None:
        self.state.pasted = event.text
        self._show_paste()
        self._show_source()
        self.reread()

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

        start = self.state.recipients_file or str(Path.cwd())
        self.app.push_screen(FilePickerDialog(start), self._picked)

    def _picked(self, path: Path | None) -> None:
        if path is not None:
            self.import_file(str(path))

    def import_file(self, text: str) -> None:
        """Import the recipients of a file (in a worker, with a progress bar); an empty path
        goes back to the pasted numbers."""
        path = text.strip()
        if not path and not self.state.recipients_file:
            return
        self.state.recipients_file = path
        self.query_one("#recipients-file", Input).value = path
        self._show_paste()
        self._show_source()
        self.reread()

    def reread(self) -> None:
        """Read the current source again (file, else pasted text) in a worker."""
        file, pasted = self.state.recipients_file, self.state.pasted
        self._progress_value = None
        if file or len(pasted) > 100_000:
            self._show_reading(True, f"Reading {'file ' + file if file else 'the pasted numbers'}…")
        self._read(file, pasted, self.state.default_region)

    # ------------------------------------------------------------------ intake

    @work(thread=True, exclusive=True, group="intake", exit_on_error=False)
    def _read(self, file: str, pasted: str, region: str) -> None:
        worker = get_current_worker()
        what = f"file {file}" if file else "the pasted numbers"

        def progress(done: int, total: int | None) -> None:
            # Only recorded here; the UI's timer shows it (the intake never waits for the UI).
            self._progress_value = (what, done, total or 0)

        try:
            # Inside: an unknown region (XX) is refused by the number reader, in words.
            options = IntakeOptions(default_region=region or None, suppressed=self.cams.suppression(region or None))
            if file or len(pasted) > IN_PROCESS_PASTE_CHARS:
                # A process of its own: the intake gets a core, the UI keeps the GIL to itself.
                report = read_in_process(
                    Path(file).expanduser() if file else None,
                    None if file else pasted,
                    options,
                    progress=progress,
                    cancelled=lambda: worker.is_cancelled,
                )
            else:
                report = read_recipients_text(pasted, options)
        except IntakeCancelled:
            return
        except Exception as exc:  # noqa: BLE001 - a bad file is reported, never a crash
            if not worker.is_cancelled:
                self.app.call_from_thread(self._failed, explain(exc))
            return
        finally:
            if file or len(pasted) > IN_PROCESS_PASTE_CHARS:
                prestart()  # the next read's process
        if worker.is_cancelled:
            return
        if len(report.recipients) >= LARGE_REPORT:
            # Its columns would otherwise be walked by every full collection, on the UI thread.
            freeze_survivors()
        self.app.call_from_thread(self._show, report, bool(file) or bool(pasted.strip()))

    def _show_reading(self, reading: bool, text: str = "") -> None:
        """Show or hide the reading's label and bar (and the timer that updates them)."""
        bar = self.query_one(ProgressBar)
        label = self.query_one("#recipients-progress-label", Static)
        bar.display = label.display = reading
        if reading:
            label.update(text)
            bar.update(total=None, progress=0)
            if self._progress_timer is None:
                self._progress_timer = self.set_interval(PROGRESS_EVERY_S, self._progress)
        elif self._progress_timer is not None:
            self._progress_timer.stop()
            self._progress_timer = None

    def _progress(self) -> None:
        if self._progress_value is None:
            return
        what, done, total = self._progress_value
        label = self.query_one("#recipients-progress-label", Static)
        if total:
            label.update(f"Reading {what}: {done / 1e6:,.1f} of {total / 1e6:,.1f} MB")
        else:
            label.update(f"Reading {what}: {done / 1e6:,.1f} MB")
        self.query_one(ProgressBar).update(total=total or None, progress=done)

    def _failed(self, message: str) -> None:
        self._show_reading(False)
        status = self.query_one("#recipients-status", Static)
        status.update(f"! {message}")
        status.add_class("error-line")

    def _show(self, report: Any, has_input: bool) -> None:
        self._show_reading(False)
        previous = self.state.report
        self.state.report = report if has_input else None
        if previous is not None and previous is not self.state.report:
            box, previous = [previous], None  # the thread's box holds the only reference
            threading.Thread(target=_release, args=(box,), name="release-report", daemon=True).start()
            del box
        self.state.test_send = None
        self.show_report()
        self.changed()

    @on(DataTable.RowSelected, "#recipients-rejected")
    def _reject_chosen(self, event: DataTable.RowSelected) -> None:
        """Show a rejected line whole: its number, text and reason, however long."""
        report = self.state.report
        if report is None or not 0 <= event.cursor_row < len(report.rejected):
            return

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
                (
                    " · ".join(f"{country} {count:,}" for country, count in countries[:6]) or "no countries",
                    "$text-muted",
                ),
            )
        )
        for reject in report.rejected[:MAX_REJECTED_ROWS]:
            # The line as pasted, not markup, with its control characters shown, not obeyed.
            table.add_row(str(reject.line), Text(escape_controls(reject.reason)), Text(escape_controls(reject.text)))
        more = report.rejected_count - min(len(report.rejected), MAX_REJECTED_ROWS)
        source = (
            f"file {escape_controls(self.state.recipients_file)}" if self.state.recipients_file else "pasted numbers"
        )
        shown = min(len(report.rejected), MAX_REJECTED_ROWS)
        note = f" · first {shown:,} of {report.rejected_count:,} rejects shown" if more > 0 else ""
        status.update(f"From {source}{note}")
        self._show_source()
