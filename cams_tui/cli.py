"""The ``cams-tui`` command: the TUI by default, headless subcommands for scripts.

Exit codes: 0 all ok, 1 some failed, 2 bad input or usage, 3 some unknown,
4 cannot proceed (a fatal answer stopped the job, or the journal, the data folder, the disk,
a permission or a port keeps us from going on), 70 an internal error (a bug), 130 stopped by
a signal (Ctrl-C, SIGTERM, SIGHUP) or by the output going away.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sqlite3
import sys
import threading
from collections.abc import Callable, Iterator, Sequence

from cams_tui.api.endpoints import EndpointError
from cams_tui.engine.limiters.factory import check_local_senders
from cams_tui.errors import UserError, os_error_reason, sqlite_error_reason
from cams_tui.exit_codes import (
    EXIT_CANNOT_PROCEED,
    EXIT_FAILED,
    EXIT_FATAL,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_UNKNOWN,
    EXIT_USAGE,
)
from cams_tui.untrusted import EscapingStream, escape_controls

__all__ = [
    "EXIT_CANNOT_PROCEED",
    "EXIT_FAILED",
    "EXIT_FATAL",
    "EXIT_INTERNAL",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_UNKNOWN",
    "EXIT_USAGE",
    "main",
]

ENV_DEBUG = "CAMS_TUI_DEBUG"
# Commands that may stop part-way through a job when their output goes away.
_SENDING_COMMANDS = frozenset({"send", "resume", "reconcile"})

_EPILOG = """\
environment: ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET,
ALIBABA_CLOUD_SECURITY_TOKEN, CAMS_TUI_ENDPOINT, CAMS_TUI_DATA_DIR, CAMS_TUI_CONFIG.
exit codes: 0 all ok, 1 some failed, 2 bad input, 3 some unknown, 4 cannot proceed (fatal error,
journal, disk, permission), 70 internal error, 130 stopped by a signal (INT, TERM, HUP).
"""


def _number(what: str, unit: str, low: float, high: float, *, above_low: bool = False) -> Callable[[str], float]:
    """An argparse type for a number from ``low`` (or above it) to ``high``, with messages
    that name the flag's meaning and the range."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{what} takes a number of {unit}, not {text!r}") from None
        if not (low < value if above_low else low <= value) or value > high:
            lower = f"above {low:g}" if above_low else f"from {low:g}"
            raise argparse.ArgumentTypeError(f"{what} must be {lower} and at most {high:,g} {unit}")
        return value

    return parse


def _region(text: str) -> str:
    """An argparse type for ``--default-region``: a region code libphonenumber knows (PH, any
    case), so that a typo is a usage error rather than a failure deep in the number reader."""
    # For start-up time: phonenumbers' metadata loads when a number is first read.
    from cams_tui.recipients.numbers import UnknownRegion, known_region

    try:
        return known_region(text)
    except UnknownRegion:
        raise argparse.ArgumentTypeError(f"give a two-letter region code such as PH, SG or MY, not {text!r}") from None


_positive_rate = _number("--rate", "calls per second", 0, 1000, above_low=True)
_lookup_rate = _number("--lookup-rate", "calls per second", 0, 100, above_low=True)
_seconds = _number("a duration", "seconds", 0, 86_400)


def _senders(text: str) -> int:
    try:
        return check_local_senders(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _share(text: str) -> float:
    try:
        value = float(text.strip().rstrip("%")) / (100 if text.strip().endswith("%") else 1)
    except ValueError:
        raise argparse.ArgumentTypeError(f"give a share such as 0.2 or 20%, not {text!r}") from None
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError("a share must be from 0 to below 1 (0 % to below 100 %)")
    return value


def _lookup_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--grace", type=_seconds, metavar="S",
        help="seconds after a send before an unlisted batch counts as not sent (default: profile, 120)",
    )
    parser.add_argument("--lookup-rate", type=_lookup_rate, metavar="N", help="ListChatappMessage calls per second")


def _settle_options(parser: argparse.ArgumentParser) -> None:
    """How a send or a resume settles its unknown batches: both look them up, before
    (resume) and once every batch has an answer (both)."""
    parser.add_argument(
        "--resend-verified", action="store_true", help="resend batches a lookup verified as not sent, without asking"
    )
    parser.add_argument("--no-reconcile", action="store_true", help="do not look unknown batches up")
    parser.add_argument(
        "--wait", action="store_true", help="wait for the grace period when an unknown batch is not listed yet"
    )
    _local_limiter_option(parser)


