"""``cams-tui templates`` and ``cams-tui doctor``: read-only commands against a profile."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from cams_tui.api.client import CamsClient
from cams_tui.api.errors import CamsError
from cams_tui.cli.context import command_context
from cams_tui.config import RunContext
from cams_tui.doctor import run_checks
from cams_tui.errors import UserError
from cams_tui.exit_codes import EXIT_FAILED, EXIT_OK


def run_account_command(command: str, args: argparse.Namespace) -> int:
    """Run ``templates`` or ``doctor``; returns the exit code."""
    context = command_context(args)
    if command == "templates":
        return asyncio.run(_templates(context, as_json=args.json))
    return asyncio.run(_doctor(context))


async def _templates(context: RunContext, *, as_json: bool) -> int:
    if context.credentials is None:
        raise UserError(
            "no AccessKey: set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET "
            "(or configure a profile), then try again"
        )
    async with CamsClient(context.credentials, context.endpoint, placement=context.profile.placement) as client:
        try:
            templates = await client.list_all_templates(cust_space_id=context.profile.cust_space_id)
        except CamsError as exc:
            advice = exc.advice
            print(f"cams-tui: {exc}" + (f"\n{advice}" if advice else ""), file=sys.stderr)
            return EXIT_FAILED
    rows = [
        {
            "template_code": t.template_code,
            "name": t.template_name,
            "language": t.language,
            "audit_status": t.audit_status,
            "category": t.category,
        }
        for t in templates
    ]
    if as_json:
        json.dump(rows, sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
        return EXIT_OK
    if not rows:
        print("no approved Viber templates")
        return EXIT_OK
    widths = {key: max(len(key), *(len(str(r[key])) for r in rows)) for key in rows[0]}
    print("  ".join(key.upper().ljust(widths[key]) for key in widths))
    for row in rows:
        print("  ".join(str(row[key]).ljust(widths[key]) for key in widths))
    return EXIT_OK


async def _doctor(context: RunContext) -> int:
    failures = 0
    print(f"profile {context.profile_name} · endpoint {context.endpoint}")
    async for check in run_checks(context):
        mark = "ok  " if check.ok else "FAIL"
        failures += not check.ok
        print(f"  {mark} {check.name:<12} {check.detail}")
    return EXIT_OK if failures == 0 else EXIT_FAILED
