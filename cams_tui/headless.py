"""The headless commands: ``send``, ``resume``, ``reconcile``, ``jobs`` and ``export``.

They drive the same engine as the TUI. ``--json`` prints JSON Lines on stdout (a ``plan``
event, one ``batch`` event per request outcome, a ``done`` event); without it a progress
line goes to stderr. Exit codes are those of :mod:`cams_tui.cli`.

Choices made here:

- Confirmation is typing the number of recipients (``1234`` or ``1,234``); a mismatch sends
  nothing (exit 2). Without ``--yes`` and with no terminal on stdin, nothing is sent (exit 2).
- ``--dry-run`` without credentials still plans and validates the file and the campaign,
  and says that the template's variables could not be checked.
- ``resume`` sends to the job's own endpoint unless ``--endpoint`` or ``CAMS_TUI_ENDPOINT``
  says otherwise: a job belongs to the account it was started on.
- When a job ends with both failed and unknown batches, the exit code is 3 (unknown): those
  need a decision before anything else.
- ``export`` lists a batch still marked ``sending`` as ``unknown`` (it may have been accepted),
  rejected input lines with their reason, and writes ``-o`` files with mode 0600.
- ``resume`` first looks the unknown batches up (``reconcile``, :mod:`cams_tui.engine.reconcile`):
  found ones become ``ok``; a batch not listed yet whose grace period has not run out stays
  ``unknown`` (``resume --wait`` waits for it; ``reconcile`` waits by default: a resume right
  after a crash is not held up for minutes). Batches verified not sent are resent only after
  the operator confirms them (typing their count) or with ``--resend-verified``; ``--yes``
  alone never resends them. Left unsent, they count as unknown for the exit code.
- ``send --canary N`` (or ``[canary]`` in the campaign) sends the first N recipients alone,
  judges their delivery (:mod:`cams_tui.engine.canary`), prints a ``canary`` event, and goes
  on when healthy (by itself when ``auto_continue``, the default, or with ``--yes``;
  otherwise it asks). An unhealthy canary stops the job: state ``stopped``, code
  ``CanaryFailed``, exit 4 (fatal: nothing more is sent until someone looks), and the job
  stays resumable (``resume`` overrides the verdict). A failure spike while the rest sends
  stops it the same way with code ``FailureSpike``.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cams_tui.account_sharing import senders_of_jobs_being_sent
from cams_tui.api.credentials import ENV_ACCESS_KEY_ID, ENV_ACCESS_KEY_SECRET, Credentials
from cams_tui.api.endpoints import max_query_length, normalize_endpoint
from cams_tui.api.errors import CamsError, Outcome
from cams_tui.api.models import MAX_RECIPIENTS_PER_REQUEST
from cams_tui.campaign import Campaign, load_campaign
from cams_tui.compose import counted
from cams_tui.config import ENV_ENDPOINT, RunContext, resolve_context
from cams_tui.demo import command, demo_dir, headless_demo_context
from cams_tui.engine.canary import (
    FAILURE_SPIKE,
    CanaryError,
    CanarySettings,
    CanaryVerdict,
    canary_size,
)
from cams_tui.engine.events import (
    BatchEvent,
    CanaryEvent,
    DoneEvent,
    Event,
    LimiterEvent,
    LookupEvent,
    PlanEvent,
    ProgressEvent,
    RateEvent,
    ScheduleEvent,
    event_to_json,
)
from cams_tui.engine.grouping import (
    LANGUAGE_COLUMN,
    describe_group,
    schedule_json,
    targeting_for,
    template_languages,
    window_summary,
)
from cams_tui.engine.journal import BatchState, JobRecord, JobState, Journal
from cams_tui.engine.limiters.base import Limiter, LimiterNotice
from cams_tui.engine.limiters.factory import LIST_MESSAGES, MASS_SEND, account_key, limiter_factory
from cams_tui.engine.new_job import JobPlan, plan_job, write_job
from cams_tui.engine.reconcile import Reconciler, ReconcileReport, ReconcileSettings
from cams_tui.engine.repeats import RepeatReport, find_repeats
from cams_tui.errors import CannotProceed, UserError
from cams_tui.exit_codes import EXIT_FAILED, EXIT_FATAL, EXIT_INTERRUPTED, EXIT_OK, EXIT_UNKNOWN
from cams_tui.export import EXPORT_FIELDS, export_rows, write_export  # noqa: F401 - names kept for importers
from cams_tui.job_status import read_statuses
from cams_tui.output_files import atomic_text_file
from cams_tui.recipients import IntakeOptions, IntakeReport, check_params, load_suppression, read_recipients
from cams_tui.schedule import DeliveryWindow, JobSchedule, check_send_time, countdown, parse_send_time
from cams_tui.templates import template_variables

if TYPE_CHECKING:
    # The send's machinery is imported where a send starts: a dry run, ``jobs`` and
    # ``export`` never load it.
    from cams_tui.api.client import CamsClient
    from cams_tui.engine.canary import CanarySettings, CanaryVerdict
    from cams_tui.engine.limiters.base import Limiter, LimiterNotice
    from cams_tui.engine.reconcile import ReconcileReport, ReconcileSettings
    from cams_tui.engine.run import JobRunner, RunResult

_PROGRESS_EVERY_S = 0.25
_PROGRESS_EVERY_S_NO_TTY = 5.0


def run(command: str, args: argparse.Namespace) -> int:
    """Run ``send``, ``resume``, ``jobs`` or ``export``; returns the exit code."""
    handlers: dict[str, Callable[[argparse.Namespace], int]] = {
        "send": _send,
        "resume": _resume,
        "reconcile": _reconcile,
        "jobs": _jobs,
        "export": _export,
    }
    try:
        return handlers[command](args)
    except _Fatal as exc:
        print(f"cams-tui: {exc}", file=sys.stderr)
        if exc.advice:
            print(exc.advice, file=sys.stderr)
        return EXIT_FATAL


def _context(args: argparse.Namespace, *, reaches_cams: bool = True) -> RunContext:
    """The run's context; with ``--demo``, the demo journal and (when the command reaches
    CAMS) the built-in simulator, started for this process."""
    context = resolve_context(profile_name=args.profile, endpoint=args.endpoint, data_dir=args.data_dir)
    if not getattr(args, "demo", False):
        return context

    if reaches_cams:
        return headless_demo_context(context)
    return dataclasses.replace(context, data_dir=demo_dir(context.data_dir), demo=True)


def _job_endpoint(args: argparse.Namespace, context: RunContext, job: JobRecord) -> str:
    """Where a job is resumed or looked up: ``--endpoint`` or ``CAMS_TUI_ENDPOINT``, else the
    job's own (it belongs to that account); a demo job goes to this run's simulator."""
    if context.demo:
        return context.endpoint
    explicit = args.endpoint or os.environ.get(ENV_ENDPOINT, "").strip()
    return normalize_endpoint(explicit) if explicit else job.endpoint


def _cli(text: str, context: RunContext) -> str:
    """A command line to suggest (``cams-tui --demo …`` for a demo job)."""

    return command(text, demo=context.demo)


def _require_credentials(context: RunContext) -> Credentials:
    if context.credentials is None:
        raise UserError(
            f"no AccessKey: set {ENV_ACCESS_KEY_ID} and {ENV_ACCESS_KEY_SECRET} "
            "(or give a profile with credentials: --profile NAME), then try again"
        )
    return context.credentials


def _client_class() -> type[CamsClient]:
    """The CAMS client, imported where a command first reaches CAMS."""
    # For start-up time: the HTTP stack (httpx) loads only when CAMS is reached, never in a dry run.
    from cams_tui.api.client import CamsClient

    return CamsClient


# ----------------------------------------------------------------------- intake


def _read_intake(path: Path, default_region: str | None, suppress: list[str]) -> IntakeReport:
    """Read, normalize and deduplicate the numbers file (and the opt-out lists)."""
    try:
        suppressed = load_suppression([Path(f).expanduser() for f in suppress], default_region)
        return read_recipients(path, IntakeOptions(default_region=default_region, suppressed=suppressed))
    except OSError as exc:
        raise UserError(str(exc)) from None


def _recipients_file(args: argparse.Namespace, campaign: Campaign, campaign_path: Path) -> Path:
    if args.recipients:
        path = Path(args.recipients).expanduser()
    else:
        found = campaign.recipients_path(campaign_path)
        if found is None:
            raise UserError(
                f"{campaign_path}: no recipients: give --recipients FILE or set [recipients] file in the campaign"
            )
        path = found
    if not path.exists():  # a folder, FIFO or device is refused by kind when it is read
        raise UserError(f"the recipients file {path} does not exist")
    return path


# ------------------------------------------------------------------------- send


def _send(args: argparse.Namespace) -> int:
    context = _context(args)
    campaign_path = Path(args.campaign).expanduser()
    campaign = load_campaign(campaign_path)
    if not args.dry_run:
        _require_credentials(context)
    options = campaign.message_options()
    if context.profile.cust_space_id and options.cust_space_id is None:
        options = options.model_copy(update={"cust_space_id": context.profile.cust_space_id})
    rate = args.rate or context.rate
    out = _Output(as_json=args.json, demo=context.demo)
    schedule = _send_schedule(args, campaign)

    variables: list[str] | None = None
    if context.credentials is not None:
        variables = asyncio.run(_fetch_variables(context, campaign))
    else:
        out.note("no credentials: the template's variables were not checked")

    path = _recipients_file(args, campaign, campaign_path)
    default_region = args.default_region or campaign.recipients.default_region or context.profile.default_region
    report = _read_intake(path, default_region, args.suppress)
    counts = report.summary()
    if not len(report.recipients):
        raise UserError(
            f"{path}: no number to send to ({counts['rejected']:,} rejected, {counts['duplicates']:,} duplicates, "
            f"{counts['suppressed']:,} suppressed)"
        )
    if variables is not None:
        params_report = check_params(report, variables, campaign.params)
        if not params_report.ok:
            raise UserError("\n".join(params_report.problems()))
    checked = variables
    targeting = targeting_for(
        language=campaign.language,
        languages=campaign.languages,
        language_fallback=campaign.language_fallback,
        has_language_column=LANGUAGE_COLUMN in report.recipients.columns,
        available=None,
        schedule=campaign.schedule,
        now=schedule.at if schedule is not None else time.time(),
    )
    if targeting.languages is not None and context.credentials is not None:
        available = asyncio.run(_fetch_languages(context, campaign))
        targeting = dataclasses.replace(
            targeting, languages=dataclasses.replace(targeting.languages, available=available)
        )
    elif targeting.languages is not None:
        out.note("no credentials: the template's languages were not checked")
    # Unchecked: send every column and every global value under its own name (but the
    # column that picks the language).
    names = variables if variables is not None else list(dict.fromkeys([*report.param_columns, *campaign.params]))
    if targeting.languages is not None and variables is None:
        names = [name for name in names if name != LANGUAGE_COLUMN]
    canary = _canary_settings(args, campaign, context, len(report.recipients))
    # The canary slice is planned as batches of its own, sent and judged first.
    job_plan = plan_job(
        report,
        names=names,
        global_params=campaign.params,
        options=options,
        placement=context.profile.placement,
        max_query_length=max_query_length(context.endpoint),
        max_size=args.batch_size or MAX_RECIPIENTS_PER_REQUEST,
        canary=canary,
        targeting=targeting,
    )
    total = job_plan.recipients
    if not total:
        raise UserError(
            f"{path}: no number left to send to: the plan rejected {len(job_plan.rejects):,} "
            f"({job_plan.rejects[0].reason if job_plan.rejects else 'no reason'})"
        )
    # Numbers as stored (digits, no "+"): the journal's numbers are the same digits.
    repeats = find_repeats(
        context.data_dir, campaign.template_code, campaign.language, (str(n) for n in report.recipients.numbers),
        window_h=context.profile.repeat_window_h,
    )
    plan = PlanEvent(
        job_id=None,
        recipients=total,
        rejected=counts["rejected"] + len(job_plan.rejects),
        duplicates=counts["duplicates"],
        suppressed=counts["suppressed"],
        batches=len(job_plan.batches),
        pending_recipients=total,
        pending_batches=len(job_plan.batches),
        rate=rate,
    )
    if repeats.repeats:
        out.repeats(repeats)
    out.groups(job_plan, targeting.now, targeting.window)
    if args.dry_run:
        out.plan(plan, dry_run=True, schedule=schedule)
        return EXIT_OK
    if repeats.repeats and not args.allow_repeat:
        raise UserError(f"{repeats.describe()}. Nothing was sent; to send anyway, add --allow-repeat")
    if not args.yes:
        when = f" at {schedule.describe()}" if schedule is not None else ""
        _confirm(plan, f"send template {campaign.template_code} ({campaign.language}){when} to", out)
        if schedule is not None:
            # The confirmation may have taken a while: the time must still be ahead.
            check_send_time(schedule.local())
    journal = Journal(context.data_dir)
    with journal:
        job_id = write_job(
            journal,
            report,
            job_plan,
            options=options,
            params=campaign.params,
            endpoint=context.endpoint,
            placement=context.profile.placement,
            schedule=schedule_json(schedule, targeting.window),
            variables=checked,
            campaign=str(campaign_path.resolve()),
            profile=context.profile_name,
            canary=canary,
        )
        del job_plan, report
        out.note(f"job {job_id} written to the journal (resume with: {_cli(f'resume {job_id}', context)})")
        lookup = None if args.no_reconcile else _reconcile_settings(args, context, wait=args.wait)
        return asyncio.run(
            _run_job(
                context,
                journal,
                job_id,
                endpoint=context.endpoint,
                rate=rate,
                out=out,
                lookup=lookup,
                resend_new_verified=args.resend_verified,
                local_when_unavailable=args.local_limiter,
            )
        )


def _send_schedule(args: argparse.Namespace, campaign: Campaign) -> JobSchedule | None:
    """When the send starts: ``--at``, else the campaign's ``[schedule] at``; ``None``: now.
    A time without a zone or already past is refused (:mod:`cams_tui.schedule`)."""
    if args.at:
        return JobSchedule.of(parse_send_time(args.at))
    if campaign.schedule is not None and campaign.schedule.at is not None:
        return JobSchedule.of(check_send_time(campaign.schedule.at, what="schedule.at"))
    return None


def _canary_settings(
    args: argparse.Namespace, campaign: Campaign, context: RunContext, recipients: int
) -> CanarySettings | None:
    """The canary asked for by ``--canary`` or the campaign's ``[canary]``, or ``None``."""
    spec = args.canary or (campaign.canary.size if campaign.canary is not None else None)
    if spec is None:
        return None
    # For start-up time: a dry run, jobs and export never load the send path.
    from cams_tui.engine.canary import CanarySettings

    threshold = args.canary_threshold
    if threshold is None:
        threshold = campaign.canary.threshold if campaign.canary is not None else None
    if threshold is None:
        threshold = context.profile.canary_threshold
    try:
        return CanarySettings(
            size=canary_size(spec, recipients),
            threshold=threshold,
            settle_timeout_s=args.canary_timeout or CanarySettings.settle_timeout_s,
            poll_s=args.canary_poll or CanarySettings.poll_s,
            auto_continue=campaign.canary.auto_continue if campaign.canary is not None else True,
        )
    except CanaryError as exc:
        raise UserError(str(exc)) from None


