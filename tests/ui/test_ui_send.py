"""The send monitor driven through Pilot against the simulator: counters, log, controls,
the fatal dialog, quitting mid-send."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import pytest

from cams_tui.api.endpoints import Placement
from cams_tui.engine.journal import Journal
from cams_tui.simulator import Faults, Simulator, SimulatorConfig
from cams_tui.ui.screens.dialogs import ConfirmDialog
from cams_tui.ui.screens.send_dialogs import EntryDialog, FatalDialog, TypedCountDialog
from cams_tui.ui.screens.send_monitor import SendMonitorScreen
from cams_tui.ui.widgets.send_log import SendLog
from tests.support.ui_host import (
    HostApp,
    finished,
    journal_counts,
    label_text,
    make_job,
    monitor_of,
    showing,
    target,
    wait_for,
)


def total_attempts(data_dir: Path, job_id: str) -> int:
    with Journal(data_dir) as journal:
        return sum(len(journal.attempts(job_id, b.index)) for b in journal.batches(job_id))


async def test_twenty_thousand_recipients_with_faults_counters_match_the_journal(tmp_path: Path) -> None:
    faults = Faults.parse("burst=3,5xx=0.05,drop=0.05,seed=7")
    simulator = Simulator(SimulatorConfig(rate=1000, latency_ms=2, seed=11, faults=faults))
    with simulator.run_in_thread() as url:
        job_id = make_job(tmp_path, url, 20_000, batch_size=250)
        app = HostApp(lambda: SendMonitorScreen(job_id, target=target(url, tmp_path, 1000), show_clock=False))
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_for(pilot, finished(app), timeout=60)
            await pilot.pause(0.2)
            screen = monitor_of(app)
            state = screen.state
            recipients, batches = journal_counts(tmp_path, job_id)

            # Every fault happened, and the counters on screen are the journal's.
            assert state.throttled == 3
            assert batches.get("unknown", 0) > 0
            assert state.done is not None and state.done.state == "done"
            assert state.recipients == {s: recipients.get(s, 0) for s in ("ok", "failed", "unknown")}
            assert state.batches == {s: batches.get(s, 0) for s in ("ok", "failed", "unknown")}
            assert sum(recipients.values()) == 20_000
            progress = label_text(screen, "#counters-progress")
            # Counters are recipients; unknown ones are not counted as answered.
            assert f"{recipients.get('ok', 0) + recipients.get('failed', 0):,} / 20,000" in progress
            shown = label_text(screen, "#counters-batches")
            assert f"ok {recipients['ok']:,}" in shown
            assert f"unknown {recipients['unknown']:,}" in shown
            assert "throttled→retried 3" in shown

            # One log line per request outcome, as journaled.
            log = screen.query_one(SendLog)
            assert len(log.entries) == total_attempts(tmp_path, job_id)
            assert sum(1 for e in log.entries if e.outcome == "throttled") == 3
            assert {e.index for e in log.entries} == set(range(80))

    # Exactly once: nobody accepted twice; every accepted recipient is ok or unknown (dropped).
    assert max(simulator.accepted.values()) == 1
    assert recipients["ok"] <= sum(simulator.accepted.values()) <= recipients["ok"] + recipients["unknown"]


async def test_a_job_planned_for_the_body_is_sent_in_the_body(tmp_path: Path) -> None:
    """A profile switched to query placement after the job was planned: its 1,000-recipient
    batch still goes out (in the body, as planned), instead of failing unsent."""
    simulator = Simulator(SimulatorConfig(rate=100, latency_ms=2, seed=5))
    with simulator.run_in_thread() as url:
        job_id = make_job(tmp_path, url, 1_000, batch_size=1_000, placement=Placement.BODY)
        query_target = dataclasses.replace(target(url, tmp_path, 100), placement=Placement.QUERY)
        app = HostApp(lambda: SendMonitorScreen(job_id, target=query_target, show_clock=False))
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_for(pilot, finished(app), timeout=30)
            told = [n.message for n in app._notifications]
        assert any("planned for body placement: sent that way (the profile says query)" in m for m in told)
        recipients, _ = journal_counts(tmp_path, job_id)
        assert recipients == {"ok": 1_000}
        assert len(simulator.accepted) == 1_000


async def test_pause_resume_cancel_then_resume_the_job(tmp_path: Path) -> None:
    simulator = Simulator(SimulatorConfig(rate=1000, latency_ms=5, seed=3))
    with simulator.run_in_thread() as url:
        job_id = make_job(tmp_path, url, 2_000, batch_size=20)
        app = HostApp(lambda: SendMonitorScreen(job_id, target=target(url, tmp_path, 10), show_clock=False))
        async with app.run_test(size=(120, 36)) as pilot:
            screen = monitor_of(app)
            log = screen.query_one(SendLog)
            await wait_for(pilot, lambda: len(log.entries) >= 5)

            await pilot.press("p")
            await wait_for(pilot, lambda: screen.state.phase == "paused")
            assert "paused" in label_text(screen, "#monitor-title")
            await pilot.pause(0.2)  # requests in flight finish
            held = len(log.entries)
            await pilot.pause(0.5)
            assert len(log.entries) == held, "a request started while paused"

            await pilot.press("p")
            await wait_for(pilot, lambda: len(log.entries) > held + 3)
            assert screen.state.phase == "running"

            await pilot.press("c")
            assert isinstance(app.screen, ConfirmDialog)
            await pilot.press("escape")  # keep sending
            assert screen.state.running
            await pilot.press("c")
            await pilot.press("y")
            await wait_for(pilot, finished(app))
            assert screen.state.phase == "interrupted"
            with Journal(tmp_path) as journal:
                job = journal.job(job_id)
            assert job.state == "interrupted" and job.pending > 0
            assert screen.state.recipients["ok"] == job.counts["ok"]

            screen.target = dataclasses.replace(screen.target, rate=1000)  # the rate override, to be quick
            await pilot.press("r")  # resume on the same screen, once the count is typed
            assert isinstance(app.screen, TypedCountDialog)
            await pilot.press(*str(job.pending), "enter")
            await wait_for(pilot, lambda: screen.state.phase == "done" and screen.run is None, timeout=60)
            recipients, _ = journal_counts(tmp_path, job_id)
            assert recipients == {"ok": 2_000}
            assert screen.state.recipients["ok"] == 2_000
    assert len(simulator.accepted) == 2_000 and max(simulator.accepted.values()) == 1


async def test_fatal_error_dialog_then_resume(tmp_path: Path) -> None:
    simulator = Simulator(SimulatorConfig(rate=100, seed=5, faults=Faults.parse("deny=1")))
    with simulator.run_in_thread() as url:
        job_id = make_job(tmp_path, url, 500, batch_size=100)
        app = HostApp(lambda: SendMonitorScreen(job_id, target=target(url, tmp_path, 100), show_clock=False))
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_for(pilot, showing(app, FatalDialog, "#close"))
            dialog = app.screen
            assert isinstance(dialog, FatalDialog)
            text = " ".join(str(w.render()) for w in dialog.query("Static"))
            assert "Ram.PermissionDeny" in str(dialog.query_one(".title").render())
            assert "RAM" in text and "SendChatappMassMessage" in text  # which permission to grant
            assert f"cams-tui resume {job_id}" in text
            with Journal(tmp_path) as journal:
                assert journal.job(job_id).state == "stopped"

            simulator.faults = Faults()  # the permission was granted
            await pilot.press("r")
            await wait_for(pilot, lambda: isinstance(app.screen, TypedCountDialog))
            await pilot.press(*"500", "enter")
            screen = monitor_of(app)
            await wait_for(pilot, lambda: screen.state.phase == "done" and screen.run is None)
            assert journal_counts(tmp_path, job_id)[0] == {"ok": 500}


async def test_quitting_mid_send_asks_and_leaves_the_job_resumable(tmp_path: Path) -> None:
    simulator = Simulator(SimulatorConfig(rate=10, latency_ms=5, seed=2))
    with simulator.run_in_thread() as url:
        job_id = make_job(tmp_path, url, 2_000, batch_size=10)
        app = HostApp(lambda: SendMonitorScreen(job_id, target=target(url, tmp_path, 10), show_clock=False))
        async with app.run_test(size=(100, 30)) as pilot:
            screen = monitor_of(app)
            await wait_for(pilot, lambda: len(screen.query_one(SendLog).entries) >= 2)
            await pilot.press("ctrl+q")
            assert isinstance(app.screen, ConfirmDialog)
            await pilot.press("escape")
            assert app.is_running and screen.state.running
            await pilot.press("ctrl+q")
            await pilot.press("y")
            await wait_for(pilot, lambda: not app.is_running, timeout=15)
    with Journal(tmp_path) as journal:
        job = journal.job(job_id)
    assert job.state == "interrupted"
    assert job.pending > 0 and job.counts.get("sending", 0) == 0


async def test_filter_and_line_details_on_a_replay(tmp_path: Path) -> None:
    from tests.support.send_replay import replay_events

    app = HostApp(lambda: SendMonitorScreen("20250101-120000-abcd", autostart=False, show_clock=False))
    async with app.run_test(size=(120, 36)) as pilot:
        screen = monitor_of(app)
        screen.feed(replay_events())
        screen.flush_events()
        log = screen.query_one(SendLog)
        everything = len(log.shown)
        await pilot.press("f")
        assert log.log_filter == "problems"
        assert 0 < len(log.shown) < everything and all(e.is_problem for e in log.shown)
        await pilot.press("f")
        assert log.log_filter == "unknown" and all(e.outcome == "unknown" for e in log.shown)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, EntryDialog)
        assert app.screen.entry.outcome == "unknown"
        await pilot.press("escape")
        await pilot.press("f")
        assert log.log_filter == "all" and len(log.shown) == everything


async def test_the_log_stays_bounded() -> None:
    from cams_tui.ui.widgets.send_log import LogEntry

    app = HostApp(lambda: SendMonitorScreen("x", autostart=False, show_clock=False))
    async with app.run_test(size=(80, 24)) as pilot:
        log = monitor_of(app).query_one(SendLog)
        log.max_entries = 1_000
        entries = [
            LogEntry("x", i, 1, "ok", 200, "OK", None, f"r{i}", "g", 1, 1.0, time=1e9 + i) for i in range(2_500)
        ]
        for start in range(0, 2_500, 500):
            log.add_entries(entries[start : start + 500])
        await pilot.pause()
        assert len(log.entries) <= 1_000
        assert log.entries[-1].index == 2_499
        assert log.selected is not None and log.selected.index == 2_499  # still following


@pytest.mark.parametrize("spec", ["unsubscribed=1"])
async def test_product_unsubscribed_is_fatal_with_advice(tmp_path: Path, spec: str) -> None:
    simulator = Simulator(SimulatorConfig(rate=100, seed=5, faults=Faults.parse(spec)))
    with simulator.run_in_thread() as url:
        job_id = make_job(tmp_path, url, 200, batch_size=100)
        app = HostApp(lambda: SendMonitorScreen(job_id, target=target(url, tmp_path, 100), show_clock=False))
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, showing(app, FatalDialog, "#close"))
            assert "Product.Unsubscript" in str(app.screen.query_one(".title").render())
            await pilot.press("escape")
            await asyncio.sleep(0)
            assert monitor_of(app).check_action("resume_job", ()) is True


async def test_a_send_looks_its_own_unknowns_up_in_the_background(tmp_path: Path) -> None:
    from cams_tui.engine.reconcile import ReconcileSettings

    # Every lost answer here came after acceptance: the lookup finds each batch listed.
    faults = Faults.parse("drop=0.2,seed=3")
    simulator = Simulator(SimulatorConfig(rate=1000, latency_ms=2, seed=5, faults=faults))
    with simulator.run_in_thread() as url:
        job_id = make_job(tmp_path, url, 3000, batch_size=100, cust_space_id="cams-demo-shop")
        settings = ReconcileSettings(grace_s=1, lookup_rate=50)
        send_target = dataclasses.replace(target(url, tmp_path, 1000), lookup=settings)
        app = HostApp(lambda: SendMonitorScreen(job_id, target=send_target, show_clock=False))
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_for(pilot, finished(app), timeout=60)
            await pilot.pause(0.2)
            screen = monitor_of(app)
            done = screen.state.done
            assert done is not None and (done.state, done.ok, done.unknown) == ("done", 3000, 0)
            found = int(screen.state.lookup.split("lookup: ")[1].split(" recipients")[0].replace(",", ""))
            assert found >= 100, screen.state.lookup  # some batches were unknown, and were found
            assert "found accepted" in label_text(screen, "#monitor-title")
            assert screen.state.batches["unknown"] == 0
    recipients, _ = journal_counts(tmp_path, job_id)
    assert recipients == {"ok": 3000}
    assert len(simulator.accepted) == 3000 and max(simulator.accepted.values()) == 1