def _local_limiter_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--local-limiter", type=_senders, metavar="N",
        help="if the shared limiter (host, Redis) cannot be reached, go on alone at rate/N instead of waiting",
    )


def _common(parser: argparse.ArgumentParser, *, subcommand: bool = True) -> None:
    """The flags every subcommand takes, also before it (``cams-tui --profile p jobs``).

    A subcommand's copy has no default of its own: argparse would write it over the value
    given before the subcommand, silently dropping ``--profile p`` there."""
    default = argparse.SUPPRESS if subcommand else None
    parser.add_argument("--profile", metavar="NAME", default=default, help="the config profile to use")
    parser.add_argument(
        "--endpoint", metavar="URL", default=default, help="CAMS endpoint (https, or http on loopback)"
    )
    parser.add_argument("--data-dir", metavar="DIR", default=default, help="where the journal lives")
    if subcommand:
        # Also after the subcommand (`cams-tui send --demo ...`), as the other common flags.
        parser.add_argument(
            "--demo", action="store_true", default=argparse.SUPPRESS,
            help="on the built-in CAMS simulator and the demo journal (no AccessKey needed)",
        )


class _PassThroughParser(argparse.ArgumentParser):
    """The ``simulator`` subcommand's stand-in: it takes every word after the subcommand as
    is (the simulator parses them with its own parser), so that each word of a command line is
    read once, by one parser, whatever it spells (``--recipients simulator`` is a file name)."""

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        namespace = argparse.Namespace() if namespace is None else namespace
        namespace.simulator_args = list(args or [])
        return namespace, []


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(
        prog="cams-tui",
        description="Send Viber template messages in bulk through Alibaba Cloud CAMS.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--demo", action="store_true",
        help="the built-in CAMS simulator and the demo journal (the TUI, or any subcommand)",
    )
    parser.add_argument("--theme", metavar="NAME", help="the TUI theme")
    _common(parser, subcommand=False)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    send = commands.add_parser("send", help="send a campaign without the TUI")
    send.add_argument("campaign", metavar="CAMPAIGN.toml")
    send.add_argument("--recipients", metavar="FILE", help="numbers file (overrides the campaign's)")
    send.add_argument("--default-region", type=_region, metavar="CC", help="region of national numbers, e.g. PH")
    send.add_argument("--suppress", metavar="FILE", action="append", default=[], help="opt-out list")
    send.add_argument("--dry-run", action="store_true", help="plan and validate, send nothing")
    send.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    send.add_argument(
        "--allow-repeat", action="store_true",
        help="send even to numbers that got this template within the profile's repeat_window_h (24 h)",
    )
    send.add_argument("--json", action="store_true", help="print JSON Lines events on stdout")
    send.add_argument("--rate", type=_positive_rate, metavar="N", help="calls per second")
    send.add_argument(
        "--at", metavar="TIME",
        help="start at this time, with its zone: 2026-12-24T09:00+08:00 (the job is journaled now and waits)",
    )
    # Smaller batches than the API's 1,000: for tests and trials, hence not in --help.
    send.add_argument("--batch-size", type=int, choices=range(1, 1001), metavar="N", help=argparse.SUPPRESS)
    send.add_argument(
        "--canary", metavar="N|P%", help="send the first N recipients (or P%%) first and judge their delivery"
    )
    send.add_argument("--canary-threshold", type=_share, metavar="SHARE", help="failure share that stops (0.2)")
    send.add_argument("--canary-timeout", type=_seconds, metavar="S", help="wait this long for the canary (120)")
    # How often the canary's statuses are read: for tests, hence not in --help.
    send.add_argument("--canary-poll", type=_seconds, metavar="S", help=argparse.SUPPRESS)
    _settle_options(send)
    _lookup_options(send)
    _common(send)

    resume = commands.add_parser("resume", help="resume an unfinished job")
    resume.add_argument("job_id", metavar="JOB_ID")
    resume.add_argument("--retry-unknown", action="store_true", help="also resend batches whose outcome is unknown")
    _settle_options(resume)
    _lookup_options(resume)
    resume.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    resume.add_argument("--json", action="store_true", help="print JSON Lines events on stdout")
    resume.add_argument("--rate", type=_positive_rate, metavar="N", help="calls per second")
    _common(resume)

    reconcile = commands.add_parser("reconcile", help="look a job's unknown batches up with ListChatappMessage")
    reconcile.add_argument("job_id", metavar="JOB_ID")
    reconcile.add_argument("--no-wait", action="store_true", help="do not wait for the grace period to run out")
    reconcile.add_argument("--json", action="store_true", help="print the resolutions as JSON Lines")
    _lookup_options(reconcile)
    _local_limiter_option(reconcile)
    _common(reconcile)

    jobs = commands.add_parser("jobs", help="list the journal's jobs")
    jobs.add_argument("--json", action="store_true")
    _common(jobs)

    export = commands.add_parser("export", help="one row per recipient of a job")
    export.add_argument("job_id", metavar="JOB_ID")
    export.add_argument("--format", choices=["csv", "jsonl"], default="csv")
    export.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")
    _common(export)

    report = commands.add_parser(
        "report", help="each recipient's latest delivery status, totals per status and country; retarget lists"
    )
    report.add_argument("job_id", metavar="JOB_ID")
    report.add_argument("--format", choices=["csv", "jsonl"], default="csv")
    report.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")
    report.add_argument(
        "--retarget", metavar="STATUS[:DETAIL]", action="append", default=[],
        help="write the numbers with this status as a recipients file instead: failed, "
        "failed:SRVC_NOT_VIBER_USER, not_listed, fallback, unread:HOURS (repeat for several)",
    )
    report.add_argument("--no-fetch", action="store_true", help="report what the journal holds; ask CAMS nothing")
    report.add_argument("--lookup-rate", type=_lookup_rate, metavar="N", help="ListChatappMessage calls per second")
    _common(report)

    templates = commands.add_parser("templates", help="list approved Viber templates")
    templates.add_argument("--json", action="store_true")
    _common(templates)

    doctor = commands.add_parser("doctor", help="check a profile without sending anything")
    _common(doctor)

    # argparse has no public way to give one subcommand its own parser class.
    default_class = commands._parser_class
    commands._parser_class = _PassThroughParser
    commands.add_parser("simulator", help="run a local CAMS simulator (see: cams-tui simulator --help)", add_help=False)
    commands._parser_class = default_class
    return parser