async def _fetch_languages(context: RunContext, campaign: Campaign) -> frozenset[str]:
    """The languages the campaign's template has (ListChatappTemplate: a row per language)."""
    credentials = _require_credentials(context)
    async with _client_class()(credentials, context.endpoint, placement=context.profile.placement) as client:
        try:
            templates = await client.list_all_templates(
                cust_space_id=campaign.cust_space_id or context.profile.cust_space_id
            )
        except CamsError as exc:
            raise CannotProceed(
                f"cannot list the languages of template {campaign.template_code}: {exc}. Check the endpoint "
                "and the network, then run again; nothing was sent"
            ) from None
    return template_languages(templates, campaign.template_code)


async def _fetch_variables(context: RunContext, campaign: Campaign) -> list[str]:
    credentials = _require_credentials(context)
    async with _client_class()(credentials, context.endpoint, placement=context.profile.placement) as client:
        try:
            detail = await client.template_detail(
                campaign.template_code,
                campaign.language,
                cust_space_id=campaign.cust_space_id or context.profile.cust_space_id,
            )
        except CamsError as exc:
            advice = exc.advice
            if exc.outcome is Outcome.FATAL:
                raise _Fatal(f"cannot read template {campaign.template_code}: {exc}", advice) from None
            if exc.outcome in (Outcome.NOT_SENT, Outcome.UNKNOWN, Outcome.THROTTLED):
                # The endpoint did not answer (or not usefully): not the campaign's fault.
                raise CannotProceed(
                    f"cannot read template {campaign.template_code} ({campaign.language}): {exc}. Check the "
                    "endpoint, the network and any proxy, then run again; nothing was sent"
                ) from None
            raise UserError(
                f"cannot read template {campaign.template_code} ({campaign.language}): {exc}"
                + (f"\n{advice}" if advice else "")
            ) from None
    return template_variables(detail)


