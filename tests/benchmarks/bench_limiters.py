"""The account limiters: what one permit costs, and what N concurrent senders get.

    uv run python tests/benchmarks/bench_limiters.py [--permits 250] [--batches 20] [--senders 1,2,3,5]

1. The cost of one permit, per limiter: ``process`` (the in-memory limiter's acquire, at a
   rate that never waits), ``host`` (one reservation step in the SQLite file) and
   ``redis`` (one Lua step on a real redis-server on 127.0.0.1). The shared stores are
   timed at 50 starts/s, sleeping until each reserved start, so their state is the one a
   real send has. Median and p99, in milliseconds.
2. N concurrent `cams-tui send` processes (``--batches`` batches each) through one
   account against a strict 10/s simulator (200 ms latency), with the host limiter and with
   Redis (the N processes spread over two data dirs): accepted calls/s together (first
   to last acceptance) against the ceiling, and the throttled share.

Goals: every shared permit under 5 ms at p99; ≥ 9.5 accepted calls/s and ≤ 1 % throttled
for every N; every recipient exactly once. Exits 1 when a goal is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from cams_tui.engine.limiters.host import HostStore  # noqa: E402
from cams_tui.engine.limiters.redis import RedisStore  # noqa: E402
from cams_tui.engine.limiters.shared import Store, new_sender_id  # noqa: E402
from cams_tui.engine.limiters.window import Pacing  # noqa: E402
from cams_tui.engine.ratelimit import RateLimiter  # noqa: E402
from cams_tui.simulator import SimulatorConfig  # noqa: E402
from tests.support.limiters import (  # noqa: E402
    LoggingSimulator,
    accepted_rate,
    child_env,
    finish,
    redis_server,
    start_send,
    write_campaign,
    write_config,
)

BATCH = 10


def _ms(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"median {statistics.median(ordered) * 1000:.3f} ms, p99 {p99 * 1000:.3f} ms"


async def _process_permits(count: int) -> list[float]:
    limiter = RateLimiter(1e9, cold_margin_s=0)
    samples = []
    for _ in range(count):
        begun = time.perf_counter()
        permit = await limiter.acquire()
        permit.started()
        samples.append(time.perf_counter() - begun)
    return samples


async def _store_permits(store: Store, count: int) -> list[float]:
    pacing = Pacing(50, 0.5, 0.01, 0.03)
    sender = new_sender_id()
    samples = []
    for _ in range(count):
        begun = time.perf_counter()
        reservation = await store.reserve(sender, pacing)
        samples.append(time.perf_counter() - begun)
        await asyncio.sleep(reservation.wait_s)
    await store.aclose()
    return samples


def _concurrent(folder: Path, limiter: str, senders: int, batches: int, data_dirs: int) -> tuple[float, int, int, bool]:
    sim = LoggingSimulator(SimulatorConfig(rate=10, latency_ms=200, seed=senders))
    folder.mkdir(parents=True, exist_ok=True)
    config = write_config(folder / f"config-{senders}.toml", limiter)
    with sim.run_in_thread(port=0) as url:
        processes = []
        for number in range(senders):
            campaign = write_campaign(folder / f"c{senders}-{number}", first=number * 100_000, count=batches * BATCH)
            data = folder / f"data-{senders}-{number % data_dirs}"
            processes.append(start_send(campaign, url, child_env(config, data), batch_size=BATCH))
        runs = [finish(process, timeout=300) for process in processes]
    once = all(run.code == 0 for run in runs) and len(sim.accepted) == senders * batches * BATCH
    once = once and set(sim.accepted.values()) == {1}
    return accepted_rate(sim), sim.throttled, len(sim.arrivals), once


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--permits", type=int, default=250)
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--senders", default="1,2,3,5")
    args = parser.parse_args()
    failed = False
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        with redis_server(folder / "redis") as redis:
            print("cost of one permit:")
            print(f"  process  {_ms(asyncio.run(_process_permits(args.permits * 4)))}")
            for name, store in (
                ("host", HostStore(folder / "bench-host", "bench", "SendChatappMassMessage")),
                ("redis", RedisStore(redis.url, "bench", "SendChatappMassMessage")),
            ):
                samples = asyncio.run(_store_permits(store, args.permits))
                p99 = sorted(samples)[int(len(samples) * 0.99) - 1]
                failed |= p99 > 0.005
                print(f"  {name:<8} {_ms(samples)}")
            print("concurrent senders, one account, strict 10 calls/s:")
            for limiter, label, dirs in (("host", "host", 1), (redis.url, "redis", 2)):
                for senders in (int(n) for n in args.senders.split(",")):
                    rate, throttled, calls, once = _concurrent(folder / label, limiter, senders, args.batches, dirs)
                    share = throttled / max(calls, 1)
                    failed |= rate < 9.5 or share > 0.01 or not once
                    print(
                        f"  {label:<6} {senders} sender(s): {rate:.2f} accepted calls/s of 10 "
                        f"({rate / 10:.0%}), throttled {throttled}/{calls}, exactly once: {once}"
                    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
