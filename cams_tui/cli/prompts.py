"""The questions a sending command asks on the terminal before it sends: the plan's recipient
count typed, the rest after a healthy canary, the batches verified not sent."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from cams_tui.cli.output import Output
from cams_tui.cli.plan_wording import about_text
from cams_tui.engine.events import PlanEvent
from cams_tui.engine.journal import BatchState, Journal
from cams_tui.errors import UserError
from cams_tui.wording import counted

if TYPE_CHECKING:
    from cams_tui.engine.canary import CanaryVerdict


def confirm_plan(plan: PlanEvent, what: str, out: Output | None = None) -> None:
    """Show the plan and have its recipient count typed (``1234`` or ``1,234``); anything
    else, or no terminal, sends nothing (:class:`UserError`, exit 2)."""
    if not sys.stdin.isatty():
        raise UserError("no terminal to confirm on: pass --yes to send without asking")

    print(
        f"{what} {counted(plan.pending_recipients, 'recipient')} in {counted(plan.pending_batches, 'request')} "
        f"at {plan.rate:g} calls/s ({about_text(plan.pending_batches / plan.rate)})",
        file=sys.stderr,
    )
    if plan.rejected or plan.duplicates or plan.suppressed:
        print(
            f"left out: {plan.rejected:,} rejected, {counted(plan.duplicates, 'duplicate')}, "
            f"{plan.suppressed:,} suppressed",
            file=sys.stderr,
        )
    if out is not None:
        out.plan_shown = True
    try:
        typed = input(f"type the number of recipients ({plan.pending_recipients}) to go ahead: ")
    except EOFError:
        typed = ""
    if typed.strip().replace(",", "").replace("_", "") != str(plan.pending_recipients):
        raise UserError("not confirmed: nothing was sent")


def confirm_continue(verdict: CanaryVerdict) -> None:
    """Ask whether to send the rest after a healthy canary; no sends nothing more."""
    if not sys.stdin.isatty():
        raise UserError("the canary is healthy but there is no terminal to confirm on: resume the job to go on")
    try:
        typed = input(f"canary healthy ({verdict.reason}): send the rest? [y/N] ")
    except EOFError:
        typed = ""
    if typed.strip().lower() not in {"y", "yes"}:
        raise UserError("not confirmed: the rest was not sent (the job stays resumable)")


def confirm_resend(journal: Journal, job_id: str, *, auto: bool, out: Output) -> bool:
    """Show the batches verified not sent, with their evidence; ask whether to resend them."""
    verified = journal.batches(job_id, [BatchState.NOT_SENT_VERIFIED])
    if not verified:
        return False
    total = sum(b.size for b in verified)
    for batch in verified[:10]:
        evidence = batch.evidence or {}
        out.note(
            f"batch {batch.index} ({batch.size:,} recipients) verified not sent: looked up "
            f"{', '.join(evidence.get('checked', []))}; {evidence.get('control', '')}"
        )
    if auto or not sys.stdin.isatty():
        out.note(f"{total:,} recipients verified not sent are left out: resend them with --resend-verified")
        return False
    try:
        typed = input(f"resend these {total} recipients? type {total} to include them: ")
    except EOFError:
        typed = ""
    return typed.strip().replace(",", "") == str(total)
