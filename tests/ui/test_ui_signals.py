"""SIGTERM and SIGHUP in the TUI: a send stops gracefully (requests in flight answered, the
job resumable) and the app quits with 130; an idle app quits with 130 and restores the
terminal, as a real process in a pseudo-terminal shows."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from cams_tui.engine.journal import Journal
from cams_tui.simulator import Simulator, SimulatorConfig
from cams_tui.ui.app import CamsApp
from cams_tui.ui.screens.send_monitor import SendMonitorScreen
from cams_tui.ui.widgets.send_log import SendLog
from tests.support.ui_host import HostApp, make_job, monitor_of, target, wait_for


class SignalledApp(HostApp):
    """The send monitor in an app that handles stop signals as cams-tui's app does."""

    _catch_stop_signals = CamsApp._catch_stop_signals
    _release_stop_signals = CamsApp._release_stop_signals
    stop_for_signal = CamsApp.stop_for_signal

    def on_mount(self) -> None:
        # HostApp's own on_mount (which pushes the monitor) runs too: Textual calls the
        # handler of every class of the app; calling it here as well pushed two monitors.
        self._caught_signals: list[tuple[int, object]] = []
        self._quit_backstop = None
        self._catch_stop_signals()

    def on_unmount(self) -> None:
        self._release_stop_signals()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["TERM", "HUP"])
async def test_a_stop_signal_mid_send_stops_it_gracefully_and_quits_with_130(
    tmp_path: Path, signum: signal.Signals
) -> None:
    simulator = Simulator(SimulatorConfig(rate=10, latency_ms=150, seed=2))
    with simulator.run_in_thread() as url:
        job_id = make_job(tmp_path, url, 2_000, batch_size=10)
        app = SignalledApp(lambda: SendMonitorScreen(job_id, target=target(url, tmp_path, 10), show_clock=False))
        async with app.run_test(size=(100, 30)) as pilot:
            screen = monitor_of(app)
            await wait_for(pilot, lambda: len(screen.query_one(SendLog).entries) >= 3)
            os.kill(os.getpid(), signum)
            await wait_for(pilot, lambda: not app.is_running, timeout=20)
        assert app.return_code == 130
        with Journal(tmp_path) as journal:
            job = journal.job(job_id)
        # Waited for the requests in flight: none left sending or unknown; resumable.
        assert job.state == "interrupted"
        assert job.pending > 0 and job.counts.get("sending", 0) == 0 and job.counts.get("unknown", 0) == 0
    assert signal.getsignal(signum) is not None  # the handler was handed back
    assert set(Counter(simulator.accepted.values())) <= {1}


def test_sigterm_to_an_idle_tui_quits_with_130(tmp_path: Path) -> None:
    env = {**os.environ, "CAMS_TUI_DATA_DIR": str(tmp_path / "data"), "CAMS_TUI_CONFIG": str(tmp_path / "none.toml"),
           "TERM": "xterm-256color", "COLUMNS": "100", "LINES": "30"}
    for name in ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "CAMS_TUI_ENDPOINT"):
        env.pop(name, None)
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "cams_tui", "--demo"], stdin=follower, stdout=follower, stderr=follower,
        env=env, start_new_session=True,
    )
    os.close(follower)
    output = bytearray()
    try:
        deadline = time.monotonic() + 30
        # Wait until the app has drawn its screen (it is then running its event loop).
        while b"Template" not in output and time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 0.2)
            if ready:
                try:
                    output += os.read(leader, 65536)
                except OSError:
                    break
        assert b"Template" in output, output[-500:]
        time.sleep(0.5)
        process.send_signal(signal.SIGTERM)
        end = time.monotonic() + 20
        while process.poll() is None and time.monotonic() < end:
            ready, _, _ = select.select([leader], [], [], 0.2)
            if ready:
                try:
                    output += os.read(leader, 65536)
                except OSError:
                    break
        assert process.wait(timeout=5) == 130
    finally:
        if process.poll() is None:
            process.kill()
        os.close(leader)
    assert b"Traceback" not in output


def test_a_closed_terminal_mid_send_ends_the_process_with_the_job_resumable(tmp_path: Path) -> None:
    """A closed terminal (or tmux session) hangs up: SIGHUP and SIGCONT to the process,
    whose terminal no longer answers. The app stops the send and quits rather than
    restarting its screen on the dead terminal and blocking there for good."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "80", "LINES": "24"}
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.support.signalled_send", str(data_dir)],
        stdin=follower, stdout=follower, stderr=follower, env=env, start_new_session=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    os.close(follower)
    output = bytearray()
    try:
        deadline = time.monotonic() + 60
        while b"#0003" not in output and time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 0.2)
            if ready:
                try:
                    output += os.read(leader, 65536)
                except OSError:
                    break
        assert b"#0003" in output, output[-500:]
        os.close(leader)  # the terminal goes away; the kernel then signals its process group
        os.killpg(process.pid, signal.SIGHUP)
        os.killpg(process.pid, signal.SIGCONT)
        # Well before the backstop's QUIT_GRACE_S: the app quits on its own.
        assert process.wait(timeout=15) == 130
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    with Journal(data_dir) as journal:
        (job,) = journal.jobs()
    assert job.state == "interrupted"
    assert job.pending > 0 and job.counts.get("sending", 0) == 0
    assert sum(job.counts.values()) == 20_000