class _Fatal(Exception):
    """A fatal CAMS error before the job started (exit 4)."""

    def __init__(self, message: str, advice: str | None) -> None:
        super().__init__(message)
        self.advice = advice


def _confirm(plan: PlanEvent, what: str, out: _Output | None = None) -> None:
    if not sys.stdin.isatty():
        raise UserError("no terminal to confirm on: pass --yes to send without asking")

    print(
        f"{what} {counted(plan.pending_recipients, 'recipient')} in {counted(plan.pending_batches, 'request')} "
        f"at {plan.rate:g} calls/s ({_about(plan.pending_batches / plan.rate)})",
        file=sys.stderr,
    )
    if plan.rejected or plan.duplicates or plan.suppressed:
        print(
            f"left out: {plan.rejected:,} rejected, {counted(plan.duplicates, 'duplicate')}, "
            f"{plan.suppressed:,} suppressed",
            file=sys.stderr,
        )
    if out is not None:
        out.plan_shown = True
    try:
        typed = input(f"type the number of recipients ({plan.pending_recipients}) to go ahead: ")
    except EOFError:
        typed = ""
    if typed.strip().replace(",", "").replace("_", "") != str(plan.pending_recipients):
        raise UserError("not confirmed: nothing was sent")


# ------------------------------------------------------------------------ running


