"""Client CPU per 1,000-recipient SendChatappMassMessage: ours against the official SDK.

Each request starts from the same stored SenderList JSON (what the engine's journal holds
for a batch) and is built into the client's request model, serialized, signed and sent over real HTTP to a tiny server on 127.0.0.1 that runs in a separate
process, so ``time.process_time()`` counts the client's CPU only. Three variants, run in
interleaved rounds so that machine noise hits them alike:

* ``sdk``        the official SDK's ``send_chatapp_mass_message_with_options`` (1,000 recipients,
                 everything in a ~130 KB query string, as the SDK always does);
* ``ours body``  ``CamsClient.send_mass_message`` with ``Placement.BODY`` (1,000 recipients);
* ``ours query`` ``Placement.QUERY`` with the largest batch whose URL fits, normalized to
                 1,000 recipients.

Run:  uv run python tests/benchmarks/bench_client_cpu.py [--rounds 30] [--warmup 5] [--profile]
Goal: ours / SDK <= 0.25 in CPU per 1,000 recipients.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import pstats
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable

from cams_tui.api.client import CamsClient, Placement, RequestTooLarge
from cams_tui.api.credentials import Credentials
from cams_tui.api.models import MassMessageOptions, SendMassMessageRequest, compact_json

GOAL_RATIO = 0.25
FULL_BATCH = 1000
ACCESS_KEY_ID = "LTAI5tBenchmarkKeyId"
ACCESS_KEY_SECRET = "benchmark-secret"
ANSWER = b'{"RequestId":"x","Code":"OK","GroupMessageId":"1"}'


# ------------------------------------------------------------------------- the server

SERVER_CODE = r"""
import asyncio, sys

ANSWER = %r
RESPONSE = (
    b"HTTP/1.1 200 OK\r\ncontent-type: application/json;charset=utf-8\r\n"
    b"content-length: " + str(len(ANSWER)).encode() + b"\r\n\r\n" + ANSWER
)

async def on_connection(reader, writer):
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if length:
                await reader.readexactly(length)
            writer.write(RESPONSE)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()

async def main():
    # The SDK puts a 1,000-recipient SenderList in a ~130 KB request line: allow 8 MB.
    server = await asyncio.start_server(on_connection, "127.0.0.1", 0, limit=8 * 1024 * 1024)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()

asyncio.run(main())
""" % (ANSWER,)


def start_server() -> tuple[subprocess.Popen[bytes], int]:
    """The answering server in its own process, and the port it listens on."""
    process = subprocess.Popen([sys.executable, "-c", SERVER_CODE], stdout=subprocess.PIPE)
    assert process.stdout is not None
    port = int(process.stdout.readline())
    return process, port


# ---------------------------------------------------------------------- the workload

OPTIONS = dict(
    template_code="744c4b5c79c9432497a075bdfca36bf5",
    language="en",
    from_="12345",
    task_id="bench-task",
    ttl=86_400,
    label="promotion",
    tag="spring sale",
)


def stored_batch(count: int) -> str:
    """A batch's SenderList as the journal stores it (compact JSON, the SDK's key order)."""
    return compact_json(
        [
            {"TemplateParams": {"name": f"Customer {i}", "code": f"PROMO-{i:04d}"}, "To": str(6591000000 + i)}
            for i in range(count)
        ]
    )


def ours_request(batch: str) -> SendMassMessageRequest:
    """What the engine's sender does for each batch."""
    return MassMessageOptions(**OPTIONS).with_recipients(json.loads(batch))  # type: ignore[arg-type]


def make_sdk_sender(port: int, batch: str) -> Callable[[], None]:
    from alibabacloud_cams20200606 import models as sdk_models
    from alibabacloud_cams20200606.client import Client
    from alibabacloud_tea_openapi.models import Config
    from darabonba.runtime import RuntimeOptions

    client = Client(
        Config(
            access_key_id=ACCESS_KEY_ID,
            access_key_secret=ACCESS_KEY_SECRET,
            endpoint=f"127.0.0.1:{port}",
            protocol="http",
        )
    )
    runtime = RuntimeOptions()

    def send() -> None:
        request = sdk_models.SendChatappMassMessageRequest(
            channel_type="viber",
            **OPTIONS,  # type: ignore[arg-type]
            sender_list=[
                sdk_models.SendChatappMassMessageRequestSenderList(
                    to=item["To"], template_params=item.get("TemplateParams")
                )
                for item in json.loads(batch)
            ],
        )
        response = client.send_chatapp_mass_message_with_options(request, runtime)
        assert response.body.code == "OK"

    return send


