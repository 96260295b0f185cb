"""The jobs screen: the journal's history, a job's log and paged results, resume, retry
failed, retry unknown (with its warning), export; plus a snapshot with fixed jobs."""

from __future__ import annotations

import csv
import json
import os
import time
import types
from collections.abc import Iterator
from pathlib import Path

import pytest

from cams_tui.engine.journal import database as journal_module
from cams_tui.engine.journal import jobs as journal_jobs
from cams_tui.engine.journal import Answer, BatchState, JobState, Journal
from cams_tui.simulator import Simulator, SimulatorConfig
from cams_tui.ui.screens.dialogs import ConfirmDialog
from cams_tui.ui.screens.jobs import JobDetailScreen, JobsScreen
from cams_tui.ui.screens.send_dialogs import ExportDialog
from cams_tui.ui.screens.send_monitor import SendMonitorScreen
from cams_tui.ui.widgets.results_table import PAGE_SIZE, ResultsTable, read_page
from cams_tui.ui.widgets.send_log import SendLog
from tests.support.ui_host import HostApp, journal_counts, make_job, numbers, target, wait_for

ENDPOINT = "http://127.0.0.1:9"


def settle(data_dir: Path, job_id: str, index: int, state: BatchState, code: str) -> None:
    """Record one attempt of batch ``index`` that ended in ``state``."""
    with Journal(data_dir) as journal:
        attempt = journal.mark_sending(job_id, index)
        group = f"89000000{index:08d}" if state is BatchState.OK else None
        journal.record_answer(
            job_id, index, attempt, state,
            Answer(state.value, http_status=200 if state is BatchState.OK else 400, code=code,
                   message=None if state is BatchState.OK else f"{code}: refused",
                   request_id=f"REQ-{index:04d}", group_message_id=group, latency_ms=200.0),
        )


def test_read_page_crosses_batches(tmp_path: Path) -> None:
    job_id = make_job(tmp_path, ENDPOINT, 250, batch_size=30)
    rows, total = read_page(tmp_path, job_id, 55, 40)
    assert total == 250
    assert [r.number for r in rows] == list(range(56, 96))
    assert [r.to for r in rows] == numbers(250)[55:95]
    assert {r.batch for r in rows} == {1, 2, 3}
    assert read_page(tmp_path, job_id, 240, 40)[0][-1].number == 250


async def test_jobs_list_detail_and_paged_results(tmp_path: Path) -> None:
    big = make_job(tmp_path, ENDPOINT, 3_000, batch_size=500)
    settle(tmp_path, big, 0, BatchState.OK, "OK")
    settle(tmp_path, big, 1, BatchState.FAILED, "InvalidParameter.PhoneNumberError")
    app = HostApp(lambda: JobsScreen(target=target(ENDPOINT, tmp_path, 10), show_clock=False))
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: len(app.screen.jobs) == 1)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, JobDetailScreen) and app.screen.job is not None)
        detail = app.screen
        log = detail.query_one(SendLog)
        assert [(e.index, e.outcome) for e in log.entries] == [(0, "ok"), (1, "failed")]
        assert "500 ok, 500 failed" in str(detail.query_one("#job-summary").render())
        results = detail.query_one(ResultsTable)
        await wait_for(pilot, lambda: results.row_count > 0)
        assert results.row_count == PAGE_SIZE  # one page, never the whole job
        results.focus()
        await pilot.press("right_square_bracket")
        await wait_for(pilot, lambda: results.page_start == PAGE_SIZE)
        assert str(results.get_row_at(0)[1]) == numbers(3_000)[PAGE_SIZE]


