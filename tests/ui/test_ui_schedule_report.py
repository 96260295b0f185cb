"""The TUI's scheduled sends (the options step's field, the monitor's countdown, `c` during
the wait sends nothing) and the jobs screen's report (totals, report and retarget files)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from cams_tui.engine.events import ScheduleEvent
from cams_tui.engine.journal import Journal
from cams_tui.engine.planning import pack_batches, sender_item
from cams_tui.schedule import JobSchedule
from cams_tui.simulator import Simulator, SimulatorConfig
from cams_tui.ui.campaign_draft import OptionsForm
from cams_tui.ui.screens.dialogs import ConfirmDialog
from cams_tui.ui.screens.jobs import JobsScreen
from cams_tui.ui.screens.report import ReportScreen
from cams_tui.ui.screens.send_monitor import SendMonitorScreen
from cams_tui.ui.send_state import SendState
from tests.support.ui_host import HostApp, finished, label_text, make_job, monitor_of, numbers, target, wait_for


def test_the_options_form_checks_the_send_time() -> None:
    assert OptionsForm(send_at="").errors() == {}
    assert "has no time zone" in OptionsForm(send_at="2030-01-01T09:00").errors()["send_at"]
    assert "is in the past" in OptionsForm(send_at="2020-01-01T09:00+08:00").errors()["send_at"]
    form = OptionsForm(send_at="2030-01-01T09:00+08:00")
    assert form.errors() == {} and form.send_time() is not None
    assert form.send_time().timestamp() == 1893459600  # type: ignore[union-attr]


def test_the_send_state_shows_the_countdown() -> None:
    state = SendState("job")
    state.apply([(0.0, ScheduleEvent("job", "waiting", 100.0, "2030-01-01 09:00 +08:00", 3725.0))])
    assert state.phase == "scheduled" and state.running
    assert state.scheduled == "starts 2030-01-01 09:00 +08:00, in 1h 02m 05s"
    state.apply([(0.0, ScheduleEvent("job", "starting", 100.0, "2030-01-01 09:00 +08:00", 0.0))])
    assert state.phase == "starting" and state.scheduled == ""


def _scheduled_job(data_dir: Path, url: str, count: int, at: float) -> str:
    items = (sender_item(to, {"name": "Ann", "order_id": f"A{i}"}) for i, to in enumerate(numbers(count)))
    from cams_tui.api.models import MassMessageOptions
    from cams_tui.simulator.demo_data import DEMO_SERVICE_ID, ORDER_SHIPPED

    options = MassMessageOptions(template_code=ORDER_SHIPPED, language="en", From=DEMO_SERVICE_ID)
    with Journal(data_dir) as journal:
        return journal.create_job(
            options=options, params={}, batches=pack_batches(items, max_size=100), endpoint=url,
            schedule=JobSchedule(at=at, zone="+00:00").to_json(),
        )


async def test_the_monitor_counts_down_and_a_cancel_sends_nothing(tmp_path: Path) -> None:
    simulator = Simulator(SimulatorConfig(rate=1000, seed=5))
    with simulator.run_in_thread() as url:
        at = time.time() + 3.0
        job_id = _scheduled_job(tmp_path, url, 300, at)
        app = HostApp(lambda: SendMonitorScreen(job_id, target=target(url, tmp_path, 100), show_clock=False))
        async with app.run_test(size=(120, 36)) as pilot:
            screen = monitor_of(app)
            await wait_for(pilot, lambda: screen.state.phase == "scheduled")
            assert label_text(screen, "#monitor-title").startswith("scheduled · starts ")
            await pilot.press("c")
            assert isinstance(app.screen, ConfirmDialog)
            await pilot.press("y")
            await wait_for(pilot, finished(app))
            assert screen.state.phase == "interrupted"
            assert "cancelled before" in label_text(screen, "#monitor-title")
        await asyncio.sleep(max(0.0, at - time.time()) + 0.5)
    assert not simulator.accepted and not simulator.accepted_requests
    with Journal(tmp_path) as journal:
        assert journal.job(job_id).pending == 300


async def test_the_monitor_waits_then_sends_at_the_time(tmp_path: Path) -> None:
    simulator = Simulator(SimulatorConfig(rate=1000, seed=6))
    with simulator.run_in_thread() as url:
        at = time.time() + 2.0
        job_id = _scheduled_job(tmp_path, url, 300, at)
        app = HostApp(lambda: SendMonitorScreen(job_id, target=target(url, tmp_path, 100), show_clock=False))
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_for(pilot, finished(app))
            assert monitor_of(app).state.done.ok == 300  # type: ignore[union-attr]
    assert min(r.time for r in simulator.accepted_requests) >= at
    assert set(simulator.accepted.values()) == {1}


async def test_the_jobs_screen_report_shows_totals_and_writes_both_files(tmp_path: Path) -> None:
    from cams_tui.engine.run import JobRunner, RunOptions
    from cams_tui.simulator import Faults
    from tests.support.engine import client

    simulator = Simulator(
        SimulatorConfig(rate=1000, seed=8, faults=Faults(fail_delivery=0.3), delivery_delay_s=(0.0, 0.0))
    )
    with simulator.run_in_thread() as url:
        job_id = make_job(tmp_path, url, 400, batch_size=100, cust_space_id="cams-demo-shop")
        with Journal(tmp_path) as journal:
            async with client(url) as api:
                await JobRunner(api, journal, job_id, RunOptions(rate=100)).run()
        app = HostApp(lambda: JobsScreen(target=target(url, tmp_path, 10), show_clock=False))
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_for(pilot, lambda: len(app.screen.jobs) == 1)  # type: ignore[attr-defined]
            await pilot.press("d")
            await wait_for(pilot, lambda: isinstance(app.screen, ReportScreen) and app.screen.totals is not None)
            report = app.screen
            assert isinstance(report, ReportScreen) and report.totals is not None
            failed = report.totals.by_status["failed"]
            assert report.totals.recipients == 400 and 0 < failed < 400
            assert report.totals.by_country["PH"]["failed"] == failed
            report_file, retarget_file = tmp_path / "report.csv", tmp_path / "again.txt"
            report.query_one("#report-path").value = str(report_file)  # type: ignore[attr-defined]
            report.query_one("#retarget-rule").value = "failed"  # type: ignore[attr-defined]
            report.query_one("#retarget-path").value = str(retarget_file)  # type: ignore[attr-defined]
            await pilot.click("#write-report")
            await wait_for(pilot, report_file.exists)
            await pilot.click("#write-retarget")
            await wait_for(pilot, retarget_file.exists)
            await pilot.press("escape")
            assert isinstance(app.screen, JobsScreen)
    assert len(report_file.read_text(encoding="utf-8").splitlines()) == 401
    assert len(retarget_file.read_text(encoding="utf-8").splitlines()) == 1 + failed
