"""The SQLite journal: states, recovery, compact storage, schema version, file modes."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from cams_tui.api.models import MassMessageOptions
from cams_tui.engine.journal import (
    ENV_KILL_AT_COMMIT,
    SCHEMA_VERSION,
    Answer,
    BatchState,
    JobState,
    Journal,
    JournalError,
    PlannedBatch,
    Reject,
)

OPTIONS = MassMessageOptions(template_code="TPL", language="en", From="2000001", tag="t")


def _job(journal: Journal, batches: int = 3, size: int = 2) -> str:
    planned = [
        PlannedBatch.of(size, "[" + ",".join(f'{{"To":"6391700{b:02d}{i:03d}"}}' for i in range(size)) + "]")
        for b in range(batches)
    ]
    return journal.create_job(
        options=OPTIONS,
        params={"code": "X1"},
        batches=planned,
        endpoint="http://127.0.0.1:9",
        rejects=[Reject(7, "12ab", "not a number")],
        duplicates=2,
        suppressed=1,
    )


def test_a_job_round_trips(tmp_path: Path) -> None:
    with Journal(tmp_path / "data") as journal:
        job_id = _job(journal)
        job = journal.job(job_id)
        assert job.options == OPTIONS
        assert job.params == {"code": "X1"}
        assert (job.recipients, job.batches, job.rejected, job.duplicates, job.suppressed) == (6, 3, 1, 2, 1)
        assert job.counts == {"planned": 6} and job.pending == 6
        assert journal.sender_list(job_id, 1) == '[{"To":"639170001000"},{"To":"639170001001"}]'
        assert list(journal.rejects(job_id)) == [Reject(7, "12ab", "not a number")]
        assert [j.id for j in journal.jobs()] == [job_id]


def test_state_changes_and_attempt_windows(tmp_path: Path) -> None:
    with Journal(tmp_path) as journal:
        job_id = _job(journal)
        attempt = journal.mark_sending(job_id, 0)
        assert attempt == 1
        assert journal.batches(job_id, [BatchState.SENDING])[0].index == 0
        journal.record_answer(job_id, 0, 1, BatchState.PLANNED, Answer("throttled", 400, "System.LimitControl"))
        attempt = journal.mark_sending(job_id, 0)
        assert attempt == 2
        journal.record_answer(
            job_id, 0, 2, BatchState.OK, Answer("ok", 200, "OK", "fine", "REQ", "GMI", 12.5)
        )
        batch = journal.batches(job_id)[0]
        assert (batch.state, batch.attempts, batch.request_id, batch.group_message_id) == ("ok", 2, "REQ", "GMI")
        tries = journal.attempts(job_id, 0)
        assert [t["outcome"] for t in tries] == ["throttled", "ok"]
        # Each attempt keeps the window it was in flight: what reconciliation looks up.
        assert all(t["started_at"] <= t["finished_at"] for t in tries)
        assert batch.first_sent_at == tries[0]["started_at"] and batch.last_sent_at == tries[1]["started_at"]


def test_recover_turns_sending_into_unknown_and_retry_unknown_replans(tmp_path: Path) -> None:
    with Journal(tmp_path) as journal:
        job_id = _job(journal)
        journal.mark_sending(job_id, 0)
        journal.mark_sending(job_id, 1)
        journal.record_answer(job_id, 1, 1, BatchState.OK, Answer("ok", 200, "OK"))
        assert journal.recover(job_id) == 1
        states = [b.state for b in journal.batches(job_id)]
        assert states == ["unknown", "ok", "planned"]
        assert journal.attempts(job_id, 0)[0]["outcome"] == "unknown"
        journal.recover(job_id, retry_unknown=True)
        assert [b.state for b in journal.batches(job_id)] == ["planned", "ok", "planned"]


def test_retry_failed_replans_only_failed_batches(tmp_path: Path) -> None:
    with Journal(tmp_path) as journal:
        job_id = _job(journal)
        for index, state in ((0, BatchState.FAILED), (1, BatchState.OK)):
            journal.mark_sending(job_id, index)
            journal.record_answer(job_id, index, 1, state, Answer(state.value, 400, "InvalidParameter.X"))
        journal.recover(job_id)
        assert [b.state for b in journal.batches(job_id)] == ["failed", "ok", "planned"]
        journal.recover(job_id, retry_failed=True)
        assert [b.state for b in journal.batches(job_id)] == ["planned", "ok", "planned"]


def test_job_state_and_stop_reason(tmp_path: Path) -> None:
    with Journal(tmp_path) as journal:
        job_id = _job(journal)
        journal.set_job_state(job_id, JobState.STOPPED, stop_code="Ram.PermissionDeny", stop_message="no")
        job = journal.job(job_id)
        assert (job.state, job.stop_code, job.stop_message) == ("stopped", "Ram.PermissionDeny", "no")


def test_unknown_job_is_a_clear_error(tmp_path: Path) -> None:
    with Journal(tmp_path) as journal, pytest.raises(JournalError, match="cams-tui jobs"):
        journal.job("nope")


def test_files_are_private(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with Journal(data) as journal:
        _job(journal)
        assert stat.S_IMODE(os.stat(data).st_mode) == 0o700
        files = list(data.glob("journal.sqlite3*"))
        assert "journal.sqlite3" in {f.name for f in files}
        for file in files:
            assert stat.S_IMODE(os.stat(file).st_mode) == 0o600, file


def test_rollback_journal_and_full_sync(tmp_path: Path) -> None:
    with Journal(tmp_path) as journal:
        assert journal._db.execute("PRAGMA journal_mode").fetchone()[0] == "truncate"
        assert journal._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_schema_is_versioned_and_a_newer_one_is_refused(tmp_path: Path) -> None:
    Journal(tmp_path).close()
    db = sqlite3.connect(tmp_path / "journal.sqlite3")
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    db.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(JournalError, match="newer cams-tui"):
        Journal(tmp_path)


def test_one_process_at_a_time_per_job(tmp_path: Path) -> None:
    with Journal(tmp_path) as journal:
        job_id = _job(journal)
        with journal.lock_job(job_id):
            code = (
                "import sys; from cams_tui.engine.journal import Journal\n"
                f"j = Journal({str(tmp_path)!r})\n"
                f"try:\n    j.lock_job({job_id!r}).__enter__()\nexcept Exception as e:\n    print(e); sys.exit(5)\n"
            )
            result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
            assert result.returncode == 5 and "another cams-tui process" in result.stdout
        with journal.lock_job(job_id):
            pass


def test_million_recipients_stay_compact(tmp_path: Path) -> None:
    item = '{"TemplateParams":{"name":"Customer","code":"SPRING24"},"To":"6391712%05d"}'
    batches = [
        PlannedBatch.of(1000, "[" + ",".join(item % ((b * 1000 + i) % 100000) for i in range(1000)) + "]")
        for b in range(1000)
    ]
    with Journal(tmp_path) as journal:
        journal.create_job(options=OPTIONS, params={}, batches=batches, endpoint="http://127.0.0.1:9")
    size = sum(f.stat().st_size for f in tmp_path.glob("journal.sqlite3*"))
    # ~70 MB of SenderList JSON; stored compressed, one row per batch.
    assert size < 25_000_000


def test_kill_hook_dies_right_after_the_chosen_commit(tmp_path: Path) -> None:
    code = (
        "from cams_tui.engine.journal import Journal, PlannedBatch\n"
        "from cams_tui.api.models import MassMessageOptions\n"
        f"j = Journal({str(tmp_path)!r})\n"
        "o = MassMessageOptions(template_code='T', language='en', From='1')\n"
        "job = j.create_job(options=o, params={}, batches=[PlannedBatch.of(1, '[{\"To\":\"6391700000001\"}]')], "
        "endpoint='http://127.0.0.1:9')\n"
        "j.mark_sending(job, 0)\n"
        "print('survived')\n"
    )
    env = {**os.environ, ENV_KILL_AT_COMMIT: "after:2"}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode == -9 and "survived" not in result.stdout
    with Journal(tmp_path) as journal:
        (job,) = journal.jobs()
        assert journal.batches(job.id)[0].state == "sending"  # the commit made it to disk


def test_a_version_1_journal_is_migrated(tmp_path: Path) -> None:
    from cams_tui.engine.journal import schema as module

    db = sqlite3.connect(tmp_path / "journal.sqlite3")
    for statement in module._split_sql(module._MIGRATIONS[0]):
        db.execute(statement)
    db.execute("PRAGMA user_version=1")
    db.commit()
    db.close()
    with Journal(tmp_path) as journal:
        job_id = journal.create_job(
            options=OPTIONS, params={}, batches=[PlannedBatch.of(1, '[{"To":"6391700000001"}]')],
            endpoint="http://127.0.0.1:9", variables=["name"],
        )
        assert journal.job(job_id).variables == ["name"]
        assert journal._db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_a_job_keeps_its_placement_and_older_jobs_fall_back(tmp_path: Path) -> None:
    from cams_tui.api.endpoints import Placement
    from cams_tui.engine.journal import schema as module

    db = sqlite3.connect(tmp_path / "journal.sqlite3")
    for number in range(3):  # a journal as version 3 wrote it, with one job
        for statement in module._split_sql(module._MIGRATIONS[number]):
            db.execute(statement)
    db.execute(
        "INSERT INTO jobs (id, created_at, updated_at, state, endpoint, options_json, params_json, recipients, "
        "rejected, duplicates, suppressed, batches) VALUES ('old', 1, 1, 'planned', 'http://127.0.0.1:9', ?, '{}', "
        "0, 0, 0, 0, 0)",
        (OPTIONS.model_dump_json(by_alias=True, exclude_none=True),),
    )
    db.execute("PRAGMA user_version=3")
    db.commit()
    db.close()
    with Journal(tmp_path) as journal:
        old = journal.job("old")
        assert old.placement is None and old.sent_placement(Placement.QUERY) is Placement.QUERY
        new = journal.create_job(
            options=OPTIONS, params={}, batches=[PlannedBatch.of(1, '[{"To":"6391700000001"}]')],
            endpoint="http://127.0.0.1:9", placement=Placement.BODY,
        )
        assert journal.job(new).placement == "body"
        assert journal.job(new).sent_placement(Placement.QUERY) is Placement.BODY


def _open_when_released(path: str, barrier: object, results: object) -> None:
    barrier.wait()  # type: ignore[attr-defined]
    try:
        with Journal(Path(path)):
            results.put("ok")  # type: ignore[attr-defined]
    except Exception as exc:  # noqa: BLE001 - reported to the test
        results.put(f"{type(exc).__name__}: {exc}")  # type: ignore[attr-defined]


def test_processes_opening_an_old_journal_at_once_all_migrate_it_or_find_it_migrated(tmp_path: Path) -> None:
    import multiprocessing

    from cams_tui.engine.journal import schema as module

    db = sqlite3.connect(tmp_path / "journal.sqlite3")
    db.execute("PRAGMA journal_mode=WAL")  # as older journals are: each open converts it, one at a time
    for number in range(3):
        for statement in module._split_sql(module._MIGRATIONS[number]):
            db.execute(statement)
    db.execute("PRAGMA user_version=3")
    db.commit()
    db.close()
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(6), context.Queue()
    processes = [context.Process(target=_open_when_released, args=(str(tmp_path), barrier, results)) for _ in range(6)]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=60) for _ in processes]
    for process in processes:
        process.join(timeout=60)
    assert outcomes == ["ok"] * 6
