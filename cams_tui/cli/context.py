"""What every command that reads a profile starts from: its run context, the endpoint of a
job, the credentials it needs, and the command lines it suggests."""

from __future__ import annotations

import argparse
import dataclasses
import os
from typing import TYPE_CHECKING

from cams_tui.api.credentials import ENV_ACCESS_KEY_ID, ENV_ACCESS_KEY_SECRET, Credentials
from cams_tui.api.endpoints import normalize_endpoint
from cams_tui.config import ENV_ENDPOINT, RunContext, resolve_context
from cams_tui.demo import command, demo_dir, headless_demo_context
from cams_tui.engine.journal import JobRecord
from cams_tui.errors import UserError

if TYPE_CHECKING:
    from cams_tui.api.client import CamsClient


def cams_client_class() -> type[CamsClient]:
    """The CAMS client, imported where a command first reaches CAMS."""
    # For start-up time: the HTTP stack (httpx) loads only when CAMS is reached, never in a dry run.
    from cams_tui.api.client import CamsClient

    return CamsClient


def command_context(args: argparse.Namespace, *, reaches_cams: bool = True) -> RunContext:
    """The run's context; with ``--demo``, the demo journal and (when the command reaches
    CAMS) the built-in simulator, started for this process."""
    context = resolve_context(profile_name=args.profile, endpoint=args.endpoint, data_dir=args.data_dir)
    if not getattr(args, "demo", False):
        return context

    if reaches_cams:
        return headless_demo_context(context)
    return dataclasses.replace(context, data_dir=demo_dir(context.data_dir), demo=True)


def job_endpoint(args: argparse.Namespace, context: RunContext, job: JobRecord) -> str:
    """Where a job is resumed or looked up: ``--endpoint`` or ``CAMS_TUI_ENDPOINT``, else the
    job's own (it belongs to that account); a demo job goes to this run's simulator."""
    if context.demo:
        return context.endpoint
    explicit = args.endpoint or os.environ.get(ENV_ENDPOINT, "").strip()
    return normalize_endpoint(explicit) if explicit else job.endpoint


def suggested_command(text: str, context: RunContext) -> str:
    """A command line to suggest (``cams-tui --demo …`` for a demo job)."""

    return command(text, demo=context.demo)


def require_credentials(context: RunContext) -> Credentials:
    """The context's AccessKey, or a :class:`UserError` saying how to give one."""
    if context.credentials is None:
        raise UserError(
            f"no AccessKey: set {ENV_ACCESS_KEY_ID} and {ENV_ACCESS_KEY_SECRET} "
            "(or give a profile with credentials: --profile NAME), then try again"
        )
    return context.credentials
