"""``cams-tui send CAMPAIGN.toml``: plan a campaign, confirm it, journal the job and send it.

``--json`` prints JSON Lines on stdout (a ``plan`` event, one ``batch`` event per request
outcome, a ``done`` event); without it a progress line goes to stderr.

Choices made here:

- Confirmation is typing the number of recipients (``1234`` or ``1,234``); a mismatch sends
  nothing (exit 2). Without ``--yes`` and with no terminal on stdin, nothing is sent (exit 2).
- ``--dry-run`` without credentials still plans and validates the file and the campaign,
  and says that the template's variables could not be checked.
- When a job ends with both failed and unknown batches, the exit code is 3 (unknown): those
  need a decision before anything else.
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
import sys
import time
from pathlib import Path

from cams_tui.api.endpoints import max_query_length
from cams_tui.api.models import MAX_RECIPIENTS_PER_REQUEST, MassMessageOptions
from cams_tui.campaign import Campaign, load_campaign
from cams_tui.cli.context import command_context, require_credentials, suggested_command
from cams_tui.cli.job_run import run_job
from cams_tui.cli.output import Output
from cams_tui.cli.prompts import confirm_plan
from cams_tui.cli.reconcile import reconcile_settings
from cams_tui.cli.template_checks import FatalBeforeSend, fetch_languages, fetch_variables
from cams_tui.config import RunContext
from cams_tui.engine.canary import CanaryError, CanarySettings, canary_part
from cams_tui.engine.events import PlanEvent
from cams_tui.engine.grouping import LANGUAGE_COLUMN, Targeting, schedule_json, targeting_for
from cams_tui.engine.journal import Journal
from cams_tui.engine.new_job import JobPlan, plan_job, write_job
from cams_tui.engine.repeats import find_repeats
from cams_tui.errors import UserError
from cams_tui.exit_codes import EXIT_FATAL, EXIT_OK
from cams_tui.recipients import IntakeOptions, IntakeReport, check_params, load_suppression, read_recipients
from cams_tui.schedule import JobSchedule, check_send_time, parse_send_time


def run_send(args: argparse.Namespace) -> int:
    """Run ``send``; returns the exit code."""
    try:
        return _send(args)
    except FatalBeforeSend as exc:
        print(f"cams-tui: {exc}", file=sys.stderr)
        if exc.advice:
            print(exc.advice, file=sys.stderr)
        return EXIT_FATAL


def _send(args: argparse.Namespace) -> int:
    """Plan and check the campaign, confirm it, journal the job, then run it (a dry run stops
    after the plan)."""
    context = command_context(args)
    campaign_path = Path(args.campaign).expanduser()
    campaign = load_campaign(campaign_path)
    if not args.dry_run:
        require_credentials(context)
    options = _message_options(campaign, context)
    rate = args.rate or context.rate
    out = Output(as_json=args.json, demo=context.demo)
    schedule = _send_schedule(args, campaign)
    variables = _checked_variables(context, campaign, out)
    path, report = _checked_recipients(args, campaign, campaign_path, context, variables)
    targeting = _targeting(campaign, context, report, schedule, out)
    canary = _canary_settings(args, campaign, context, len(report.recipients))
    names = _param_names(variables, report, campaign, targeting)
    # The canary slice is planned as batches of its own, sent and judged first.
    job_plan = _job_plan(args, context, report, path, campaign, options, names, canary, targeting)
    # Numbers as stored (digits, no "+"): the journal's numbers are the same digits.
    repeats = find_repeats(
        context.data_dir, campaign.template_code, campaign.language, (str(n) for n in report.recipients.numbers),
        window_h=context.profile.repeat_window_h,
    )
    plan = _plan_event(report, job_plan, rate)
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
        confirm_plan(plan, f"send template {campaign.template_code} ({campaign.language}){when} to", out)
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
            variables=variables,
            campaign=str(campaign_path.resolve()),
            profile=context.profile_name,
            canary=canary,
        )
        # A million recipients' plan and intake are let go before the send starts.
        del job_plan, report
        out.note(f"job {job_id} written to the journal (resume with: {suggested_command(f'resume {job_id}', context)})")
        lookup = None if args.no_reconcile else reconcile_settings(args, context, wait=args.wait)
        return asyncio.run(
            run_job(
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


def _message_options(campaign: Campaign, context: RunContext) -> MassMessageOptions:
    """The campaign's request fields; without a space of its own, the profile's."""
    options = campaign.message_options()
    if context.profile.cust_space_id and options.cust_space_id is None:
        options = options.model_copy(update={"cust_space_id": context.profile.cust_space_id})
    return options


def _checked_variables(context: RunContext, campaign: Campaign, out: Output) -> list[str] | None:
    """The template's variables, or ``None`` (said on ``out``) without credentials to read them."""
    if context.credentials is not None:
        return asyncio.run(fetch_variables(context, campaign))
    out.note("no credentials: the template's variables were not checked")
    return None


