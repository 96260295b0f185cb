"""The compose screen: the step list beside the pane of the current step."""

from __future__ import annotations

import importlib

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import ContentSwitcher, Header

from cams_tui.ui.app_access import compose_host
from cams_tui.ui.campaign_draft import Step
from cams_tui.ui.messages import GoToStep, StateChanged
from cams_tui.ui.steps.base import StepPane
from cams_tui.ui.steps.template import TemplateStep
from cams_tui.ui.widgets.footer import Footer
from cams_tui.ui.widgets.step_list import Breadcrumb, StepList

# Where each step's pane class lives: a pane's module (and the widgets it pulls in) is
# imported when the step is first shown, not before the first frame.
PANE_CLASSES: dict[Step, tuple[str, str]] = {
    Step.TEMPLATE: ("cams_tui.ui.steps.template", "TemplateStep"),
    Step.RECIPIENTS: ("cams_tui.ui.steps.recipients", "RecipientsStep"),
    Step.PARAMS: ("cams_tui.ui.steps.params", "ParamsStep"),
    Step.OPTIONS: ("cams_tui.ui.steps.options", "OptionsStep"),
    Step.REVIEW: ("cams_tui.ui.steps.review", "ReviewStep"),
}
PANE_IDS = {
    Step.TEMPLATE: "template",
    Step.RECIPIENTS: "recipients",
    Step.PARAMS: "params",
    Step.OPTIONS: "options",
    Step.REVIEW: "review",
}


class ComposeScreen(Screen[None]):
    """Where a send is prepared, step by step."""

    # Its styles (compose.tcss and the steps') are in the app's CSS_PATH: see CamsApp.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide"), (120, "-roomy")]

    BINDINGS = [
        Binding("ctrl+n", "next_step", "Next step", id="next-step"),
        Binding("ctrl+b", "previous_step", "Back", id="previous-step"),
        Binding("ctrl+l", "focus_steps", "Steps", id="focus-steps", show=False),
    ]

    def __init__(self, show_clock: bool = False) -> None:
        super().__init__()
        self._show_clock = show_clock
        self.current = Step.TEMPLATE
        """The step on show."""

    def compose(self) -> ComposeResult:
        yield Header(show_clock=self._show_clock, icon="✉")
        yield Breadcrumb(id="breadcrumb")
        with Horizontal(id="body"):
            yield StepList(id="steps")
            # Only the first step is built for the first frame; the others when first shown.
            with ContentSwitcher(initial="template", id="pages"):
                yield TemplateStep(id="template")
        yield Footer()

    async def on_mount(self) -> None:
        self.refresh_state()
        await self.go_to(Step.TEMPLATE)

    def pane(self, step: Step) -> StepPane:
        """The pane of one step (it must have been shown once, see :meth:`ensure_pane`)."""
        return self.query_one(f"#{PANE_IDS[step]}", StepPane)

    async def ensure_pane(self, step: Step) -> StepPane:
        """The pane of one step, built and mounted if it was never shown."""
        found = self.query(f"#{PANE_IDS[step]}")
        if found:
            return self.pane(step)
        module, name = PANE_CLASSES[step]
        pane_class: type[StepPane] = getattr(importlib.import_module(module), name)
        pane = pane_class(id=PANE_IDS[step])
        await self.query_one(ContentSwitcher).add_content(pane)
        return pane

    async def go_to(self, step: Step) -> None:
        """Show ``step``'s pane and focus it."""
        previous = self.current
        self.current = step
        state = compose_host(self).state
        state.visited.update((previous, step))
        pane = await self.ensure_pane(step)
        self.query_one(ContentSwitcher).current = PANE_IDS[step]
        pane.border_title = f"{step.value} {step.title}"
        self.query_one(StepList).current = step
        pane.on_step_shown()
        self.refresh_state()
        pane.focus_first()

    def refresh_state(self) -> None:
        """Show the compose state in the step list, breadcrumb and header."""
        state = compose_host(self).state
        statuses = state.statuses()
        estimate = state.estimate()
        self.query_one(StepList).update_state(statuses, estimate)
        self.query_one(Breadcrumb).update_state(statuses, estimate, self.current)
        # Review is derived from the state each time it changes (an opened campaign, a new
        # list, a send), never left showing an earlier one.
        review = self.query("#review")
        if review:
            review.first().show()  # type: ignore[attr-defined]

    def on_state_changed(self, message: StateChanged) -> None:
        message.stop()
        self.refresh_state()

    async def on_go_to_step(self, message: GoToStep) -> None:
        message.stop()
        await self.go_to(message.step)

    async def action_next_step(self) -> None:
        """Show the next step; on the first step with a composition to start over from
        (a list, an opened campaign or a send), ask first whether to start a
        new campaign instead."""
        if self.current is Step.TEMPLATE and self.has_composition():
            # For start-up time: dialogs load when first asked for.
            from cams_tui.ui.screens.dialogs import ConfirmDialog

            sent = compose_host(self).state.sent
            what = "This campaign was sent; its job stays in Jobs (F2)." if sent is not None else (
                "The list and values chosen so far are dropped (a saved campaign file is kept)."
            )

            async def answered(new: bool | None) -> None:
                if new:
                    await compose_host(self).action_new_campaign()
                else:
                    await self.go_to(Step.RECIPIENTS)

            self.app.push_screen(
                ConfirmDialog("Start a new campaign?", what, yes="New campaign", no="Keep it: next step"),
                answered,
            )
            return
        if self.current.value < len(Step):
            await self.go_to(Step(self.current.value + 1))

    def has_composition(self) -> bool:
        """Whether there is more than a template choice (and its values) to start over
        from: a list, an opened campaign or a send."""
        state = compose_host(self).state
        return bool(
            state.recipients_file
            or state.pasted.strip()
            or state.report is not None
            or state.sent is not None
            or compose_host(self).campaign_path is not None
        )

    async def action_previous_step(self) -> None:
        """Show the previous step."""
        if self.current.value > 1:
            await self.go_to(Step(self.current.value - 1))

    def action_focus_steps(self) -> None:
        """Focus the step list (then 1–5 or enter open a step)."""
        self.query_one(StepList).focus()
