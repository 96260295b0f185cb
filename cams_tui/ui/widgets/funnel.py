"""The delivery funnel: Sent / Delivered / Read / Failed bars and the top failure reasons."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive

from cams_tui.delivery import Funnel
from cams_tui.ui.widgets.text import Static

_BAR_WIDTH = 30


class DeliveryFunnel(Static):
    """Where a job's accepted messages stand, as ListChatappMessage reports them."""

    DEFAULT_CSS = """
    DeliveryFunnel {
        height: auto;
        padding: 0 1;
    }
    """

    funnel: reactive[Funnel | None] = reactive(None, layout=True)
    """The figures shown, ``None`` before the first fetch."""
    note: reactive[str] = reactive("", layout=True)
    """A line under the figures: fetching, or why the fetch failed."""

    def render(self) -> Text:
        colours = self.app.theme_variables
        text = Text()
        funnel = self.funnel
        if funnel is None:
            text.append("Delivery: not fetched yet", style="dim")
        else:
            base = max(funnel.accepted, funnel.reported, 1)
            text.append(
                f"Delivery of {funnel.accepted:,} accepted messages · {funnel.reported:,} listed by CAMS",
                style="bold",
            )
            if funnel.not_reported:
                text.append(f" · {funnel.not_reported:,} not listed yet", style="dim")
            for name, value, colour in (
                ("Sent", funnel.sent, "primary"),
                ("Delivered", funnel.delivered, "success"),
                ("Read", funnel.read, "accent"),
                ("Failed", funnel.failed, "error"),
            ):
                filled = round(_BAR_WIDTH * value / base)
                text.append(f"\n{name:<10} ")
                text.append("█" * filled, style=colours.get(colour, ""))
                text.append("░" * (_BAR_WIDTH - filled), style="dim")
                text.append(f" {value:>9,} {100 * value / base:5.1f} %")
            if funnel.top_failures:
                text.append("\nTop failure reasons: ", style="dim")
                text.append(" · ".join(f"{reason} {count:,}" for reason, count in funnel.top_failures))
        if self.note:
            text.append("\n" + self.note, style="dim italic")
        return text
