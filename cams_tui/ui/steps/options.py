"""Step 4: fallback and delivery options, each validated as it is typed."""

from __future__ import annotations

from dataclasses import fields

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Input, Select

from cams_tui.durations import format_duration
from cams_tui.ui.campaign_draft import (
    FALLBACK_DURATION_RANGE_TEXT,
    FALLBACK_RULES,
    LABELS,
    TTL_RANGE_TEXT,
    OptionsForm,
    Step,
)
from cams_tui.ui.steps.base import StepPane
from cams_tui.ui.widgets.text import Label, Static

# field name → (label, placeholder, what the field means); the order is the screen's.
FIELDS: dict[str, tuple[str, str, str]] = {
    "fallback_rule": ("Rule", "", "when the SMS fallback triggers"),
    "fallback_duration": ("Wait", "e.g. 2m", f"before the SMS; {FALLBACK_DURATION_RANGE_TEXT}"),
    "fallback_id": ("Policy ID", "FallBackId", "the SMS fallback policy"),
    "fallback_content": ("SMS text", "FallBackContent", "the SMS sent instead"),
    "ttl": ("TTL", "e.g. 1d", f"Viber keeps trying for; {TTL_RANGE_TEXT}"),
    "label": ("Label", "", "promotion or transaction"),
    "tag": ("Tag", "optional", "your tag, echoed in reports"),
    "task_id": ("Task ID", "optional", "your task ID, echoed in reports"),
    "cust_space_id": ("Space ID", "CustSpaceId", "the CAMS space (ISV sub-account)"),
    "send_at": ("Send at", "now", "later: 2026-12-24T09:00+08:00"),
    "send_window": ("Window", "any time", "each recipient's local hours: 09:00-20:00"),
    "send_days": ("Days", "every day", "the window's weekdays: mon,tue,wed,thu,fri"),
}
GROUPS = {"fallback_rule": "Fallback (SMS)", "ttl": "Delivery", "cust_space_id": "Account", "send_at": "Schedule"}


class OptionsStep(StepPane):
    """FallBackRule, FallBackDuration, FallBackId, FallBackContent, Ttl, Label, Tag, TaskId, CustSpaceId."""

    step = Step.OPTIONS
    HELP = """
## 4 Options
All optional. Durations take units: `90s`, `15m`, `12h`, `1d 12h` (a bare number is
seconds). **Wait** is FallBackDuration (1 minute to 12 hours), **TTL** is how long Viber
keeps trying (30 seconds to 14 days). A field out of range says so beside it and blocks
the send until fixed. **Send at** schedules the send: the job is written to the journal
when you confirm and waits for its time (a countdown in the monitor; `c` cancels it with
nothing sent). Give the time with its UTC offset, e.g. `2026-12-24T09:00+08:00`.
**Window** sends each recipient only within hours of its own local time (its zone comes
from its number), **Days** only on those weekdays; batches outside their window wait for
it to open, and Review says how many go now and when the rest will.
"""

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="options-fields"):
            for name, (label, placeholder, meaning) in FIELDS.items():
                if name in GROUPS:
                    yield Static(GROUPS[name], classes="group-title")
                with Horizontal(classes="option-row"):
                    yield Label(label, classes="option-label")
                    if name == "fallback_rule":
                        yield Select(
                            [(rule, rule) for rule in FALLBACK_RULES], prompt="default", id=name, compact=True
                        )
                    elif name == "label":
                        yield Select([(label, label) for label in LABELS], prompt="none", id=name, compact=True)
                    else:
                        yield Input(placeholder=placeholder, id=name, compact=True)
                    yield Static(meaning, id=f"{name}-note", classes="option-note")

    def on_step_shown(self) -> None:
        form = self.state.options
        for field in fields(OptionsForm):
            widget = self.query_one(f"#{field.name}")
            value = getattr(form, field.name)
            if isinstance(widget, Select):
                widget.value = value or Select.NULL
            elif isinstance(widget, Input) and widget.value != value:
                widget.value = value
        self.show_errors()

    def focus_first(self) -> None:
        self.query_one("#fallback_rule").focus()

    @on(Input.Changed)
    @on(Select.Changed)
    def _edited(self, event: Input.Changed | Select.Changed) -> None:
        name = event.control.id
        if name is None or name not in FIELDS:
            return
        value = event.value if isinstance(event.value, str) else ""
        if getattr(self.state.options, name) == value:
            return
        setattr(self.state.options, name, value)
        self.state.test_send = None
        self.show_errors()
        self.changed()

    def show_errors(self) -> None:
        """Show each field's problem beside it, or what it means when it is fine."""
        errors = self.state.options.errors()
        form = self.state.options
        for name, (_, _, meaning) in FIELDS.items():
            note = self.query_one(f"#{name}-note", Static)
            widget = self.query_one(f"#{name}")
            if name in errors:
                note.update(f"✗ {errors[name]}")
            elif name == "fallback_rule" and form.fallback_rule:
                note.update(FALLBACK_RULES[form.fallback_rule])
            elif name == "label" and form.label:
                note.update(LABELS[form.label])
            elif name == "send_at" and (start := form.send_time()) is not None:
                note.update(f"starts {start:%Y-%m-%d %H:%M %z} (local: {start.astimezone():%H:%M})")
            elif name in ("ttl", "fallback_duration") and form.seconds(name) is not None:
                note.update(f"= {format_duration(form.seconds(name) or 0)} ({form.seconds(name):,} s)")
            else:
                note.update(meaning)
            note.set_class(name in errors, "error-line")
            widget.set_class(name in errors, "-invalid")