def _checked_recipients(
    args: argparse.Namespace, campaign: Campaign, campaign_path: Path, context: RunContext, variables: list[str] | None
) -> tuple[Path, IntakeReport]:
    """The numbers file read, with at least one number to send to, and each recipient's
    parameters checked against the template's variables (when they are known)."""
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
    return path, report


def _targeting(
    campaign: Campaign, context: RunContext, report: IntakeReport, schedule: JobSchedule | None, out: Output
) -> Targeting:
    """How the job splits by language and delivery window, with the languages the template
    has (when there are credentials to list them)."""
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
        available = asyncio.run(fetch_languages(context, campaign))
        targeting = dataclasses.replace(
            targeting, languages=dataclasses.replace(targeting.languages, available=available)
        )
    elif targeting.languages is not None:
        out.note("no credentials: the template's languages were not checked")
    return targeting


def _param_names(
    variables: list[str] | None, report: IntakeReport, campaign: Campaign, targeting: Targeting
) -> list[str]:
    """The TemplateParams each recipient sends: the template's variables when checked."""
    # Unchecked: send every column and every global value under its own name (but the
    # column that picks the language).
    names = variables if variables is not None else list(dict.fromkeys([*report.param_columns, *campaign.params]))
    if targeting.languages is not None and variables is None:
        names = [name for name in names if name != LANGUAGE_COLUMN]
    return names


def _job_plan(
    args: argparse.Namespace,
    context: RunContext,
    report: IntakeReport,
    path: Path,
    campaign: Campaign,
    options: MassMessageOptions,
    names: list[str],
    canary: CanarySettings | None,
    targeting: Targeting,
) -> JobPlan:
    """The job's batches, with at least one recipient left in them."""
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
    if not job_plan.recipients:
        raise UserError(
            f"{path}: no number left to send to: the plan rejected {len(job_plan.rejects):,} "
            f"({job_plan.rejects[0].reason if job_plan.rejects else 'no reason'})"
        )
    return job_plan


def _plan_event(report: IntakeReport, job_plan: JobPlan, rate: float) -> PlanEvent:
    """The plan as the operator sees it before anything is sent."""
    counts = report.summary()
    total = job_plan.recipients
    return PlanEvent(
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
    threshold = args.canary_threshold
    if threshold is None:
        threshold = campaign.canary.threshold if campaign.canary is not None else None
    if threshold is None:
        threshold = context.profile.canary_threshold
    try:
        return CanarySettings(
            size=canary_part(spec, recipients),
            threshold=threshold,
            settle_timeout_s=args.canary_timeout or CanarySettings.settle_timeout_s,
            poll_s=args.canary_poll or CanarySettings.poll_s,
            auto_continue=campaign.canary.auto_continue if campaign.canary is not None else True,
        )
    except CanaryError as exc:
        raise UserError(str(exc)) from None


def _recipients_file(args: argparse.Namespace, campaign: Campaign, campaign_path: Path) -> Path:
    """The numbers file: ``--recipients``, else the campaign's ``[recipients] file``."""
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


def _read_intake(path: Path, default_region: str | None, suppress: list[str]) -> IntakeReport:
    """Read, normalize and deduplicate the numbers file (and the opt-out lists)."""
    try:
        suppressed = load_suppression([Path(f).expanduser() for f in suppress], default_region)
        return read_recipients(path, IntakeOptions(default_region=default_region, suppressed=suppressed))
    except OSError as exc:
        raise UserError(str(exc)) from None
