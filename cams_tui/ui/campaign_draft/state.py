"""The one :class:`ComposeState` of the send being prepared, and the rules about it."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from cams_tui.api.limits import (
    MAX_RECIPIENTS_PER_REQUEST,
)
from cams_tui.templates import APPROVED_STATUSES, template_variables
from cams_tui.ui.campaign_draft.options_form import OptionsForm
from cams_tui.ui.campaign_draft.params import (
    MAX_PARAM_VALUE_CHARS,
    ParamRow,
    ParamSource,
    RecipientRow,
    RecipientsReport,
    is_set,
)
from cams_tui.ui.campaign_draft.steps import Estimate, Step, StepState, StepStatus

# The models and the campaign (pydantic) are imported where used, so the TUI's first frame
# does not wait for them.
if TYPE_CHECKING:
    from datetime import datetime

    from cams_tui.api.models import TemplateDetail, TemplateSummary, ViberService
    from cams_tui.campaign import Campaign
    from cams_tui.engine.grouping import GroupSummary, Targeting
    from cams_tui.schedule import ScheduleOptions


@dataclass(frozen=True)
class SentJob:
    """The job last sent from the compose state, and the composition it was sent from."""

    job_id: str
    recipients: int
    at: float
    """When it was written to the journal (epoch seconds)."""
    fingerprint: tuple[object, ...]




@dataclass
class TrialSend:
    """The answer to the test send, for display."""

    to: str
    ok: bool
    text: str


@dataclass
class ComposeState:
    """Everything chosen so far for the send being prepared."""

    rate: float = 10.0
    templates: list[TemplateSummary] = field(default_factory=list)
    template: TemplateSummary | None = None
    detail: TemplateDetail | None = None
    services: list[ViberService] = field(default_factory=list)
    sender: str = ""
    pasted: str = ""
    recipients_file: str = ""
    default_region: str = ""
    report: RecipientsReport | None = None
    params: dict[str, str] = field(default_factory=dict)
    options: OptionsForm = field(default_factory=OptionsForm)
    visited: set[Step] = field(default_factory=set)
    test_send: TrialSend | None = None
    job_id: str | None = None
    canary: str = ""
    """The canary slice: empty for none, else a number of recipients (100) or a share (1%)."""
    sent: SentJob | None = None
    """The job last sent from this composition (``None``: nothing sent yet)."""
    languages: dict[str, str] = field(default_factory=dict)
    """A campaign's ``[languages]``: a template language per country."""
    language_fallback: bool = False
    """A campaign's ``language_fallback``."""
    zones: dict[str, str] = field(default_factory=dict)
    """A campaign's ``[schedule.zones]``: one time zone per country of several."""
    language_details: dict[str, TemplateDetail] = field(default_factory=dict, repr=False)
    """The chosen template's detail in the list's other languages (for their previews)."""
    _groups_key: tuple[object, ...] | None = field(default=None, repr=False)
    _groups: tuple[list[GroupSummary], int] = field(default_factory=lambda: ([], 0), repr=False)
    _counts_key: tuple[int, tuple[str, ...]] | None = field(default=None, repr=False)
    _counts: dict[str, int] = field(default_factory=dict, repr=False)

    # ------------------------------------------------------------------ template

    @property
    def variables(self) -> list[str]:
        """The chosen template's variables (empty before one is chosen)."""
        return template_variables(self.detail) if self.detail else []

    def template_problem(self) -> str:
        """Why the chosen template and sender cannot be used, or ``""``."""
        if self.template is None:
            return "choose a template"
        if self.template.audit_status.lower() not in APPROVED_STATUSES:
            status = self.template.audit_status or "unknown"
            return f"template {self.template.template_code} is not approved (status {status})"
        if self.detail is None:
            return "the template's detail has not loaded"
        if not self.sender:
            return "choose the sender (Viber Service ID)"
        if not self.sender.isdigit():
            return f"the sender must be a numeric Service ID, not {self.sender!r}"
        return ""

    # ---------------------------------------------------------------- recipients

    @property
    def recipient_count(self) -> int:
        """How many recipients the send goes to."""
        return len(self.report.recipients) if self.report is not None else 0

    def values_for(self, row: RecipientRow | None) -> dict[str, str]:
        """The variables' values for one recipient: global values, overridden by its columns."""
        values = {k: v.strip() for k, v in self.params.items() if is_set(v)}
        if row is not None:
            values.update({k: v for k, v in row.params.items() if is_set(v)})
        return values

    def language_for(self, row: RecipientRow | None) -> str | None:
        """The template language one recipient is sent in (its ``language`` cell, its
        country's default, the campaign's), or ``None`` when the template lacks it and
        there is no fallback (the recipient will be rejected)."""
        targeting = self.targeting()
        default = self.template.language if self.template is not None else None
        if targeting.languages is None or row is None:
            return default
        region = None
        if targeting.languages.by_region:
            # For start-up time: the TUI's first frame loads no schedule, grouping or zone data.
            from cams_tui.recipients.zones import ZoneFinder

            region = ZoneFinder().region(int(row.to))
        language, _reason = targeting.languages.choose(row.params.get("language", ""), region)
        return language

    def detail_for(self, language: str | None) -> TemplateDetail | None:
        """The template's detail in ``language`` (the chosen one's, or one loaded for the
        preview of a recipient in another language), or ``None`` when not loaded."""
        if self.template is not None and language == self.template.language:
            return self.detail
        return self.language_details.get(language or "")

    def missing_for(self, row: RecipientRow | None) -> list[str]:
        """The template variables one recipient (or, with ``None``, a recipient without
        columns) would get no value for."""
        values = self.values_for(row)
        return [name for name in self.variables if name not in values]

    def recipient_params(self, row: RecipientRow) -> dict[str, str] | None:
        """The TemplateParams sent to one recipient (``None`` when the template has no variables)."""
        names = set(self.variables) | set(self.params)
        values = {k: v for k, v in self.values_for(row).items() if k in names}
        return values or None

    # -------------------------------------------------------------------- params

    def _column_counts(self) -> dict[str, int]:
        """How many recipients have a value of each variable in their own columns.

        Cached per report: counting walks every recipient, far too slow to repeat on each key.
        """
        key = (id(self.report), tuple(self.variables))
        if self._counts_key != key:
            recipients = self.report.recipients if self.report is not None else []
            counts = dict.fromkeys(self.variables, 0)
            columns = getattr(recipients, "columns", None)
            if columns is not None:
                # Held by column: count each column's empty cells at C speed, no row objects.
                for name in counts:
                    column = columns.get(name)
                    counts[name] = len(column) - column.count("") if column is not None else 0
            else:
                for row in recipients:
                    for name, value in row.params.items():
                        if name in counts and is_set(value):
                            counts[name] += 1
            self._counts_key, self._counts = key, counts
        return self._counts

    def param_rows(self) -> list[ParamRow]:
        """One row per template variable, then the extra keys."""
        rows = []
        recipients = self.report.recipients if self.report is not None else []
        columns = self._column_counts()
        for name in self.variables:
            value = self.params.get(name, "")
            with_column = columns.get(name, 0)
            if is_set(value):
                source = ParamSource.MIXED if with_column else ParamSource.GLOBAL
                missing = 0
                value = value.strip()
            elif with_column:
                source = ParamSource.COLUMN
                missing = len(recipients) - with_column
            else:
                source = ParamSource.MISSING
                missing = max(len(recipients), 1)
            rows.append(ParamRow(name, value, source, missing, with_column))
        for name, value in self.params.items():
            if name not in self.variables:
                rows.append(ParamRow(name, value, ParamSource.EXTRA))
        return rows

    def params_problem(self) -> str:
        """Which variables lack a value (or have one that cannot be sent), or ``""``."""
        rows = self.param_rows()
        too_long = [
            f"{row.name}: {len(row.value):,} characters, at most {MAX_PARAM_VALUE_CHARS:,} fit in a message"
            for row in rows if len(row.value) > MAX_PARAM_VALUE_CHARS
        ]
        if too_long:
            return "; ".join(too_long)
        missing = [row for row in rows if row.missing_for]
        if not missing:
            return ""
        if self.report is None or not self.report.recipients:
            return "no value for " + ", ".join(row.name for row in missing)
        return "; ".join(f"{row.name} missing for {row.missing_for:,} recipients" for row in missing)

    # ----------------------------------------------------------------- estimate

    def estimate(self) -> Estimate:
        """Recipients, batches and the time they take at the profile's rate."""
        count = self.recipient_count
        batches = math.ceil(count / MAX_RECIPIENTS_PER_REQUEST)
        return Estimate(count, batches, batches / self.rate if self.rate > 0 else 0.0)

    # -------------------------------------------------------------------- steps

    def status(self, step: Step) -> StepStatus:
        """Where ``step`` stands, with the reason when it needs attention."""
        if step is Step.TEMPLATE:
            if self.template is None:
                return StepStatus(step, StepState.TODO)
            problem = self.template_problem()
            return StepStatus(step, StepState.ATTENTION if problem else StepState.DONE, problem)
        if step is Step.RECIPIENTS:
            if self.report is None:
                return StepStatus(step, StepState.TODO)
            if not self.report.recipients:
                return StepStatus(step, StepState.ATTENTION, "no recipients: paste numbers or import a file")
            return StepStatus(step, StepState.DONE)
        if step is Step.PARAMS:
            if self.detail is None:
                return StepStatus(step, StepState.TODO)
            problem = self.params_problem()
            if problem:
                return StepStatus(step, StepState.ATTENTION, problem)
            return StepStatus(step, StepState.DONE if step in self.visited or not self.variables else StepState.TODO)
        if step is Step.OPTIONS:
            errors = self.options.errors()
            if errors:
                return StepStatus(step, StepState.ATTENTION, "; ".join(errors.values()))
            return StepStatus(step, StepState.DONE if step in self.visited else StepState.TODO)
        if self.sent_current:
            return StepStatus(step, StepState.DONE)
        return StepStatus(step, StepState.TODO)

    # --------------------------------------------------------------------- sent

    def fingerprint(self) -> tuple[object, ...]:
        """What the send is made of: any change to it (another list, template, value or
        option) makes it a new send."""
        template = (self.template.template_code, self.template.language) if self.template else None
        return (
            template, self.sender, id(self.report), self.recipient_count,
            tuple(sorted(self.params.items())), repr(self.options), self.canary,
        )

    def mark_sent(self, job_id: str, at: float) -> None:
        """Remember that the composition as it stands went out as ``job_id``."""
        self.job_id = job_id
        self.sent = SentJob(job_id, self.recipient_count, at, self.fingerprint())

    @property
    def sent_current(self) -> bool:
        """Whether the composition, unchanged, was already sent (Send waits for a change
        or a new campaign)."""
        return self.sent is not None and self.sent.fingerprint == self.fingerprint()

    def statuses(self) -> list[StepStatus]:
        """Every step's status, in order."""
        return [self.status(step) for step in Step]

    def blocking_problems(self) -> list[str]:
        """What stops the send, one line each (empty when it may go)."""
        problems = []
        template = self.template_problem()
        if template:
            problems.append(template)
        if self.recipient_count == 0:
            problems.append("no recipients: paste numbers or import a file")
        params = self.params_problem()
        if params:
            problems.append(params)
        problems.extend(f"{name.replace('_', ' ')}: {text}" for name, text in self.options.errors().items())
        return problems

    # ----------------------------------------------------------------- campaign

    def campaign(self) -> Campaign:
        """The campaign this state stands for (raises ``ValueError`` when incomplete)."""
        if self.template is None or not self.sender:
            raise ValueError(self.template_problem() or "choose a template and a sender")
        options = self.options
        # For start-up time: pydantic loads after the first frame.
        from cams_tui.campaign import Campaign, CanaryOptions, Fallback, RecipientsSource

        send_time = options.send_time()

        return Campaign(
            template_code=self.template.template_code,
            language=self.template.language,
            **{"from": self.sender},
            label=options.label or None,
            ttl=options.seconds("ttl"),
            tag=options.tag or None,
            task_id=options.task_id or None,
            cust_space_id=options.cust_space_id or None,
            fallback=Fallback(
                id=options.fallback_id or None,
                content=options.fallback_content or None,
                rule=options.fallback_rule or None,
                duration=options.seconds("fallback_duration"),
            ),
            params={k: v.strip() for k, v in self.params.items() if is_set(v)},
            recipients=RecipientsSource(
                file=self.recipients_file or None, default_region=self.default_region or None
            ),
            canary=CanaryOptions(size=self.canary) if self.canary else None,
            schedule=self._schedule_options(send_time),
            languages=dict(self.languages),
            language_fallback=self.language_fallback,
        )

    def _schedule_options(self, send_time: datetime | None) -> ScheduleOptions | None:
        # For start-up time: the TUI's first frame loads no schedule, grouping or zone data.
        from cams_tui.schedule import ScheduleOptions

        options = self.options
        window = options.send_window.strip() or None
        days = options.day_list()
        if send_time is None and window is None and days is None:
            return None
        try:
            return ScheduleOptions(at=send_time, window=window, days=days, zones=dict(self.zones))
        except ValueError:
            return ScheduleOptions(at=send_time, zones=dict(self.zones))  # errors() says what is wrong

    def targeting(self, now: float | None = None) -> Targeting:
        """How the send splits its recipients: per language (a ``language`` column or a
        campaign's ``[languages]``), per delivery window; ``now``: the send's start."""
        # For start-up time: the TUI's first frame loads no schedule, grouping or zone data.
        import time

        # For start-up time: the TUI's first frame loads no schedule, grouping or zone data.
        from cams_tui.engine.grouping import LANGUAGE_COLUMN, targeting_for, template_languages

        send_time = self.options.send_time()
        start = send_time.timestamp() if send_time is not None else (time.time() if now is None else now)
        code = self.template.template_code if self.template is not None else ""
        language = self.template.language if self.template is not None else ""
        available = template_languages(self.templates, code) if self.templates else None
        # The intake's store is held by column (RecipientStore); the declared type is its row view.
        columns = self.report.recipients.columns if self.report is not None else {}  # type: ignore[attr-defined]
        return targeting_for(
            language=language,
            languages=self.languages,
            language_fallback=self.language_fallback,
            has_language_column=LANGUAGE_COLUMN in columns,
            available=available or None,
            schedule=self._schedule_options(send_time),
            now=start,
        )

    def plan_groups(self) -> tuple[list[GroupSummary], int]:
        """The recipients per language and delivery window (and how many the split
        rejects), as Review shows them; ``([], 0)`` when the send is one group. Computed
        once per composition."""
        # For start-up time: the TUI's first frame loads no schedule, grouping or zone data.
        from cams_tui.engine.grouping import GroupSummary, group_recipients

        if self.report is None:
            return [], 0
        targeting = self.targeting()
        if not targeting.active:
            return [], 0
        key = (self.fingerprint(), tuple(sorted(self.languages.items())), self.language_fallback,
               tuple(sorted(self.zones.items())), int(targeting.now) // 60)
        if self._groups_key != key:
            groups, rejects = group_recipients(self.report.recipients, targeting)  # type: ignore[arg-type]
            self._groups = (
                [GroupSummary(g.language, g.zones, g.opens_at, g.recipients, 0) for g in groups],
                len(rejects),
            )
            self._groups_key = key
        return self._groups

    def apply_campaign(self, campaign: Campaign) -> None:
        """Take a campaign's choices (the template itself is matched by the caller)."""
        self.sender = campaign.from_
        self.params = dict(campaign.params)
        self.options = OptionsForm.from_campaign(campaign)
        self.recipients_file = campaign.recipients.file or ""
        self.canary = campaign.canary.size if campaign.canary is not None else ""
        self.default_region = campaign.recipients.default_region or self.default_region
        self.languages = dict(campaign.languages)
        self.language_fallback = campaign.language_fallback
        self.zones = dict(campaign.schedule.zones) if campaign.schedule is not None else {}
        self.test_send = None
        self.job_id = None

    def find_template(self, code: str, language: str) -> TemplateSummary | None:
        """The loaded template with this code and language."""
        return next(
            (t for t in self.templates if t.template_code == code and t.language == language),
            None,
        )

    def template_name(self, code: str, language: str) -> str:
        """The template's name when the account's templates are loaded, else its code."""
        found = self.find_template(code, language)
        return found.template_name if found is not None and found.template_name else code
