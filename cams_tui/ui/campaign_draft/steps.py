"""The compose flow's steps, where each stands, and the size of the send."""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cams_tui.durations import format_duration
from cams_tui.wording import counted

# The models and the campaign (pydantic) are imported where used, so the TUI's first frame
# does not wait for them.
if TYPE_CHECKING:

    pass


class StepState(str, enum.Enum):
    """Where a step of the flow stands."""

    TODO = "todo"
    ATTENTION = "attention"
    DONE = "done"


class Step(int, enum.Enum):
    """The steps of the compose flow, in order."""

    TEMPLATE = 1
    RECIPIENTS = 2
    PARAMS = 3
    OPTIONS = 4
    REVIEW = 5

    @property
    def title(self) -> str:
        """The step's name as shown."""
        return self.name.capitalize()


@dataclass(frozen=True)
class StepStatus:
    """A step's state and, when it needs attention, why."""

    step: Step
    state: StepState
    reason: str = ""



@dataclass(frozen=True)
class Estimate:
    """How big the send is and how long it takes at the profile's rate."""

    recipients: int
    batches: int
    seconds: float

    def describe(self) -> str:
        """E.g. ``48,213 recipients · 49 batches · ~5s``."""
        batches = counted(self.batches, "batch", "batches")
        return f"{counted(self.recipients, 'recipient')} · {batches} · ~{format_duration(math.ceil(self.seconds))}"
