"""Send-engine throughput against the simulator's strict 10 calls/s, and the SDK's plain loop.

    uv run python tests/benchmarks/bench_throughput.py [--recipients 100000] [--repeats 3] [--sdk-calls 20]

The simulator runs in its own process (so its timestamps are not delayed by this process's
GIL), with 250 ms latency and its strict sliding-window limit of 10 SendChatappMassMessage
calls per second. In the same run:

1. the engine: a journaled job of ``--recipients`` (1,000 per request), sent by
   :class:`cams_tui.engine.sender.Sender` under the :class:`RateLimiter` at 10/s. Reported:
   accepted calls/s as the server saw them (calls between its first and last acceptance),
   the same over wall time (warm-up and the last answer's latency included), throttled
   answers, wall time, and whether every recipient was accepted exactly once;
2. the reference: the official SDK (``alibabacloud_cams20200606``), one
   ``send_chatapp_mass_message_with_options`` after another, ``--sdk-calls`` times with
   1,000 recipients each (it puts everything in the URL; the simulator takes long lines).

Goals: the engine's median accepted calls/s >= 9.8 (98 % of the ceiling), >= 3x the SDK
loop's calls/s, every recipient accepted exactly once. Exits 1 when a goal is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from cams_tui.api.client import CamsClient, Placement
from cams_tui.api.credentials import Credentials
from cams_tui.api.models import MassMessageOptions
from cams_tui.engine.journal import Journal
from cams_tui.engine.planning import plan_batches, sender_item
from cams_tui.engine.ratelimit import RateLimiter
from cams_tui.engine.sender import Sender, freeze_startup_objects
from cams_tui.simulator import DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, Simulator, SimulatorConfig
from cams_tui.simulator import demo_data

LATENCY_MS = 250
RATE = 10
GOAL_CALLS_PER_S = 9.8
GOAL_RATIO = 3.0
OPTIONS = MassMessageOptions(template_code=demo_data.ORDER_SHIPPED, language="en", From=demo_data.DEMO_SERVICE_ID)


# ------------------------------------------------------------------ the simulator process


def _serve(conn: Connection) -> None:
    sim = Simulator(SimulatorConfig(rate=RATE, latency_ms=LATENCY_MS, seed=1))
    with sim.run_in_thread(port=0) as url:
        conn.send(url)
        conn.recv()  # "report"
        counts = Counter(sim.accepted.values())
        times = sorted(r.time for r in sim.accepted_requests)
        conn.send(
            {
                "numbers": len(sim.accepted),
                "times_accepted": dict(counts),
                "accept_times": times,
                "stats": {k: dict(v) for k, v in sim.stats.items()},
            }
        )


class SimulatorProcess:
    """A simulator in a child process; :meth:`report` ends it and returns its record."""

    def __enter__(self) -> str:
        self._conn, child = multiprocessing.Pipe()
        self._process = multiprocessing.get_context("spawn").Process(target=_serve, args=(child,), daemon=True)
        self._process.start()
        return str(self._conn.recv())

    def report(self) -> dict[str, Any]:
        self._conn.send("report")
        return dict(self._conn.recv())

    def __exit__(self, *exc_info: object) -> None:
        self._process.join(timeout=10)
        if self._process.is_alive():
            self._process.kill()


def _server_calls_per_s(times: list[float]) -> float:
    return (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0


# --------------------------------------------------------------------------- the engine


async def _engine_run(url: str, recipients: int, data: Path) -> dict[str, Any]:
    items = (sender_item(f"63917{i:07d}", {"name": "Ana", "order_id": f"A{i}"}) for i in range(recipients))
    with Journal(data) as journal:
        batches = plan_batches(items, OPTIONS, placement=Placement.BODY, max_query_length=60_000)
        job_id = journal.create_job(options=OPTIONS, params={}, batches=batches, endpoint=url)
        async with CamsClient(Credentials(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET), url) as client:
            freeze_startup_objects()  # as `cams-tui send` does
            sender = Sender(client, journal, job_id, limiter=RateLimiter(RATE))
            started = time.perf_counter()
            done = await sender.run()
            wall = time.perf_counter() - started
    return {"wall_s": wall, "ok": done.ok, "calls": done.calls, "throttled_seen": done.throttled}


def engine(recipients: int) -> dict[str, Any]:
    """One engine run against a fresh simulator."""
    simulator = SimulatorProcess()
    with tempfile.TemporaryDirectory() as tmp, simulator as url:
        result = asyncio.run(_engine_run(url, recipients, Path(tmp)))
        record = simulator.report()
    mass = record["stats"].get("SendChatappMassMessage", {})
    result.update(
        accepted_calls=mass.get("OK", 0),
        throttled=mass.get("System.LimitControl", 0),
        server_calls_per_s=_server_calls_per_s(record["accept_times"]),
        wall_calls_per_s=mass.get("OK", 0) / result["wall_s"],
        exactly_once=record["numbers"] == recipients and record["times_accepted"] == {1: recipients},
    )
    return result


# ------------------------------------------------------------------------ the SDK loop


def sdk_loop(calls: int) -> dict[str, Any]:
    """The official SDK in a plain loop: one request after another."""
    from alibabacloud_cams20200606 import models as sdk
    from alibabacloud_cams20200606.client import Client
    from alibabacloud_tea_openapi.models import Config
    from alibabacloud_tea_util.models import RuntimeOptions

    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        os.environ.pop(name, None)  # requests would send 127.0.0.1 through a proxy
    simulator = SimulatorProcess()
    with simulator as url:
        client = Client(
            Config(
                access_key_id=DEMO_ACCESS_KEY_ID,
                access_key_secret=DEMO_ACCESS_KEY_SECRET,
                endpoint=url.removeprefix("http://"),
                protocol="http",
            )
        )
        requests = [
            sdk.SendChatappMassMessageRequest(
                channel_type="viber",
                template_code=demo_data.ORDER_SHIPPED,
                language="en",
                from_=demo_data.DEMO_SERVICE_ID,
                sender_list=[
                    sdk.SendChatappMassMessageRequestSenderList(
                        to=f"63918{c * 1000 + i:07d}", template_params={"name": "Ana", "order_id": f"A{i}"}
                    )
                    for i in range(1000)
                ],
            )
            for c in range(calls)
        ]
        started = time.perf_counter()
        for request in requests:
            client.send_chatapp_mass_message_with_options(request, RuntimeOptions())
        wall = time.perf_counter() - started
        record = simulator.report()
    return {
        "wall_s": wall,
        "calls_per_s": calls / wall,
        "accepted": record["stats"].get("SendChatappMassMessage", {}).get("OK", 0),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sdk-calls", type=int, default=20)
    args = parser.parse_args()

    print(f"simulator: {LATENCY_MS} ms latency, strict {RATE} calls/s sliding window, own process")
    sdk_result = sdk_loop(args.sdk_calls)
    print(
        f"SDK loop     : {args.sdk_calls} calls x 1,000 in {sdk_result['wall_s']:.2f} s = "
        f"{sdk_result['calls_per_s']:.2f} calls/s ({sdk_result['accepted']} accepted)"
    )
    runs = []
    for repeat in range(args.repeats):
        run = engine(args.recipients)
        runs.append(run)
        print(
            f"engine run {repeat + 1}: {run['accepted_calls']} calls accepted, {run['throttled']} throttled, "
            f"{run['server_calls_per_s']:.3f} calls/s at the server, {run['wall_calls_per_s']:.3f} over "
            f"{run['wall_s']:.2f} s wall, exactly once: {run['exactly_once']}"
        )
    server = statistics.median(r["server_calls_per_s"] for r in runs)
    wall = statistics.median(r["wall_calls_per_s"] for r in runs)
    ratio = server / sdk_result["calls_per_s"]
    print(
        f"median       : {server:.3f} calls/s at the server ({server / RATE:.1%} of the ceiling, "
        f"{server * 1000:,.0f} recipients/s), {wall:.3f} calls/s over wall time, "
        f"{statistics.median(r['wall_s'] for r in runs):.2f} s wall for {args.recipients:,} recipients"
    )
    print(f"ratio        : engine / SDK loop = {ratio:.2f}x")
    missed = []
    if server < GOAL_CALLS_PER_S:
        missed.append(f"calls/s {server:.3f} < {GOAL_CALLS_PER_S}")
    if ratio < GOAL_RATIO:
        missed.append(f"ratio {ratio:.2f} < {GOAL_RATIO}")
    if not all(r["exactly_once"] for r in runs):
        missed.append("not every recipient accepted exactly once")
    print("goals        : " + ("met" if not missed else "MISSED: " + "; ".join(missed)))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
