"""Messages the compose steps post to the screen that holds them."""

from __future__ import annotations

from textual.message import Message

from cams_tui.ui.campaign_draft import Step


class StateChanged(Message):
    """A step changed the compose state: the step list, summary and other steps refresh."""

    def __init__(self, step: Step) -> None:
        super().__init__()
        self.step = step
        """The step that changed it."""


class GoToStep(Message):
    """Ask the compose screen to show a step."""

    def __init__(self, step: Step) -> None:
        super().__init__()
        self.step = step
        """The step to show."""
