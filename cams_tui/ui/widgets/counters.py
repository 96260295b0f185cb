"""The send monitor's counters: progress with ETA, batch outcomes, and the rate."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import ProgressBar, Sparkline

from cams_tui.ui.send_state import SendState
from cams_tui.ui.widgets.text import Label


def duration_text(seconds: float | None) -> str:
    """``h:mm:ss`` or ``m:ss``; ``–`` when unknown."""
    if seconds is None:
        return "–"
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def rate_text(rate: float) -> str:
    """A rate with the precision that matters: ``9.5``, ``14``, ``1,000``."""
    return f"{rate:,.0f}" if rate >= 10 else f"{rate:.2g}"


def sharing_text(state: SendState) -> str:
    """Who shares the account's budget, for the limit's label: empty when this job is alone."""
    if state.limiter_unavailable:
        return " · limiter unavailable: waiting (l: go on alone)"
    if state.local_senders is not None:
        return f" · alone, 1/{state.local_senders} of the account"
    if state.senders > 1:
        return f" · {state.senders} senders share the account, this job {state.share:.0%}"
    return ""


class SendCounters(Vertical):
    """Recipients answered of total with a bar and ETA; recipients ok / failed / in flight /
    unknown (and verified not sent), calls throttled-and-retried; calls/s with a sparkline;
    the limiter's rate."""

    DEFAULT_CSS = """
    SendCounters {
        height: auto;
        padding: 0 1;
        & > Horizontal { height: 1; }
        #counters-bar { width: 1fr; max-width: 60; }
        #counters-bar Bar { width: 1fr; }
        #counters-progress { width: auto; padding-left: 1; }
        #counters-batches { width: auto; }
        #counters-spark { width: 1fr; min-width: 6; max-width: 30; margin-left: 1; }
        #counters-limit { width: auto; padding-left: 1; }
    }
    """

    STYLES: ClassVar[dict[str, str]] = {
        "ok": "success", "failed": "error", "in flight": "primary", "unknown": "accent", "not sent": "accent",
        "throttled": "warning",
    }

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield ProgressBar(id="counters-bar", show_eta=False, show_percentage=True)
            yield Label("", id="counters-progress")
        with Horizontal():
            batches = Label("", id="counters-batches")
            batches.tooltip = "Recipients by outcome; throttled→retried counts calls"
            yield batches
            yield Sparkline([], id="counters-spark")
            yield Label("", id="counters-limit")

    def show(self, state: SendState) -> None:
        """Show ``state``."""
        bar = self.query_one("#counters-bar", ProgressBar)
        # Unknown recipients are not done: a run ending with some does not show 100 %.
        bar.update(total=max(state.total, 1), progress=state.answered)
        eta = "paused" if state.phase == "paused" else duration_text(state.eta_s)
        self.query_one("#counters-progress", Label).update(
            f"{state.answered:,} / {state.total:,}   ETA {eta}   {state.calls_per_s:.1f} calls/s"
        )
        colours = self.app.theme_variables
        text = Text()
        counts = [
            ("ok", state.recipients["ok"]),
            ("failed", state.recipients["failed"]),
            ("in flight", state.in_flight),
            ("unknown", state.recipients["unknown"]),
        ]
        if state.not_sent_verified:
            counts.append(("not sent", state.not_sent_verified))
        if state.throttled:  # calls, not recipients: shown once there are some
            counts.append(("throttled→retried", state.throttled))
        for name, value in counts:
            key = name.split("→")[0]
            style = colours.get(self.STYLES[key], "") if value else ""
            text.append(f"{name} ", style="dim")
            text.append(f"{value:,}", style=f"bold {style}".strip())
            text.append("  ")
        if state.not_sent:
            text.append("not sent→retried ", style="dim")
            text.append(f"{state.not_sent:,}", style="bold")
            text.append("  ")
        self.query_one("#counters-batches", Label).update(text)
        self.query_one("#counters-spark", Sparkline).data = list(state.samples)
        limit = f"limit {rate_text(state.limit)}/s"
        if state.adapting:
            limit += f" (of {rate_text(state.ceiling)})"
        limit += sharing_text(state)
        warn = state.adapting or bool(state.limiter_unavailable)
        self.query_one("#counters-limit", Label).update(Text(limit, style=colours.get("warning", "") if warn else ""))
