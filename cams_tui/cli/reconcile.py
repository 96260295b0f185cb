"""``cams-tui reconcile JOB``: look a job's unknown batches up with ListChatappMessage
(:mod:`cams_tui.engine.reconcile`); the same lookup ``resume`` runs first.

Found batches become ``ok``; a batch not listed yet waits for its grace period (``--no-wait``
does not); batches verified not sent are left for ``resume`` to resend.
"""

from __future__ import annotations

import argparse
import asyncio

from cams_tui.cli.context import (
    cams_client_class,
    command_context,
    job_endpoint,
    require_credentials,
    suggested_command,
)
from cams_tui.cli.job_run import account_limiter_factory
from cams_tui.cli.output import Output
from cams_tui.config import RunContext
from cams_tui.engine.journal import BatchState, JobRecord, Journal
from cams_tui.engine.limiters.base import LimiterNotice
from cams_tui.engine.limiters.factory import LIST_MESSAGES
from cams_tui.engine.reconcile import Reconciler, ReconcileReport, ReconcileSettings
from cams_tui.exit_codes import EXIT_FAILED, EXIT_FATAL, EXIT_OK, EXIT_UNKNOWN


def run_reconcile(args: argparse.Namespace) -> int:
    """Run ``reconcile``: look the job's unknown batches up; returns the exit code."""
    context = command_context(args)
    with Journal(context.data_dir) as journal:
        job = journal.job(args.job_id)
        endpoint = job_endpoint(args, context, job)
        require_credentials(context)
        out = Output(as_json=args.json, demo=context.demo)
        settings = reconcile_settings(args, context, wait=not args.no_wait)
        report = asyncio.run(look_up_unknown(context, journal, job.id, endpoint, settings, out, args.local_limiter))
        out.reconciled(report)
        job = journal.job(job.id)
        if job.counts.get(BatchState.NOT_SENT_VERIFIED.value):
            out.note(f"resend the batches verified not sent with: {suggested_command(f'resume {job.id}', context)}")
        return exit_for_counts(job)


def reconcile_settings(args: argparse.Namespace, context: RunContext, *, wait: bool) -> ReconcileSettings:
    """How unknown batches are looked up: the grace period and the lookup rate given, else
    the profile's; ``wait``: wait for the grace period to run out."""
    grace = args.grace if args.grace is not None else context.profile.reconcile_grace_s
    return ReconcileSettings(
        grace_s=grace,
        lookup_rate=args.lookup_rate or context.profile.lookup_rate,
        max_wait_s=None if wait else 0.0,
    )


async def look_up_unknown(
    context: RunContext,
    journal: Journal,
    job_id: str,
    endpoint: str,
    settings: ReconcileSettings,
    out: Output,
    local_when_unavailable: int | None = None,
) -> ReconcileReport:
    """Look the job's unknown batches up at the account's lookup budget (shared with every
    other sender's lookups), and record what they show."""
    credentials = require_credentials(context)
    # The account's lookup budget, shared with every other sender's lookups.
    limiter = account_limiter_factory(context, LIST_MESSAGES)(settings.lookup_rate)

    def notice(event: LimiterNotice) -> None:
        if event.state != "sharing":
            out.note(f"lookups' limiter ({event.sharing.limiter}): {event.reason}")
        if event.state == "unavailable" and local_when_unavailable is not None:
            limiter.use_local(local_when_unavailable)

    limiter.on_notice = notice
    try:
        async with cams_client_class()(credentials, endpoint, placement=context.profile.placement) as client:
            return await Reconciler(client, journal, job_id, settings, limiter=limiter, notify=out.note).run()
    finally:
        await limiter.aclose()


def exit_for_counts(job: JobRecord) -> int:
    """The exit code of a job as the journal holds it."""
    if job.state == "stopped":
        return EXIT_FATAL
    if job.counts.get(BatchState.UNKNOWN.value) or job.counts.get(BatchState.NOT_SENT_VERIFIED.value):
        return EXIT_UNKNOWN
    if job.counts.get(BatchState.FAILED.value):
        return EXIT_FAILED
    return EXIT_OK


def counts_text(job: JobRecord) -> str:
    """A job's batches by state, in recipients."""
    c = job.counts
    return (
        f"{c.get('ok', 0):,} ok, {c.get('failed', 0):,} failed, {c.get('unknown', 0):,} unknown, "
        f"{c.get(BatchState.NOT_SENT_VERIFIED.value, 0):,} verified not sent, {job.pending:,} pending"
    )
