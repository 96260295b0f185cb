"""A send monitor in a real terminal, handling stop signals as cams-tui's app does: run as
``python -m tests.support.signalled_send DATA_DIR`` in a pseudo-terminal, it sends a job of
20,000 recipients to a simulator of its own and exits with the app's return code."""

from __future__ import annotations

import sys
from pathlib import Path

from cams_tui.simulator import Simulator, SimulatorConfig
from cams_tui.ui.app import CamsApp
from cams_tui.ui.screens.send_monitor import SendMonitorScreen
from tests.support.ui_host import HostApp, make_job, target


class SignalledApp(HostApp):
    """The send monitor in an app that handles stop signals as cams-tui's app does."""

    _catch_stop_signals = CamsApp._catch_stop_signals
    _release_stop_signals = CamsApp._release_stop_signals
    stop_for_signal = CamsApp.stop_for_signal

    def on_mount(self) -> None:
        # HostApp's own on_mount (which pushes the monitor) runs too.
        self._caught_signals: list[tuple[int, object]] = []
        self._quit_backstop = None
        self._catch_stop_signals()

    def on_unmount(self) -> None:
        self._release_stop_signals()


def main() -> int:
    """Send the job; the app's return code."""
    data_dir = Path(sys.argv[1])
    simulator = Simulator(SimulatorConfig(rate=10, latency_ms=50, seed=2))
    with simulator.run_in_thread() as url:
        job_id = make_job(data_dir, url, 20_000, batch_size=10)
        app = SignalledApp(lambda: SendMonitorScreen(job_id, target=target(url, data_dir, 10), show_clock=False))
        app.run()
    return app.return_code or 0


if __name__ == "__main__":
    # Guarded: the engine's child process is spawned and imports this module again.
    sys.exit(main())
