"""The canary end to end (`cams-tui send --canary`) and the failure-spike detector, against
the simulator over real HTTP."""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cams_tui.cli import main
from cams_tui.engine.canary import CanaryError, SpikeDetector, canary_size, split_canary
from cams_tui.engine.events import Event
from cams_tui.engine.journal import Journal
from cams_tui.engine.ratelimit import RateLimiter
from cams_tui.engine.sender import Sender
from cams_tui.simulator import Faults, Simulator, SimulatorConfig
from tests.support.campaigns import demo_campaign, json_lines
from tests.support.engine import CUST_SPACE_ID, LOOKUP_OPTIONS, OPTIONS, client, make_job

RECIPIENTS = 1000


@pytest.fixture
def quick_sim() -> Iterator[tuple[Simulator, str]]:
    simulator = Simulator(SimulatorConfig(rate=50, latency_ms=5, seed=21, delivery_delay_s=(0.1, 0.4)))
    with simulator.run_in_thread(port=0) as url:
        yield simulator, url


def _campaign(folder: Path, count: int) -> Path:
    """The headless tests' campaign, with its CustSpaceId (the canary lists its messages)."""
    campaign = demo_campaign(folder, count=count)
    assert "cust_space_id" in campaign.read_text(encoding="utf-8")
    return campaign


def _send(campaign: Path, url: str, *extra: str) -> int:
    return main(
        ["send", str(campaign), "--yes", "--json", "--rate", "50", "--batch-size", "100", "--endpoint", url,
         "--canary", "100", "--canary-poll", "0.3", *extra]
    )


def test_a_failing_canary_stops_the_job_having_sent_nothing_more(
    env: Path, quick_sim: tuple[Simulator, str], capsys: pytest.CaptureFixture[str]
) -> None:
    simulator, url = quick_sim
    simulator.faults = Faults(fail_delivery=0.8, seed=2)
    campaign = _campaign(env, count=RECIPIENTS)
    assert _send(campaign, url) == 4
    out = capsys.readouterr()
    events = json_lines(out.out)
    (canary,) = [e for e in events if e["event"] == "canary"]
    assert canary["healthy"] is False and canary["failure_share"] > 0.5
    assert canary["funnel"]["failed"] > 50
    assert "canary" in out.err and "resume" in out.err
    # Only the canary's 100 recipients ever reached CAMS.
    assert sum(simulator.accepted.values()) == 100
    with Journal(env / "data") as journal:
        (job,) = journal.jobs()
        assert job.state == "stopped" and job.stop_code == "CanaryFailed"
        assert job.canary is not None and job.canary["verdict"]["healthy"] is False
        assert job.pending == RECIPIENTS - 100
    # The operator may override: resume sends the rest, once each.
    simulator.faults = Faults()
    assert main(["resume", job.id, "--yes", "--json", "--rate", "50", "--endpoint", url]) == 0
    assert sum(simulator.accepted.values()) == RECIPIENTS and max(simulator.accepted.values()) == 1


def test_a_healthy_canary_goes_on_by_itself(
    env: Path, quick_sim: tuple[Simulator, str], capsys: pytest.CaptureFixture[str]
) -> None:
    simulator, url = quick_sim
    simulator.faults = Faults(fail_delivery=0.02, seed=2)
    campaign = _campaign(env, count=RECIPIENTS)
    assert _send(campaign, url) == 0
    events = json_lines(capsys.readouterr().out)
    names = [e["event"] for e in events]
    (canary,) = [e for e in events if e["event"] == "canary"]
    assert canary["healthy"] is True and canary["settled"] is True
    # The canary's batch went first and alone; the rest came after the verdict.
    assert names.index("canary") == 2 and names[1] == "batch"
    assert sum(simulator.accepted.values()) == RECIPIENTS and max(simulator.accepted.values()) == 1


