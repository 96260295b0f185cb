"""A job from an intake: its batches planned column by column and written to the journal.

One implementation for both front ends: ``cams-tui send`` (and its ``--dry-run``, which plans
without writing) and the TUI's review step. A million recipients are planned without a
Python object per recipient and written in one transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from cams_tui.api.endpoints import Placement
from cams_tui.api.models import MAX_RECIPIENTS_PER_REQUEST, MassMessageOptions
from cams_tui.engine.canary import CanarySettings
from cams_tui.engine.journal import Journal, PlannedBatch, Reject
from cams_tui.engine.planning import ColumnStore, PlanProgress, plan_recipients


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

    @property
    def recipients(self) -> int:
        """Recipients in all batches."""
        return sum(batch.size for batch in self.batches)


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
) -> JobPlan:
    """The job's batches: each recipient's TemplateParams are ``names`` taken from its own
    non-empty cell, else from ``global_params``; with ``canary``, its first recipients are
    batches of their own."""
    batches, canary_batches = plan_recipients(
        intake.recipients,
        names,
        global_params,
        options,
        placement=placement,
        max_query_length=max_query_length,
        max_size=max_size,
        canary_size=canary.size if canary is not None else 0,
        progress=progress,
    )
    return JobPlan(batches, canary_batches)


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
    rejects = [Reject(r.line, r.text, r.reason) for r in intake.rejected]
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
        rejected=intake.rejected_count,
        duplicates=intake.duplicate_count,
        suppressed=intake.suppressed_count,
        canary=None
        if canary is None
        else {**canary.to_json(), "batches": plan.canary_batches, "verdict": None},
    )
