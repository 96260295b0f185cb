"""Failures of the machine (journal, data folder, disk, output, port) each have their own
message and a documented exit code: 4 "cannot proceed", never 1 ("some failed") and never an
"internal error" with advice to run a command that would fail the same way."""

from __future__ import annotations

import contextlib
import os
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from cams_tui.cli import main
from cams_tui.exit_codes import EXIT_CANNOT_PROCEED, EXIT_USAGE
from cams_tui.engine.journal import Answer, BatchState, Journal, JournalUnusable
from cams_tui.simulator import Simulator
from cams_tui.simulator.cli import run_simulator_cli
from tests.support.campaigns import demo_campaign
from tests.support.engine import make_job

CLI = [sys.executable, "-m", "cams_tui"]


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(argv)
    err = capsys.readouterr().err
    assert "Traceback" not in err and "internal error" not in err and "unexpected error" not in err
    return code, err


def test_a_journal_that_is_not_sqlite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "journal.sqlite3").write_bytes(b"this is not a database\n" * 100)
    code, err = _run(["jobs", "--data-dir", str(tmp_path)], capsys)
    assert code == EXIT_CANNOT_PROCEED
    assert "not a cams-tui journal or is damaged" in err and "move it aside" in err
    assert "cams-tui jobs" not in err  # the advice is not to run what fails the same way


def test_a_data_dir_that_is_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    data.write_text("x")
    for argv in (["jobs"], ["export", "J1"], ["resume", "J1"]):
        code, err = _run([*argv, "--data-dir", str(data)], capsys)
        assert code == EXIT_CANNOT_PROCEED, argv
        assert f"the data folder {data} is a file, not a folder" in err


def test_a_journal_that_is_a_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "journal.sqlite3").mkdir()
    code, err = _run(["jobs", "--data-dir", str(tmp_path)], capsys)
    assert code == EXIT_CANNOT_PROCEED and "is a folder" in err


def test_a_journal_write_on_a_full_disk_is_cannot_proceed(tmp_path: Path) -> None:
    # SQLite's page limit gives the very error (SQLITE_FULL) a full disk gives.
    with Journal(tmp_path) as journal:
        job_id = make_job(journal, "http://127.0.0.1:9", 100, 10)
        pages = journal._db.execute("PRAGMA page_count").fetchone()[0]
        journal._db.execute(f"PRAGMA max_page_count={pages}")
        with pytest.raises(JournalUnusable) as caught:
            for index in range(10):
                attempt = journal.mark_sending(job_id, index)
                journal.record_answer(
                    job_id, index, attempt, BatchState.FAILED, Answer("failed", code="X", message="y" * 50_000)
                )
        assert caught.value.exit_code == EXIT_CANNOT_PROCEED
        assert "no space left on the device" in str(caught.value)
        assert "resumable" in str(caught.value)


def test_read_only_journal_message() -> None:
    from cams_tui.errors import journal_failure

    error = journal_failure("/x/journal.sqlite3", sqlite3.OperationalError("attempt to write a readonly database"))
    assert error.exit_code == EXIT_CANNOT_PROCEED
    assert "cannot be written" in str(error) and "owned by another user" in str(error)
    error = journal_failure("/x/journal.sqlite3", PermissionError(13, "Permission denied"))
    assert "permission denied" in str(error)


def test_output_to_a_full_device(tmp_path: Path) -> None:
    with open("/dev/full", "w") as full:
        result = subprocess.run(
            [*CLI, "jobs", "--data-dir", str(tmp_path)], stdout=full, stderr=subprocess.PIPE, text=True, timeout=60
        )
    assert result.returncode == EXIT_CANNOT_PROCEED, result.stderr
    assert "no space left on the device" in result.stderr and "Traceback" not in result.stderr


def test_export_to_dev_full_is_refused_by_kind(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with Journal(tmp_path) as journal:
        job_id = make_job(journal, "http://127.0.0.1:9", 10, 10)
    code, err = _run(["export", job_id, "-o", "/dev/full", "--data-dir", str(tmp_path)], capsys)
    assert code == EXIT_USAGE and "/dev/full" in err


def test_simulator_port_out_of_range_and_taken(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_simulator_cli(["--port", "99999"]) == EXIT_USAGE
    assert "99999 is not a TCP port" in capsys.readouterr().err
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert run_simulator_cli(["--port", str(port)]) == EXIT_CANNOT_PROCEED
    err = capsys.readouterr().err
    assert f"cannot listen on 127.0.0.1:{port}" in err and "--port" in err


@contextlib.contextmanager
def _tiny_file_system(folder: Path) -> Iterator[Path]:
    folder.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(folder)],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def test_a_send_onto_a_full_disk_sends_nothing_and_says_so(
    env: Path, sim: tuple[Simulator, str], capsys: pytest.CaptureFixture[str]
) -> None:
    simulator, url = sim
    campaign = demo_campaign(env, 2000)
    with _tiny_file_system(env / "small") as small:
        data = small / "data"
        data.mkdir()
        filler = os.open(small / "filler", os.O_WRONLY | os.O_CREAT, 0o600)
        with contextlib.suppress(OSError):
            while True:
                os.write(filler, b"\0" * 1024)
        os.close(filler)
        code, err = _run(["send", str(campaign), "--yes", "--endpoint", url, "--data-dir", str(data)], capsys)
    assert code == EXIT_CANNOT_PROCEED, err
    assert "no space left on the device" in err
    assert not simulator.accepted
