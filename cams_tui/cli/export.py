"""``cams-tui export JOB``: one row per recipient of a job (the rows and their writer are
:mod:`cams_tui.export`, shared with the jobs screen).

A batch still marked ``sending`` is listed as ``unknown`` (it may have been accepted),
rejected input lines with their reason; an ``-o`` file is written whole or not at all,
with mode 0600.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from cams_tui.cli.context import command_context
from cams_tui.engine.journal import Journal
from cams_tui.exit_codes import EXIT_OK
from cams_tui.export import write_export
from cams_tui.output_files import atomic_text_file

# As often as a send's progress line (cli.output), without loading what that module needs
# (the planner and the number reader) for a command that only reads the journal.
_PROGRESS_EVERY_S = 0.25


def run_export(args: argparse.Namespace) -> int:
    """Run ``export``: one row per recipient of a job, to ``-o FILE`` or stdout."""
    context = command_context(args, reaches_cams=False)
    progress = _export_progress()
    with Journal(context.data_dir) as journal:
        journal.job(args.job_id)
        if args.output:
            # Whole or not at all, 0600, never through a symbolic link.
            with atomic_text_file(Path(args.output).expanduser()) as handle:
                write_export(journal, args.job_id, args.format, handle, progress)
        else:
            try:
                write_export(journal, args.job_id, args.format, sys.stdout, progress)
                sys.stdout.flush()
            except BrokenPipeError:
                # The reader stopped early (e.g. `| head`): not an error. Point stdout at
                # /dev/null so that the interpreter's own final flush stays quiet.
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return EXIT_OK


def _export_progress() -> Callable[[int, int], None] | None:
    """Rows written so far on stderr when it is a terminal (at most four times a second),
    erased at the end; nothing otherwise."""
    if not sys.stderr.isatty():
        return None
    shown = [0.0]

    def progress(done: int, total: int) -> None:
        now = time.monotonic()
        if done >= total:
            sys.stderr.write("\r\x1b[2K")
        elif now - shown[0] >= _PROGRESS_EVERY_S:
            shown[0] = now
            sys.stderr.write(f"\r\x1b[2Kexporting: {done:,} of {total:,} rows")
        sys.stderr.flush()

    return progress
