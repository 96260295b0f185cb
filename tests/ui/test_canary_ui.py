"""The canary on the send monitor: its stage and verdict in the title; a failing canary
stops the job with the reason (and nothing more is sent), a healthy one goes on."""

from __future__ import annotations

from pathlib import Path

import pytest

from cams_tui.api.models import MassMessageOptions
from cams_tui.engine.canary import CanarySettings
from cams_tui.engine.journal import Journal
from cams_tui.engine.planning import pack_batches, sender_item
from cams_tui.simulator import Faults, Simulator, SimulatorConfig
from cams_tui.simulator.demo_data import DEMO_SERVICE_ID, ORDER_SHIPPED
from cams_tui.ui.screens.send_dialogs import FatalDialog
from cams_tui.ui.screens.send_monitor import SendMonitorScreen
from tests.support.engine import CUST_SPACE_ID
from tests.support.ui_host import HostApp, journal_counts, numbers, showing, target, wait_for

RECIPIENTS = 600


def canary_job(data_dir: Path, url: str, *, auto_continue: bool = True) -> str:
    """A job of 600 recipients whose first 100 are a canary batch of their own."""
    options = MassMessageOptions(
        template_code=ORDER_SHIPPED, language="en", From=DEMO_SERVICE_ID, cust_space_id=CUST_SPACE_ID
    )
    items = [sender_item(to, {"name": "Ann", "order_id": f"A{i}"}) for i, to in enumerate(numbers(RECIPIENTS))]
    batches = list(pack_batches(items[:100], max_size=100)) + list(pack_batches(items[100:], max_size=100))
    settings = CanarySettings(size=100, threshold=0.2, poll_s=0.2, settle_timeout_s=20, auto_continue=auto_continue)
    with Journal(data_dir) as journal:
        job_id = journal.create_job(options=options, params={}, batches=batches, endpoint=url)
        journal.set_canary(job_id, {**settings.to_json(), "batches": 1, "verdict": None})
    return job_id


@pytest.mark.parametrize("fail_share", [0.8, 0.0])
async def test_the_monitor_shows_the_canary_and_its_verdict(tmp_path: Path, fail_share: float) -> None:
    simulator = Simulator(SimulatorConfig(rate=1000, seed=12, delivery_delay_s=(0.1, 0.3)))
    simulator.faults = Faults(fail_delivery=fail_share, seed=1)
    with simulator.run_in_thread() as url:
        job_id = canary_job(tmp_path, url)
        app = HostApp(lambda: SendMonitorScreen(job_id, target=target(url, tmp_path, 50), show_clock=False))
        async with app.run_test(size=(120, 36)) as pilot:
            monitor = app.screen
            assert isinstance(monitor, SendMonitorScreen)
            await wait_for(pilot, lambda: "canary" in monitor.state.canary)
            if fail_share:
                await wait_for(pilot, showing(app, FatalDialog, "#close"))
                title = str(monitor.query_one("#monitor-title").render())
                assert "canary failed" in title and "threshold 20%" in title
                assert title.index("canary failed") < 40, "seen at 80 columns, before the job's name"
                assert monitor.state.done is not None and monitor.state.done.code == "CanaryFailed"
                assert sum(simulator.accepted.values()) == 100
                assert journal_counts(tmp_path, job_id)[0] == {"ok": 100, "planned": RECIPIENTS - 100}
            else:
                await wait_for(pilot, lambda: monitor.state.phase == "done")
                assert "canary healthy" in str(monitor.query_one("#monitor-title").render())
                assert sum(simulator.accepted.values()) == RECIPIENTS


async def test_a_healthy_canary_waits_for_the_operator_when_asked_to(tmp_path: Path) -> None:
    simulator = Simulator(SimulatorConfig(rate=1000, seed=13, delivery_delay_s=(0.1, 0.3)))
    with simulator.run_in_thread() as url:
        job_id = canary_job(tmp_path, url, auto_continue=False)
        app = HostApp(lambda: SendMonitorScreen(job_id, target=target(url, tmp_path, 50), show_clock=False))
        async with app.run_test(size=(120, 36)) as pilot:
            monitor = app.screen
            assert isinstance(monitor, SendMonitorScreen)
            await wait_for(pilot, lambda: monitor.state.phase == "paused" and "healthy" in monitor.state.canary)
            assert "press p" in str(monitor.query_one("#monitor-title").render())
            await pilot.pause(0.3)
            assert sum(simulator.accepted.values()) == 100
            await pilot.press("p")
            await wait_for(pilot, lambda: monitor.state.phase == "done")
    assert sum(simulator.accepted.values()) == RECIPIENTS and max(simulator.accepted.values()) == 1


def test_the_review_steps_canary_plans_batches_of_its_own(tmp_path: Path) -> None:
    from cams_tui.api.endpoints import Placement
    from cams_tui.api.models import TemplateDetail, TemplateSummary
    from cams_tui.recipients import IntakeOptions, read_recipients_text
    from cams_tui.simulator.demo_data import find_template
    from cams_tui.ui.campaign_draft import ComposeState, create_job

    template = find_template(ORDER_SHIPPED, "en")
    assert template is not None
    text = "phone,order_id\n" + "\n".join(f"+{to},A{i}" for i, to in enumerate(numbers(2500)))
    state = ComposeState(
        template=TemplateSummary.model_validate(template.summary()),
        detail=TemplateDetail.model_validate(template.detail()),
        sender=DEMO_SERVICE_ID,
        params={"name": "Ann"},
        report=read_recipients_text(text, IntakeOptions()),
        canary="1%",
    )
    assert state.blocking_problems() == []
    assert state.campaign().canary is not None and state.campaign().canary.size == "1%"
    job_id = create_job(
        state, data_dir=tmp_path, endpoint="http://127.0.0.1:9", placement=Placement.BODY,
        max_query_length=60_000, canary_threshold=0.1,
    )
    with Journal(tmp_path) as journal:
        job = journal.job(job_id)
        sizes = [b.size for b in journal.batches(job_id)]
    assert job.canary is not None and job.canary["size"] == 25 and job.canary["threshold"] == 0.1
    assert job.canary["batches"] == 1 and job.canary["verdict"] is None
    assert sizes == [25, 1000, 1000, 475]
