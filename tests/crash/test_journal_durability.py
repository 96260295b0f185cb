"""No committed state lives outside the journal's main file.

In WAL mode a commit lives in ``journal.sqlite3-wal`` until a checkpoint, and SQLite silently
drops a missing, truncated or damaged ``-wal``: batches CAMS had accepted read ``planned``
again and a resume sent them twice. The journal now uses a rollback journal; these tests
kill a send, lose or damage what a crash leaves beside the main file (or copy the main file
alone elsewhere), resume, and count with the simulator that nobody was accepted twice.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from cams_tui.api.models import MassMessageOptions
from cams_tui.cli import main
from cams_tui.engine.journal import database as journal_module
from cams_tui.engine.journal import ENV_KILL_AT_COMMIT, Journal, JournalError, PlannedBatch
from cams_tui.simulator import Simulator, SimulatorConfig
from tests.support.campaigns import demo_campaign

RECIPIENTS = 2000
BATCH = 100
OPTIONS = MassMessageOptions(template_code="TPL", language="en", From="2000001", tag="t")


def _journal_files(data: Path) -> set[str]:
    return {path.name for path in data.glob("journal.sqlite3*") if not path.name.endswith("open-lock")}


def test_the_journal_keeps_no_state_beside_its_main_file(tmp_path: Path) -> None:
    with Journal(tmp_path) as journal:
        assert journal._db.execute("PRAGMA journal_mode").fetchone()[0] == "truncate"
        assert journal._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        job_id = journal.create_job(
            options=OPTIONS, params={}, batches=[PlannedBatch.of(1, '[{"To":"6391700000001"}]')],
            endpoint="http://127.0.0.1:9",
        )
        journal.mark_sending(job_id, 0)
        # While open, after commits: no -wal, and the rollback journal is empty.
        assert not {"journal.sqlite3-wal", "journal.sqlite3-shm"} & _journal_files(tmp_path)
        rollback = tmp_path / "journal.sqlite3-journal"
        assert not rollback.exists() or rollback.stat().st_size == 0
        # The main file alone holds the commit.
        copy = tmp_path / "copy"
        copy.mkdir()
        shutil.copyfile(tmp_path / "journal.sqlite3", copy / "journal.sqlite3")
    with Journal(copy) as copied:
        assert copied.batches(job_id)[0].state == "sending"


def test_an_existing_data_dir_keeps_its_mode_and_one_made_is_private(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o1777)  # like /tmp
    Journal(shared).close()
    assert shared.stat().st_mode & 0o7777 == 0o1777
    assert (shared / "journal.sqlite3").stat().st_mode & 0o777 == 0o600
    made = tmp_path / "new" / "data"
    Journal(made).close()
    assert made.stat().st_mode & 0o777 == 0o700 and made.parent.stat().st_mode & 0o777 == 0o700


def _wal_journal_with_unchecked_commits(data: Path) -> str:
    """A journal as an older cams-tui left it when killed: WAL mode, with its newest commit
    (a batch marked sending) only in ``-wal``. Returns the job id."""
    code = (
        "import os, sqlite3\n"
        "from cams_tui.engine.journal import Journal, PlannedBatch\n"
        "from cams_tui.api.models import MassMessageOptions\n"
        f"data = {str(data)!r}\n"
        "with Journal(data) as j:\n"
        "    job = j.create_job(options=MassMessageOptions(template_code='T', language='en', From='1'), params={},"
        " batches=[PlannedBatch.of(1, '[{\"To\":\"6391700000001\"}]')], endpoint='http://127.0.0.1:9')\n"
        "db = sqlite3.connect(os.path.join(data, 'journal.sqlite3'), isolation_level=None)\n"
        "db.execute('PRAGMA journal_mode=WAL'); db.execute('PRAGMA wal_autocheckpoint=0')\n"
        "db.execute(\"UPDATE batches SET state='sending'\")\n"
        "print(job, flush=True)\n"
        "os.kill(os.getpid(), 9)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == -9, result.stderr
    assert (data / "journal.sqlite3-wal").stat().st_size > 0
    return result.stdout.strip()


def test_an_old_wal_journal_is_checkpointed_and_converted_on_open(tmp_path: Path) -> None:
    job_id = _wal_journal_with_unchecked_commits(tmp_path)
    with Journal(tmp_path) as journal:
        assert journal._db.execute("PRAGMA journal_mode").fetchone()[0] == "truncate"
        assert journal.batches(job_id)[0].state == "sending"
    assert "journal.sqlite3-wal" not in _journal_files(tmp_path)
    # The main file now holds what only the -wal held.
    db = sqlite3.connect(f"file:{tmp_path / 'journal.sqlite3'}?mode=ro", uri=True)
    assert db.execute("SELECT state FROM batches").fetchone()[0] == "sending"
    db.close()


def test_a_conversion_waits_for_a_program_holding_the_wal_and_gives_up_clearly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _wal_journal_with_unchecked_commits(tmp_path)
    holder = sqlite3.connect(tmp_path / "journal.sqlite3", isolation_level=None, check_same_thread=False)
    holder.execute("SELECT COUNT(*) FROM jobs").fetchone()  # holds the WAL open
    monkeypatch.setattr(journal_module, "OPEN_TIMEOUT_S", 0.3)
    with pytest.raises(JournalError, match="WAL mode and held open by another program"):
        Journal(tmp_path)
    monkeypatch.setattr(journal_module, "OPEN_TIMEOUT_S", 10.0)
    threading.Timer(0.5, holder.close).start()
    with Journal(tmp_path) as journal:
        assert journal._db.execute("PRAGMA journal_mode").fetchone()[0] == "truncate"


def _killed_at_commit(args: list[str], env: dict[str, str], commit: int) -> int:
    """Run a cams-tui command that SIGKILLs itself right after its ``commit``-th journal
    commit (a batch marked sending, when odd past the first two); returns its exit status."""
    result = subprocess.run(
        [sys.executable, "-m", "cams_tui", *args, "--json"],
        capture_output=True, text=True, timeout=120, env={**env, ENV_KILL_AT_COMMIT: f"after:{commit}"},
    )
    return result.returncode


def _remove(path: Path) -> None:
    path.unlink(missing_ok=True)


def _truncate(path: Path) -> None:
    if path.exists():
        os.truncate(path, 0)


def _corrupt(path: Path) -> None:
    if path.exists() and path.stat().st_size:
        with path.open("r+b") as file:
            file.seek(40)
            file.write(os.urandom(64))


@pytest.mark.slow
@pytest.mark.parametrize("damage", ["remove", "truncate", "corrupt", "copy-main-file-alone"])
def test_killed_twice_then_the_side_files_lost_a_resume_sends_nobody_twice(
    tmp_path: Path, env: dict[str, str], damage: str
) -> None:
    campaign = demo_campaign(tmp_path, count=RECIPIENTS)
    data = tmp_path / "data"
    simulator = Simulator(SimulatorConfig(rate=100, latency_ms=5, seed=7))
    with simulator.run_in_thread(port=0) as url:
        child_env = {**env, "CAMS_TUI_DATA_DIR": str(data)}
        common = ["--rate", "100", "--endpoint", url]
        code = _killed_at_commit(["send", str(campaign), "--yes", "--batch-size", str(BATCH), *common], child_env, 11)
        assert code == -signal.SIGKILL
        assert main(["jobs", "--data-dir", str(data)]) == 0  # a clean open (a WAL one checkpointed here)
        with Journal(data) as journal:
            (job,) = journal.jobs()
        code = _killed_at_commit(["resume", job.id, "--yes", "--no-reconcile", *common], child_env, 13)
        assert code == -signal.SIGKILL
        accepted_before = sum(simulator.accepted.values())
        assert 0 < accepted_before < RECIPIENTS
        if damage == "copy-main-file-alone":
            moved = tmp_path / "moved"
            moved.mkdir()
            shutil.copyfile(data / "journal.sqlite3", moved / "journal.sqlite3")
            data = moved
        else:
            for suffix in ("-wal", "-shm", "-journal"):
                side = data / f"journal.sqlite3{suffix}"
                if suffix != "-journal" or damage != "corrupt":
                    {"remove": _remove, "truncate": _truncate, "corrupt": _corrupt}[damage](side)
        code = main(["resume", job.id, "--yes", "--json", *common, "--data-dir", str(data)])
        assert code in (0, 3)
        with Journal(data) as journal:
            counts = journal.job(job.id).counts
    accepted = simulator.accepted
    assert max(accepted.values()) == 1, f"{sum(v > 1 for v in accepted.values())} numbers accepted twice"
    ok, unknown = counts.get("ok", 0), counts.get("unknown", 0)
    # What the journal calls ok was accepted; what was accepted is ok or (to be looked up) unknown.
    assert ok <= len(accepted) <= ok + unknown
    assert ok + unknown + counts.get("failed", 0) == RECIPIENTS, counts


def _write_a_job(path: str, batches: int, results: object) -> None:
    try:
        with Journal(Path(path)) as journal:
            job_id = journal.create_job(
                options=OPTIONS, params={},
                batches=[PlannedBatch.of(1, f'[{{"To":"63917000{i:05d}"}}]') for i in range(batches)],
                endpoint="http://127.0.0.1:9",
            )
            for index in range(batches):
                from cams_tui.engine.journal import Answer, BatchState

                attempt = journal.mark_sending(job_id, index)
                journal.record_answer(job_id, index, attempt, BatchState.OK, Answer("ok", 200, "OK"))
        results.put("ok")  # type: ignore[attr-defined]
    except Exception as exc:  # noqa: BLE001 - reported to the test
        results.put(f"{type(exc).__name__}: {exc}")  # type: ignore[attr-defined]


def test_two_writers_and_a_reader_share_the_journal(tmp_path: Path) -> None:
    """Two processes sending (each commit a write) while a third reads the job list as the
    TUI does: a rollback journal makes them take turns, within the busy timeout."""
    import multiprocessing

    Journal(tmp_path).close()
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    writers = [context.Process(target=_write_a_job, args=(str(tmp_path), 150, results)) for _ in range(2)]
    for writer in writers:
        writer.start()
    reads = 0
    with Journal(tmp_path) as reader:
        while any(writer.is_alive() for writer in writers):
            for job in reader.jobs():
                reader.batches(job.id)
            reads += 1
    outcomes = [results.get(timeout=60) for _ in writers]
    for writer in writers:
        writer.join(timeout=60)
    assert outcomes == ["ok", "ok"]
    assert reads > 1
    with Journal(tmp_path) as journal:
        assert [job.counts for job in journal.jobs()] == [{"ok": 150}, {"ok": 150}]