def parse_command_line(argv: Sequence[str]) -> argparse.Namespace:
    """The command line as :func:`build_parser` reads it (argparse exits on a usage error);
    the simulator's own words are in ``simulator_args``."""
    return build_parser().parse_args(list(argv))


def _dispatch(args: argparse.Namespace) -> int:
    command = args.command
    if command is None:
        from cams_tui.ui.launch import run_tui  # for start-up time: a headless command never loads the TUI

        return run_tui(args)
    if command == "simulator":
        # For start-up time: the simulator loads only for the demo.
        from cams_tui.simulator.cli import run_simulator_cli

        return run_simulator_cli(args.simulator_args)
    with _escaped_output(args), _stop_signals_interrupt():
        if command == "report":
            # For start-up time: the client and its models (httpx, pydantic) load on first use.
            from cams_tui.report_command import run_report

            return run_report(args)
        if command in {"templates", "doctor"}:
            from cams_tui import account_commands  # for start-up time: the client and its models

            return account_commands.run(command, args)
        from cams_tui import headless  # for start-up time: the engine, the client and its models

        return headless.run(command, args)


@contextlib.contextmanager
def _escaped_output(args: argparse.Namespace) -> Iterator[None]:
    """While a headless command runs, what it prints has its control characters escaped: a
    template name, an input line, an error message from CAMS may hold ``ESC ] 0 ; … BEL`` or
    ``ESC [ 2 J``, which a terminal would obey. JSON output gets ``\u001b``-style escapes,
    so it stays JSON that reads back the same."""

    json_out = bool(getattr(args, "json", False)) or getattr(args, "format", None) == "jsonl"
    saved = sys.stdout, sys.stderr
    sys.stdout = EscapingStream(saved[0], json_style=json_out)
    sys.stderr = EscapingStream(saved[1])
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved


@contextlib.contextmanager
def _stop_signals_interrupt() -> Iterator[None]:
    """While a headless command runs, SIGTERM and SIGHUP stop it as Ctrl-C does (exit 130,
    "interrupted") instead of killing it mid-write: a send installs its own graceful
    handlers on top (requests in flight answered or unknown)."""

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    stops = (signal.SIGTERM, signal.SIGHUP)
    saved = {signum: signal.getsignal(signum) for signum in stops}
    for signum in stops:
        signal.signal(signum, _interrupt)
    try:
        yield
    finally:
        for signum, handler in saved.items():
            if handler is not None:
                signal.signal(signum, handler)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _shown(text: str) -> str:
    return escape_controls(text)


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