def test_the_canary_says_its_progress_once_per_change(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Polls that find what the last one found say nothing: no line repeats the one before."""
    simulator = Simulator(SimulatorConfig(rate=50, latency_ms=5, seed=21, delivery_delay_s=(0.8, 1.0)))
    with simulator.run_in_thread(port=0) as url:
        campaign = _campaign(env, count=300)
        assert main(
            ["send", str(campaign), "--yes", "--rate", "50", "--batch-size", "100", "--endpoint", url,
             "--canary", "100", "--canary-poll", "0.1"]
        ) == 0
    said = [line for line in capsys.readouterr().err.splitlines() if " listed, " in line]
    assert said, "the canary's progress is said at least once"
    assert all(a != b for a, b in itertools.pairwise(said)), said


async def test_a_failure_spike_during_the_rest_stops_the_sender(tmp_path: Path) -> None:
    simulator = Simulator(SimulatorConfig(rate=50, latency_ms=5, seed=9, delivery_delay_s=(0.05, 0.1)))
    simulator.faults = Faults(fail_delivery=0.7, seed=3)
    async with simulator.serve(port=0) as url:
        with Journal(tmp_path) as journal:
            job_id = make_job(journal, url, 2000, 50, options=LOOKUP_OPTIONS)
            async with client(url) as cams:
                sender = Sender(cams, journal, job_id, limiter=RateLimiter(8))
                reasons: list[str] = []

                def spike(reason: str) -> None:
                    reasons.append(reason)
                    sender.cancel()

                detector = SpikeDetector(
                    cams,
                    OPTIONS.from_,
                    spike,
                    threshold=0.2,
                    cust_space_id=CUST_SPACE_ID,
                    interval_s=0.2,
                    settle_after_s=0.2,
                    min_sample=50,
                )
                events: list[Event] = []
                sender.subscribe(detector.observe)
                sender.subscribe(events.append)
                watcher = asyncio.create_task(detector.run())
                done = await sender.run()
                watcher.cancel()
    assert reasons and "threshold 20%" in reasons[0]
    assert done.pending > 1000, "the spike should stop the job early"
    assert detector.lookups <= 20


def test_canary_size_and_split() -> None:
    assert canary_size("100", 50_000) == 100
    assert canary_size("1%", 50_000) == 500
    assert canary_size("1%", 10) == 1
    for bad in ("0", "x", "150%", "-3"):
        with pytest.raises(CanaryError):
            canary_size(bad, 100)
    head, rest = split_canary(iter(range(10)), 3)
    assert head == [0, 1, 2] and list(rest) == list(range(3, 10))


def test_the_campaign_file_asks_for_a_canary(
    env: Path, quick_sim: tuple[Simulator, str], capsys: pytest.CaptureFixture[str]
) -> None:
    simulator, url = quick_sim
    simulator.faults = Faults(fail_delivery=0.9, seed=2)
    campaign = _campaign(env, count=RECIPIENTS)
    campaign.write_text(campaign.read_text() + '\n[canary]\nsize = "5%"\nthreshold = 0.5\n', encoding="utf-8")
    code = main(["send", str(campaign), "--yes", "--json", "--rate", "50", "--batch-size", "100",
                 "--endpoint", url, "--canary-poll", "0.3"])
    assert code == 4
    (canary,) = [e for e in json_lines(capsys.readouterr().out) if e["event"] == "canary"]
    assert canary["recipients"] == 50 and canary["threshold"] == 0.5
    assert sum(simulator.accepted.values()) == 50


def test_a_failure_spike_after_a_healthy_canary_stops_the_job(
    env: Path, quick_sim: tuple[Simulator, str], capsys: pytest.CaptureFixture[str]
) -> None:
    simulator, url = quick_sim
    campaign = _campaign(env, count=3000)
    stop = threading.Event()

    def go_bad_after_the_canary() -> None:
        while not simulator.accepted_requests and not stop.is_set():
            time.sleep(0.005)
        simulator.faults = Faults(fail_delivery=0.9, seed=5)  # the canary's batch was accepted healthy

    watcher = threading.Thread(target=go_bad_after_the_canary)
    watcher.start()
    try:
        code = main(["send", str(campaign), "--yes", "--json", "--rate", "4", "--batch-size", "100",
                     "--endpoint", url, "--canary", "100", "--canary-poll", "0.3"])
    finally:
        stop.set()
        watcher.join()
    out = capsys.readouterr()
    assert code == 4, out.err
    (canary,) = [e for e in json_lines(out.out) if e["event"] == "canary"]
    assert canary["healthy"] is True
    assert "failure spike" in out.err
    with Journal(env / "data") as journal:
        (job,) = journal.jobs()
    assert job.state == "stopped" and job.stop_code == "FailureSpike"
    assert 100 < sum(simulator.accepted.values()) < 3000


def test_a_canary_of_the_whole_list_is_refused_headless_as_in_the_tui(
    env: Path, quick_sim: tuple[Simulator, str], capsys: pytest.CaptureFixture[str]
) -> None:
    simulator, url = quick_sim
    campaign = _campaign(env, count=80)
    assert _send(campaign, url) == 2  # --canary 100 of 80 recipients
    err = capsys.readouterr().err
    assert "canary: 100 is more than the whole list of 80" in err, err
    assert "Traceback" not in err
    assert simulator.accepted == {}
    with Journal(env / "data") as journal:
        assert journal.jobs() == []
