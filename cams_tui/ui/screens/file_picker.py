"""A dialog to pick a file from a folder tree, by keyboard."""

from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DirectoryTree

from cams_tui.ui.widgets.text import Static


class FilePickerDialog(ModalScreen[Path | None]):
    """Browse folders with the arrows, enter opens a folder or picks a file, escape cancels."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="cancel-pick"),
        Binding("backspace", "up", "Parent folder", id="parent-folder"),
    ]
    DEFAULT_CLASSES = "dialog"

    def __init__(self, start: str) -> None:
        super().__init__()
        path = Path(start).expanduser()
        self._root = path if path.is_dir() else path.parent if path.parent.is_dir() else Path.cwd()

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Choose a recipients file", classes="title")
            yield DirectoryTree(self._root, id="picker-tree")
            yield Static("enter open/pick · backspace parent folder · escape cancel", classes="hint")

    def on_mount(self) -> None:
        self.query_one(DirectoryTree).styles.height = 16

    @on(DirectoryTree.FileSelected)
    def _picked(self, event: DirectoryTree.FileSelected) -> None:
        self.dismiss(event.path)

    def action_up(self) -> None:
        """Show the parent folder."""
        tree = self.query_one(DirectoryTree)
        tree.path = Path(tree.path).resolve().parent

    def action_cancel(self) -> None:
        """Close without a file."""
        self.dismiss(None)
