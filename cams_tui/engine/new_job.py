"""A job from an intake: its batches planned column by column and written to the journal.

One implementation for both front ends: ``cams-tui send`` (and its ``--dry-run``, which plans
without writing) and the TUI's review step. A million recipients are planned without a
Python object per recipient and written in one transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from cams_tui.api.endpoints import Placement
from cams_tui.api.models import MAX_RECIPIENTS_PER_REQUEST, MassMessageOptions
from cams_tui.engine.grouping import GroupSummary, SubsetStore, Targeting, group_recipients, stamp
from cams_tui.engine.journal import Journal, PlannedBatch, Reject
from cams_tui.engine.planning import ColumnStore, PlanProgress, plan_recipients

if TYPE_CHECKING:  # the canary's module (and the client it needs) is not needed to plan
    from cams_tui.engine.canary import CanarySettings


class Intake(Protocol):
    """What a job needs of an intake (:class:`cams_tui.recipients.IntakeReport`)."""

    # Read-only (properties): a protocol's plain attributes would have to match invariantly.
    @property
    def recipients(self) -> ColumnStore: ...
    @property
    def rejected(self) -> Sequence[Any]: ...
    @property
    def rejected_count(self) -> int: ...
    @property
    def duplicate_count(self) -> int: ...
    @property
    def suppressed_count(self) -> int: ...


@dataclass(frozen=True)
class JobPlan:
    """A job's batches before they are written."""

    batches: list[PlannedBatch]
    canary_batches: int
    """How many of the first batches are the canary's."""
    rejects: list[Reject] = field(default_factory=list)
    """Recipients the plan itself rejected (a language the template lacks, a window that
    never opens for the number), with the reason."""
    groups: list[GroupSummary] = field(default_factory=list)
    """The recipients per language and delivery window, in the order they go (empty: one
    group, the job's language, any time)."""

    @property
    def recipients(self) -> int:
        """Recipients in all batches."""
        return sum(batch.size for batch in self.batches)

    def sendable_now(self, now: float) -> int:
        """Recipients whose batches may go at ``now`` (every one without a window)."""
        waiting = sum(g.recipients for g in self.groups if g.opens_at is not None and g.opens_at > now)
        return self.recipients - waiting


def plan_job(
    intake: Intake,
    *,
    names: Sequence[str],
    global_params: Mapping[str, str],
    options: MassMessageOptions,
    placement: Placement,
    max_query_length: int,
    max_size: int = MAX_RECIPIENTS_PER_REQUEST,
    canary: CanarySettings | None = None,
    progress: PlanProgress | None = None,
    targeting: Targeting | None = None,
) -> JobPlan:
    """The job's batches: each recipient's TemplateParams are ``names`` taken from its own
    non-empty cell, else from ``global_params``; with ``canary``, its first recipients are
    batches of their own. With ``targeting``, recipients are planned in groups of one
    language and one delivery window each (:mod:`cams_tui.engine.grouping`), each batch
    carrying its group's language and zones."""
    canary_size = canary.size if canary is not None else 0
    if targeting is None or not targeting.active:
        batches, canary_batches = plan_recipients(
            intake.recipients,
            names,
            global_params,
            options,
            placement=placement,
            max_query_length=max_query_length,
            max_size=max_size,
            canary_size=canary_size,
            progress=progress,
        )
        return JobPlan(batches, canary_batches)
    store = intake.recipients
    groups, rejects = group_recipients(store, targeting)
    planned = 0

    def plan(indices: list[int]) -> list[PlannedBatch]:
        nonlocal planned
        if not indices:
            return []
        subset = SubsetStore(store, indices, names)
        done = planned

        def report(count: int, _total: int) -> None:
            if progress is not None:
                progress(done + count, len(store))

        batches, _ = plan_recipients(
            subset,
            names,
            global_params,
            options,
            placement=placement,
            max_query_length=max_query_length,
            max_size=max_size,
            progress=report,
        )
        planned += len(indices)
        return batches

    # The canary is the first recipients read (of those planned), grouped like the rest.
    accepted = sorted(i for group in groups for i in group.indices)
    cutoff = accepted[min(canary_size, len(accepted)) - 1] if canary_size and accepted else -1
    head: list[PlannedBatch] = []
    tail: list[PlannedBatch] = []
    summaries: list[GroupSummary] = []
    for group in groups:
        first = plan([i for i in group.indices if i <= cutoff])
        rest = plan([i for i in group.indices if i > cutoff])
        head += stamp(first, group)
        tail += stamp(rest, group)
        summaries.append(
            GroupSummary(group.language, group.zones, group.opens_at, group.recipients, len(first) + len(rest))
        )
    return JobPlan(head + tail, len(head), rejects, summaries)


def write_job(
    journal: Journal,
    intake: Intake,
    plan: JobPlan,
    *,
    options: MassMessageOptions,
    params: dict[str, str],
    endpoint: str,
    placement: Placement,
    schedule: dict[str, Any] | None = None,
    variables: Sequence[str] | None = None,
    campaign: str | None = None,
    profile: str | None = None,
    canary: CanarySettings | None = None,
) -> str:
    """Write a planned job, its rejected lines and its canary in one transaction; return its id."""
    rejects = sorted(
        [Reject(r.line, r.text, r.reason) for r in intake.rejected] + plan.rejects, key=lambda r: r.line
    )
    return journal.create_job(
        options=options,
        params=params,
        batches=plan.batches,
        endpoint=endpoint,
        placement=placement,
        schedule=schedule,
        variables=variables,
        campaign=campaign,
        profile=profile,
        rejects=rejects,
        rejected=intake.rejected_count + len(plan.rejects),
        duplicates=intake.duplicate_count,
        suppressed=intake.suppressed_count,
        canary=None
        if canary is None
        else {**canary.to_json(), "batches": plan.canary_batches, "verdict": None},
    )
