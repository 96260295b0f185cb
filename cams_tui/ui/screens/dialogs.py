"""The one yes/no question every screen asks before something that cannot be undone."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button

from cams_tui.ui.widgets.text import Label, Static

DIALOG_CSS = "dialogs.tcss"
"""The style sheet of the screens' modal dialogs (beside this module)."""


class ConfirmDialog(ModalScreen[bool]):
    """A yes/no question with what it risks spelled out; dismisses with ``True`` when confirmed.

    ``y`` or the first button says yes; ``n``, escape or the second button says no, and the
    no button has the focus: the safe answer is the default. ``warning`` frames a risky
    question (sending again, storing a secret) in the warning colour.
    """

    CSS_PATH = DIALOG_CSS
    BINDINGS = [
        Binding("n,escape", "answer(False)", "No", id="confirm-no"),
        Binding("y", "answer(True)", "Yes", id="confirm-yes"),
    ]

    def __init__(self, title: str, body: str, *, yes: str = "Yes", no: str = "No", warning: bool = False) -> None:
        super().__init__(classes="modal-dialog")
        self._title = title
        self._body = body
        self._yes = yes
        self._no = no
        self._warning = warning

    def compose(self) -> ComposeResult:
        with Vertical(classes="-warning" if self._warning else ""):
            yield Label(self._title, classes="title")
            yield Static(self._body, classes="body")
            with Horizontal(classes="buttons"):
                yield Button(f"{self._yes} (y)", id="yes", variant="error" if self._warning else "primary")
                yield Button(f"{self._no} (esc)", id="no")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "yes")

    def action_answer(self, answer: bool) -> None:
        """Answer the question."""
        self.dismiss(answer)
