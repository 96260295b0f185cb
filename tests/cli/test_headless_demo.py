"""`cams-tui --demo send|resume|reconcile|jobs|export|templates|doctor` from a fresh data dir,
as separate processes: the built-in simulator, the demo journal, no AccessKey anywhere."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cams_tui.engine.journal import Journal
from cams_tui.simulator.demo_data import ORDER_SHIPPED

CAMPAIGN = f"""\
template_code = "{ORDER_SHIPPED}"
language = "en"
from = "2000001"
ttl = "1d"             # as the TUI teaches durations

[params]
name = "Ana"
order_id = "A-1"
"""


@pytest.fixture
def demo_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ALIBABA_CLOUD_", "CAMS_TUI_"))}
    env["CAMS_TUI_CONFIG"] = str(tmp_path / "config.toml")
    env["CAMS_TUI_DATA_DIR"] = str(tmp_path / "data")
    env["HOME"] = str(tmp_path / "home")
    return env


def cams(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cams_tui", "--demo", *args], env=env, capture_output=True, text=True,
        input=stdin, timeout=120,
    )


def test_the_demo_covers_every_command_that_talks_to_cams(tmp_path: Path, demo_env: dict[str, str]) -> None:
    (tmp_path / "campaign.toml").write_text(CAMPAIGN, encoding="utf-8")
    numbers = tmp_path / "numbers.txt"
    numbers.write_text("".join(f"+63917{1000000 + i}\n" for i in range(30)), encoding="utf-8")

    sent = cams(demo_env, "send", str(tmp_path / "campaign.toml"), "--recipients", str(numbers), "--yes", "--json",
                "--batch-size", "10")
    assert sent.returncode == 0, sent.stderr
    events = [json.loads(line) for line in sent.stdout.splitlines()]
    done = events[-1]
    assert done["event"] == "done" and done["ok"] == 30 and done["state"] == "done"
    job_id = done["job_id"]
    assert "cams-tui --demo resume" in sent.stderr
    assert not (tmp_path / "config.toml").exists(), "the demo never writes the config"
    demo_dir = tmp_path / "data" / "demo"
    assert (demo_dir / "simulator-records.jsonl").exists()
    assert not (tmp_path / "data" / "journal.sqlite3").exists(), "demo jobs stay in the demo journal"

    listed = cams(demo_env, "jobs", "--json")
    assert listed.returncode == 0, listed.stderr
    [row] = json.loads(listed.stdout)
    assert row["job_id"] == job_id and row["ok"] == 30

    # An interrupted job (its batches still "sending", as after a crash) is resumed and
    # looked up on a restarted simulator, which still knows what it accepted.
    with Journal(demo_dir) as journal:
        first = journal.batches(job_id)[0]
        journal._db.execute("UPDATE batches SET state='sending' WHERE job_id=? AND idx=?", (job_id, first.index))
        journal._db.execute("UPDATE jobs SET state='interrupted' WHERE id=?", (job_id,))
        journal._db.commit()
    resumed = cams(demo_env, "resume", job_id, "--yes", "--json")
    assert resumed.returncode == 0, resumed.stderr + resumed.stdout
    resolutions = [json.loads(line) for line in resumed.stdout.splitlines() if '"resolution"' in line]
    assert [r["state"] for r in resolutions] == ["ok"], resolutions
    with Journal(demo_dir) as journal:
        assert journal.job(job_id).counts == {"ok": 30}

    looked = cams(demo_env, "reconcile", job_id, "--no-wait")
    assert looked.returncode == 0, looked.stderr

    exported = cams(demo_env, "export", job_id)
    assert exported.returncode == 0, exported.stderr
    rows = list(csv.DictReader(io.StringIO(exported.stdout)))
    assert len(rows) == 30 and {r["status"] for r in rows} == {"ok"}

    templates = cams(demo_env, "templates", "--json")
    assert templates.returncode == 0, templates.stderr
    assert ORDER_SHIPPED in templates.stdout

    doctor = cams(demo_env, "doctor")
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr


def test_the_same_campaign_to_the_same_numbers_again_is_refused_without_allow_repeat(
    tmp_path: Path, demo_env: dict[str, str]
) -> None:
    (tmp_path / "campaign.toml").write_text(CAMPAIGN, encoding="utf-8")
    numbers = tmp_path / "numbers.txt"
    numbers.write_text("".join(f"+63917{2000000 + i}\n" for i in range(12)), encoding="utf-8")
    args = ("send", str(tmp_path / "campaign.toml"), "--recipients", str(numbers), "--yes", "--json")
    first = cams(demo_env, *args)
    assert first.returncode == 0, first.stderr
    job_id = json.loads(first.stdout.splitlines()[-1])["job_id"]

    again = cams(demo_env, *args)
    assert again.returncode == 2
    assert f"12 of these numbers already got this template in the last 24 h: job {job_id}" in again.stderr
    assert "--allow-repeat" in again.stderr
    repeat = json.loads(again.stdout.splitlines()[0])
    assert repeat == {**repeat, "event": "repeat", "numbers": 12}
    assert len(json.loads(cams(demo_env, "jobs", "--json").stdout)) == 1, "nothing was sent"

    allowed = cams(demo_env, *args, "--allow-repeat")
    assert allowed.returncode == 0, allowed.stderr
    assert len(json.loads(cams(demo_env, "jobs", "--json").stdout)) == 2


def test_the_plan_counts_agree_and_a_resume_speaks_of_what_is_left() -> None:
    from cams_tui.engine.events import PlanEvent
    from cams_tui.cli.plan_wording import plan_text as _plan_text

    fresh = PlanEvent(None, 31, 9, 1, 0, 1, 31, 1, 10.0)
    assert _plan_text(fresh) == (
        "31 recipients in 1 request; left out: 9 rejected, 1 duplicate, 0 suppressed; under 1s at 10 calls/s"
    )
    resumed = PlanEvent("j", 200_000, 0, 0, 0, 200, 110_000, 110, 10.0)
    assert _plan_text(resumed).startswith("110,000 of 200,000 recipients left to send in 110 requests;")
    assert "about 11s" in _plan_text(resumed)
