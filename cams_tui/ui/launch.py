"""``cams-tui`` without a subcommand: resolve the account (or demo mode) and run the app."""

from __future__ import annotations

import argparse
import dataclasses
from typing import TYPE_CHECKING

from cams_tui.config import DEMO_PROFILE, resolve_context
from cams_tui.ui.app import CamsApp
from cams_tui.ui.connection import DEMO_CUST_SPACE_ID, Connection

if TYPE_CHECKING:
    from cams_tui.ui.app import CamsApp


def create_app(
    args: argparse.Namespace,
    *,
    show_clock: bool = False,
    blink: bool = False,
    simulator_seed: int | None = None,
    simulator_latency_ms: int = 40,
) -> CamsApp:
    """The app for these command-line arguments: demo mode (the built-in simulator) with
    ``--demo`` or when no credentials are configured, else the profile's account."""
    context = resolve_context(profile_name=args.profile, endpoint=args.endpoint, data_dir=args.data_dir)
    demo = bool(args.demo) or context.credentials is None

    if demo:
        context.demo = True
        context.profile_name = args.profile or DEMO_PROFILE
        # The simulator's account has its own space: listings and lookups require it.
        context.profile = dataclasses.replace(context.profile, cust_space_id=DEMO_CUST_SPACE_ID)

    connection = Connection(
        context, demo=demo, simulator_seed=simulator_seed, simulator_latency_ms=simulator_latency_ms
    )
    return CamsApp(connection, show_clock=show_clock, blink=blink, theme=args.theme)


def run_tui(args: argparse.Namespace) -> int:
    """Run the TUI and return its exit code."""
    app = create_app(args)
    # Demo mode that nobody asked for means no AccessKey was found: offer the way out.
    app.offer_first_run = app.connection.demo and not args.demo
    result = app.run()
    # A stop signal or an error sets the return code; a plain quit leaves it 0.
    return app.return_code or result or 0
