"""What the send monitor, the jobs screens and the report screen share without importing
one another: the journal reads and writes they run in a thread, the running app's send
target, and a template's shown name.

The journal and the reconciler are imported when first used, for start-up time (the first
frame needs neither).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cams_tui.api.client import CamsClient
from cams_tui.delivery import Funnel, fetch_records, tally
from cams_tui.engine.journal import BatchState, Journal
from cams_tui.engine.reconcile import Reconciler, ReconcileSettings
from cams_tui.export import export_to_file
from cams_tui.job_status import JobStatus, job_status, read_statuses
from cams_tui.ui.log_entries import LogEntry
from cams_tui.ui.send_target import SendTarget

if TYPE_CHECKING:
    from cams_tui.engine.journal import JobRecord
    from cams_tui.engine.reconcile import ReconcileReport, ReconcileSettings
    from cams_tui.ui.campaign_draft import ComposeState
    from cams_tui.ui.connection import Connection


async def resolve_target(connection: Connection) -> SendTarget:
    """The target of the running cams-tui app: its connection's account, rate and journal."""

    endpoint, credentials = await connection.target()
    profile = connection.context.profile
    return SendTarget(
        endpoint=endpoint,
        credentials=credentials,
        placement=profile.placement,
        rate=connection.rate,
        data_dir=connection.data_dir,
        # The run looks its own unknowns up in the background, waiting out the grace period.
        lookup=ReconcileSettings(grace_s=profile.reconcile_grace_s, lookup_rate=profile.lookup_rate),
        limiter="process" if connection.demo else profile.limiter,
        account=profile.account,
    )


def read_job(data_dir: Path, job_id: str) -> tuple[JobRecord, list[str]]:
    """The job and the GroupMessageIds of its accepted batches (blocking: use a thread)."""

    with Journal(data_dir) as journal:
        job = journal.job(job_id)
        groups = [b.group_message_id for b in journal.batches(job_id, [BatchState.OK]) if b.group_message_id]
    return job, groups


async def fetch_funnel(target: SendTarget, job_id: str, show: Callable[[Funnel], None]) -> Funnel:
    """The delivery funnel of a job's accepted batches, from ListChatappMessage; ``show`` is
    called with the funnel so far after each page. Raises :class:`CamsError` when CAMS refuses."""
    job, groups = await asyncio.to_thread(read_job, target.data_dir, job_id)
    accepted = job.counts.get("ok", 0)
    records = []
    # Built in a thread: creating the HTTP client loads the CA bundle, ~100 ms of CPU
    # that would otherwise freeze the screen.
    client = await asyncio.to_thread(CamsClient, target.credentials, target.endpoint, placement=target.placement)
    # The account's lookup budget: the funnel's pages count with every other lookup.
    limiter = target.lookup_limiter()
    try:
        async with client:
            async for page in fetch_records(
                client,
                business_number=job.options.from_,
                group_message_ids=groups,
                cust_space_id=job.options.cust_space_id,
                limiter=limiter,
            ):
                records.extend(page)
                show(tally(records, accepted=accepted))
    finally:
        await limiter.aclose()
    funnel = tally(records, accepted=accepted) if records else Funnel(accepted=accepted)
    show(funnel)
    return funnel


def read_attempts(data_dir: Path, job_id: str, index: int) -> list[dict[str, Any]]:
    """Every journaled attempt of one batch (blocking: use a thread)."""

    with Journal(data_dir) as journal:
        return journal.attempts(job_id, index)


def load_jobs(data_dir: Path) -> list[tuple[JobRecord, JobStatus]]:
    """Every job of the journal with its status, newest first (blocking: use a thread)."""

    with Journal(data_dir) as journal:
        return read_statuses(journal)


def load_status(data_dir: Path, job_id: str) -> tuple[JobRecord, JobStatus]:
    """One job and its status (blocking: use a thread)."""

    with Journal(data_dir) as journal:
        job = journal.job(job_id)
        return job, job_status(job, live=journal.job_is_live(job_id))


def load_job_log(data_dir: Path, job_id: str) -> tuple[JobRecord, list[LogEntry]]:
    """A job and one log line per journaled attempt, in time order (blocking)."""

    with Journal(data_dir) as journal:
        job = journal.job(job_id)
        entries = [
            LogEntry.from_attempt(job_id, batch.index, batch.size, attempt)
            for batch in journal.batches(job_id)
            for attempt in journal.attempts(job_id, batch.index)
        ]
    entries.sort(key=lambda entry: (entry.time, entry.index, entry.attempt))
    return job, entries


def requeue(data_dir: Path, job_id: str, *, verified_not_sent: bool = False) -> int:
    """Put a job's failed batches (or, with ``verified_not_sent``, those verified not sent)
    back to ``planned``; returns how many recipients. Blocking: use a thread."""

    state = BatchState.NOT_SENT_VERIFIED if verified_not_sent else BatchState.FAILED
    with Journal(data_dir) as journal, journal.lock_job(job_id):
        recipients = sum(batch.size for batch in journal.batches(job_id, [state]))
        journal.recover(job_id, retry_failed=not verified_not_sent, resend_verified=verified_not_sent)
    return recipients


def template_name(state: ComposeState | None, code: str, language: str) -> str:
    """The template's name when the account's templates have been listed in ``state``, else
    its code (the journal keeps the code, which is what CAMS needs)."""
    return state.template_name(code, language) if state is not None else code


def reconcile_job(target: SendTarget, job_id: str, settings: ReconcileSettings) -> ReconcileReport:
    """Look a job's unknown batches up with ListChatappMessage and record what is found.
    Blocking (an event loop of its own, and it may wait for the grace period): use a thread."""

    async def look_up() -> ReconcileReport:
        # The account's lookup budget, shared with every other sender's lookups.
        limiter = target.limiter_factory("ListChatappMessage")(settings.lookup_rate)
        try:
            with Journal(target.data_dir) as journal:
                async with CamsClient(target.credentials, target.endpoint, placement=target.placement) as client:
                    return await Reconciler(client, journal, job_id, settings, limiter=limiter).run()
        finally:
            await limiter.aclose()

    return asyncio.run(look_up())


def resolution_text(data_dir: Path, job_id: str) -> str:
    """How the job's unknown batches were resolved by lookup, in a line (empty: none were).
    Blocking: use a thread."""

    with Journal(data_dir) as journal:
        resolved = [b for b in journal.batches(job_id) if b.reconciled_by]
    if not resolved:
        return ""
    accepted = [b for b in resolved if b.state == "ok"]
    verified = [b for b in resolved if b.state == "not_sent_verified"]
    resent = len(resolved) - len(accepted) - len(verified)
    text = (
        f"Unknowns resolved by ListChatappMessage lookup: {len(accepted):,} batches "
        f"({sum(b.size for b in accepted):,} recipients) found accepted, {len(verified):,} "
        f"({sum(b.size for b in verified):,}) verified not sent"
    )
    return text + (f", {resent:,} since resent" if resent else "")


def export_job(
    data_dir: Path, job_id: str, fmt: str, path: Path, progress: Callable[[int, int], None] | None = None
) -> int:
    """Write a job's per-recipient results (CSV or JSON Lines) to ``path``, whole or not at
    all, mode 0600; returns the number of rows. Blocking: use a thread."""

    return export_to_file(data_dir, job_id, fmt, path, progress)
