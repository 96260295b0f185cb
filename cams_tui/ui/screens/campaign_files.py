"""Dialogs that ask for a campaign file's path, to save or to open it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input

from cams_tui.ui.app_access import ComposeHost, compose_host
from cams_tui.ui.widgets.path_input import PathInput
from cams_tui.ui.widgets.text import Static

if TYPE_CHECKING:
    pass


class _CampaignDialog(ModalScreen[None]):
    """A path input; enter acts, escape cancels; a problem shows under the input."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="cancel-dialog")]
    DEFAULT_CLASSES = "dialog"
    TITLE_TEXT = ""
    HINT = ""

    def __init__(self, path: Path | None) -> None:
        super().__init__()
        self._path = path

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.TITLE_TEXT, classes="title")
            yield PathInput(
                suffixes=(".toml",), value=str(self._path or ""), placeholder="campaign.toml", id="campaign-path"
            )
            yield Static(self.HINT, id="campaign-problem", classes="hint")

    @property
    def cams(self) -> ComposeHost:
        """The app, typed by what the compose flow uses of it."""
        return compose_host(self)

    @on(Input.Submitted, "#campaign-path")
    def _submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if not text:
            return
        problem = self.act(Path(text).expanduser())
        if problem:
            note = self.query_one("#campaign-problem", Static)
            note.update(f"✗ {problem}")
            note.set_classes("error-line")
        else:
            self.dismiss()

    def act(self, path: Path) -> str:
        """Do the dialog's job with ``path``; return a problem, or ``""``."""
        raise NotImplementedError

    def action_cancel(self) -> None:
        """Close without doing anything."""
        self.dismiss()


class SaveCampaignDialog(_CampaignDialog):
    """Save the campaign as TOML (pasted numbers go to a file beside it)."""

    TITLE_TEXT = "Save campaign as"
    HINT = "enter saves · escape cancels · right arrow completes"

    def act(self, path: Path) -> str:
        return self.cams.save_campaign(path)


class OpenCampaignDialog(_CampaignDialog):
    """Open a campaign TOML: its template, sender, params, options and recipients file."""

    TITLE_TEXT = "Open campaign"
    HINT = "enter opens · escape cancels · right arrow completes"

    def act(self, path: Path) -> str:
        return self.cams.open_campaign(path)
