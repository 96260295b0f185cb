"""The TUI's engine runs in a child process: events, controls and errors cross its pipe."""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from pathlib import Path

import pytest

from cams_tui.engine.events import BatchEvent, PlanEvent
from cams_tui.errors import UserError
from cams_tui.simulator import Simulator, SimulatorConfig
from cams_tui.ui.engine_run import EngineRun
from cams_tui.ui.send_target import BatchTally
from tests.support.ui_host import make_job, target


def test_a_run_sends_from_a_child_process_and_its_events_come_back(tmp_path: Path) -> None:
    simulator = Simulator(SimulatorConfig(rate=100, latency_ms=5, seed=3))
    with simulator.run_in_thread() as url:
        job_id = make_job(tmp_path, url, 1_000, batch_size=100)
        run = EngineRun(target(url, tmp_path, 100), job_id)
        children: list[int] = []

        def watch() -> None:
            while not children and worker.is_alive():
                children.extend(child.pid or 0 for child in multiprocessing.active_children())
                time.sleep(0.01)

        worker = threading.Thread(target=lambda: results.append(run.run()))
        results: list[object] = []
        worker.start()
        watch()
        worker.join(60)
    assert children and os.getpid() not in children
    done = results[0]
    assert getattr(done, "ok", None) == 1_000
    events = [event for _, event in run.drain()]
    assert isinstance(events[0], PlanEvent) and isinstance(events[1], BatchTally)
    assert sum(1 for event in events if isinstance(event, BatchEvent)) == 10
    assert sorted(set(simulator.accepted.values())) == [1]


def test_a_pause_before_the_start_holds_the_run_until_resumed(tmp_path: Path) -> None:
    simulator = Simulator(SimulatorConfig(rate=100, latency_ms=5, seed=4))
    with simulator.run_in_thread() as url:
        job_id = make_job(tmp_path, url, 500, batch_size=100)
        run = EngineRun(target(url, tmp_path, 100), job_id)
        run.pause()  # before the child exists: delivered once it does
        results: list[object] = []
        worker = threading.Thread(target=lambda: results.append(run.run()))
        worker.start()
        time.sleep(2.0)
        assert not simulator.accepted, "a paused run sent"
        run.resume()
        worker.join(60)
    assert getattr(results[0], "ok", None) == 500


def test_the_engines_error_reaches_the_caller_as_itself(tmp_path: Path) -> None:
    simulator = Simulator(SimulatorConfig(rate=100, seed=5))
    with simulator.run_in_thread() as url:
        make_job(tmp_path, url, 10)
        run = EngineRun(target(url, tmp_path, 100), "20000101-000000-dead")
        with pytest.raises(UserError) as raised:
            run.run()
    assert "20000101-000000-dead" in str(raised.value)
