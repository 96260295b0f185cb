"""Kill -9 the sending process at random moments, then ``resume``: reconciliation settles
every unknown batch, and no recipient is ever accepted twice.

The sends die as in ``tests/test_crash.py`` (a SIGKILL at a chosen journal commit, or from
outside after a random number of answers), with a share of answers also lost on the wire
(``drop``). The simulator lists a message 0.2 s after acceptance, well within the 1 s grace
period, so after ``resume --resend-verified`` no batch may be left unknown and every
recipient must have been accepted exactly once. The resumes run as processes of their own,
a few at a time.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

from cams_tui.engine.journal import ENV_KILL_AT_COMMIT, BatchState, Journal
from cams_tui.simulator import Faults, Simulator, SimulatorConfig
from tests.test_crash import BATCH, RECIPIENTS, TRIALS, env  # noqa: F401  (fixture)
from tests.test_headless import _campaign

GRACE_S = 1.0
RECORD_DELAY_S = 0.2


def _send_and_kill(campaign: Path, url: str, data: Path, env: dict[str, str], rng: random.Random, trial: int) -> str:
    """Start a send and SIGKILL it (at a journal commit, or from outside after some answers);
    returns how it died. With answers dropped, a send that outran its kill ends with 3."""
    child_env = {**env, "CAMS_TUI_DATA_DIR": str(data)}
    answers = None
    if trial % 2 == 0:
        child_env[ENV_KILL_AT_COMMIT] = how = f"{'before' if trial % 4 == 0 else 'after'}:{rng.randint(1, 45)}"
    else:
        answers = rng.randint(0, 18)
        how = f"external after {answers} answers"
    process = subprocess.Popen(
        [sys.executable, "-m", "cams_tui", "send", str(campaign), "--yes", "--json", "--rate", "100",
         "--batch-size", str(BATCH), "--endpoint", url],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=child_env,
    )
    assert process.stdout is not None
    if answers is not None:
        seen = 0
        for line in process.stdout:
            if json.loads(line)["event"] == "batch":
                seen += 1
                if seen > answers:
                    time.sleep(rng.random() * 0.02)
                    break
        process.send_signal(signal.SIGKILL)
    process.communicate(timeout=60)
    assert process.returncode in (0, 3, -signal.SIGKILL), (how, process.returncode)
    return how + (" (finished before the kill)" if process.returncode != -signal.SIGKILL else "")


def _resume(url: str, data: Path, env: dict[str, str]) -> tuple[int, list[dict], str]:
    with Journal(data) as journal:
        jobs = journal.jobs()
    if not jobs:
        return 0, [], ""
    (job,) = jobs
    process = subprocess.run(
        [sys.executable, "-m", "cams_tui", "resume", job.id, "--yes", "--json", "--rate", "100",
         "--resend-verified", "--wait", "--grace", str(GRACE_S), "--lookup-rate", "50", "--endpoint", url,
         "--data-dir", str(data)],
        capture_output=True, text=True, env=env, timeout=60,
    )
    events = [json.loads(line) for line in process.stdout.splitlines() if line.strip()]
    return process.returncode, events, process.stderr


def test_resume_reconciles_every_unknown_after_kills_and_sends_nobody_twice(
    tmp_path: Path, env: dict[str, str]  # noqa: F811
) -> None:
    campaign = _campaign(tmp_path, count=RECIPIENTS)
    simulators = [
        Simulator(SimulatorConfig(rate=100, latency_ms=10, seed=100 + trial, record_delay_s=RECORD_DELAY_S))
        for trial in range(TRIALS)
    ]
    for trial, simulator in enumerate(simulators):
        simulator.faults = Faults(drop=0.1, seed=trial)
    datas = [tmp_path / f"data{trial}" for trial in range(TRIALS)]
    with ExitStack() as stack:
        urls = [stack.enter_context(sim.run_in_thread(port=0)) for sim in simulators]
        with ThreadPoolExecutor(max_workers=4) as pool:
            deaths = list(
                pool.map(
                    lambda t: _send_and_kill(campaign, urls[t], datas[t], env, random.Random(4242 + t), t),
                    range(TRIALS),
                )
            )
            for simulator in simulators:
                simulator.faults = Faults()
            resumed = list(pool.map(lambda t: _resume(urls[t], datas[t], env), range(TRIALS)))
    lookups = resolved = 0
    seconds: list[float] = []
    for how, simulator, data, (code, events, stderr) in zip(deaths, simulators, datas, resumed):
        accepted = simulator.accepted
        assert max(accepted.values(), default=1) == 1, f"{how}: a number was accepted twice"
        if not data.exists() or not Journal(data).jobs():
            assert not accepted, how
            continue
        assert code == 0, (how, stderr)
        with Journal(data) as journal:
            (job,) = journal.jobs()
            states = {b.state for b in journal.batches(job.id)}
        assert states == {BatchState.OK.value}, (how, states, stderr)
        assert len(accepted) == RECIPIENTS, how
        for event in events:
            if event["event"] == "reconciled":
                lookups += event["lookups"]
                resolved += event["batches"]
                seconds.append(event["elapsed_s"])
    # The kills hit their moments, and unknowns were there to resolve.
    assert sum("finished before" not in how for how in deaths) >= TRIALS * 3 // 4
    assert resolved >= TRIALS // 2, resolved
    print(
        f"\nreconciliation: {resolved} unknown batches, {lookups} lookups "
        f"({lookups / resolved:.2f} per batch), median {sorted(seconds)[len(seconds) // 2]:.2f} s per resume"
    )

