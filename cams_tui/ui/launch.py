"""``cams-tui`` without a subcommand: resolve the account (or demo mode) and run the app."""

from __future__ import annotations

import argparse

from cams_tui.config import DEMO_PROFILE, resolve_context


def run_tui(args: argparse.Namespace) -> int:
    """Run the TUI; demo mode (the built-in simulator) with ``--demo`` or without credentials."""
    context = resolve_context(profile_name=args.profile, endpoint=args.endpoint, data_dir=args.data_dir)
    demo = bool(args.demo) or context.credentials is None
    if demo:
        context.demo = True
        context.profile_name = args.profile or DEMO_PROFILE
    from cams_tui.ui.app import CamsApp
    from cams_tui.ui.connection import Connection

    app = CamsApp(Connection(context, demo=demo), theme=args.theme)
    # Demo mode that nobody asked for means no AccessKey was found: offer the way out.
    app.offer_first_run = demo and not args.demo
    result = app.run()
    return result or 0
