"""``cams-tui report JOB``: fetch the job's delivery statuses, write the report (or, with
``--retarget``, a recipients file of the chosen statuses) and print the totals.

The statuses are fetched from the job's own endpoint (``--endpoint`` or
``CAMS_TUI_ENDPOINT`` override it, as for ``resume``; a ``--demo`` job's from the
simulator) at the profile's lookup rate, and committed to the journal batch by batch: a
report interrupted by Ctrl-C goes on where it stopped when run again. ``--no-fetch``
writes what the journal already holds, offline.
The rows go to ``-o FILE`` (written whole or not at all, mode 0600) or stdout; progress
and totals go to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import TextIO

from cams_tui.api.client import CamsClient
from cams_tui.api.errors import CamsError
from cams_tui.cli.context import command_context, job_endpoint
from cams_tui.config import RunContext
from cams_tui.engine.journal import Journal
from cams_tui.errors import UserError
from cams_tui.exit_codes import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK
from cams_tui.output_files import atomic_text_file
from cams_tui.report import (
    FetchSummary,
    ReportProgress,
    RetargetRule,
    Totals,
    fetch_report,
    report_rows,
    retarget_numbers,
    write_report,
    write_retarget,
)


def run_report(args: argparse.Namespace) -> int:
    """Run ``report``; returns the exit code."""
    # With --demo, the demo journal (and, to fetch, the simulator), as for every other command.
    context = command_context(args, reaches_cams=not args.no_fetch)
    rules = [RetargetRule.parse(spec) for spec in args.retarget]
    if rules and args.format == "jsonl":
        raise UserError("--retarget writes a recipients file (one number a line): leave out --format jsonl")
    with Journal(context.data_dir) as journal:
        job = journal.job(args.job_id)
        if not args.no_fetch:
            endpoint = job_endpoint(args, context, job)
            rate = args.lookup_rate or context.profile.lookup_rate
            try:
                summary = asyncio.run(_fetch(context, journal, job.id, endpoint, rate))
            except KeyboardInterrupt:
                _note("interrupted: the statuses fetched so far are kept; run the report again to go on")
                return EXIT_INTERRUPTED
            except CamsError as exc:
                _note(f"fetching the statuses stopped: {exc}")
                if exc.advice:
                    _note(exc.advice)
                _note("what was fetched is kept: run the report again to go on, or --no-fetch to write it as is")
                return EXIT_FAILED
            _note(
                f"statuses of {summary.batches_fetched:,} batches fetched ({summary.records:,} records, "
                f"{summary.calls:,} calls, {summary.elapsed_s:.1f} s)"
                + (f"; {summary.batches_skipped:,} already fetched before the interruption" if summary.resumed else "")
            )
        totals = Totals()
        count = _write(journal, job.id, args, rules, totals)
    for line in totals.lines():
        print(line, file=sys.stderr)
    if rules:
        where = args.output or "stdout"
        _note(f"retarget list: {count:,} numbers ({', '.join(args.retarget)}) written to {where}")
    return EXIT_OK


async def _fetch(context: RunContext, journal: Journal, job_id: str, endpoint: str, rate: float) -> FetchSummary:
    if context.credentials is None:
        raise UserError(
            "no AccessKey to fetch the statuses with: set ALIBABA_CLOUD_ACCESS_KEY_ID and "
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET (or a profile), or pass --no-fetch to report what the journal holds"
        )
    progress = _Progress()
    async with CamsClient(context.credentials, endpoint, placement=context.profile.placement) as client:
        try:
            return await fetch_report(client, journal, job_id, lookup_rate=rate, on_progress=progress.show)
        finally:
            progress.clear()


def _write(journal: Journal, job_id: str, args: argparse.Namespace, rules: list[RetargetRule], totals: Totals) -> int:
    def write(handle: TextIO) -> int:
        rows = report_rows(journal, job_id)
        if rules:
            return write_retarget(retarget_numbers(rows, rules, totals), handle)
        write_report(rows, handle, args.format, totals)
        return totals.recipients

    if args.output:
        with atomic_text_file(Path(args.output).expanduser()) as handle:
            return write(handle)
    count = write(sys.stdout)
    sys.stdout.flush()
    return count


def _note(text: str) -> None:
    print(f"cams-tui: {text}", file=sys.stderr)


class _Progress:
    """Batches fetched so far, on one line of a terminal (or a line every tenth of the job)."""

    def __init__(self) -> None:
        self._tty = sys.stderr.isatty()
        self._shown = False
        self._last_tenth = -1

    def show(self, progress: ReportProgress) -> None:
        line = (
            f"report: {progress.batches_done:,}/{progress.batches_total:,} batches · "
            f"{progress.records:,} records · {progress.calls:,} calls"
            + (" (continuing an interrupted fetch)" if progress.resumed else "")
        )
        if self._tty:
            sys.stderr.write("\r\x1b[2K" + line)
            self._shown = True
        else:
            tenth = progress.batches_done * 10 // max(progress.batches_total, 1)
            if tenth == self._last_tenth:
                return
            self._last_tenth = tenth
            sys.stderr.write(line + "\n")
        sys.stderr.flush()

    def clear(self) -> None:
        if self._shown:
            sys.stderr.write("\r\x1b[2K")
            self._shown = False


def totals_json(journal: Journal, job_id: str) -> str:
    """The totals of what the journal holds for a job, as JSON (for scripts and tests)."""
    totals = Totals()
    for row in report_rows(journal, job_id):
        totals.add(row)
    return json.dumps(totals.to_json(), ensure_ascii=False)
