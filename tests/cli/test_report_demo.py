"""``cams-tui --demo report JOB`` reports a demo job: the demo journal and the built-in
simulator, as every other command under ``--demo`` (it once read the real journal and
said the demo's job did not exist)."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

from cams_tui.simulator.demo_data import ORDER_SHIPPED

CAMPAIGN = f"""\
template_code = "{ORDER_SHIPPED}"
language = "en"
from = "2000001"

[params]
name = "Ana"
order_id = "A-1"
"""


def _cams(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cams_tui", "--demo", *args], env=env, capture_output=True, text=True, timeout=120
    )


def test_the_report_of_a_demo_job_reads_the_demo_journal_and_fetches_from_the_simulator(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ALIBABA_CLOUD_", "CAMS_TUI_"))}
    env |= {"CAMS_TUI_CONFIG": str(tmp_path / "config.toml"), "CAMS_TUI_DATA_DIR": str(tmp_path / "data"),
            "HOME": str(tmp_path / "home")}
    (tmp_path / "campaign.toml").write_text(CAMPAIGN, encoding="utf-8")
    numbers = tmp_path / "numbers.txt"
    numbers.write_text("".join(f"+63917{1000000 + i}\n" for i in range(12)), encoding="utf-8")
    sent = _cams(env, "send", str(tmp_path / "campaign.toml"), "--recipients", str(numbers), "--yes", "--json")
    assert sent.returncode == 0, sent.stderr
    job_id = json.loads(sent.stdout.splitlines()[-1])["job_id"]

    offline = _cams(env, "report", job_id, "--no-fetch")
    assert offline.returncode == 0, offline.stderr
    assert len(list(csv.DictReader(io.StringIO(offline.stdout)))) == 12
    assert "12 recipients" in offline.stderr

    fetched = _cams(env, "report", job_id)
    assert fetched.returncode == 0, fetched.stderr
    assert "statuses of 1 batches fetched" in fetched.stderr
    rows = list(csv.DictReader(io.StringIO(fetched.stdout)))
    assert {row["number"] for row in rows} == {f"63917{1000000 + i}" for i in range(12)}
    assert {row["status"] for row in rows} <= {"sent", "delivered", "read", "failed"}, "listed by the simulator"
    assert not (tmp_path / "data" / "journal.sqlite3").exists(), "the real journal is left alone"
