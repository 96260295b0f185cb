"""How many senders share the account of the jobs being sent now, for `cams-tui jobs` and
the TUI's jobs screen.

A job is being sent when a process holds its lock. Its senders are those the account's
limiter store counts as active now (the mass send's budget: :func:`account_usage`), under the
account key of the profile in use (its ``account``, or the AccessKey ID). A process limiter
shares nothing, so it counts no one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from pathlib import Path

from cams_tui.engine.journal import JobRecord, JobState, Journal
from cams_tui.engine.limiters.factory import account_usage


def senders_of_jobs_being_sent(
    data_dir: Path, jobs: Iterable[JobRecord], *, limiter: str, account: str | None, access_key_id: str | None
) -> dict[str, int | None]:
    """For each job being sent now, how many senders share its account (``None``: not
    known: the limiter cannot be reached). Nothing with the process limiter, which shares
    nothing. Blocking: use a thread."""
    if limiter.strip() == "process":
        return {}
    with Journal(data_dir) as journal:
        sending = [job.id for job in jobs if job.state == JobState.RUNNING.value and journal.job_is_live(job.id)]
    if not sending:
        return {}
    usage = asyncio.run(account_usage(limiter, account=account, access_key_id=access_key_id, data_dir=data_dir))
    return dict.fromkeys(sending, usage.senders)


def sharing_line(senders: dict[str, int | None]) -> str:
    """``job X is sending: 3 senders share the account``, one clause per job; empty if none."""
    parts = []
    for job_id, count in senders.items():
        share = f"{count} sender(s) share the account" if count else "senders on the account not known"
        parts.append(f"job {job_id} is sending: {share}")
    return "; ".join(parts)
