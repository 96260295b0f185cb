"""Dialogs of the send monitor and the jobs screen: fatal stop, line details, export, typed counts."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input

from cams_tui.demo import command
from cams_tui.engine.events import DoneEvent
from cams_tui.engine.limiters.factory import check_local_senders
from cams_tui.ui.screens.dialogs import DIALOG_CSS
from cams_tui.ui.widgets.send_log import LogEntry
from cams_tui.ui.widgets.text import Label, Static

_CSS = DIALOG_CSS

# What each outcome means for the operator, in plain words.
OUTCOME_MEANING = {
    "ok": "Accepted by CAMS: the batch is never sent again.",
    "throttled": "Refused by flow control: nothing was sent; the batch was retried and the rate lowered.",
    "not_sent": "The request never reached CAMS: nothing was sent; the batch was retried.",
    "fatal": "CAMS refused the account or its credentials: the job stopped; it can be resumed.",
    "failed": "Refused by CAMS for this batch (see the Code): those recipients got nothing.",
    "unknown": (
        "No clear answer after the request left: CAMS may have accepted it. It is not resent "
        "automatically; retrying may deliver a second message."
    ),
}


class FatalDialog(ModalScreen[bool]):
    """The job stopped on a fatal error: what happened, what to do, and that it can be
    resumed. Dismisses with ``True`` to resume now."""

    CSS_PATH = _CSS
    BINDINGS = [
        Binding("escape", "close", "Close", id="fatal-close"),
        Binding("r", "resume", "Resume now", id="fatal-resume"),
    ]

    def __init__(self, done: DoneEvent, *, demo: bool = False) -> None:
        super().__init__(classes="modal-dialog")
        self.done = done
        """The end of the run that stopped."""
        self._demo = demo

    def compose(self) -> ComposeResult:
        done = self.done
        with Vertical(classes="-error"):
            yield Label(f"Job {done.job_id} stopped: {done.code or 'error'}", classes="title")
            yield Static(Text.assemble(("What happened  ", "bold"), done.message or "CAMS refused the request."))
            yield Static(
                Text.assemble(
                    ("What to do  ", "bold"),
                    done.advice or "Check the account, the profile and the CAMS console, then resume the job.",
                )
            )
            yield Static(
                Text.assemble(
                    ("Nothing is lost  ", "bold"),
                    f"{done.ok:,} recipients were accepted and will not be sent again; {done.pending:,} are "
                    f"still to send. Resume here (r), from Jobs (F2), or with: "
                    f"{command(f'resume {done.job_id}', demo=self._demo)}",
                )
            )
            with Horizontal(classes="buttons"):
                yield Button("Resume now (r)", id="resume", variant="primary")
                yield Button("Close (esc)", id="close")

    def on_mount(self) -> None:
        self.query_one("#close", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "resume")

    def action_resume(self) -> None:
        """Resume the job now."""
        self.dismiss(True)

    def action_close(self) -> None:
        """Close the dialog; the job stays resumable."""
        self.dismiss(False)


class EntryDialog(ModalScreen[None]):
    """Everything about one log line: the full answer, and the batch's attempts if known."""

    CSS_PATH = _CSS
    BINDINGS = [Binding("escape,enter", "close", "Close", id="entry-close")]

    def __init__(self, entry: LogEntry, attempts: Sequence[Mapping[str, Any]] = ()) -> None:
        super().__init__(classes="modal-dialog")
        self.entry = entry
        """The line shown."""
        self.attempts = list(attempts)
        """The batch's journaled attempts, oldest first (may be empty)."""

    def compose(self) -> ComposeResult:
        entry = self.entry
        rows = [
            ("Time", time.strftime("%Y-%m-%d ", time.localtime(entry.time)) + entry.clock_text()),
            ("Batch", f"#{entry.index:04d} · {entry.size:,} recipients · attempt {entry.attempt}"),
            ("Outcome", entry.outcome),
            ("HTTP status", str(entry.http_status) if entry.http_status is not None else "no answer"),
            ("Code", entry.code or "—"),
            ("Message", entry.message or "—"),
            ("RequestId", entry.request_id or "—"),
            ("GroupMessageId", entry.group_message_id or "—"),
            ("Latency", f"{entry.latency_ms:,.0f} ms" if entry.latency_ms is not None else "—"),
        ]
        text = Text()
        for name, value in rows:
            text.append(f"{name:>15}  ", style="bold")
            text.append(value + "\n")
        text.append("\n" + OUTCOME_MEANING.get(entry.outcome, ""), style="italic")
        for attempt in self.attempts:
            started = time.strftime("%H:%M:%S", time.localtime(attempt["started_at"]))
            text.append(
                f"\nattempt {attempt['attempt']} at {started}: {attempt.get('outcome') or 'no answer'} "
                f"{attempt.get('code') or ''} {attempt.get('request_id') or ''}".rstrip()
            )
        with Vertical():
            yield Label(f"Batch #{entry.index:04d}: {entry.label}", classes="title")
            with VerticalScroll(classes="body"):
                yield Static(text, id="entry-text")
            with Horizontal(classes="buttons"):
                yield Button("Close (esc)", id="close", variant="primary")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(None)

    def action_close(self) -> None:
        """Close the dialog."""
        self.dismiss(None)


