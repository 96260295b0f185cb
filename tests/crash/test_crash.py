"""Kill -9 the sending process at random moments, resume, and check the simulator's record.

Half the trials make the process SIGKILL itself right before or right after a chosen journal
commit (``CAMS_TUI_TEST_KILL_AT_COMMIT``): the instants that matter most for exactly-once.
The other half kill it from outside after a random number of answers. After each crash the
job is resumed to the end; then no number may have been accepted twice, and every recipient
must be accepted (``ok``), failed with a reason, or listed as ``unknown`` - and every number
the simulator accepted must be ``ok`` or ``unknown`` in the export, never pending or failed.
"""

from __future__ import annotations

import csv
import io
import random
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import pytest

from cams_tui.cli import main
from cams_tui.engine.journal import Journal
from cams_tui.simulator import Simulator, SimulatorConfig
from tests.support.campaigns import demo_campaign
from tests.support.crash import RECIPIENTS, TRIALS, send_and_kill


@pytest.mark.slow
def test_kill_minus_nine_at_random_moments_never_sends_twice(
    tmp_path: Path, env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    campaign = demo_campaign(tmp_path, count=RECIPIENTS)
    simulators = [Simulator(SimulatorConfig(rate=100, latency_ms=10, seed=trial)) for trial in range(TRIALS)]
    datas = [tmp_path / f"data{trial}" for trial in range(TRIALS)]
    with ExitStack() as stack:
        urls = [stack.enter_context(sim.run_in_thread(port=0)) for sim in simulators]
        # The sends (and their deaths) run a few at a time; each has its own simulator.
        with ThreadPoolExecutor(max_workers=4) as pool:
            deaths = list(
                pool.map(
                    lambda t: send_and_kill(campaign, urls[t], datas[t], env, random.Random(1126 + t), t),
                    range(TRIALS),
                )
            )
        for how, simulator, url, data in zip(deaths, simulators, urls, datas):
            _resume_and_check(how, simulator, url, data, capsys)
    # The trials hit the instants they aimed at, and some left work for the resume.
    assert sum("finished before" not in how for how in deaths) >= TRIALS * 3 // 4


def _resume_and_check(
    how: str, simulator: Simulator, url: str, data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with Journal(data) as journal:
        jobs = journal.jobs()
    if not jobs:
        # Killed before the job was committed: nothing may have left.
        assert not simulator.accepted, how
        return
    (job,) = jobs
    code = main(["resume", job.id, "--yes", "--json", "--rate", "100", "--endpoint", url, "--data-dir", str(data)])
    assert code in (0, 3), how
    capsys.readouterr()
    assert main(["export", job.id, "--data-dir", str(data)]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    accepted = simulator.accepted
    assert max(accepted.values(), default=1) == 1, f"{how}: a number was accepted twice"
    status = {row["to"]: row for row in rows if row["status"] != "rejected"}
    assert len(status) == RECIPIENTS, how
    for number, row in status.items():
        assert row["status"] in ("ok", "unknown", "failed"), (how, row)
        if row["status"] == "ok":
            assert accepted[number] == 1, (how, row)
        if row["status"] == "failed":
            assert row["code"] and row["message"], (how, row)
    for number in accepted:
        assert status[number]["status"] in ("ok", "unknown"), (how, status[number])