async def test_retry_failed_and_retry_unknown_with_its_warning(tmp_path: Path) -> None:
    simulator = Simulator(SimulatorConfig(rate=1000, seed=4))
    with simulator.run_in_thread() as url:
        job_id = make_job(tmp_path, url, 400, batch_size=100)
        settle(tmp_path, job_id, 0, BatchState.OK, "OK")
        settle(tmp_path, job_id, 1, BatchState.FAILED, "InvalidParameter.TemplateParams")
        settle(tmp_path, job_id, 2, BatchState.UNKNOWN, "ServiceUnavailable")
        with Journal(tmp_path) as journal:
            journal.set_job_state(job_id, JobState.DONE)
        app = HostApp(lambda: JobsScreen(target=target(url, tmp_path, 1000), show_clock=False))
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_for(pilot, lambda: len(app.screen.jobs) == 1)
            await pilot.press("R")  # retry failed (and the pending batch 3)
            await wait_for(pilot, lambda: isinstance(app.screen, SendMonitorScreen))
            monitor = app.screen
            await wait_for(pilot, lambda: monitor.run is None and monitor.state.done is not None)
            assert journal_counts(tmp_path, job_id)[1] == {"ok": 3, "unknown": 1}
            assert set(simulator.accepted) == set(numbers(400)[100:200] + numbers(400)[300:400])

            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, JobsScreen))
            await wait_for(pilot, lambda: app.screen.jobs[0].counts.get("ok") == 300)
            await pilot.press("U")
            assert isinstance(app.screen, ConfirmDialog)
            body = str(app.screen.query_one(".body").render())
            assert "may already have been delivered" in body and "100 recipients" in body
            await pilot.press("escape")  # declined: nothing is sent
            assert isinstance(app.screen, JobsScreen)
            await pilot.press("U")
            await pilot.press("y")
            await wait_for(pilot, lambda: isinstance(app.screen, SendMonitorScreen))
            monitor = app.screen
            await wait_for(pilot, lambda: monitor.run is None and monitor.state.done is not None)
            assert journal_counts(tmp_path, job_id)[0] == {"ok": 400}


async def test_export_csv_and_jsonl(tmp_path: Path) -> None:
    job_id = make_job(tmp_path, ENDPOINT, 150, batch_size=100)
    settle(tmp_path, job_id, 0, BatchState.OK, "OK")
    app = HostApp(lambda: JobsScreen(target=target(ENDPOINT, tmp_path, 10), show_clock=False))
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: len(app.screen.jobs) == 1)
        for fmt in ("csv", "jsonl"):
            await pilot.press("e")
            assert isinstance(app.screen, ExportDialog)
            app.screen.query_one("#export-path").value = str(tmp_path / "out")
            await pilot.click(f"#{fmt}")
            path = tmp_path / f"out.{fmt}"
            await wait_for(pilot, lambda: path.exists() and path.stat().st_size > 0)
            await pilot.pause(0.2)
            assert os.stat(path).st_mode & 0o777 == 0o600
    rows = list(csv.DictReader((tmp_path / "out.csv").open()))
    assert len(rows) == 150
    assert rows[0]["status"] == "ok" and rows[0]["group_message_id"] == "8900000000000000"
    assert rows[149]["status"] == "pending"
    lines = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [line["to"] for line in lines] == numbers(150)


# ------------------------------------------------------------------ snapshot


@pytest.fixture
def fixed_journal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A journal with four jobs of fixed ids and times, in UTC."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    clock = {"now": 1_767_261_600.0}
    ids = iter(["20260101-100000-aaaa", "20260101-110000-bbbb", "20260101-120000-cccc", "20260101-130000-dddd"])
    fake_time = types.SimpleNamespace(time=lambda: clock["now"], strftime=time.strftime, localtime=time.localtime)
    monkeypatch.setattr(journal_module, "time", fake_time)
    monkeypatch.setattr(journal_jobs, "_new_job_id", lambda: next(ids))
    done = make_job(tmp_path, ENDPOINT, 1_000, batch_size=500)
    for index in range(2):
        settle(tmp_path, done, index, BatchState.OK, "OK")
    clock["now"] += 3600
    mixed = make_job(tmp_path, ENDPOINT, 2_500, batch_size=500)
    settle(tmp_path, mixed, 0, BatchState.OK, "OK")
    settle(tmp_path, mixed, 1, BatchState.FAILED, "InvalidParameter.PhoneNumberError")
    settle(tmp_path, mixed, 2, BatchState.UNKNOWN, "ServiceUnavailable")
    clock["now"] += 3600
    stopped = make_job(tmp_path, ENDPOINT, 48_213)
    with Journal(tmp_path) as journal:
        journal.set_job_state(done, JobState.DONE)
        journal.set_job_state(mixed, JobState.INTERRUPTED)
        journal.set_job_state(stopped, JobState.STOPPED, stop_code="Ram.PermissionDeny", stop_message="denied")
    clock["now"] += 3600
    make_job(tmp_path, ENDPOINT, 20)
    yield tmp_path
    monkeypatch.undo()
    time.tzset()


