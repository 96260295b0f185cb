"""The step list: each compose step with its state, and the send's summary under it."""

from __future__ import annotations

import math

from textual import events
from textual.binding import Binding
from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget

from cams_tui.durations import format_duration
from cams_tui.ui.campaign_draft import Estimate, Step, StepState, StepStatus
from cams_tui.ui.messages import GoToStep
from cams_tui.wording import counted

MARKS = {StepState.DONE: "✓", StepState.ATTENTION: "!", StepState.TODO: "·"}
STYLES = {StepState.DONE: "bold $success", StepState.ATTENTION: "bold $warning", StepState.TODO: "$text-muted"}
MAX_REASON = 60


def _summary(estimate: Estimate) -> str:
    return f"{counted(estimate.batches, 'batch', 'batches')} · ~{format_duration(math.ceil(estimate.seconds))}"


class StepList(Widget, can_focus=True):
    """The steps, ✓ done / ! needs attention / · not started, and the summary of the send."""

    HELP = """
## Steps
The compose flow, one step at a time: **✓** done, **!** needs attention (the reason shows
under the step), **·** not started.

Press **1**–**5**, or move with **up**/**down** and **enter**, to open a step.
"""

    BINDINGS = [
        Binding("up", "move(-1)", "Previous", show=False),
        Binding("down", "move(1)", "Next", show=False),
        Binding("enter", "open", "Open step"),
        *[Binding(str(step.value), f"jump({step.value})", step.title, show=False) for step in Step],
    ]

    current: reactive[Step] = reactive(Step.TEMPLATE)
    """The step on show."""
    cursor: reactive[Step] = reactive(Step.TEMPLATE)
    """The highlighted step (moves with the arrows while focused)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._statuses: list[StepStatus] = [StepStatus(step, StepState.TODO) for step in Step]
        self._estimate = Estimate(0, 0, 0.0)

    def update_state(self, statuses: list[StepStatus], estimate: Estimate) -> None:
        """Show new statuses and a new summary."""
        self._statuses = statuses
        self._estimate = estimate
        self.refresh(layout=True)

    def watch_current(self, step: Step) -> None:
        self.cursor = step

    def watch_cursor(self) -> None:
        self.refresh()

    def render(self) -> Content:
        parts: list[tuple[str, str] | str] = []
        for status in self._statuses:
            style = "bold" if status.step is self.current else ""
            if status.step is self.cursor and self.has_focus:
                style += " reverse"
            parts.append((f" {MARKS[status.state]} ", STYLES[status.state]))
            parts.append((f"{status.step.value} {status.step.title}", style.strip()))
            parts.append("\n")
            if status.reason:
                reason = status.reason if len(status.reason) <= MAX_REASON else status.reason[: MAX_REASON - 1] + "…"
                parts.append((f"   {reason}\n", "$warning"))
        parts.append(f"\n {self._estimate.recipients:,} recipients\n")
        parts.append((f" {_summary(self._estimate)}", "$text-muted"))
        return Content.assemble(*parts)

    def action_move(self, delta: int) -> None:
        """Move the highlight."""
        self.cursor = Step(min(max(self.cursor.value + delta, 1), len(Step)))

    def action_open(self) -> None:
        """Open the highlighted step."""
        self.post_message(GoToStep(self.cursor))

    def action_jump(self, number: int) -> None:
        """Open step ``number``."""
        self.post_message(GoToStep(Step(number)))

    def _on_focus(self, event: events.Focus) -> None:
        self.refresh()

    def _on_blur(self, event: events.Blur) -> None:
        self.refresh()


class Breadcrumb(Widget):
    """The steps on one line, for narrow terminals where the step list does not fit."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._statuses: list[StepStatus] = [StepStatus(step, StepState.TODO) for step in Step]
        self._current = Step.TEMPLATE
        self._estimate = Estimate(0, 0, 0.0)

    def update_state(self, statuses: list[StepStatus], estimate: Estimate, current: Step) -> None:
        """Show new statuses, summary and current step."""
        self._statuses, self._estimate, self._current = statuses, estimate, current
        self.refresh()

    def render(self) -> Content:
        parts: list[tuple[str, str] | str] = []
        for status in self._statuses:
            style = STYLES[status.state] + (" reverse" if status.step is self._current else "")
            parts.append((f"{MARKS[status.state]}{status.step.value} {status.step.title}", style))
            parts.append(" ")
        parts.append((f"│ {self._estimate.recipients:,} rcpt · {_summary(self._estimate)}", "$text-muted"))
        return Content.assemble(*parts)
