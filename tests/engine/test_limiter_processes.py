"""Several `cams-tui send` processes on one account against a strict 10/s simulator.

Each process sends a campaign of its own (distinct numbers) through the same AccessKey,
started together. With the host limiter (or Redis, for processes of two "hosts", i.e. two
data dirs) they share the account's budget: together they reach the ceiling and are
almost never throttled. With process limiters each goes at 10/s on its own and the server
throttles them (the contrast). A Redis killed mid-send and started again (empty) pauses
every sender, never lets a window go over the limit, and the sends go on by themselves.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cams_tui.simulator import SimulatorConfig
from tests.support.limiters import (
    LoggingSimulator,
    RedisServer,
    SendRun,
    accepted_rate,
    busiest_window,
    child_env,
    finish,
    redis_server,
    start_send,
    write_campaign,
    write_config,
)

# Each test starts several `cams-tui send` processes (and some a redis-server) and sends for seconds.
pytestmark = pytest.mark.slow

RATE = 10
LATENCY_MS = 200
BATCH = 10
BATCHES_EACH = 30


@pytest.fixture
def simulator() -> Iterator[tuple[LoggingSimulator, str]]:
    sim = LoggingSimulator(SimulatorConfig(rate=RATE, latency_ms=LATENCY_MS, seed=7))
    with sim.run_in_thread(port=0) as url:
        yield sim, url


def _send_together(tmp_path: Path, url: str, limiter: str, data_dirs: list[str], batches: int = BATCHES_EACH) -> list[SendRun]:
    config = write_config(tmp_path / "config.toml", limiter)
    processes = []
    for number, data in enumerate(data_dirs):
        campaign = write_campaign(tmp_path / f"campaign{number}", first=number * 100_000, count=batches * BATCH)
        processes.append(start_send(campaign, url, child_env(config, tmp_path / data), batch_size=BATCH))
    return [finish(process) for process in processes]


def _check_exactly_once(sim: LoggingSimulator, runs: list[SendRun], senders: int, batches: int = BATCHES_EACH) -> None:
    for run in runs:
        assert run.code == 0, run.stderr[-2000:]
        (done,) = run.of("done")
        assert (done["state"], done["ok"], done["pending"]) == ("done", batches * BATCH, 0)
    assert len(sim.accepted) == senders * batches * BATCH
    assert set(sim.accepted.values()) == {1}


def _figures(label: str, sim: LoggingSimulator) -> str:
    calls = len(sim.arrivals)
    return (
        f"{label}: accepted {accepted_rate(sim):.2f} calls/s, throttled {sim.throttled}/{calls} "
        f"({100 * sim.throttled / max(calls, 1):.1f} %), busiest 1 s window {busiest_window(sim.arrivals)} arrivals"
    )


def test_three_processes_on_one_host_share_the_budget(
    tmp_path: Path, simulator: tuple[LoggingSimulator, str]
) -> None:
    sim, url = simulator
    runs = _send_together(tmp_path, url, "host", ["data", "data", "data"])
    print(_figures("host limiter, 3 processes", sim))
    _check_exactly_once(sim, runs, 3)
    assert accepted_rate(sim) >= 9.5
    assert sim.throttled <= 0.01 * len(sim.arrivals)
    # They knew of each other: at some point three senders shared the account.
    assert max(event["senders"] for run in runs for event in run.of("limiter")) == 3


def test_three_processes_with_process_limiters_are_throttled(
    tmp_path: Path, simulator: tuple[LoggingSimulator, str]
) -> None:
    """The contrast: each process paces itself alone at the account's rate."""
    sim, url = simulator
    runs = _send_together(tmp_path, url, "process", ["data", "data", "data"])
    print(_figures("process limiters, 3 processes", sim))
    _check_exactly_once(sim, runs, 3)
    assert sim.throttled > 0.05 * len(sim.arrivals)


def test_two_hosts_share_the_budget_through_redis(
    tmp_path: Path, simulator: tuple[LoggingSimulator, str]
) -> None:
    sim, url = simulator
    with redis_server(tmp_path / "redis") as redis:
        runs = _send_together(tmp_path, url, redis.url, ["host-a", "host-a", "host-b"])
    print(_figures("redis limiter, 3 processes on 2 data dirs", sim))
    _check_exactly_once(sim, runs, 3)
    assert accepted_rate(sim) >= 9.5
    assert sim.throttled <= 0.01 * len(sim.arrivals)
    assert max(event["senders"] for run in runs for event in run.of("limiter")) == 3