class ExportDialog(ModalScreen[tuple[str, Path] | None]):
    """Where to export a job's per-recipient results, and in which format."""

    CSS_PATH = _CSS
    BINDINGS = [Binding("escape", "close", "Cancel", id="export-cancel")]

    def __init__(self, job_id: str, folder: Path) -> None:
        super().__init__(classes="modal-dialog")
        self.job_id = job_id
        """The job to export."""
        self._folder = folder

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"Export job {self.job_id}", classes="title")
            yield Static("One row per recipient (to, status, code, message, batch, ids), then the rejected lines.")
            yield Input(str(self._folder / f"cams-tui-{self.job_id}"), id="export-path")
            yield Static("The extension (.csv or .jsonl) is added for the format you choose.", classes="hint")
            with Horizontal(classes="buttons"):
                yield Button("CSV", id="csv", variant="primary")
                yield Button("JSONL", id="jsonl")
                yield Button("Cancel (esc)", id="cancel")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "cancel":
            self.dismiss(None)
            return
        fmt = str(event.button.id)
        raw = self.query_one("#export-path", Input).value.strip()
        if not raw:
            self.notify("Give a file name to export to.", severity="warning")
            return
        path = Path(raw).expanduser()
        if path.suffix.lower() not in (".csv", ".jsonl"):
            path = path.with_name(path.name + f".{fmt}")
        self.dismiss((fmt, path))

    def action_close(self) -> None:
        """Export nothing."""
        self.dismiss(None)


class LocalLimiterDialog(ModalScreen[int | None]):
    """The account's shared limiter cannot be reached: ask how many senders share the
    account, to go on alone at rate / N. Dismisses with N, or ``None`` to keep waiting."""

    CSS_PATH = _CSS
    BINDINGS = [Binding("escape", "close", "Keep waiting", id="local-cancel")]

    def __init__(self, reason: str, rate: float) -> None:
        super().__init__(classes="modal-dialog")
        self._reason = reason
        self._rate = rate

    def compose(self) -> ComposeResult:
        with Vertical(classes="-warning"):
            yield Label("Go on without the shared limiter?", classes="title")
            yield Static(
                f"{self._reason}. Sending waits for it and goes on by itself when it is back. Or go on "
                f"alone for the rest of this run at {self._rate:g} / N calls/s, N being the senders "
                "that share the account now (this one included): if N is too small, the account is "
                "throttled.",
                classes="body",
            )
            yield Input(placeholder="N, e.g. 2", id="local-senders")
            with Horizontal(classes="buttons"):
                yield Button("Go on alone", id="go", variant="error")
                yield Button("Keep waiting (esc)", id="wait")

    def on_mount(self) -> None:
        self.query_one("#local-senders", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._go()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "go":
            self._go()
        else:
            self.dismiss(None)

    def _go(self) -> None:
        try:
            senders = check_local_senders(self.query_one("#local-senders", Input).value)
        except ValueError as exc:
            self.notify(str(exc).capitalize() + ".", severity="warning")
            return
        self.dismiss(senders)

    def action_close(self) -> None:
        """Keep waiting for the shared limiter."""
        self.dismiss(None)


class TypedCountDialog(ModalScreen[bool]):
    """A send that needs its recipient count typed, as a headless resume asks for it.
    Dismisses with ``True`` once the count typed matches and the operator confirms."""

    CSS_PATH = _CSS
    BINDINGS = [Binding("escape", "close", "Don't", id="typed-cancel")]

    def __init__(self, title: str, body: str, count: int, *, yes: str = "Send") -> None:
        super().__init__(classes="modal-dialog")
        self._title = title
        self._body = body
        self.count = count
        """The number to type (commas and spaces allowed)."""
        self._yes = yes

    def compose(self) -> ComposeResult:
        with Vertical(classes="-warning"):
            yield Label(self._title, classes="title")
            yield Static(self._body, classes="body")
            yield Input(placeholder=f"type {self.count} to go ahead", id="typed-count")
            with Horizontal(classes="buttons"):
                yield Button(f"{self._yes}", id="yes", variant="error", disabled=True)
                yield Button("Don't (esc)", id="no")

    def on_mount(self) -> None:
        self.query_one("#typed-count", Input).focus()

    def _matches(self) -> bool:
        typed = self.query_one("#typed-count", Input).value
        return typed.replace(",", "").replace("_", "").strip() == str(self.count)

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.query_one("#yes", Button).disabled = not self._matches()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self._matches():
            self.dismiss(True)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "yes" and self._matches())

    def action_close(self) -> None:
        """Send nothing."""
        self.dismiss(False)


class InfoDialog(ModalScreen[None]):
    """A text to read whole (shown as written, never as markup); esc or enter closes it."""

    CSS_PATH = _CSS
    BINDINGS = [Binding("escape", "close", "Close", id="info-close")]

    def __init__(self, title: str, body: str) -> None:
        super().__init__(classes="modal-dialog")
        self._title = title
        self._body = body

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self._title, classes="title")
            with VerticalScroll(classes="body"):
                yield Static(Text(self._body), id="info-text")
            with Horizontal(classes="buttons"):
                yield Button("Close (esc)", id="close", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#close", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(None)

    def action_close(self) -> None:
        """Close the dialog."""
        self.dismiss(None)
