"""The command line's parser: the top-level flags, then one builder per subcommand.

Every word of a command line is read once, by this one parser (a file named ``simulator``, a
profile named ``send`` mean what they say wherever they stand); the ``simulator``
subcommand's own words pass through to the simulator's parser.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence

from cams_tui.cli.argument_types import local_senders, lookup_rate, positive_rate, region_code, seconds, share

_EPILOG = """\
environment: ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET,
ALIBABA_CLOUD_SECURITY_TOKEN, CAMS_TUI_ENDPOINT, CAMS_TUI_DATA_DIR, CAMS_TUI_CONFIG.
exit codes: 0 all ok, 1 some failed, 2 bad input, 3 some unknown, 4 cannot proceed (fatal error,
journal, disk, permission), 70 internal error, 130 stopped by a signal (INT, TERM, HUP).
"""


def _lookup_options(parser: argparse.ArgumentParser) -> None:
    """How unknown batches are looked up: the grace period and the lookup rate."""
    parser.add_argument(
        "--grace", type=seconds, metavar="S",
        help="seconds after a send before an unlisted batch counts as not sent (default: profile, 120)",
    )
    parser.add_argument("--lookup-rate", type=lookup_rate, metavar="N", help="ListChatappMessage calls per second")


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
    """What to do when the shared limiter cannot be reached."""
    parser.add_argument(
        "--local-limiter", type=local_senders, metavar="N",
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
    builders: list[Callable[[argparse._SubParsersAction[argparse.ArgumentParser]], argparse.ArgumentParser]] = [
        _send_parser, _resume_parser, _reconcile_parser, _jobs_parser, _export_parser, _report_parser,
        _templates_parser, _doctor_parser,
    ]
    for build in builders:
        _common(build(commands))
    _simulator_parser(commands)
    return parser


def _send_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    send = commands.add_parser("send", help="send a campaign without the TUI")
    send.add_argument("campaign", metavar="CAMPAIGN.toml")
    send.add_argument("--recipients", metavar="FILE", help="numbers file (overrides the campaign's)")
    send.add_argument("--default-region", type=region_code, metavar="CC", help="region of national numbers, e.g. PH")
    send.add_argument("--suppress", metavar="FILE", action="append", default=[], help="opt-out list")
    send.add_argument("--dry-run", action="store_true", help="plan and validate, send nothing")
    send.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    send.add_argument(
        "--allow-repeat", action="store_true",
        help="send even to numbers that got this template within the profile's repeat_window_h (24 h)",
    )
    send.add_argument("--json", action="store_true", help="print JSON Lines events on stdout")
    send.add_argument("--rate", type=positive_rate, metavar="N", help="calls per second")
    send.add_argument(
        "--at", metavar="TIME",
        help="start at this time, with its zone: 2026-12-24T09:00+08:00 (the job is journaled now and waits)",
    )
    # Smaller batches than the API's 1,000: for tests and trials, hence not in --help.
    send.add_argument("--batch-size", type=int, choices=range(1, 1001), metavar="N", help=argparse.SUPPRESS)
    send.add_argument(
        "--canary", metavar="N|P%", help="send the first N recipients (or P%%) first and judge their delivery"
    )
    send.add_argument("--canary-threshold", type=share, metavar="SHARE", help="failure share that stops (0.2)")
    send.add_argument("--canary-timeout", type=seconds, metavar="S", help="wait this long for the canary (120)")
    # How often the canary's statuses are read: for tests, hence not in --help.
    send.add_argument("--canary-poll", type=seconds, metavar="S", help=argparse.SUPPRESS)
    _settle_options(send)
    _lookup_options(send)
    return send


def _resume_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    resume = commands.add_parser("resume", help="resume an unfinished job")
    resume.add_argument("job_id", metavar="JOB_ID")
    resume.add_argument("--retry-unknown", action="store_true", help="also resend batches whose outcome is unknown")
    _settle_options(resume)
    _lookup_options(resume)
    resume.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    resume.add_argument("--json", action="store_true", help="print JSON Lines events on stdout")
    resume.add_argument("--rate", type=positive_rate, metavar="N", help="calls per second")
    return resume


def _reconcile_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    reconcile = commands.add_parser("reconcile", help="look a job's unknown batches up with ListChatappMessage")
    reconcile.add_argument("job_id", metavar="JOB_ID")
    reconcile.add_argument("--no-wait", action="store_true", help="do not wait for the grace period to run out")
    reconcile.add_argument("--json", action="store_true", help="print the resolutions as JSON Lines")
    _lookup_options(reconcile)
    _local_limiter_option(reconcile)
    return reconcile


def _jobs_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    jobs = commands.add_parser("jobs", help="list the journal's jobs")
    jobs.add_argument("--json", action="store_true")
    return jobs


def _export_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    export = commands.add_parser("export", help="one row per recipient of a job")
    export.add_argument("job_id", metavar="JOB_ID")
    export.add_argument("--format", choices=["csv", "jsonl"], default="csv")
    export.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")
    return export


def _report_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
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
    report.add_argument("--lookup-rate", type=lookup_rate, metavar="N", help="ListChatappMessage calls per second")
    return report


def _templates_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    templates = commands.add_parser("templates", help="list approved Viber templates")
    templates.add_argument("--json", action="store_true")
    return templates


def _doctor_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    return commands.add_parser("doctor", help="check a profile without sending anything")


def _simulator_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    # argparse has no public way to give one subcommand its own parser class.
    default_class = commands._parser_class
    commands._parser_class = _PassThroughParser
    commands.add_parser("simulator", help="run a local CAMS simulator (see: cams-tui simulator --help)", add_help=False)
    commands._parser_class = default_class


def parse_command_line(argv: Sequence[str]) -> argparse.Namespace:
    """The command line as :func:`build_parser` reads it (argparse exits on a usage error);
    the simulator's own words are in ``simulator_args``."""
    return build_parser().parse_args(list(argv))