def test_redis_killed_mid_send_pauses_and_resumes_within_the_limit(
    tmp_path: Path, simulator: tuple[LoggingSimulator, str]
) -> None:
    sim, url = simulator
    redis = RedisServer(tmp_path / "redis")
    redis.start()
    try:
        config = write_config(tmp_path / "config.toml", redis.url)
        processes = []
        for number, data in enumerate(["host-a", "host-b"]):
            campaign = write_campaign(tmp_path / f"campaign{number}", first=number * 100_000, count=BATCHES_EACH * BATCH)
            processes.append(start_send(campaign, url, child_env(config, tmp_path / data), batch_size=BATCH))
        deadline = time.monotonic() + 30
        while sim.accepted_calls < 15 and time.monotonic() < deadline:
            time.sleep(0.02)
        redis.stop()
        down_at = time.monotonic()
        accepted_when_down = sim.accepted_calls
        time.sleep(2.0)
        # While Redis was down, nothing started but what had been granted before.
        started_while_down = [at for at in sim.arrivals if at > down_at + 1.0]
        redis.start()
        runs = [finish(process) for process in processes]
    finally:
        redis.stop()
    print(_figures("redis killed for 2 s mid-send, 2 processes", sim))
    assert started_while_down == []
    assert accepted_when_down < 2 * BATCHES_EACH
    _check_exactly_once(sim, runs, 2)
    assert busiest_window(sim.arrivals) <= RATE
    assert sim.throttled == 0
    for run in runs:
        states = [event["state"] for event in run.of("limiter")]
        assert "unavailable" in states and states.index("available") > states.index("unavailable"), states
        (unavailable,) = [e for e in run.of("limiter") if e["state"] == "unavailable"][:1]
        assert "cannot be reached" in unavailable["reason"] and "127.0.0.1" in unavailable["reason"]


def test_redis_stopped_mid_send_and_local_limiter_goes_on_alone_at_a_share_of_the_rate(
    tmp_path: Path, simulator: tuple[LoggingSimulator, str]
) -> None:
    sim, url = simulator
    redis = RedisServer(tmp_path / "redis")
    redis.start()
    try:
        config = write_config(tmp_path / "config.toml", redis.url)
        campaign = write_campaign(tmp_path / "campaign", first=0, count=BATCHES_EACH * BATCH)
        process = start_send(
            campaign, url, child_env(config, tmp_path / "host-a"), batch_size=BATCH, extra=["--local-limiter", "2"]
        )
        deadline = time.monotonic() + 30
        while sim.accepted_calls < 10 and time.monotonic() < deadline:
            time.sleep(0.02)
        redis.stop()  # and never started again: the job goes on alone
        down_at = time.monotonic()
        run = finish(process)
    finally:
        redis.stop()
    print(_figures("redis stopped mid-send, --local-limiter 2", sim))
    assert run.code == 0, run.stderr[-2000:]
    (done,) = run.of("done")
    assert (done["state"], done["ok"], done["pending"]) == ("done", BATCHES_EACH * BATCH, 0)
    assert sum(sim.accepted.values()) == BATCHES_EACH * BATCH and max(sim.accepted.values()) == 1
    states = [event["state"] for event in run.of("limiter")]
    assert states.count("local") == 1 and states.index("local") > states.index("unavailable"), states
    (local,) = [event for event in run.of("limiter") if event["state"] == "local"]
    assert local["rate"] == RATE / 2 and local["senders"] == 2 and local["share"] == 0.5
    # After the switch, the server saw the job at rate / 2: 5 in any second, not 10.
    after = [at for at in sim.arrivals if at > down_at + 0.3]
    assert len(after) >= 10
    assert busiest_window(after) <= RATE / 2
    assert (after[-1] - after[0]) >= (len(after) - 1) / (RATE / 2) - 0.1
    assert sim.throttled == 0


def test_jobs_shows_how_many_senders_share_the_account_of_the_jobs_being_sent(
    tmp_path: Path, simulator: tuple[LoggingSimulator, str], monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import json

    from cams_tui.cli import main

    sim, url = simulator
    config = write_config(tmp_path / "config.toml", "host")
    env = child_env(config, tmp_path / "data")
    processes = [
        start_send(write_campaign(tmp_path / f"campaign{n}", first=n * 100_000, count=20 * BATCH), url, env,
                   batch_size=BATCH)
        for n in range(2)
    ]
    try:
        deadline = time.monotonic() + 30
        while sim.accepted_calls < 6 and time.monotonic() < deadline:
            time.sleep(0.02)
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        assert main(["jobs", "--json"]) == 0
        rows = json.loads(capsys.readouterr().out)
        assert main(["jobs"]) == 0
        table = capsys.readouterr().out
    finally:
        runs = [finish(process) for process in processes]
    assert [run.code for run in runs] == [0, 0]
    assert len(rows) == 2 and {row["state"] for row in rows} == {"sending"}
    assert [row["senders"] for row in rows] == [2, 2]
    assert "SENDERS" in table.splitlines()[0]
    # Once they are done, nothing is being sent: no senders shown.
    assert main(["jobs", "--json"]) == 0
    assert [row["senders"] for row in json.loads(capsys.readouterr().out)] == [None, None]
