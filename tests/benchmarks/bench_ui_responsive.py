"""The TUI stays responsive while a job is sent at full rate.

A job of 100,000 recipients (100 batches of 1,000) is sent by the send monitor to the
simulator, served from its own thread at the account's 10 calls/s with a realistic latency
(150-300 ms, the simulator's ``latency_ms`` plus its work). Meanwhile a probe thread, as a
terminal's input thread would, hands a key press to the app's event loop every
``--every`` ms, stamped just before; the app's priority binding for that key records how
long the press waited. The reference is the same probe on the same screen with nothing
being sent, measured in the same run.

Run:   uv run python tests/benchmarks/bench_ui_responsive.py [--recipients 100000] [--every 50]
Goal:  worst key → handler latency under 100 ms during the send.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import threading
import time
from pathlib import Path

from textual import events
from textual.app import App
from textual.binding import Binding

from cams_tui.api.client import Placement
from cams_tui.api.credentials import Credentials
from cams_tui.api.models import MassMessageOptions
from cams_tui.engine.journal import Journal
from cams_tui.engine.planning import pack_batches, sender_item
from cams_tui.simulator import DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, Simulator, SimulatorConfig
from cams_tui.simulator.demo_data import DEMO_SERVICE_ID, ORDER_SHIPPED
from cams_tui.ui.send_target import SendTarget
from cams_tui.ui.screens.send_monitor import SendMonitorScreen
from cams_tui.ui.widgets.send_log import SendLog

PROBE_KEY = "f12"


class ProbeApp(App[None]):
    """Hosts the send monitor and times each probe key from its stamp to its handler."""

    BINDINGS = [Binding(PROBE_KEY, "probe", "Probe", priority=True, show=False)]
    # An AppHost (cams_tui.ui.app_access) without a connection or a composition, as the
    # tests' hosts: the monitor is given its target.
    connection = None
    state = None

    def __init__(self, screen: SendMonitorScreen) -> None:
        super().__init__()
        self._monitor = screen
        self.sent_at: list[float] = []
        self.latencies_ms: list[float] = []

    def on_mount(self) -> None:
        self.push_screen(self._monitor)

    def action_probe(self) -> None:
        """The handler: how long the oldest outstanding press waited."""
        if self.sent_at:
            self.latencies_ms.append((time.perf_counter() - self.sent_at.pop(0)) * 1000)


def probe(app: ProbeApp, loop: asyncio.AbstractEventLoop, every_s: float, stop: threading.Event) -> None:
    """Press the probe key every ``every_s`` from this thread, as a terminal driver would."""
    while not stop.wait(every_s):
        app.sent_at.append(time.perf_counter())
        loop.call_soon_threadsafe(app.post_message, events.Key(PROBE_KEY, None))


def make_job(data_dir: Path, endpoint: str, recipients: int) -> str:
    """A journaled job of ``recipients`` numbers in batches of 1,000."""
    options = MassMessageOptions(template_code=ORDER_SHIPPED, language="en", From=DEMO_SERVICE_ID)
    items = (sender_item(f"63917{i:07d}", {"name": "Ann", "order_id": str(i)}) for i in range(recipients))
    with Journal(data_dir) as journal:
        return journal.create_job(options=options, params={}, batches=pack_batches(items), endpoint=endpoint)


def summary(name: str, values: list[float]) -> str:
    """Median, p99 and worst of a list of latencies."""
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (
        f"{name:<22} n={len(values):>5}  median {statistics.median(values):6.2f} ms  "
        f"p99 {p99:6.2f} ms  worst {max(values):6.2f} ms"
    )


async def measure(
    target: SendTarget, job_id: str, *, send: bool, seconds: float | None, every_s: float
) -> tuple[list[float], SendMonitorScreen, int]:
    """Probe latencies on the monitor, idle or while it sends; with the screen and its log size."""
    screen = SendMonitorScreen(job_id, target=target, autostart=send, show_clock=False)
    app = ProbeApp(screen)
    stop = threading.Event()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause(0.3)
        thread = threading.Thread(target=probe, args=(app, asyncio.get_running_loop(), every_s, stop), daemon=True)
        thread.start()
        if send:
            while screen.run is not None or screen.state.done is None:
                await asyncio.sleep(0.1)
        else:
            await asyncio.sleep(seconds or 3.0)
        stop.set()
        thread.join()
        await pilot.pause(0.2)
        lines = len(screen.query_one(SendLog).entries)
    return app.latencies_ms, screen, lines


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--every", type=float, default=50.0, help="ms between probe presses")
    parser.add_argument("--latency-ms", type=int, default=200)
    args = parser.parse_args()
    every_s = args.every / 1000
    data_dir = Path(tempfile.mkdtemp(prefix="bench-ui-"))
    simulator = Simulator(SimulatorConfig(rate=10, latency_ms=args.latency_ms, seed=1))
    with simulator.run_in_thread() as url:
        target = SendTarget(
            url, Credentials(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET), Placement.BODY, 10.0, data_dir
        )
        job_id = make_job(data_dir, url, args.recipients)
        idle, _, _ = await measure(target, job_id, send=False, seconds=3.0, every_s=every_s)
        busy, screen, lines = await measure(target, job_id, send=True, seconds=None, every_s=every_s)
    state = screen.state
    print(
        f"sent {state.settled:,} recipients ({state.recipients['ok']:,} ok) in {state.elapsed_s:.1f} s "
        f"at 10 calls/s, simulator latency {args.latency_ms} ms; {lines} log lines"
    )
    print(summary("reference (idle)", idle))
    print(summary("during the send", busy))
    ratio = statistics.median(busy) / statistics.median(idle)
    print(f"median ratio send/idle {ratio:.2f}; worst during the send {max(busy):.1f} ms (goal < 100 ms)")


if __name__ == "__main__":
    asyncio.run(main())