async def _run_job(
    context: RunContext,
    journal: Journal,
    job_id: str,
    *,
    endpoint: str,
    rate: float,
    out: _Output,
    lookup: ReconcileSettings | None,
    retry_unknown: bool = False,
    resend_verified: bool = False,
    resend_new_verified: bool = False,
    auto_continue: bool = False,
    local_when_unavailable: int | None = None,
) -> int:
    credentials = _require_credentials(context)
    # For start-up time: a dry run, jobs and export never load the send path.
    from cams_tui.engine.limiters.factory import LIST_MESSAGES
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
            _confirm_continue(verdict)

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
    async with _client_class()(credentials, endpoint, placement=placement, max_connections=in_flight) as client:
        runner = JobRunner(
            client, journal, job_id, options, hooks,
            limiter_factory=_limiter_factory(context),
            lookup_limiter_factory=_limiter_factory(context, LIST_MESSAGES),
        )
        result = await _run_with_signals(runner, out)
    done = result.done
    if result.verdict is not None and not result.verdict.healthy:
        out.note(f"{done.message}; nothing more was sent. To send the rest anyway: {_cli(f'resume {job_id}', context)}")
        return EXIT_FATAL
    if result.spike is not None:
        resume = _cli(f"resume {job_id}", context)
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


def _limiter_factory(context: RunContext, operation: str | None = None) -> Callable[[float], Limiter]:
    """The profile's account limiter (``limiter``: process, host or Redis) for
    ``operation``, for each stage of a run."""

    account = account_key(context.profile.account, _require_credentials(context).access_key_id).key
    return limiter_factory(
        context.profile.limiter, account=account, data_dir=context.data_dir, operation=operation or MASS_SEND
    )


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
"""Signals that stop a send gracefully: Ctrl-C, ``kill``, and a terminal (or tmux session)
that goes away."""


async def _run_with_signals(runner: JobRunner, out: _Output) -> RunResult:
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


def _confirm_continue(verdict: CanaryVerdict) -> None:
    if not sys.stdin.isatty():
        raise UserError("the canary is healthy but there is no terminal to confirm on: resume the job to go on")
    try:
        typed = input(f"canary healthy ({verdict.reason}): send the rest? [y/N] ")
    except EOFError:
        typed = ""
    if typed.strip().lower() not in {"y", "yes"}:
        raise UserError("not confirmed: the rest was not sent (the job stays resumable)")


def _confirm_resend(journal: Journal, job_id: str, *, auto: bool, out: _Output) -> bool:
    """Show the batches verified not sent, with their evidence; ask whether to resend them."""
    verified = journal.batches(job_id, [BatchState.NOT_SENT_VERIFIED])
    if not verified:
        return False
    total = sum(b.size for b in verified)
    for batch in verified[:10]:
        evidence = batch.evidence or {}
        out.note(
            f"batch {batch.index} ({batch.size:,} recipients) verified not sent: looked up "
            f"{', '.join(evidence.get('checked', []))}; {evidence.get('control', '')}"
        )
    if auto or not sys.stdin.isatty():
        out.note(f"{total:,} recipients verified not sent are left out: resend them with --resend-verified")
        return False
    try:
        typed = input(f"resend these {total} recipients? type {total} to include them: ")
    except EOFError:
        typed = ""
    return typed.strip().replace(",", "") == str(total)


