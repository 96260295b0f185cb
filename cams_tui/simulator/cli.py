"""``cams-tui simulator``: run the local CAMS in the foreground until Ctrl-C."""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import os
import socket
import sys
from pathlib import Path

from cams_tui.simulator.config import DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, SimulatorConfig
from cams_tui.simulator.core import Simulator
from cams_tui.simulator.faults import Faults


def _faults(text: str) -> Faults:
    try:
        return Faults.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} must be 0 or more")
    return value


def _positive_int(text: str) -> int:
    value = _non_negative_int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return value


def _port(text: str) -> int:
    value = _non_negative_int(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a TCP port: give one from 1 to 65535 (0 picks a free one)")
    return value


ENV_SECRET = "CAMS_TUI_SIMULATOR_SECRET"
"""The environment variable the simulator reads its AccessKey secret from (``ps`` shows a
command line to every local user, not an environment)."""


def _non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} must be 0 or more")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``cams-tui simulator``."""
    parser = argparse.ArgumentParser(
        prog="cams-tui simulator",
        description="Run a local CAMS (Chat App Message Service) for demos and tests.",
        epilog=(
            "Fault SPEC: comma-separated key=value, e.g. "
            "'throttle=0.1,5xx=0.05,drop=0.05,slow=0.02,slow_ms=40000,fail_delivery=0.03,seed=7'. "
            "Keys: throttle, 5xx, 5xx_after_accept, drop, slow, slow_ms, deny, unsubscribed, "
            "fail_delivery, inbound, ignore_body, burst, seed. "
            "The demo account's CustSpaceId is cams-demo-shop."
        ),
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=_port, default=8080, help="port (default 8080; 0 picks a free one)")
    parser.add_argument("--latency-ms", type=_non_negative_int, default=0, help="added to every answer")
    parser.add_argument("--rate", type=_positive_int, default=10, help="SendChatappMassMessage calls/s (default 10)")
    parser.add_argument("--faults", type=_faults, default=Faults(), metavar="SPEC", help="faults to inject")
    parser.add_argument("--access-key-id", help="the AccessKey ID to accept (default: the demo one)")
    parser.add_argument(
        "--access-key-secret-file", metavar="FILE", type=Path,
        help=f"read its secret from FILE (first line); or set {ENV_SECRET}",
    )
    parser.add_argument(
        "--access-key-secret", help=f"its secret (visible to local users in ps: prefer {ENV_SECRET} or the file)"
    )
    parser.add_argument(
        "--record-delay-s", type=_non_negative_float, default=0.0, help="delay before messages are listed"
    )
    parser.add_argument("--seed", type=int, default=None, help="seed for reproducible runs")
    return parser


def run_simulator_cli(argv: list[str] | None = None) -> int:
    """Parse ``argv``, serve until Ctrl-C; returns the exit code (0, or 2 for bad input)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse has printed the problem (or the help)
        return 0 if exc.code in (0, None) else 2
    try:
        secret = _secret(args)
    except ValueError as exc:
        parser.print_usage(sys.stderr)
        print(f"cams-tui simulator: error: {exc}", file=sys.stderr)
        return 2
    if (args.access_key_id is None) != (secret is None):
        parser.print_usage(sys.stderr)
        print(
            "cams-tui simulator: error: give --access-key-id and its secret together (the secret in "
            f"{ENV_SECRET}, --access-key-secret-file or --access-key-secret)",
            file=sys.stderr,
        )
        return 2
    if args.access_key_secret is not None:
        print(
            f"cams-tui simulator: warning: a secret on the command line is visible to every local user (ps); "
            f"prefer {ENV_SECRET} or --access-key-secret-file",
            file=sys.stderr,
        )
    if not _loopback(args.host):
        print(
            f"cams-tui simulator: warning: listening on {args.host} takes calls from other machines, not only "
            "this one (give --host 127.0.0.1 for this machine only)",
            file=sys.stderr,
        )
    config = SimulatorConfig(
        access_key_id=args.access_key_id or DEMO_ACCESS_KEY_ID,
        access_key_secret=secret or DEMO_ACCESS_KEY_SECRET,
        rate=args.rate,
        latency_ms=args.latency_ms,
        faults=args.faults,
        record_delay_s=args.record_delay_s,
        seed=args.seed,
    )
    simulator = Simulator(config)
    try:
        asyncio.run(_serve(simulator, args.host, args.port))
    except KeyboardInterrupt:
        pass
    except (OSError, OverflowError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        print(
            f"cams-tui simulator: cannot listen on {args.host}:{args.port}: {reason} (another program may hold "
            "the port: pick another with --port, or 0 for a free one)",
            file=sys.stderr,
        )
        return 4
    _print_stats(simulator)
    return 0


def _secret(args: argparse.Namespace) -> str | None:
    """The AccessKey secret to accept, from the flag, the file or the environment (one of
    them at most); ``None`` when none is given."""
    given: list[tuple[str, str]] = []
    if args.access_key_secret is not None:
        given.append(("--access-key-secret", args.access_key_secret))
    if args.access_key_secret_file is not None:
        path: Path = args.access_key_secret_file
        try:
            with open(path, encoding="utf-8") as handle:
                text = handle.read(4096)
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not UTF-8 text"
            raise ValueError(f"--access-key-secret-file {path}: cannot be read ({reason})") from None
        line = text.lstrip("\ufeff").splitlines()[0].strip() if text.strip() else ""
        if not line:
            raise ValueError(f"--access-key-secret-file {path}: its first line is empty")
        given.append(("--access-key-secret-file", line))
    env = os.environ.get(ENV_SECRET, "").strip()
    if env:
        given.append((ENV_SECRET, env))
    if len(given) > 1:
        raise ValueError(f"give the secret once, not in {' and '.join(name for name, _ in given)}")
    return given[0][1] if given else None


def _loopback(host: str) -> bool:
    """Whether ``host`` is reachable from this machine only."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        try:
            return all(ipaddress.ip_address(info[4][0]).is_loopback for info in socket.getaddrinfo(host, None))
        except (OSError, ValueError, UnicodeError):
            return False


async def _serve(simulator: Simulator, host: str, port: int) -> None:
    config = simulator.config
    async with simulator.serve(host, port) as url:
        print(f"CAMS simulator listening on {url}")
        print(f"  AccessKey ID:     {config.access_key_id}")
        print(f"  CustSpaceId:      {config.cust_space_id}")
        # Only the public demo secret is ever shown.
        if config.access_key_secret == DEMO_ACCESS_KEY_SECRET:
            print(f"  AccessKey secret: {config.access_key_secret}")
        else:
            print("  AccessKey secret: (the one given)")
        print(f"  rate: {config.rate}/s, latency: {config.latency_ms} ms, faults: {config.faults.to_spec() or 'none'}")
        print("Press Ctrl-C to stop.", flush=True)
        await asyncio.Event().wait()


def _print_stats(simulator: Simulator) -> None:
    total = sum(simulator.accepted.values())
    print(f"\nStopped. Accepted {total:,} recipients in {len(simulator.accepted_requests):,} mass sends.")
    for action, codes in sorted(simulator.stats.items()):
        summary = ", ".join(f"{code} {count}" for code, count in codes.most_common())
        print(f"  {action}: {summary}")
