"""``cams-tui resume JOB``: send what is left of an unfinished job.

Its unknown batches are looked up first (:mod:`cams_tui.cli.reconcile`; ``--wait`` waits for
a batch not listed yet, a resume right after a crash is not held up for minutes by default).
Batches verified not sent are resent only once the operator types their count, or with
``--resend-verified``; ``--yes`` alone never resends them. A job is resumed on its own
endpoint unless ``--endpoint`` or ``CAMS_TUI_ENDPOINT`` says otherwise: it belongs to the
account it was started on.
"""

from __future__ import annotations

import argparse
import asyncio

from cams_tui.cli.context import command_context, job_endpoint, require_credentials
from cams_tui.cli.job_run import run_job
from cams_tui.cli.output import Output
from cams_tui.cli.prompts import confirm_plan, confirm_resend
from cams_tui.cli.reconcile import counts_text, exit_for_counts, look_up_unknown, reconcile_settings
from cams_tui.engine.events import PlanEvent
from cams_tui.engine.journal import BatchState, JobRecord, Journal


def run_resume(args: argparse.Namespace) -> int:
    """Run ``resume``: look the unknown batches up, then send what is left; returns the exit code."""
    context = command_context(args)
    journal = Journal(context.data_dir)
    with journal:
        job = journal.job(args.job_id)
        endpoint = job_endpoint(args, context, job)
        counts = job.counts
        out = Output(as_json=args.json, demo=context.demo)
        unresolved = counts.get(BatchState.UNKNOWN.value, 0) + counts.get(BatchState.SENDING.value, 0)
        if unresolved and not (args.no_reconcile or args.retry_unknown):
            # Look the unknown batches up first, then decide what is left to send.
            require_credentials(context)
            settings = reconcile_settings(args, context, wait=args.wait)
            report = asyncio.run(look_up_unknown(context, journal, job.id, endpoint, settings, out, args.local_limiter))
            out.reconciled(report)
            job = journal.job(job.id)
            counts = job.counts
        verified = counts.get(BatchState.NOT_SENT_VERIFIED.value, 0)
        resend_verified = args.resend_verified
        if verified and not resend_verified:
            resend_verified = confirm_resend(journal, job.id, auto=args.yes, out=out)
        to_send = (
            job.pending
            + (counts.get(BatchState.UNKNOWN.value, 0) if args.retry_unknown else 0)
            + (verified if resend_verified else 0)
        )
        if to_send == 0:
            out.note(f"job {job.id} has nothing left to send ({counts_text(job)})")
            return exit_for_counts(job)
        require_credentials(context)
        rate = args.rate or context.rate
        unknown = counts.get(BatchState.UNKNOWN.value, 0)
        if args.retry_unknown and unknown:
            # Said even with --yes: this is the one way cams-tui may message people twice.
            out.note(
                f"--retry-unknown resends {unknown:,} recipients whose earlier request may already "
                "have been accepted: they may receive the message twice"
            )
        if not args.yes:
            _confirm_resume(args, journal, job, to_send, rate, resend_verified=resend_verified, out=out)
        return asyncio.run(
            run_job(
                context,
                journal,
                job.id,
                endpoint=endpoint,
                rate=rate,
                out=out,
                lookup=None if args.no_reconcile else reconcile_settings(args, context, wait=args.wait),
                retry_unknown=args.retry_unknown,
                resend_verified=resend_verified,
                resend_new_verified=args.resend_verified,
                auto_continue=args.yes,
                local_when_unavailable=args.local_limiter,
            )
        )


def _confirm_resume(
    args: argparse.Namespace,
    journal: Journal,
    job: JobRecord,
    to_send: int,
    rate: float,
    *,
    resend_verified: bool,
    out: Output,
) -> None:
    """Show what the resume sends (and what becomes of batches caught mid-send) and have its
    recipient count typed."""
    counts = job.counts
    states = [BatchState.PLANNED, BatchState.SENDING] + ([BatchState.UNKNOWN] if args.retry_unknown else [])
    states += [BatchState.NOT_SENT_VERIFIED] if resend_verified else []
    plan = PlanEvent(
        job_id=job.id,
        recipients=job.recipients,
        rejected=job.rejected,
        duplicates=job.duplicates,
        suppressed=job.suppressed,
        batches=job.batches,
        pending_recipients=to_send,
        pending_batches=len(journal.batches(job.id, states)),
        rate=rate,
    )
    if counts.get(BatchState.SENDING.value):
        out.note(
            f"{counts[BatchState.SENDING.value]:,} recipients were being sent when the job stopped: "
            "they become unknown and are not sent again (unless --retry-unknown)"
        )
    confirm_plan(plan, f"resume job {job.id}: send", out)
