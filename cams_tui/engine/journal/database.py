"""The journal's database file: opening it safely, durable transactions, and job locks."""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import sqlite3
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from time import monotonic as _monotonic
from time import sleep as _sleep
from typing import Any, Self

from cams_tui import paths
from cams_tui.engine.journal import schema
from cams_tui.engine.journal.records import JournalError, JournalUnusable
from cams_tui.errors import journal_failure

JOURNAL_NAME = "journal.sqlite3"
# Test hook for crash tests: "after:N" or "before:N" makes the process SIGKILL itself right
# after (or right before) its Nth commit. Never set in normal use.
ENV_KILL_AT_COMMIT = "CAMS_TUI_TEST_KILL_AT_COMMIT"
# The rollback journal's mode: TRUNCATE commits by truncating ``-journal`` and, with
# synchronous=FULL, syncs that truncation, so the commit is durable without a directory sync
# (DELETE would need synchronous=EXTRA for that).
JOURNAL_MODE = "truncate"
# How long an open waits for another process to let go of a WAL journal it is converting,
# and for the busy database in general.
OPEN_TIMEOUT_S = 10.0


def _private_file(path: Path) -> None:
    if path.exists():
        os.chmod(path, 0o600)


class JournalDatabase:
    """One open journal file and the plumbing every read and write goes through."""

    def __init__(self, data_dir: Path) -> None:
        data_dir = Path(data_dir)
        if data_dir.exists() and not data_dir.is_dir():
            raise JournalUnusable(
                f"the data folder {data_dir} is a file, not a folder: give a folder with --data-dir "
                "or CAMS_TUI_DATA_DIR"
            )
        self.path = data_dir / JOURNAL_NAME
        try:
            self.data_dir = paths.ensure_private_dir(data_dir)
            if self.path.is_dir():
                raise JournalUnusable(f"the journal {self.path} is a folder: move it aside, or give another --data-dir")
            if not self.path.exists():
                # Create it 0600 before SQLite does, so it never exists with a wider mode;
                # SQLite gives -wal and -shm the mode of the database file.
                os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
            with self._open_lock():
                self._db = self._connect()
                try:
                    self._migrate()
                except BaseException:
                    self._db.close()
                    raise
            for suffix in ("", "-journal"):
                _private_file(Path(str(self.path) + suffix))
        except (sqlite3.Error, OSError) as exc:
            raise _unusable(self.path, exc) from None
        self._commits = 0
        self._kill_at = self._parse_kill_hook(os.environ.get(ENV_KILL_AT_COMMIT, ""))

    @contextlib.contextmanager
    def _open_lock(self) -> Iterator[None]:
        """Serialise opens of this journal between processes, so that two of them converting
        an old WAL journal at once do not keep each other from it (each one's connection
        would hold the WAL open)."""

        fd = os.open(self.data_dir / f"{JOURNAL_NAME}.open-lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            deadline = _monotonic() + OPEN_TIMEOUT_S
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if _monotonic() > deadline:
                        raise JournalUnusable(
                            f"the journal {self.path} is being opened by another cams-tui process "
                            f"for over {OPEN_TIMEOUT_S:g} s; try again"
                        ) from None
                    _sleep(0.02)
            yield
        finally:
            os.close(fd)  # releases the lock

    def _connect(self) -> sqlite3.Connection:
        """A connection in rollback-journal mode; an old WAL journal is checkpointed into the
        main file and converted first (SQLite does both on the mode change, and it can only
        do so when no other connection holds the WAL open: it is retried until then)."""
        deadline = _monotonic() + OPEN_TIMEOUT_S
        while True:
            db = sqlite3.connect(self.path, isolation_level=None, timeout=OPEN_TIMEOUT_S)
            try:
                mode = db.execute(f"PRAGMA journal_mode={JOURNAL_MODE}").fetchone()[0]
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    db.close()
                    raise
                mode = "wal"
            if mode == JOURNAL_MODE:
                db.execute("PRAGMA synchronous=FULL")
                db.execute("PRAGMA foreign_keys=ON")
                return db
            db.close()
            if _monotonic() > deadline:
                raise JournalUnusable(
                    f"the journal {self.path} is in WAL mode and held open by another program (an older "
                    "cams-tui?): close it, then try again; it is converted to a rollback journal on the "
                    "next open"
                )
            _sleep(0.05)

    @staticmethod
    def _parse_kill_hook(spec: str) -> tuple[str, int] | None:
        if not spec:
            return None
        when, _, number = spec.partition(":")
        return (when, int(number)) if when in {"before", "after"} and number.isdigit() else None

    def _migrate(self) -> None:
        schema.migrate(self._db, self.path)

    @staticmethod
    def _now() -> float:
        """The time every row written is stamped with (read in this one place)."""
        return time.time()

    def _transaction(self, statements: Iterable[tuple[str, Any]]) -> None:
        """Run statements in one transaction and commit it durably."""
        with self._writing():
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for sql, args in statements:
                    if isinstance(args, list):
                        self._db.executemany(sql, args)
                    else:
                        self._db.execute(sql, args)
            except BaseException:
                self._rollback()
                raise
            self._commit()

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        """A write that fails in SQLite (disk full, read-only, damaged) is a journal that
        cannot be used: said in plain words, exit 4 (the transaction was rolled back)."""
        try:
            yield
        except sqlite3.Error as exc:
            raise _unusable(self.path, exc) from None

    def _rollback(self) -> None:
        # SQLite may have rolled back already (a full disk does): nothing to undo then.
        with contextlib.suppress(sqlite3.Error):
            self._db.execute("ROLLBACK")

    def _commit(self) -> None:
        self._commits += 1
        if self._kill_at == ("before", self._commits):
            os.kill(os.getpid(), signal.SIGKILL)
        self._db.execute("COMMIT")
        if self._kill_at == ("after", self._commits):
            os.kill(os.getpid(), signal.SIGKILL)

    @contextlib.contextmanager
    def lock_job(self, job_id: str) -> Iterator[None]:
        """Hold the job's lock while sending it, so two processes never send one job.

        An OS file lock: it is released when the process ends, even by ``kill -9``."""

        folder = paths.ensure_private_dir(self.data_dir / "locks")
        fd = os.open(folder / f"{job_id}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            for attempt in range(3):
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    # A probe of job_is_live holds it for microseconds; a sender, for long.
                    if attempt == 2:
                        raise JournalUnusable(f"job {job_id} is being sent by another cams-tui process") from None
                    _sleep(0.02)
            yield
        finally:
            os.close(fd)

    def job_is_live(self, job_id: str) -> bool:
        """Whether a process (this one included) holds the job's lock, i.e. is sending or
        looking it up now. A job marked ``running`` whose lock is free was left by a process
        that died: it is not running.

        Probed by taking the lock and letting go at once (an OS lock cannot be tested
        otherwise); a run starting in that instant waits the probe out (see :meth:`lock_job`)."""

        path = self.data_dir / "locks" / f"{job_id}.lock"
        try:
            fd = os.open(path, os.O_RDWR)
        except OSError:
            return False  # never locked: never sent
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(fd, fcntl.LOCK_UN)
            return False
        finally:
            os.close(fd)

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _unusable(path: Path, exc: BaseException) -> JournalUnusable:
    if isinstance(exc, JournalError):
        return exc if isinstance(exc, JournalUnusable) else JournalUnusable(str(exc))
    return JournalUnusable(str(journal_failure(path, exc)))