def _on_signal(runner: JobRunner, out: _Output) -> None:
    if runner.cancelled:
        out.note("stopping now: requests still in flight are marked unknown")
    else:
        out.note("stopping: waiting for the requests in flight (press Ctrl-C again to stop at once)")
    runner.cancel()


# ------------------------------------------------------------------------- resume


def _resume(args: argparse.Namespace) -> int:
    context = _context(args)
    journal = Journal(context.data_dir)
    with journal:
        job = journal.job(args.job_id)
        endpoint = _job_endpoint(args, context, job)
        counts = job.counts
        out = _Output(as_json=args.json, demo=context.demo)
        unresolved = counts.get(BatchState.UNKNOWN.value, 0) + counts.get(BatchState.SENDING.value, 0)
        if unresolved and not (args.no_reconcile or args.retry_unknown):
            # Look the unknown batches up first, then decide what is left to send.
            _require_credentials(context)
            settings = _reconcile_settings(args, context, wait=args.wait)
            report = asyncio.run(_lookup(context, journal, job.id, endpoint, settings, out, args.local_limiter))
            out.reconciled(report)
            job = journal.job(job.id)
            counts = job.counts
        verified = counts.get(BatchState.NOT_SENT_VERIFIED.value, 0)
        resend_verified = args.resend_verified
        if verified and not resend_verified:
            resend_verified = _confirm_resend(journal, job.id, auto=args.yes, out=out)
        to_send = (
            job.pending
            + (counts.get(BatchState.UNKNOWN.value, 0) if args.retry_unknown else 0)
            + (verified if resend_verified else 0)
        )
        if to_send == 0:
            out.note(f"job {job.id} has nothing left to send ({_counts_text(job)})")
            return _exit_for_counts(job)
        _require_credentials(context)
        rate = args.rate or context.rate
        unknown = counts.get(BatchState.UNKNOWN.value, 0)
        if args.retry_unknown and unknown:
            # Said even with --yes: this is the one way cams-tui may message people twice.
            out.note(
                f"--retry-unknown resends {unknown:,} recipients whose earlier request may already "
                "have been accepted: they may receive the message twice"
            )
        if not args.yes:
            states = [BatchState.PLANNED, BatchState.SENDING] + ([BatchState.UNKNOWN] if args.retry_unknown else [])
            states += [BatchState.NOT_SENT_VERIFIED] if resend_verified else []
            plan = PlanEvent(
                job_id=job.id,
                recipients=job.recipients,
                rejected=job.rejected,
                duplicates=job.duplicates,
                suppressed=job.suppressed,
                batches=job.batches,
                pending_recipients=to_send,
                pending_batches=len(journal.batches(job.id, states)),
                rate=rate,
            )
            if counts.get(BatchState.SENDING.value):
                out.note(
                    f"{counts[BatchState.SENDING.value]:,} recipients were being sent when the job stopped: "
                    "they become unknown and are not sent again (unless --retry-unknown)"
                )
            _confirm(plan, f"resume job {job.id}: send", out)
        return asyncio.run(
            _run_job(
                context,
                journal,
                job.id,
                endpoint=endpoint,
                rate=rate,
                out=out,
                lookup=None if args.no_reconcile else _reconcile_settings(args, context, wait=args.wait),
                retry_unknown=args.retry_unknown,
                resend_verified=resend_verified,
                resend_new_verified=args.resend_verified,
                auto_continue=args.yes,
                local_when_unavailable=args.local_limiter,
            )
        )


def _reconcile_settings(args: argparse.Namespace, context: RunContext, *, wait: bool) -> ReconcileSettings:
    # For start-up time: a dry run, jobs and export never load the send path.
    from cams_tui.engine.reconcile import ReconcileSettings

    grace = args.grace if args.grace is not None else context.profile.reconcile_grace_s
    return ReconcileSettings(
        grace_s=grace,
        lookup_rate=args.lookup_rate or context.profile.lookup_rate,
        max_wait_s=None if wait else 0.0,
    )


async def _lookup(
    context: RunContext,
    journal: Journal,
    job_id: str,
    endpoint: str,
    settings: ReconcileSettings,
    out: _Output,
    local_when_unavailable: int | None = None,
) -> ReconcileReport:

    credentials = _require_credentials(context)
    # The account's lookup budget, shared with every other sender's lookups.
    limiter = _limiter_factory(context, LIST_MESSAGES)(settings.lookup_rate)

    def notice(event: LimiterNotice) -> None:
        if event.state != "sharing":
            out.note(f"lookups' limiter ({event.sharing.limiter}): {event.reason}")
        if event.state == "unavailable" and local_when_unavailable is not None:
            limiter.use_local(local_when_unavailable)

    limiter.on_notice = notice
    try:
        async with _client_class()(credentials, endpoint, placement=context.profile.placement) as client:
            return await Reconciler(client, journal, job_id, settings, limiter=limiter, notify=out.note).run()
    finally:
        await limiter.aclose()


