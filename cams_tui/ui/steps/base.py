"""What every step pane shares: the compose state, and telling the screen it changed."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from textual.app import SystemCommand
from textual.containers import Vertical

from cams_tui.ui.app_access import ComposeHost, compose_host
from cams_tui.ui.campaign_draft import ComposeState, Step
from cams_tui.ui.messages import StateChanged


class StepPane(Vertical):
    """One step of the compose flow, shown in the compose screen's content switcher."""

    step: ClassVar[Step]
    """Which step this pane is."""

    @property
    def cams(self) -> ComposeHost:
        """The app, typed by what the compose flow uses of it."""
        return compose_host(self)

    @property
    def state(self) -> ComposeState:
        """The compose state shared by every step."""
        return self.cams.state

    def changed(self) -> None:
        """Tell the screen the state changed."""
        self.post_message(StateChanged(self.step))

    def on_step_shown(self) -> None:
        """Called when the pane comes on show: re-read the state (others may have changed it)."""

    def focus_first(self) -> None:
        """Focus the pane's first focusable widget (panes override to pick their main one)."""
        for widget in self.query("*"):
            if widget.focusable:
                widget.focus()
                return

    def commands(self) -> Iterable[SystemCommand]:
        """Command-palette entries of this step's actions (shown while it is on show)."""
        return ()


def explain(error: BaseException) -> str:
    """An error in plain words for the screen: a CAMS error with its advice, else its message."""
    # For start-up time: the client and its models (httpx, pydantic) load on first use.
    from cams_tui.api.errors import CamsError

    if isinstance(error, CamsError):
        advice = error.advice
        return f"{error}" + (f"\n{advice}" if advice else "")
    return str(error) or type(error).__name__
