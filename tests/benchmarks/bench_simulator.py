"""Simulator throughput and memory on a 100,000+ recipient run.

    uv run python tests/benchmarks/bench_simulator.py [--calls 120] [--rounds 20]

1. Per-call latency of a 1,000-recipient SendChatappMassMessage (body placement), against
   the simulator and against a reference: a canned server that reads the request and
   answers OK without parsing, verifying or recording anything. Interleaved rounds; the
   ratio is the simulator's cost over the bare HTTP exchange.
2. ``--calls`` mass sends of 1,000 distinct numbers, 10 in flight: wall time, the
   simulator's memory growth (tracemalloc of its own allocations is too slow at this size,
   so RSS is reported), and every number accepted exactly once.
3. ListChatappMessage after that run: by UserNumber (indexed) and a page by GroupMessageId.

Goals: simulator / reference <= 4 per call; memory growth <= 400 bytes per recipient;
a UserNumber query under 10 ms. Exits 1 when a goal is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from cams_tui.api.client import CamsClient, Placement
from cams_tui.api.credentials import Credentials
from cams_tui.api.models import ListMessagesRequest, MassMessageOptions, Page, Recipient
from cams_tui.simulator import DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, Simulator, SimulatorConfig
from cams_tui.simulator import demo_data

CREDENTIALS = Credentials(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET)
OPTIONS = MassMessageOptions(template_code=demo_data.ORDER_SHIPPED, language="en", from_=demo_data.DEMO_SERVICE_ID)
CANNED = b'{"RequestId":"R","Code":"OK","Message":"SUCCESS","GroupMessageId":"1"}'


def batch(index: int):  # type: ignore[no-untyped-def]
    return OPTIONS.with_recipients(
        [
            Recipient(to=f"63917{index * 1000 + i:07d}", template_params={"name": f"Customer {i}", "order_id": f"A-{i}"})
            for i in range(1000)
        ]
    )


@asynccontextmanager
async def canned_server() -> AsyncIterator[str]:
    """Reads each request (head and Content-Length body) and answers a fixed OK."""

    async def on_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                await reader.readexactly(length)
                writer.write(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                    + f"content-length: {len(CANNED)}\r\n\r\n".encode()
                    + CANNED
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(on_connection, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize()


async def per_call(rounds: int) -> tuple[float, float]:
    requests = [batch(900 + i) for i in range(rounds)]
    sim = Simulator(SimulatorConfig(rate=100_000, seed=1))
    sim_times: list[float] = []
    ref_times: list[float] = []
    async with sim.serve() as sim_url, canned_server() as ref_url:
        async with CamsClient(CREDENTIALS, sim_url, placement=Placement.BODY) as on_sim, CamsClient(
            CREDENTIALS, ref_url, placement=Placement.BODY
        ) as on_ref:
            for request in requests[:3]:  # warm up both paths
                await on_sim.send_mass_message(request)
                await on_ref.send_mass_message(request)
            for request in requests:
                started = time.perf_counter()
                await on_ref.send_mass_message(request)
                ref_times.append(time.perf_counter() - started)
                started = time.perf_counter()
                await on_sim.send_mass_message(request)
                sim_times.append(time.perf_counter() - started)
    return statistics.median(sim_times), statistics.median(ref_times)


async def big_run(calls: int) -> dict[str, float]:
    requests = [batch(i) for i in range(calls)]  # built first: only the simulator's growth is measured
    sim = Simulator(
        SimulatorConfig(
            rate=100_000, seed=2, delivery_delay_s=(0.0, 0.0), operation_rates={"ListChatappMessage": 100_000}
        )
    )
    before = rss_bytes()
    started = time.perf_counter()
    async with sim.serve() as url, CamsClient(CREDENTIALS, url, placement=Placement.BODY) as client:
        slots = asyncio.Semaphore(10)

        async def send(request) -> None:  # type: ignore[no-untyped-def]
            async with slots:
                await client.send_mass_message(request)

        await asyncio.gather(*(send(r) for r in requests))
        elapsed = time.perf_counter() - started
        growth = rss_bytes() - before
        recipients = sum(sim.accepted.values())
        assert recipients == calls * 1000 and set(sim.accepted.values()) == {1}, "accepted counter is wrong"

        by_number: list[float] = []
        for i in range(0, calls * 1000, max(1, calls * 1000 // 200)):
            query = ListMessagesRequest(business_number=demo_data.DEMO_SERVICE_ID, user_number=f"63917{i:07d}")
            t0 = time.perf_counter()
            reply = await client.list_messages(query)
            by_number.append(time.perf_counter() - t0)
            assert len(reply.data) == 1
        by_group: list[float] = []
        for record in sim.accepted_requests[:: max(1, calls // 50)]:
            query = ListMessagesRequest(
                business_number=demo_data.DEMO_SERVICE_ID,
                group_message_id=record.group_message_id,
                page=Page(index=10, size=100),
            )
            t0 = time.perf_counter()
            reply = await client.list_messages(query)
            by_group.append(time.perf_counter() - t0)
            assert len(reply.data) == 100
    return {
        "recipients": recipients,
        "elapsed_s": elapsed,
        "growth_bytes": growth,
        "by_number_ms": statistics.median(by_number) * 1000,
        "by_group_ms": statistics.median(by_group) * 1000,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=120, help="mass sends of 1,000 in the big run")
    parser.add_argument("--rounds", type=int, default=20, help="interleaved rounds of the per-call comparison")
    args = parser.parse_args()

    sim_s, ref_s = asyncio.run(per_call(args.rounds))
    ratio = sim_s / ref_s
    print(f"per 1,000-recipient call  simulator {sim_s * 1000:7.1f} ms  reference {ref_s * 1000:7.1f} ms  ratio {ratio:.2f}")

    run = asyncio.run(big_run(args.calls))
    per_recipient = run["growth_bytes"] / run["recipients"]
    print(
        f"big run  {run['recipients']:,.0f} recipients in {run['elapsed_s']:.1f} s "
        f"({run['recipients'] / run['elapsed_s']:,.0f}/s, the account's ceiling is 10,000/s)"
    )
    print(f"memory   +{run['growth_bytes'] / 1e6:.1f} MB RSS, {per_recipient:.0f} bytes per recipient")
    print(f"listing  median by UserNumber {run['by_number_ms']:.2f} ms, page by GroupMessageId {run['by_group_ms']:.2f} ms")

    failures = []
    if ratio > 4:
        failures.append(f"simulator/reference {ratio:.2f} > 4")
    if per_recipient > 400:
        failures.append(f"{per_recipient:.0f} bytes per recipient > 400")
    if run["by_number_ms"] > 10:
        failures.append(f"UserNumber query {run['by_number_ms']:.2f} ms > 10")
    for failure in failures:
        print("MISSED:", failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