def _reconcile(args: argparse.Namespace) -> int:
    context = _context(args)
    with Journal(context.data_dir) as journal:
        job = journal.job(args.job_id)
        endpoint = _job_endpoint(args, context, job)
        _require_credentials(context)
        out = _Output(as_json=args.json, demo=context.demo)
        settings = _reconcile_settings(args, context, wait=not args.no_wait)
        report = asyncio.run(_lookup(context, journal, job.id, endpoint, settings, out, args.local_limiter))
        out.reconciled(report)
        job = journal.job(job.id)
        if job.counts.get(BatchState.NOT_SENT_VERIFIED.value):
            out.note(f"resend the batches verified not sent with: {_cli(f'resume {job.id}', context)}")
        return _exit_for_counts(job)


def _exit_for_counts(job: JobRecord) -> int:
    if job.state == "stopped":
        return EXIT_FATAL
    if job.counts.get(BatchState.UNKNOWN.value) or job.counts.get(BatchState.NOT_SENT_VERIFIED.value):
        return EXIT_UNKNOWN
    if job.counts.get(BatchState.FAILED.value):
        return EXIT_FAILED
    return EXIT_OK


def _counts_text(job: JobRecord) -> str:
    c = job.counts
    return (
        f"{c.get('ok', 0):,} ok, {c.get('failed', 0):,} failed, {c.get('unknown', 0):,} unknown, "
        f"{c.get(BatchState.NOT_SENT_VERIFIED.value, 0):,} verified not sent, {job.pending:,} pending"
    )


# --------------------------------------------------------------------------- jobs


def _jobs(args: argparse.Namespace) -> int:
    context = _context(args, reaches_cams=False)
    with Journal(context.data_dir) as journal:
        jobs = read_statuses(journal)
    senders = _senders_of_jobs_being_sent(context, [job for job, _status in jobs])
    # The TUI's words: a job is "sending" only while a process holds it; counts are recipients.
    rows = [
        {
            "job_id": job.id,
            "created": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(job.created_at)),
            "state": status.state,
            "template": job.options.template_code,
            "recipients": job.recipients,
            "ok": status.ok,
            "failed": status.failed,
            "in_flight": status.in_flight,
            "unknown": status.unknown,
            "not_sent": status.not_sent_verified,
            "pending": status.pending,
            # Senders sharing the account now, for a job being sent ("" / null otherwise).
            "senders": senders.get(job.id) if args.json else _count_cell(senders.get(job.id)),
            "campaign": job.campaign or "",
            "next": status.next_step(tui=False),
        }
        for job, status in jobs
    ]
    if args.json:
        json.dump(rows, sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
        return EXIT_OK
    if not rows:
        demo_journal = demo_dir(context.data_dir) / "journal.sqlite3"
        hint = " (the demo's jobs: cams-tui --demo jobs)" if not context.demo and demo_journal.exists() else ""
        print(f"no jobs yet{hint}")
        return EXIT_OK
    columns = [key for key in rows[0] if key not in ("campaign", "next")]
    widths = {
        key: max(len(key), *(len(f"{r[key]:,}" if isinstance(r[key], int) else str(r[key])) for r in rows))
        for key in columns
    }
    print("  ".join(key.upper().ljust(widths[key]) for key in columns))
    for row in rows:
        cells = [
            (f"{row[k]:,}".rjust(widths[k]) if isinstance(row[k], int) else str(row[k]).ljust(widths[k]))
            for k in columns
        ]
        print("  ".join(cells))
    for row in rows:
        if row["next"]:
            print(f"{row['job_id']}: {row['next']}")
    return EXIT_OK


def _senders_of_jobs_being_sent(context: RunContext, jobs: list[JobRecord]) -> dict[str, int | None]:
    """How many senders share the account of each job being sent now (see
    :mod:`cams_tui.account_sharing`); nothing when the account cannot be named."""

    access_key_id = context.credentials.access_key_id if context.credentials is not None else None
    if not (context.profile.account or access_key_id):
        return {}
    return senders_of_jobs_being_sent(
        context.data_dir,
        jobs,
        limiter=context.profile.limiter,
        account=context.profile.account,
        access_key_id=access_key_id,
    )


def _count_cell(count: int | None) -> str:
    return "" if count is None else str(count)


# ------------------------------------------------------------------------- export


def _export(args: argparse.Namespace) -> int:
    context = _context(args, reaches_cams=False)
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


# ------------------------------------------------------------------------- output


def _duration(seconds: float) -> str:
    if seconds < 1:
        return "under 1s"
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds}s"
    minutes, secs = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def _about(seconds: float) -> str:
    """``about 5m 00s``, or ``under 1s``."""
    return "under 1s" if seconds < 1 else f"about {_duration(seconds)}"


def _plan_text(plan: PlanEvent) -> str:
    """What a plan sends, and what it leaves out; a resumed job's plan speaks of what is left."""

    if plan.pending_recipients != plan.recipients:
        what = (
            f"{plan.pending_recipients:,} of {counted(plan.recipients, 'recipient')} left to send in "
            f"{counted(plan.pending_batches, 'request')}"
        )
    else:
        what = f"{counted(plan.recipients, 'recipient')} in {counted(plan.batches, 'request')}"
    return (
        f"{what}; left out: {plan.rejected:,} rejected, {counted(plan.duplicates, 'duplicate')}, "
        f"{plan.suppressed:,} suppressed; {_about(plan.pending_batches / plan.rate)} at {plan.rate:g} calls/s"
    )


def _shared_by(senders: int) -> str:
    """How the progress line says that other senders share the account's budget."""
    return f", shared by {senders} senders" if senders > 1 else ""


