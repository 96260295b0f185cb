"""``main``: read the command line, run its command, and turn what went wrong into one line
on stderr and an exit code (:mod:`cams_tui.exit_codes`); no traceback reaches the user
unless ``CAMS_TUI_DEBUG`` asks for one."""

from __future__ import annotations

import argparse
import contextlib
import os
import sqlite3
import sys
from collections.abc import Callable, Sequence

from cams_tui.api.endpoints import EndpointError
from cams_tui.cli.guards import escaped_output, stop_signals_interrupt
from cams_tui.cli.parser import build_parser, parse_command_line
from cams_tui.errors import UserError, os_error_reason, sqlite_error_reason
from cams_tui.exit_codes import EXIT_CANNOT_PROCEED, EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE
from cams_tui.untrusted import escape_controls

__all__ = ["build_parser", "main", "parse_command_line"]

ENV_DEBUG = "CAMS_TUI_DEBUG"
# Commands that may stop part-way through a job when their output goes away.
_SENDING_COMMANDS = frozenset({"send", "resume", "reconcile"})


def _dispatch(args: argparse.Namespace) -> int:
    """Run the command the command line names: the TUI when it names none."""
    command = args.command
    if command is None:
        from cams_tui.ui.launch import run_tui  # for start-up time: a headless command never loads the TUI

        return run_tui(args)
    if command == "simulator":
        # For start-up time: the simulator loads only for the demo.
        from cams_tui.simulator.cli import run_simulator_cli

        return run_simulator_cli(args.simulator_args)
    with escaped_output(args), stop_signals_interrupt():
        return _command_runner(command)(args)


def _command_runner(command: str) -> Callable[[argparse.Namespace], int]:
    """The function that runs a headless command, its module imported now: each one loads
    only what its own command needs."""
    # For start-up time, each of these: the engine, the client and its models (httpx,
    # pydantic) load only for the command that uses them.
    if command == "send":
        from cams_tui.cli.send import run_send  # for start-up time

        return run_send
    if command == "resume":
        from cams_tui.cli.resume import run_resume  # for start-up time

        return run_resume
    if command == "reconcile":
        from cams_tui.cli.reconcile import run_reconcile  # for start-up time

        return run_reconcile
    if command == "jobs":
        from cams_tui.cli.jobs import run_jobs  # for start-up time

        return run_jobs
    if command == "export":
        from cams_tui.cli.export import run_export  # for start-up time

        return run_export
    if command == "report":
        from cams_tui.cli.report import run_report  # for start-up time

        return run_report
    from cams_tui.cli.account import run_account_command  # for start-up time: templates and doctor

    return lambda args: run_account_command(command, args)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``cams-tui`` and return its exit code."""
    args = parse_command_line(sys.argv[1:] if argv is None else argv)

    try:
        return _dispatch(args)
    except UserError as exc:
        print(f"cams-tui: {_shown(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except EndpointError as exc:
        print(f"cams-tui: {_shown(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("cams-tui: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader of our output stopped early (`| head`). Point stdout at /dev/null so
        # the interpreter's last flush stays quiet too.
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        if args.command in _SENDING_COMMANDS:
            print("cams-tui: the output was closed before the end; the job stays resumable", file=sys.stderr)
            return EXIT_INTERRUPTED
        return EXIT_OK  # a listing read as far as wanted: nothing went wrong
    except (OSError, MemoryError) as exc:
        # The machine, not the input: a file or device that cannot be written or read.
        if os.environ.get(ENV_DEBUG):
            raise
        print(f"cams-tui: {_shown(_machine_failure(exc))}", file=sys.stderr)
        return EXIT_CANNOT_PROCEED
    except Exception as exc:
        if os.environ.get(ENV_DEBUG):
            raise

        if isinstance(exc, sqlite3.Error):
            print(
                f"cams-tui: the journal cannot be used: {_shown(sqlite_error_reason(exc))}. Nothing is sent "
                "without being journaled; a job stays resumable once this is fixed",
                file=sys.stderr,
            )
            return EXIT_CANNOT_PROCEED
        print(
            f"cams-tui: internal error ({type(exc).__name__}: {_shown(str(exc))}): a bug in cams-tui. Any job "
            f"it was sending stays resumable (cams-tui jobs). Run again with {ENV_DEBUG}=1 for the details.",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


def _machine_failure(exc: OSError | MemoryError) -> str:
    """An error of the machine (disk, permission, device, memory) in plain words."""
    if isinstance(exc, MemoryError):
        return "out of memory: close other programs, or split the input into smaller files"

    where = f" ({exc.filename})" if exc.filename else ""
    return (
        f"cannot go on{where}: {os_error_reason(exc)}. A job it was sending stays resumable once "
        "this is fixed (cams-tui jobs)"
    )


def _shown(text: str) -> str:
    """An error's text as it may be printed: its control characters escaped."""
    return escape_controls(text)
