"""The words of the command line's plan and progress lines: durations, what a plan sends."""

from __future__ import annotations

from cams_tui.engine.events import PlanEvent
from cams_tui.wording import counted


def duration_text(seconds: float) -> str:
    """``45s``, ``1m 05s``, ``2h 03m``, or ``under 1s``: the lines' fixed-width durations."""
    if seconds < 1:
        return "under 1s"
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds}s"
    minutes, secs = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def about_text(seconds: float) -> str:
    """``about 5m 00s``, or ``under 1s``."""
    return "under 1s" if seconds < 1 else f"about {duration_text(seconds)}"


def plan_text(plan: PlanEvent) -> str:
    """What a plan sends, and what it leaves out; a resumed job's plan speaks of what is left."""

    if plan.pending_recipients != plan.recipients:
        what = (
            f"{plan.pending_recipients:,} of {counted(plan.recipients, 'recipient')} left to send in "
            f"{counted(plan.pending_batches, 'request')}"
        )
    else:
        what = f"{counted(plan.recipients, 'recipient')} in {counted(plan.batches, 'request')}"
    return (
        f"{what}; left out: {plan.rejected:,} rejected, {counted(plan.duplicates, 'duplicate')}, "
        f"{plan.suppressed:,} suppressed; {about_text(plan.pending_batches / plan.rate)} at {plan.rate:g} calls/s"
    )


def shared_by(senders: int) -> str:
    """How the progress line says that other senders share the account's budget."""
    return f", shared by {senders} senders" if senders > 1 else ""