class _Output:
    """Where events go: JSON Lines on stdout, or a progress line and notes on stderr."""

    def __init__(self, *, as_json: bool, demo: bool = False) -> None:
        self.as_json = as_json
        self.demo = demo
        """Whether the job is the demo's: the commands suggested say ``--demo``."""
        self._tty = sys.stderr.isatty()
        self._last_progress = 0.0
        self._progress_shown = False
        self._schedule_shown = False
        self._window_at: float | None = None
        self.plan_shown = False
        """Whether the plan was printed (by the confirmation): the run's own is then not."""

    def _json(self, data: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")
        sys.stdout.flush()

    def note(self, text: str) -> None:
        """A message for the operator, on stderr."""
        self._clear_progress()
        print(f"cams-tui: {text}", file=sys.stderr)

    def plan(self, plan: PlanEvent, *, dry_run: bool = False, schedule: JobSchedule | None = None) -> None:
        """The plan, before anything is sent (once: a plan already confirmed is not repeated)."""
        if self.as_json:
            extra: dict[str, Any] = {"dry_run": True} if dry_run else {}
            if schedule is not None:
                extra["scheduled_at"] = schedule.local().isoformat(timespec="seconds")
            self._json({**event_to_json(plan), **extra})
            return
        if self.plan_shown:
            return
        self.plan_shown = True
        prefix = "dry run, nothing sent: " if dry_run else ""
        when = f"; scheduled for {schedule.describe()}" if schedule is not None else ""
        print(f"{prefix}{_plan_text(plan)}{when}", file=sys.stderr)

    def groups(self, plan: JobPlan, now: float, window: DeliveryWindow | None) -> None:
        """The plan's groups (per language, per delivery window), when it has several."""
        if not plan.groups:
            return
        if self.as_json:
            self._json({"event": "groups", "groups": [g.to_json() for g in plan.groups],
                        "sendable_now": plan.sendable_now(now), "plan_rejected": len(plan.rejects)})
            return
        lines = [describe_group(group, now) for group in plan.groups]
        summary = window_summary(plan.groups, now)
        if window is not None:
            lines.insert(0, f"delivery window {window.describe()} in each recipient's local time")
        if summary:
            lines.append(summary)
        if plan.rejects:
            first = plan.rejects[0]
            more = f" and {len(plan.rejects) - 1:,} more" if len(plan.rejects) > 1 else ""
            lines.append(f"{first.input}{more} rejected: {first.reason}")
        for line in lines:
            self.note(line)

    def scheduled(self, event: ScheduleEvent) -> None:
        """A scheduled job's wait: one line when it begins, then the time left on the
        progress line (a terminal) or about once a minute (a log)."""
        if event.waiting_for == "window" and not self.as_json:
            self._window_wait(event)
            return
        if self.as_json:
            now = time.monotonic()
            if event.stage == "waiting" and self._schedule_shown and now - self._last_progress < 60:
                return
            self._last_progress = now
            self._schedule_shown = True
            data = event_to_json(event)
            data.pop("job_id")
            self._json(data)
            return
        if event.stage == "starting":
            self.note(f"job {event.job_id}: its time has come ({event.at_text}): sending")
            return
        if event.stage == "cancelled":
            self.note(f"job {event.job_id} cancelled before its time ({event.at_text}): nothing was sent")
            return
        if not self._schedule_shown:
            self._schedule_shown = True
            resume = command(f"resume {event.job_id}", demo=self.demo)
            self.note(
                f"job {event.job_id} is scheduled for {event.at_text}: waiting {countdown(event.remaining_s)} "
                f"(Ctrl-C cancels it, nothing is sent; `{resume}` waits again)"
            )
            self._last_progress = time.monotonic()
            return
        self._waiting_line(f"scheduled for {event.at_text}: starts in {countdown(event.remaining_s)}")

    def _window_wait(self, event: ScheduleEvent) -> None:
        """A job waiting for its delivery window: a line when each wait begins, then the
        time left like a scheduled start's."""
        if event.stage == "starting":
            self.note(f"job {event.job_id}: a delivery window opened ({event.at_text}): sending")
            self._window_at = None
            return
        if event.stage == "cancelled":
            self.note(f"job {event.job_id} stopped while waiting for a delivery window: the rest stays planned")
            return
        if self._window_at != event.at:
            self._window_at = event.at
            self.note(
                f"job {event.job_id}: {event.recipients:,} recipients wait for their delivery window, the next "
                f"opening at {event.at_text} (in {countdown(event.remaining_s)}; Ctrl-C stops, "
                f"`{command(f'resume {event.job_id}', demo=self.demo)}` waits again)"
            )
            self._last_progress = time.monotonic()
            return
        self._waiting_line(f"next delivery window at {event.at_text}: in {countdown(event.remaining_s)}")

    def _waiting_line(self, line: str) -> None:
        """The time left of a wait: on a terminal's progress line, in a log about once a minute."""
        now = time.monotonic()
        if now - self._last_progress < (_PROGRESS_EVERY_S if self._tty else 60.0):
            return
        self._last_progress = now
        if self._tty:
            sys.stderr.write("\r\x1b[2K" + line)
            self._progress_shown = True
        else:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()

    def event(self, event: Event) -> None:
        """A subscriber to the sender's events."""
        if isinstance(event, PlanEvent):
            self.plan(event)
        elif isinstance(event, BatchEvent):
            if self.as_json:
                data = event_to_json(event)
                data.pop("job_id")
                self._json(data)
            elif event.outcome not in (Outcome.OK.value, Outcome.THROTTLED.value):
                self.note(
                    f"batch {event.index} ({event.size:,} recipients): {event.outcome}"
                    f" {event.code or ''} {event.message or ''}".rstrip()
                )
        elif isinstance(event, LimiterEvent):
            if self.as_json:
                data = event_to_json(event)
                data.pop("job_id")
                self._json(data)
            elif event.state != "sharing":
                self.note(f"limiter ({event.limiter}): {event.reason}")
        elif isinstance(event, RateEvent) and not self.as_json:
            self.note(f"rate {event.previous:g} → {event.rate:g} calls/s ({event.reason})")
        elif isinstance(event, ProgressEvent) and not self.as_json:
            self._progress(event)
        elif isinstance(event, ScheduleEvent):
            self.scheduled(event)
        elif isinstance(event, DoneEvent):
            self.finish(event)
        elif (
            isinstance(event, (CanaryEvent, LookupEvent))
            and not self.as_json
            # The verdict and the lookup's totals have their own lines (canary, reconciled).
            and event.stage not in ("healthy", "failed", "done")
        ):
            self.note(event.text)

    def _progress(self, event: ProgressEvent) -> None:
        now = time.monotonic()
        if now - self._last_progress < (_PROGRESS_EVERY_S if self._tty else _PROGRESS_EVERY_S_NO_TTY):
            return
        self._last_progress = now
        eta = _duration(event.eta_s) if event.eta_s is not None else "–"
        line = (
            f"{event.settled:,}/{event.total:,} recipients · {event.calls_per_s:.1f} calls/s "
            f"(limit {event.rate:g}{_shared_by(event.senders)}) · ok {event.ok:,} failed {event.failed:,} "
            f"unknown {event.unknown:,} · ETA {eta}"
        )
        if self._tty:
            sys.stderr.write("\r\x1b[2K" + line)
            self._progress_shown = True
        else:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()

    def _clear_progress(self) -> None:
        if self._progress_shown:
            sys.stderr.write("\r\x1b[2K")
            self._progress_shown = False

    def reconciled(self, report: ReconcileReport) -> None:
        """What the lookups of unknown batches concluded."""
        if self.as_json:
            for r in report.resolutions:
                self._json(
                    {
                        "event": "resolution",
                        "index": r.index,
                        "size": r.size,
                        "state": r.state,
                        "reason": r.reason,
                        "lookups": r.lookups,
                        "evidence": r.evidence,
                    }
                )
            self._json(
                {
                    "event": "reconciled",
                    "job_id": report.job_id,
                    "batches": len(report.resolutions),
                    "ok": report.count("ok"),
                    "not_sent_verified": report.count("not_sent_verified"),
                    "unknown": report.count("unknown"),
                    "lookups": report.lookups,
                    "elapsed_s": report.elapsed_s,
                }
            )
            return
        if report.resolutions:
            self.note(
                f"looked up {len(report.resolutions):,} unknown batches in {report.elapsed_s:.1f} s "
                f"({report.lookups:,} lookups): {report.count('ok'):,} accepted, "
                f"{report.count('not_sent_verified'):,} verified not sent, {report.count('unknown'):,} still unknown"
            )

    def repeats(self, report: RepeatReport) -> None:
        """Earlier jobs that sent this template to some of the same numbers recently."""
        if self.as_json:
            self._json(
                {
                    "event": "repeat",
                    "numbers": report.numbers,
                    "window_h": report.window_h,
                    "jobs": [
                        {"job_id": r.job_id, "created_at": r.created_at, "numbers": r.numbers} for r in report.repeats
                    ],
                }
            )
            return
        self.note(report.describe())

    def canary(self, verdict: CanaryVerdict) -> None:
        """The canary's funnel and verdict."""
        if self.as_json:
            self._json({"event": "canary", **verdict.to_json()})
            return
        f = verdict.funnel
        self.note(
            f"canary: {verdict.recipients:,} recipients, {verdict.refused:,} refused, {f.delivered:,} delivered, "
            f"{f.read:,} read, {f.failed:,} failed, {f.not_reported:,} not listed: "
            f"{'healthy' if verdict.healthy else 'NOT healthy'}: {verdict.reason}"
        )

    def finish(self, done: DoneEvent) -> None:
        """The final totals (and, after a fatal error, what to do about it)."""

        if self.as_json:
            data = event_to_json(done)
            self._json(data)
            return
        self._clear_progress()
        print(
            f"job {done.job_id} {done.state}: {done.ok:,} ok, {done.failed:,} failed, {done.unknown:,} unknown, "
            f"{done.pending:,} pending of {done.total:,} ({counted(done.calls, 'request')}, "
            f"{done.throttled:,} throttled, "
            f"{_duration(done.elapsed_s)})",
            file=sys.stderr,
        )
        if done.state == "stopped":
            print(f"stopped by {done.code}: {done.message}", file=sys.stderr)
            if done.advice:
                print(done.advice, file=sys.stderr)
        if done.pending or done.unknown:
            # Plain resume first looks unknown batches up; --retry-unknown would skip that.
            print(f"resume with: {command(f'resume {done.job_id}', demo=self.demo)}", file=sys.stderr)
        if done.unknown:
            print(
                f"{done.unknown:,} recipients are unknown (the request may have been accepted): "
                f"see `{command(f'export {done.job_id}', demo=self.demo)}`",
                file=sys.stderr,
            )
