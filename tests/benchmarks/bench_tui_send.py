"""A 200,000-recipient send from the TUI against the same send from the command line.

    uv run python tests/benchmarks/bench_tui_send.py [--recipients 200000] [--rounds 2]

Each run gets a fresh simulator in its own process (strict 10 calls/s, 250 ms latency, as
``bench_throughput.py``) and a fresh journal holding the same job. In each round:

* ``headless``: ``cams-tui resume JOB --yes`` as a process;
* ``tui``: the send monitor under Pilot (120×36), started on the job, in this process: the
  engine runs in its thread while the UI draws its counters and log.

Measured by the simulator: accepted SendChatappMassMessage calls per second, from its first
to its last acceptance. Goal: the TUI's median within 3 % of headless's.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench_throughput import RATE, SimulatorProcess, _server_calls_per_s  # noqa: E402

from cams_tui.api.client import Placement  # noqa: E402
from cams_tui.api.credentials import Credentials  # noqa: E402
from cams_tui.api.models import MassMessageOptions  # noqa: E402
from cams_tui.engine.journal import Journal  # noqa: E402
from cams_tui.engine.planning import pack_batches, sender_item  # noqa: E402
from cams_tui.simulator import DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET  # noqa: E402
from cams_tui.simulator.demo_data import DEMO_CUST_SPACE_ID, DEMO_SERVICE_ID, ORDER_SHIPPED  # noqa: E402

GOAL = 0.03
THROTTLED: dict[str, list[int]] = {"headless": [], "tui": []}


def make_job(data_dir: Path, endpoint: str, recipients: int) -> str:
    options = MassMessageOptions(
        template_code=ORDER_SHIPPED, language="en", From=DEMO_SERVICE_ID, cust_space_id=DEMO_CUST_SPACE_ID
    )
    items = (sender_item(f"63917{i:07d}", {"name": "Ann", "order_id": str(i)}) for i in range(recipients))
    with Journal(data_dir) as journal:
        return journal.create_job(
            options=options, params={}, batches=pack_batches(items), endpoint=endpoint, placement=Placement.BODY
        )


def run_headless(url: str, data_dir: Path, job_id: str) -> None:
    env = {
        **os.environ,
        "ALIBABA_CLOUD_ACCESS_KEY_ID": DEMO_ACCESS_KEY_ID,
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": DEMO_ACCESS_KEY_SECRET,
        "CAMS_TUI_CONFIG": str(data_dir / "no-config.toml"),
    }
    subprocess.run(
        [sys.executable, "-m", "cams_tui", "resume", job_id, "--yes", "--no-reconcile", "--endpoint", url,
         "--data-dir", str(data_dir), "--rate", str(RATE)],
        check=False, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


async def run_tui(url: str, data_dir: Path, job_id: str) -> None:
    from textual.app import App

    from cams_tui.ui.send_target import SendTarget
    from cams_tui.ui.screens.send_monitor import SendMonitorScreen

    target = SendTarget(url, Credentials(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET), Placement.BODY, RATE, data_dir)
    screen = SendMonitorScreen(job_id, target=target, autostart=True, show_clock=False)

    class Host(App[None]):
        # An AppHost (cams_tui.ui.app_access) without a connection or a composition.
        connection = None
        state = None

        def on_mount(self) -> None:
            self.push_screen(screen)

    app = Host()
    async with app.run_test(size=(120, 36)) as pilot:
        while screen.run is not None or screen.state.done is None:
            await asyncio.sleep(0.1)
        await pilot.pause()


def one(front: str, recipients: int) -> float:
    simulator = SimulatorProcess()
    with tempfile.TemporaryDirectory() as tmp, simulator as url:
        data_dir = Path(tmp)
        job_id = make_job(data_dir, url, recipients)
        if front == "headless":
            run_headless(url, data_dir, job_id)
        else:
            asyncio.run(run_tui(url, data_dir, job_id))
        record = simulator.report()
    if record["numbers"] != recipients or record["times_accepted"] != {1: recipients}:
        raise SystemExit(f"{front}: not every recipient accepted exactly once ({record['numbers']:,})")
    mass = record["stats"].get("SendChatappMassMessage", {})
    THROTTLED[front].append(mass.get("System.LimitControl", 0))
    return _server_calls_per_s(record["accept_times"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipients", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    rates: dict[str, list[float]] = {"headless": [], "tui": []}
    for round_ in range(args.rounds):
        order = ("headless", "tui") if round_ % 2 == 0 else ("tui", "headless")
        for front in order:
            rates[front].append(one(front, args.recipients))
    medians = {front: statistics.median(values) for front, values in rates.items()}
    for front, values in rates.items():
        print(
            f"{front:8} median {medians[front]:.2f} accepted calls/s ({', '.join(f'{v:.2f}' for v in values)}); "
            f"throttled answers {THROTTLED[front]}"
        )
    gap = 1 - medians["tui"] / medians["headless"]
    print(f"tui / headless = {medians['tui'] / medians['headless']:.3f} (goal: within {GOAL:.0%})")
    return 0 if abs(gap) <= GOAL or medians["tui"] >= medians["headless"] else 1


if __name__ == "__main__":
    sys.exit(main())