@pytest.mark.parametrize("size", [(80, 24), (120, 36)])
def test_jobs_screen_snapshot(snap_compare, fixed_journal: Path, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    app = HostApp(lambda: JobsScreen(target=target(ENDPOINT, fixed_journal, 10), show_clock=False))

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await wait_for(pilot, lambda: len(app.screen.jobs) == 4)
        await pilot.press("down")
        await pilot.pause()  # the moved cursor drawn, even on a busy machine

    assert snap_compare(app, terminal_size=size, run_before=run_before)


async def test_jobs_name_their_template_once_the_templates_are_listed(tmp_path: Path) -> None:
    from cams_tui.api.models import TemplateSummary
    from cams_tui.ui.campaign_draft import ComposeState
    from tests.support.ui_host import ORDER_SHIPPED

    job_id = make_job(tmp_path, ENDPOINT, 10)
    app = HostApp(lambda: JobsScreen(target=target(ENDPOINT, tmp_path, 10), show_clock=False))
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: len(app.screen.jobs) == 1)
        table = app.screen.query_one("#jobs-table")
        assert str(table.get_row(job_id)[9]).startswith(ORDER_SHIPPED[:13])  # no templates listed: the code

        app.state = ComposeState()  # type: ignore[attr-defined]
        app.state.templates = [TemplateSummary(template_code=ORDER_SHIPPED, template_name="order_shipped", language="en")]
        app.screen.action_reload()
        await wait_for(pilot, lambda: str(table.get_row(job_id)[9]) == "order_shipped en")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, JobDetailScreen) and app.screen.job is not None)
        assert f"order_shipped ({ORDER_SHIPPED}) en" in str(app.screen.query_one("#job-summary").render())


async def test_resuming_from_jobs_goes_on_on_the_job_s_own_ended_monitor(tmp_path: Path) -> None:
    """Cancelled on its monitor, then resumed from Jobs: the send goes on on that monitor,
    which then shows it done; no stale copy saying 'cancelled (resumable)' stays underneath."""
    simulator = Simulator(SimulatorConfig(rate=1000, latency_ms=5, seed=5))
    with simulator.run_in_thread() as url:
        job_id = make_job(tmp_path, url, 4_000, batch_size=20)
        app = HostApp(lambda: SendMonitorScreen(job_id, target=target(url, tmp_path, 200), show_clock=False))
        async with app.run_test(size=(120, 36)) as pilot:
            monitor = app.screen
            assert isinstance(monitor, SendMonitorScreen)
            await wait_for(pilot, lambda: len(monitor.query_one(SendLog).entries) >= 5)
            await pilot.press("c")
            await pilot.press("y")
            await wait_for(pilot, lambda: monitor.run is None and monitor.state.phase == "interrupted")
            pending = 4_000 - journal_counts(tmp_path, job_id)[0].get("ok", 0)
            assert pending > 0

            await pilot.press("j")
            await wait_for(pilot, lambda: isinstance(app.screen, JobsScreen) and len(app.screen.jobs) == 1)
            await pilot.press("r")
            await wait_for(pilot, lambda: not isinstance(app.screen, JobsScreen))
            await pilot.press(*str(pending), "enter")
            await wait_for(pilot, lambda: journal_counts(tmp_path, job_id)[0] == {"ok": 4_000}, timeout=60)
            shown = app.screen
            assert isinstance(shown, SendMonitorScreen)
            await wait_for(pilot, lambda: shown.run is None and shown.state.phase == "done")
            monitors = [screen for screen in app.screen_stack if isinstance(screen, SendMonitorScreen)]
            assert monitors == [monitor] and shown is monitor
            assert monitor.state.recipients["ok"] == 4_000
    assert len(simulator.accepted) == 4_000 and max(simulator.accepted.values()) == 1
