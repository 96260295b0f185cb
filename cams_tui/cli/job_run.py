"""A journaled job run from the command line: the one :class:`~cams_tui.engine.run.JobRunner`,
with a stop on a failure spike, a question after a healthy canary (unless ``--yes``), stop
signals that end it gracefully, and the exit code of how it ended."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from typing import TYPE_CHECKING

from cams_tui.api.endpoints import max_query_length
from cams_tui.cli.context import cams_client_class, require_credentials, suggested_command
from cams_tui.cli.output import Output
from cams_tui.cli.prompts import confirm_continue
from cams_tui.config import RunContext
from cams_tui.engine.canary import FAILURE_SPIKE, CanaryVerdict
from cams_tui.engine.journal import JobState, Journal
from cams_tui.engine.limiters.base import Limiter
from cams_tui.engine.limiters.factory import LIST_MESSAGES, MASS_SEND, account_key, limiter_factory
from cams_tui.engine.reconcile import ReconcileSettings
from cams_tui.exit_codes import EXIT_FAILED, EXIT_FATAL, EXIT_INTERRUPTED, EXIT_OK, EXIT_UNKNOWN

if TYPE_CHECKING:
    # The send's machinery is imported where a send starts: a dry run never loads it.
    from cams_tui.engine.run import JobRunner, RunResult


async def run_job(
    context: RunContext,
    journal: Journal,
    job_id: str,
    *,
    endpoint: str,
    rate: float,
    out: Output,
    lookup: ReconcileSettings | None,
    retry_unknown: bool = False,
    resend_verified: bool = False,
    resend_new_verified: bool = False,
    auto_continue: bool = False,
    local_when_unavailable: int | None = None,
) -> int:
    """Run a journaled job to its end (canary, the rest, its unknowns looked up), its events
    on ``out``; returns the exit code."""
    credentials = require_credentials(context)
    # For start-up time: a dry run never loads the send path.
    from cams_tui.engine.run import JobRunner, RunHooks, RunOptions, placement_for_run
    from cams_tui.engine.sender import default_in_flight, freeze_startup_objects

    freeze_startup_objects()
    in_flight = default_in_flight(rate)
    placement = placement_for_run(journal, job_id, context.profile.placement, max_query_length(endpoint))
    if placement is not context.profile.placement:
        out.note(
            f"job {job_id} was planned for {placement.value} placement: sent that way "
            f"(the profile says {context.profile.placement.value})"
        )

    def canary_healthy(verdict: CanaryVerdict, _runner: JobRunner) -> None:
        if not auto_continue:
            confirm_continue(verdict)

    def spike(reason: str, runner: JobRunner) -> None:
        out.note(f"failure spike: {reason}: stopping the job")
        runner.stop(FAILURE_SPIKE, f"paused by a failure spike: {reason}")

    hooks = RunHooks(
        event=out.event,
        canary_judged=out.canary,
        canary_healthy=canary_healthy,
        spike=spike,
        lookup_done=out.reconciled,
    )
    options = RunOptions(
        rate=rate,
        retry_unknown=retry_unknown,
        resend_verified=resend_verified,
        resend_new_verified=resend_new_verified,
        lookup=lookup,
        in_flight=in_flight,
        local_when_unavailable=local_when_unavailable,
        lookup_rate=lookup.lookup_rate if lookup is not None else context.profile.lookup_rate,
    )
    async with cams_client_class()(credentials, endpoint, placement=placement, max_connections=in_flight) as client:
        runner = JobRunner(
            client, journal, job_id, options, hooks,
            limiter_factory=account_limiter_factory(context),
            lookup_limiter_factory=account_limiter_factory(context, LIST_MESSAGES),
        )
        result = await _run_with_signals(runner, out)
    return _exit_code(result, runner, context, job_id, out)


def _exit_code(result: RunResult, runner: JobRunner, context: RunContext, job_id: str, out: Output) -> int:
    """The exit code of a finished run, after the line saying why a stopped job stopped."""
    done = result.done
    if result.verdict is not None and not result.verdict.healthy:
        out.note(
            f"{done.message}; nothing more was sent. To send the rest anyway: "
            f"{suggested_command(f'resume {job_id}', context)}"
        )
        return EXIT_FATAL
    if result.spike is not None:
        resume = suggested_command(f"resume {job_id}", context)
        out.note(f"job {job_id} stopped by a failure spike ({result.spike}); resume with: {resume}")
        return EXIT_FATAL
    if done.state == JobState.STOPPED.value:
        return EXIT_FATAL
    if runner.cancelled and done.pending:
        return EXIT_INTERRUPTED
    if done.unknown or done.not_sent_verified:
        return EXIT_UNKNOWN
    if done.failed:
        return EXIT_FAILED
    return EXIT_OK


def account_limiter_factory(context: RunContext, operation: str | None = None) -> Callable[[float], Limiter]:
    """The profile's account limiter (``limiter``: process, host or Redis) for
    ``operation``, for each stage of a run."""

    account = account_key(context.profile.account, require_credentials(context).access_key_id).key
    return limiter_factory(
        context.profile.limiter, account=account, data_dir=context.data_dir, operation=operation or MASS_SEND
    )


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
"""Signals that stop a send gracefully: Ctrl-C, ``kill``, and a terminal (or tmux session)
that goes away."""


async def _run_with_signals(runner: JobRunner, out: Output) -> RunResult:
    """Run the job; SIGINT, SIGTERM and SIGHUP stop it gracefully (a second one at once):
    requests in flight are answered or become unknown, the job stays resumable."""
    loop = asyncio.get_running_loop()
    previous = {signum: signal.getsignal(signum) for signum in STOP_SIGNALS}
    for signum in STOP_SIGNALS:
        loop.add_signal_handler(signum, _on_signal, runner, out)
    try:
        return await runner.run()
    finally:
        for signum in STOP_SIGNALS:
            loop.remove_signal_handler(signum)
            # asyncio leaves the default action behind: put back what was there before
            # (the command line's "stop like Ctrl-C").
            if previous[signum] is not None:
                signal.signal(signum, previous[signum])


def _on_signal(runner: JobRunner, out: Output) -> None:
    """The first stop signal waits for the requests in flight; the next one stops at once."""
    if runner.cancelled:
        out.note("stopping now: requests still in flight are marked unknown")
    else:
        out.note("stopping: waiting for the requests in flight (press Ctrl-C again to stop at once)")
    runner.cancel()
