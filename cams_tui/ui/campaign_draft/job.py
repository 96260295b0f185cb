"""Writing the compose state's send to the journal as a job."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from cams_tui.ui.campaign_draft.params import is_set
from cams_tui.ui.campaign_draft.state import ComposeState

# The models and the campaign (pydantic) are imported where used, so the TUI's first frame
# does not wait for them.
if TYPE_CHECKING:

    from cams_tui.api.client import Placement


def create_job(
    state: ComposeState,
    *,
    data_dir: Path,
    endpoint: str,
    placement: Placement,
    max_query_length: int,
    profile: str | None = None,
    campaign: str | None = None,
    canary_threshold: float | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> str:
    """Write the state's send to the journal as a job with all its batches; return its id.

    With ``state.canary`` set, the first recipients are planned as batches of their own
    and the job's canary is recorded (judged against ``canary_threshold``, default 20 %).
    ``progress`` is called with (recipients planned, recipients in all) as planning goes.
    Blocking (planning and one SQLite transaction): call it from a thread.
    """
    # For start-up time: the engine loads after the first frame.
    from cams_tui.engine.grouping import schedule_json
    from cams_tui.engine.journal import Journal
    from cams_tui.engine.new_job import plan_job, write_job

    # For start-up time: pydantic loads after the first frame.
    from cams_tui.schedule import JobSchedule

    problems = state.blocking_problems()
    if problems or state.report is None:
        raise ValueError("; ".join(problems) or "no recipients")
    report = state.report
    send_time = state.options.send_time()
    options = state.campaign().message_options()
    canary = None
    if state.canary:
        # For start-up time: the engine loads after the first frame.
        from cams_tui.engine.canary import DEFAULT_THRESHOLD, CanarySettings, canary_size

        threshold = DEFAULT_THRESHOLD if canary_threshold is None else canary_threshold
        canary = CanarySettings(size=canary_size(state.canary, len(report.recipients)), threshold=threshold)
    # What recipient_params sends: the template's variables and every global value, each
    # from the recipient's own cell when it has one.
    params = {k: v.strip() for k, v in state.params.items() if is_set(v)}
    names = list(dict.fromkeys([*state.variables, *params]))
    targeting = state.targeting()
    window = targeting.window
    plan = plan_job(
        report,  # type: ignore[arg-type]
        names=names,
        global_params=params,
        options=options,
        placement=placement,
        max_query_length=max_query_length,
        canary=canary,
        progress=progress,
        targeting=targeting,
    )
    if not plan.recipients:
        reason = plan.rejects[0].reason if plan.rejects else "no recipients"
        raise ValueError(f"no recipient left to send to: {reason}")
    with Journal(data_dir) as journal:
        return write_job(
            journal,
            report,  # type: ignore[arg-type]
            plan,
            options=options,
            params=params,
            endpoint=endpoint,
            placement=placement,
            schedule=schedule_json(None if send_time is None else JobSchedule.of(send_time), window),
            campaign=campaign,
            profile=profile,
            canary=canary,
        )