def make_ours_sender(client: CamsClient, batch: str) -> Callable[[], Awaitable[None]]:
    async def send() -> None:
        response = await client.send_mass_message(ours_request(batch))
        assert response.code == "OK"

    return send


def largest_query_batch(client: CamsClient) -> int:
    """The most recipients of this workload whose request still fits in a URL."""
    low, high = 1, FULL_BATCH
    while low < high:
        middle = (low + high + 1) // 2
        try:
            client.build(ours_request(stored_batch(middle)))
        except RequestTooLarge:
            high = middle - 1
        else:
            low = middle
    return low


# ------------------------------------------------------------------------ measuring


class Variant:
    """One way of sending, its batch size and its per-request measurements."""

    def __init__(self, name: str, recipients: int, send: Callable[[], object]) -> None:
        self.name = name
        self.recipients = recipients
        self.send = send
        self.cpu_ms: list[float] = []
        self.wall_ms: list[float] = []

    async def once(self, record: bool) -> None:
        cpu, wall = time.process_time(), time.perf_counter()
        result = self.send()
        if asyncio.iscoroutine(result):
            await result
        if record:
            self.cpu_ms.append((time.process_time() - cpu) * 1000)
            self.wall_ms.append((time.perf_counter() - wall) * 1000)

    @property
    def cpu_per_thousand(self) -> float:
        return statistics.median(self.cpu_ms) * FULL_BATCH / self.recipients


async def run(rounds: int, warmup: int, profile: bool) -> int:
    server, port = start_server()
    try:
        endpoint = f"http://127.0.0.1:{port}"
        credentials = Credentials(ACCESS_KEY_ID, ACCESS_KEY_SECRET)
        async with CamsClient(credentials, endpoint, placement=Placement.BODY) as body_client, CamsClient(
            credentials, endpoint, placement=Placement.QUERY
        ) as query_client:
            query_size = largest_query_batch(query_client)
            full = stored_batch(FULL_BATCH)
            variants = [
                Variant("sdk (query, 1,000)", FULL_BATCH, make_sdk_sender(port, full)),
                Variant("ours body (1,000)", FULL_BATCH, make_ours_sender(body_client, full)),
                Variant(f"ours query ({query_size:,})", query_size, make_ours_sender(query_client, stored_batch(query_size))),
            ]
            for _ in range(warmup):
                for variant in variants:
                    await variant.once(record=False)
            for _ in range(rounds):
                for variant in variants:
                    await variant.once(record=True)
            if profile:
                await profile_ours(variants[1])
    finally:
        server.terminate()
        server.wait(timeout=5)
    return report(variants, rounds)


async def profile_ours(variant: Variant) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(10):
        await variant.once(record=False)
    profiler.disable()
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(25)
    print(f"\ncProfile of {variant.name}, 10 requests, by own time:\n{text.getvalue()}")


def report(variants: list[Variant], rounds: int) -> int:
    reference = variants[0].cpu_per_thousand
    print(f"\nClient CPU per request, median of {rounds} interleaved rounds (server in another process)\n")
    header = f"{'variant':<22} {'recipients':>10} {'CPU ms/req':>11} {'CPU ms/1k':>10} {'ratio':>7} {'wall ms/req':>12}"
    print(header)
    print("-" * len(header))
    for variant in variants:
        print(
            f"{variant.name:<22} {variant.recipients:>10,} {statistics.median(variant.cpu_ms):>11.2f} "
            f"{variant.cpu_per_thousand:>10.2f} {variant.cpu_per_thousand / reference:>7.3f} "
            f"{statistics.median(variant.wall_ms):>12.2f}"
        )
    worst = max(v.cpu_per_thousand / reference for v in variants[1:])
    verdict = "meets" if worst <= GOAL_RATIO else "MISSES"
    print(f"\nratio = CPU per 1,000 recipients / SDK's; goal <= {GOAL_RATIO}: {verdict} (worst {worst:.3f})")
    return 0 if worst <= GOAL_RATIO else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30, help="measured requests per variant")
    parser.add_argument("--warmup", type=int, default=5, help="unmeasured requests per variant first")
    parser.add_argument("--profile", action="store_true", help="cProfile our body-placement path")
    args = parser.parse_args()
    sys.exit(asyncio.run(run(args.rounds, args.warmup, args.profile)))


if __name__ == "__main__":
    main()
