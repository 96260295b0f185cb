"""What a lookup of a run's unknown batches found, as counts and as one line of text."""

from __future__ import annotations

from cams_tui.engine.journal import BatchState
from cams_tui.engine.reconcile import ReconcileReport


def lookup_counts(report: ReconcileReport) -> dict[str, int]:
    """Recipients found accepted, verified not sent, and still unknown."""
    return {
        "found": report.recipients(BatchState.OK.value),
        "not_sent": report.recipients(BatchState.NOT_SENT_VERIFIED.value),
        "unknown": report.recipients(BatchState.UNKNOWN.value),
    }


def lookup_text(report: ReconcileReport) -> str:
    """The lookup's result in one line, with why some stayed unknown."""
    counts = lookup_counts(report)
    text = (
        f"lookup: {counts['found']:,} recipients found accepted, {counts['not_sent']:,} verified not sent, "
        f"{counts['unknown']:,} still unknown ({report.lookups:,} lookups)"
    )
    reasons = sorted({r.reason for r in report.resolutions if r.state == BatchState.UNKNOWN.value})
    if reasons:
        text += f": {reasons[0]}"
    return text
