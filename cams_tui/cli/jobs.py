"""``cams-tui jobs``: the journal's jobs, in the TUI's words (a job is "sending" only while a
process holds it; counts are recipients), as a table or as JSON."""

from __future__ import annotations

import argparse
import json
import sys
import time

from cams_tui.account_sharing import senders_of_jobs_being_sent
from cams_tui.cli.context import command_context
from cams_tui.config import RunContext
from cams_tui.demo import demo_dir
from cams_tui.engine.journal import JobRecord, Journal
from cams_tui.exit_codes import EXIT_OK
from cams_tui.job_status import read_statuses


def run_jobs(args: argparse.Namespace) -> int:
    """Run ``jobs``: the journal's jobs as a table (or JSON) and each one's next step."""
    context = command_context(args, reaches_cams=False)
    with Journal(context.data_dir) as journal:
        jobs = read_statuses(journal)
    senders = _senders_of_jobs_being_sent(context, [job for job, _status in jobs])
    # The TUI's words: a job is "sending" only while a process holds it; counts are recipients.
    rows = [
        {
            "job_id": job.id,
            "created": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(job.created_at)),
            "state": status.state,
            "template": job.options.template_code,
            "recipients": job.recipients,
            "ok": status.ok,
            "failed": status.failed,
            "in_flight": status.in_flight,
            "unknown": status.unknown,
            "not_sent": status.not_sent_verified,
            "pending": status.pending,
            # Senders sharing the account now, for a job being sent ("" / null otherwise).
            "senders": senders.get(job.id) if args.json else _count_cell(senders.get(job.id)),
            "campaign": job.campaign or "",
            "next": status.next_step(tui=False),
        }
        for job, status in jobs
    ]
    if args.json:
        json.dump(rows, sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
        return EXIT_OK
    if not rows:
        demo_journal = demo_dir(context.data_dir) / "journal.sqlite3"
        hint = " (the demo's jobs: cams-tui --demo jobs)" if not context.demo and demo_journal.exists() else ""
        print(f"no jobs yet{hint}")
        return EXIT_OK
    columns = [key for key in rows[0] if key not in ("campaign", "next")]
    widths = {
        key: max(len(key), *(len(f"{r[key]:,}" if isinstance(r[key], int) else str(r[key])) for r in rows))
        for key in columns
    }
    print("  ".join(key.upper().ljust(widths[key]) for key in columns))
    for row in rows:
        cells = [
            (f"{row[k]:,}".rjust(widths[k]) if isinstance(row[k], int) else str(row[k]).ljust(widths[k]))
            for k in columns
        ]
        print("  ".join(cells))
    for row in rows:
        if row["next"]:
            print(f"{row['job_id']}: {row['next']}")
    return EXIT_OK


def _senders_of_jobs_being_sent(context: RunContext, jobs: list[JobRecord]) -> dict[str, int | None]:
    """How many senders share the account of each job being sent now (see
    :mod:`cams_tui.account_sharing`); nothing when the account cannot be named."""

    access_key_id = context.credentials.access_key_id if context.credentials is not None else None
    if not (context.profile.account or access_key_id):
        return {}
    return senders_of_jobs_being_sent(
        context.data_dir,
        jobs,
        limiter=context.profile.limiter,
        account=context.profile.account,
        access_key_id=access_key_id,
    )


def _count_cell(count: int | None) -> str:
    return "" if count is None else str(count)
