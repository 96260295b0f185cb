"""The SQLite journal: jobs, their batches, and every attempt, crash-safe.

One database file (``journal.sqlite3`` in the data dir) holds every job. It uses a rollback
journal (``journal_mode=TRUNCATE``) with ``synchronous=FULL``: a committed transaction is in
the main file before the commit returns, and survives a power cut. (WAL mode was given up: a
commit there lives in ``-wal`` until a checkpoint, and SQLite silently drops a missing or
damaged ``-wal`` - so a lost, truncated or uncopied ``-wal`` turned batches CAMS accepted back
into ``planned``, and a resume sent them again.) Each state change is committed before the
request it describes leaves:

``planned`` → ``sending`` (committed *before* the HTTP request) → ``ok`` | ``failed`` |
``unknown``, or back to ``planned`` when the request was throttled or never sent.
Reconciliation (:mod:`cams_tui.engine.reconcile`) turns an ``unknown`` batch into ``ok`` or
``not_sent_verified`` with the evidence of its lookups; the latter is resent only on request.
When a job is opened for sending again, a batch still found in ``sending`` becomes
``unknown``: the process died with the request possibly accepted. ``ok`` is final.

Storage stays compact for million-recipient jobs: a batch's recipients are kept as the exact
SenderList JSON it sends (zlib-compressed, one blob per batch), so a resend is byte for byte
the first attempt and a recipient's result is its batch's. The ``attempts`` table keeps each
try's start and end time: the window a later reconciliation (ListChatappMessage by number
and time) needs for an ``unknown`` batch.

A data dir the journal creates is made mode 0700 (one that already exists keeps its mode) and
the database files 0600: they hold phone numbers.
"""

from __future__ import annotations

import contextlib
import enum
import fcntl
import json
import os
import secrets
import signal
import sqlite3
import time
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from time import monotonic as _monotonic
from time import sleep as _sleep
from typing import Any

from cams_tui import paths
from cams_tui.api.endpoints import Placement
from cams_tui.api.models import MassMessageOptions
from cams_tui.errors import CannotProceed, UserError, journal_failure

JOURNAL_NAME = "journal.sqlite3"
SCHEMA_VERSION = 6
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
# zlib's level for stored SenderLists: 1 packs a million recipients' 70 MB of JSON into
# about 11 MB (level 6: 9 MB) in a third of the time; any level reads back the same.
COMPRESS_LEVEL = 1
# Rows read per statement by long listings, so that no read holds the database for long.
_PAGE_ROWS = 5000

_MIGRATIONS: list[str] = [
    # version 1
    """
    CREATE TABLE jobs (
        id TEXT PRIMARY KEY,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        state TEXT NOT NULL,
        campaign TEXT,
        endpoint TEXT NOT NULL,
        profile TEXT,
        options_json TEXT NOT NULL,
        params_json TEXT NOT NULL,
        recipients INTEGER NOT NULL,
        rejected INTEGER NOT NULL,
        duplicates INTEGER NOT NULL,
        suppressed INTEGER NOT NULL,
        batches INTEGER NOT NULL,
        stop_code TEXT,
        stop_message TEXT
    );
    CREATE TABLE batches (
        job_id TEXT NOT NULL REFERENCES jobs(id),
        idx INTEGER NOT NULL,
        size INTEGER NOT NULL,
        state TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        sender_list BLOB NOT NULL,
        http_status INTEGER,
        code TEXT,
        message TEXT,
        request_id TEXT,
        group_message_id TEXT,
        latency_ms REAL,
        updated_at REAL NOT NULL,
        first_sent_at REAL,
        last_sent_at REAL,
        answered_at REAL,
        PRIMARY KEY (job_id, idx)
    ) WITHOUT ROWID;
    CREATE TABLE attempts (
        job_id TEXT NOT NULL,
        idx INTEGER NOT NULL,
        attempt INTEGER NOT NULL,
        started_at REAL NOT NULL,
        finished_at REAL,
        outcome TEXT,
        http_status INTEGER,
        code TEXT,
        message TEXT,
        request_id TEXT,
        group_message_id TEXT,
        latency_ms REAL,
        PRIMARY KEY (job_id, idx, attempt)
    ) WITHOUT ROWID;
    CREATE TABLE rejects (
        job_id TEXT NOT NULL,
        line INTEGER NOT NULL,
        input TEXT NOT NULL,
        reason TEXT NOT NULL
    );
    CREATE INDEX rejects_job ON rejects(job_id, line);
    """,
    # version 2: the template's variables, as checked when the job was planned
    """
    ALTER TABLE jobs ADD COLUMN variables_json TEXT;
    """,
    # version 3: how an unknown batch was resolved (and the evidence), the canary's settings
    # and verdict
    """
    ALTER TABLE batches ADD COLUMN reconciled_by TEXT;
    ALTER TABLE batches ADD COLUMN evidence_json TEXT;
    ALTER TABLE batches ADD COLUMN reconciled_at REAL;
    ALTER TABLE jobs ADD COLUMN canary_json TEXT;
    """,
    # version 4: where the job's request parameters travel (body or query), as planned: its
    # batches were sized for it, so a resume sends them the same way whatever the profile says
    """
    ALTER TABLE jobs ADD COLUMN placement TEXT;
    """,
    # version 5: when a scheduled job may start (a resume waits for it too), and the final
    # report's delivery statuses, fetched batch by batch so that an interrupted report goes on
    # where it stopped
    """
    ALTER TABLE jobs ADD COLUMN schedule_json TEXT;
    CREATE TABLE report_runs (
        job_id TEXT NOT NULL,
        run INTEGER NOT NULL,
        started_at REAL NOT NULL,
        finished_at REAL,
        PRIMARY KEY (job_id, run)
    ) WITHOUT ROWID;
    CREATE TABLE report_batches (
        job_id TEXT NOT NULL,
        idx INTEGER NOT NULL,
        run INTEGER NOT NULL,
        fetched_at REAL NOT NULL,
        listed INTEGER NOT NULL,
        PRIMARY KEY (job_id, idx)
    ) WITHOUT ROWID;
    CREATE TABLE report_statuses (
        job_id TEXT NOT NULL,
        number TEXT NOT NULL,
        idx INTEGER NOT NULL,
        status TEXT NOT NULL,
        fail_reason TEXT,
        fallback TEXT,
        message_id TEXT,
        send_time TEXT,
        fetched_at REAL NOT NULL,
        PRIMARY KEY (job_id, number)
    ) WITHOUT ROWID;
    """,
    # version 6: each batch's own template language (a list of several languages is sent
    # one language per request), and the time zones its delivery window is kept in with the
    # earliest start its plan found (NULL: any time, and the job's language)
    """
    ALTER TABLE batches ADD COLUMN language TEXT;
    ALTER TABLE batches ADD COLUMN zones TEXT;
    ALTER TABLE batches ADD COLUMN not_before REAL;
    """,
]


class BatchState(str, enum.Enum):
    """Where a batch stands."""

    PLANNED = "planned"
    SENDING = "sending"
    OK = "ok"
    FAILED = "failed"
    UNKNOWN = "unknown"
    # A lookup showed CAMS never listed this batch's messages: it may be resent, when the
    # operator says so (``resend_verified``).
    NOT_SENT_VERIFIED = "not_sent_verified"


class JobState(str, enum.Enum):
    """Where a job stands."""

    PLANNED = "planned"
    RUNNING = "running"
    STOPPED = "stopped"  # a fatal error: resumable once the cause is fixed
    INTERRUPTED = "interrupted"  # cancelled or killed: resumable
    DONE = "done"  # every batch settled (ok, failed or unknown)


class JournalError(UserError):
    """The journal cannot be used, or a job id is unknown; the message says which."""


class JournalUnusable(JournalError, CannotProceed):
    """The journal cannot be opened or written (not SQLite, damaged, read-only, disk full,
    held by another process): exit 4, not a bad input."""


@dataclass(frozen=True)
class PlannedBatch:
    """A batch before it is written: its size and its SenderList JSON, compressed at once
    (a million recipients' JSON is ~70 MB as text, under 10 MB compressed)."""

    size: int
    blob: bytes
    language: str | None = None
    """The template language of this batch's request (``None``: the job's)."""
    zones: tuple[str, ...] | None = None
    """The time zones the job's delivery window must hold in to send it (``None``: any time)."""
    not_before: float | None = None
    """The earliest start the plan found for it (Unix time), as shown to the operator."""

    @classmethod
    def of(
        cls,
        size: int,
        sender_list: str,
        *,
        language: str | None = None,
        zones: tuple[str, ...] | None = None,
        not_before: float | None = None,
    ) -> PlannedBatch:
        """A batch of ``size`` recipients with this SenderList JSON."""
        return cls(size, zlib.compress(sender_list.encode(), COMPRESS_LEVEL), language, zones, not_before)

    def row_extras(self) -> tuple[str | None, str | None, float | None]:
        """The language, zones and earliest start as the journal's columns hold them."""
        return self.language, _zones_text(self.zones), self.not_before

    @property
    def sender_list(self) -> str:
        """The SenderList JSON."""
        return zlib.decompress(self.blob).decode()


@dataclass(frozen=True)
class ReportStatus:
    """One recipient's latest delivery status as ListChatappMessage listed it."""

    number: str
    """The number's digits, as the batch's SenderList ``To``."""
    status: str
    """``sent``, ``delivered``, ``read`` or ``failed`` (CAMS's MessageStatus, lower case)."""
    fail_reason: str | None = None
    fallback: str | None = None
    """CAMS's FailBackFlag: ``Y`` when the SMS fallback was sent."""
    message_id: str | None = None
    send_time: str | None = None
    fetched_at: float | None = None


@dataclass(frozen=True)
class Reject:
    """An input line that will not be sent, and why."""

    line: int
    input: str
    reason: str


@dataclass(frozen=True)
class JobRecord:
    """A job as the journal holds it, with per-state recipient counts."""

    id: str
    created_at: float
    updated_at: float
    state: str
    campaign: str | None
    endpoint: str
    profile: str | None
    options: MassMessageOptions
    params: dict[str, str]
    recipients: int
    rejected: int
    duplicates: int
    suppressed: int
    batches: int
    stop_code: str | None
    stop_message: str | None
    variables: list[str] | None
    counts: dict[str, int]
    canary: dict[str, Any] | None = None
    """The canary's settings, batches and verdict (``None``: no canary)."""
    placement: Placement | None = None
    """How the batches were sized to travel (``None``: a job written before the journal kept
    it, or by a caller that did not say)."""
    schedule: dict[str, Any] | None = None
    """When the job may start sending (:class:`cams_tui.schedule.JobSchedule` as JSON);
    ``None``: at once."""

    def sent_placement(self, default: Placement) -> Placement:
        """How the job's batches travel: as they were planned, else (an older job) ``default``.

        Batches planned for the body hold up to 1,000 recipients, more than a URL can carry:
        sent in the query (a profile changed between send and resume) they would fail unsent.
        """
        return self.placement or default

    @property
    def pending(self) -> int:
        """Recipients of batches not yet settled (planned or sending)."""
        return self.counts.get(BatchState.PLANNED.value, 0) + self.counts.get(BatchState.SENDING.value, 0)


@dataclass(frozen=True)
class BatchRecord:
    """One batch's latest state (its recipients are read separately)."""

    index: int
    size: int
    state: str
    attempts: int
    http_status: int | None
    code: str | None
    message: str | None
    request_id: str | None
    group_message_id: str | None
    latency_ms: float | None
    first_sent_at: float | None
    last_sent_at: float | None
    answered_at: float | None
    reconciled_by: str | None = None
    """How an unknown outcome was resolved (``lookup``), or ``None``."""
    evidence: dict[str, Any] | None = None
    """What the resolution rests on (MessageIds found, numbers looked up, the window)."""
    reconciled_at: float | None = None
    language: str | None = None
    """The batch's own template language (``None``: the job's)."""
    zones: tuple[str, ...] | None = None
    """The time zones its delivery window must hold in (``None``: it may go at any time)."""
    not_before: float | None = None
    """The earliest start its plan found."""

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> BatchRecord:
        """A record from the columns of ``_BATCH_COLUMNS``."""
        *head, evidence, reconciled_at, language, zones, not_before = row
        # mypy cannot count the starred head of a row; the columns match the fields by construction.
        return cls(  # type: ignore[call-arg]
            *head,
            None if evidence is None else json.loads(evidence),
            reconciled_at,
            language,
            None if zones is None else tuple(zones.split(",")),
            not_before,
        )


def _zones_text(zones: tuple[str, ...] | None) -> str | None:
    return None if zones is None else ",".join(zones)


# The columns _job_record reads, in its order.
_JOB_COLUMNS = (
    "id, created_at, updated_at, state, campaign, endpoint, profile, options_json, params_json, "
    "recipients, rejected, duplicates, suppressed, batches, stop_code, stop_message, variables_json, canary_json, "
    "placement, schedule_json"
)
_BATCH_COLUMNS = (
    "idx, size, state, attempts, http_status, code, message, request_id, group_message_id, "
    "latency_ms, first_sent_at, last_sent_at, answered_at, reconciled_by, evidence_json, reconciled_at, "
    "language, zones, not_before"
)


@dataclass(frozen=True)
class Answer:
    """What one attempt came back with."""

    outcome: str
    http_status: int | None = None
    code: str | None = None
    message: str | None = None
    request_id: str | None = None
    group_message_id: str | None = None
    latency_ms: float | None = None


def _new_job_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S", time.localtime()) + "-" + secrets.token_hex(2)


def _private_file(path: Path) -> None:
    if path.exists():
        os.chmod(path, 0o600)


class Journal:
    """The journal of one data dir. Not thread-safe: use it from one thread (the event loop)."""

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

    # ------------------------------------------------------------------ plumbing

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
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise JournalUnusable(
                f"the journal {self.path} was written by a newer cams-tui (schema {version}); upgrade cams-tui"
            )
        while version < SCHEMA_VERSION:
            self._db.execute("BEGIN IMMEDIATE")
            # Read again under the lock: another process opening the same journal may have
            # migrated it since (a second ALTER TABLE would fail on the existing column).
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version >= SCHEMA_VERSION:
                self._db.execute("COMMIT")
                break
            try:
                for statement in _split_sql(_MIGRATIONS[version]):
                    self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version={version + 1}")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
            version += 1

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

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ------------------------------------------------------------------- writing

    def create_job(
        self,
        *,
        options: MassMessageOptions,
        params: dict[str, str],
        batches: Iterable[PlannedBatch],
        endpoint: str,
        placement: Placement | None = None,
        schedule: dict[str, Any] | None = None,
        variables: Iterable[str] | None = None,
        campaign: str | None = None,
        profile: str | None = None,
        rejects: Iterable[Reject] = (),
        rejected: int | None = None,
        duplicates: int = 0,
        suppressed: int = 0,
        canary: dict[str, Any] | None = None,
    ) -> str:
        """Write a job with all its batches (``planned``) in one transaction; return its id.

        ``placement`` is how the batches were sized to travel (``body`` or ``query``), so that
        a resume sends them the same way; ``schedule`` is when it may start (in the same
        transaction: a job must never exist without the wait it was given); ``variables`` are the
        template's variables as checked (``None``: not checked);
        ``rejects`` lists rejected input lines (exported with their reason); ``rejected`` is
        their count when the list was cut short; ``canary`` is the job's canary as
        :meth:`set_canary` records it, written with the job."""
        job_id = _new_job_id()
        now = time.time()
        batch_rows = [
            (job_id, index, batch.size, BatchState.PLANNED.value, batch.blob, now, *batch.row_extras())
            for index, batch in enumerate(batches)
        ]
        reject_rows = [(job_id, r.line, r.input, r.reason) for r in rejects]
        total = sum(row[2] for row in batch_rows)
        self._transaction(
            [
                (
                    "INSERT INTO jobs (id, created_at, updated_at, state, campaign, endpoint, profile, "
                    "options_json, params_json, recipients, rejected, duplicates, suppressed, batches, "
                    "variables_json, placement, schedule_json, canary_json) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        job_id,
                        now,
                        now,
                        JobState.PLANNED.value,
                        campaign,
                        endpoint,
                        profile,
                        options.model_dump_json(by_alias=True, exclude_none=True),
                        json.dumps(params, ensure_ascii=False),
                        total,
                        len(reject_rows) if rejected is None else rejected,
                        duplicates,
                        suppressed,
                        len(batch_rows),
                        None if variables is None else json.dumps(list(variables), ensure_ascii=False),
                        None if placement is None else placement.value,
                        None if schedule is None else json.dumps(schedule),
                        None if canary is None else json.dumps(canary, ensure_ascii=False),
                    ),
                ),
                (
                    "INSERT INTO batches (job_id, idx, size, state, sender_list, updated_at, language, zones, "
                    "not_before) VALUES (?,?,?,?,?,?,?,?,?)",
                    batch_rows,
                ),
                ("INSERT INTO rejects (job_id, line, input, reason) VALUES (?,?,?,?)", reject_rows),
            ]
        )
        return job_id

    def recover(
        self,
        job_id: str,
        *,
        retry_unknown: bool = False,
        resend_verified: bool = False,
        retry_failed: bool = False,
    ) -> int:
        """Prepare a job to be sent (again): batches found ``sending`` become ``unknown``;
        with ``retry_unknown`` every ``unknown`` batch goes back to ``planned``, with
        ``resend_verified`` every ``not_sent_verified`` one, with ``retry_failed`` every
        ``failed`` one. Returns how many batches were found ``sending``."""
        now = time.time()
        found = self._db.execute(
            "SELECT COUNT(*) FROM batches WHERE job_id=? AND state=?", (job_id, BatchState.SENDING.value)
        ).fetchone()[0]
        statements: list[tuple[str, Any]] = [
            (
                "UPDATE batches SET state=?, code=?, message=?, updated_at=? WHERE job_id=? AND state=?",
                (
                    BatchState.UNKNOWN.value,
                    "Interrupted",
                    "the process stopped while this batch was being sent: it may have been accepted",
                    now,
                    job_id,
                    BatchState.SENDING.value,
                ),
            ),
            (
                "UPDATE attempts SET outcome=?, message=? WHERE job_id=? AND outcome IS NULL",
                (BatchState.UNKNOWN.value, "interrupted before an answer was recorded", job_id),
            ),
        ]
        requeued = (
            (BatchState.UNKNOWN, retry_unknown),
            (BatchState.NOT_SENT_VERIFIED, resend_verified),
            (BatchState.FAILED, retry_failed),
        )
        statements.extend(
            (
                "UPDATE batches SET state=?, updated_at=? WHERE job_id=? AND state=?",
                (BatchState.PLANNED.value, now, job_id, state.value),
            )
            for state, wanted in requeued
            if wanted
        )
        self._transaction(statements)
        return found

    def resolve_batch(
        self,
        job_id: str,
        index: int,
        state: BatchState,
        *,
        by: str,
        evidence: dict[str, Any],
        group_message_id: str | None = None,
    ) -> None:
        """Commit what a lookup concluded about an ``unknown`` batch: ``ok`` (accepted; its
        GroupMessageId when found) or ``not_sent_verified``, with the evidence. A batch no
        longer ``unknown`` is left alone."""
        code, message = (
            ("ResolvedByLookup", "accepted: its messages are listed by ListChatappMessage")
            if state is BatchState.OK
            else ("NotSentVerified", "not listed by ListChatappMessage after the grace period: never accepted")
        )
        now = time.time()
        self._transaction(
            [
                (
                    "UPDATE batches SET state=?, code=?, message=?, group_message_id=COALESCE(?, group_message_id), "
                    "reconciled_by=?, evidence_json=?, reconciled_at=?, updated_at=? "
                    "WHERE job_id=? AND idx=? AND state=?",
                    (
                        state.value,
                        code,
                        message,
                        group_message_id,
                        by,
                        json.dumps(evidence, ensure_ascii=False),
                        now,
                        now,
                        job_id,
                        index,
                        BatchState.UNKNOWN.value,
                    ),
                )
            ]
        )

    def set_canary(self, job_id: str, canary: dict[str, Any] | None) -> None:
        """Record the job's canary: its settings, batches and, once judged, its verdict."""
        self._transaction(
            [
                (
                    "UPDATE jobs SET canary_json=?, updated_at=? WHERE id=?",
                    (None if canary is None else json.dumps(canary, ensure_ascii=False), time.time(), job_id),
                )
            ]
        )

    def set_job_state(
        self, job_id: str, state: JobState, *, stop_code: str | None = None, stop_message: str | None = None
    ) -> None:
        """Record where the job stands (and why it stopped, if it did)."""
        self._transaction(
            [
                (
                    "UPDATE jobs SET state=?, stop_code=?, stop_message=?, updated_at=? WHERE id=?",
                    (state.value, stop_code, stop_message, time.time(), job_id),
                )
            ]
        )

    def mark_sending(self, job_id: str, index: int) -> int:
        """Commit that batch ``index`` is about to be sent; returns the attempt number.
        Call this before the request leaves."""
        now = time.time()
        attempt = (
            self._db.execute("SELECT attempts FROM batches WHERE job_id=? AND idx=?", (job_id, index)).fetchone()[0] + 1
        )
        self._transaction(
            [
                (
                    "UPDATE batches SET state=?, attempts=?, first_sent_at=COALESCE(first_sent_at, ?), "
                    "last_sent_at=?, updated_at=? WHERE job_id=? AND idx=?",
                    (BatchState.SENDING.value, attempt, now, now, now, job_id, index),
                ),
                (
                    "INSERT INTO attempts (job_id, idx, attempt, started_at) VALUES (?,?,?,?)",
                    (job_id, index, attempt, now),
                ),
            ]
        )
        return attempt

    def record_answer(self, job_id: str, index: int, attempt: int, state: BatchState, answer: Answer) -> None:
        """Commit what attempt ``attempt`` of batch ``index`` came back with, and the batch's
        new state (``planned`` again when it was throttled or never sent)."""
        now = time.time()
        self._transaction(
            [
                (
                    "UPDATE batches SET state=?, http_status=?, code=?, message=?, request_id=?, "
                    "group_message_id=?, latency_ms=?, answered_at=?, updated_at=? WHERE job_id=? AND idx=?",
                    (
                        state.value,
                        answer.http_status,
                        answer.code,
                        answer.message,
                        answer.request_id,
                        answer.group_message_id,
                        answer.latency_ms,
                        now,
                        now,
                        job_id,
                        index,
                    ),
                ),
                (
                    "UPDATE attempts SET finished_at=?, outcome=?, http_status=?, code=?, message=?, "
                    "request_id=?, group_message_id=?, latency_ms=? WHERE job_id=? AND idx=? AND attempt=?",
                    (
                        now,
                        answer.outcome,
                        answer.http_status,
                        answer.code,
                        answer.message,
                        answer.request_id,
                        answer.group_message_id,
                        answer.latency_ms,
                        job_id,
                        index,
                        attempt,
                    ),
                ),
            ]
        )

    # ------------------------------------------------------------ the final report

    def report_run(self, job_id: str) -> tuple[int, bool]:
        """The report run to fetch in: the unfinished one (``True``: it goes on where it
        stopped), else a new one (``False``), whose fetches replace the older statuses."""
        row = self._db.execute(
            "SELECT run, finished_at FROM report_runs WHERE job_id=? ORDER BY run DESC LIMIT 1", (job_id,)
        ).fetchone()
        if row is not None and row[1] is None:
            return int(row[0]), True
        run = 1 if row is None else int(row[0]) + 1
        self._transaction(
            [("INSERT INTO report_runs (job_id, run, started_at) VALUES (?,?,?)", (job_id, run, time.time()))]
        )
        return run, False

    def report_fetched(self, job_id: str, run: int) -> set[int]:
        """The batches whose statuses report run ``run`` has already fetched."""
        return {
            idx for (idx,) in self._db.execute("SELECT idx FROM report_batches WHERE job_id=? AND run=?", (job_id, run))
        }

    def record_report_batch(
        self, job_id: str, index: int, run: int, statuses: list[ReportStatus], *, listed: bool
    ) -> None:
        """Commit one batch's fetched statuses (each number's latest) and that run ``run``
        fetched it, in one transaction: an interrupted report goes on after the last one."""
        now = time.time()
        self._transaction(
            [
                ("DELETE FROM report_statuses WHERE job_id=? AND idx=?", (job_id, index)),
                (
                    "INSERT OR REPLACE INTO report_statuses (job_id, number, idx, status, fail_reason, fallback, "
                    "message_id, send_time, fetched_at) VALUES (?,?,?,?,?,?,?,?,?)",
                    [
                        (
                            job_id,
                            st.number,
                            index,
                            st.status,
                            st.fail_reason,
                            st.fallback,
                            st.message_id,
                            st.send_time,
                            now,
                        )
                        for st in statuses
                    ],
                ),
                (
                    "INSERT OR REPLACE INTO report_batches (job_id, idx, run, fetched_at, listed) VALUES (?,?,?,?,?)",
                    (job_id, index, run, now, int(listed)),
                ),
            ]
        )

    def finish_report_run(self, job_id: str, run: int) -> None:
        """Record that report run ``run`` fetched every batch it had to."""
        self._transaction(
            [("UPDATE report_runs SET finished_at=? WHERE job_id=? AND run=?", (time.time(), job_id, run))]
        )

    def report_statuses(self, job_id: str, index: int) -> dict[str, ReportStatus]:
        """The statuses last fetched for one batch's recipients, by number (digits)."""
        return {
            row[0]: ReportStatus(*row)
            for row in self._db.execute(
                "SELECT number, status, fail_reason, fallback, message_id, send_time, fetched_at "
                "FROM report_statuses WHERE job_id=? AND idx=?",
                (job_id, index),
            )
        }

    def report_batch_times(self, job_id: str) -> dict[int, float]:
        """When each batch's statuses were last fetched (batches never fetched are absent)."""
        return {
            int(idx): float(at)
            for idx, at in self._db.execute("SELECT idx, fetched_at FROM report_batches WHERE job_id=?", (job_id,))
        }

    # ---------------------------------------------------------- changing placement

    def split_batch(
        self,
        job_id: str,
        index: int,
        pieces: Iterable[PlannedBatch],
        *,
        attempt: int | None = None,
        answer: Answer | None = None,
    ) -> list[int]:
        """Replace unsent batch ``index`` by ``pieces`` (``planned``, the same recipients in
        the same order) in one transaction; returns their new indices.

        A crash leaves either the old batch or the new ones. ``attempt`` and ``answer`` close
        the attempt that was refused (a gateway's 413/414): it is kept, as history, under the
        old index, which is never reused."""
        closing: list[tuple[str, Any]] = []
        if attempt is not None and answer is not None:
            closing.append(
                (
                    "UPDATE attempts SET finished_at=?, outcome=?, http_status=?, code=?, message=?, "
                    "request_id=?, latency_ms=? WHERE job_id=? AND idx=? AND attempt=?",
                    (
                        time.time(),
                        answer.outcome,
                        answer.http_status,
                        answer.code,
                        answer.message,
                        answer.request_id,
                        answer.latency_ms,
                        job_id,
                        index,
                        attempt,
                    ),
                )
            )
        unsent = (BatchState.PLANNED, BatchState.SENDING)
        return self._split({index: list(pieces)}, job_id, unsent, closing=closing)[index]

    def replan_batches(
        self, job_id: str, splits: dict[int, list[PlannedBatch]], placement: Placement
    ) -> dict[int, list[int]]:
        """Split ``planned`` batches (index → its pieces) and record that the job's batches
        now travel in ``placement``, in one transaction; returns each old index's new ones."""
        record = (
            "UPDATE jobs SET placement=?, updated_at=? WHERE id=?",
            (placement.value, time.time(), job_id),
        )
        return self._split(splits, job_id, (BatchState.PLANNED,), closing=[record])

    def _split(
        self,
        splits: dict[int, list[PlannedBatch]],
        job_id: str,
        allowed: tuple[BatchState, ...],
        *,
        closing: list[tuple[str, Any]],
    ) -> dict[int, list[int]]:
        with self._writing():
            return self._split_in_transaction(splits, job_id, allowed, closing=closing)

    def _split_in_transaction(
        self,
        splits: dict[int, list[PlannedBatch]],
        job_id: str,
        allowed: tuple[BatchState, ...],
        *,
        closing: list[tuple[str, Any]],
    ) -> dict[int, list[int]]:
        now = time.time()
        self._db.execute("BEGIN IMMEDIATE")
        try:
            # New indices follow every index the job ever used, its attempts' included: an
            # old index's attempts must never be taken for a new batch's.
            next_index = (
                1
                + self._db.execute(
                    "SELECT MAX(m) FROM (SELECT MAX(idx) AS m FROM batches WHERE job_id=? "
                    "UNION ALL SELECT MAX(idx) FROM attempts WHERE job_id=?)",
                    (job_id, job_id),
                ).fetchone()[0]
                if splits
                else 0
            )
            created: dict[int, list[int]] = {}
            for index, pieces in splits.items():
                row = self._db.execute(
                    "SELECT size, state, language, zones, not_before FROM batches WHERE job_id=? AND idx=?",
                    (job_id, index),
                ).fetchone()
                if row is None:
                    raise JournalError(f"job {job_id!r} has no batch {index}")
                # The pieces keep the batch's language and window: they are its recipients.
                size, state, *extras = row
                if state not in {s.value for s in allowed}:
                    raise JournalError(f"batch {index} of job {job_id!r} is {state}: only an unsent batch is split")
                if len(pieces) < 2 or sum(p.size for p in pieces) != size:
                    raise ValueError(f"batch {index} ({size} recipients) cannot become {[p.size for p in pieces]}")
                self._db.execute("DELETE FROM batches WHERE job_id=? AND idx=?", (job_id, index))
                created[index] = list(range(next_index, next_index + len(pieces)))
                self._db.executemany(
                    "INSERT INTO batches (job_id, idx, size, state, sender_list, updated_at, language, zones, "
                    "not_before) VALUES (?,?,?,?,?,?,?,?,?)",
                    [
                        (job_id, new, piece.size, BatchState.PLANNED.value, piece.blob, now, *extras)
                        for new, piece in zip(created[index], pieces, strict=True)
                    ],
                )
                next_index += len(pieces)
            self._db.execute(
                "UPDATE jobs SET batches=(SELECT COUNT(*) FROM batches WHERE job_id=?), updated_at=? WHERE id=?",
                (job_id, now, job_id),
            )
            for sql, args in closing:
                self._db.execute(sql, args)
        except BaseException:
            self._rollback()
            raise
        self._commit()
        return created

    # ------------------------------------------------------------------- reading

    def job(self, job_id: str) -> JobRecord:
        """A job by id, or :class:`JournalError` naming the id."""
        row = self._db.execute(
            f"SELECT {_JOB_COLUMNS} FROM jobs WHERE id=?",
            (job_id,),
        ).fetchone()
        if row is None:
            raise JournalError(f"no job {job_id!r} in {self.path}: `cams-tui jobs` lists them")
        return self._job_record(row)

    def _job_record(self, row: tuple[Any, ...]) -> JobRecord:
        counts = {
            state: total
            for state, total in self._db.execute(
                "SELECT state, SUM(size) FROM batches WHERE job_id=? GROUP BY state", (row[0],)
            )
        }
        return JobRecord(
            id=row[0],
            created_at=row[1],
            updated_at=row[2],
            state=row[3],
            campaign=row[4],
            endpoint=row[5],
            profile=row[6],
            options=MassMessageOptions.model_validate_json(row[7]),
            params=json.loads(row[8]),
            recipients=row[9],
            rejected=row[10],
            duplicates=row[11],
            suppressed=row[12],
            batches=row[13],
            stop_code=row[14],
            stop_message=row[15],
            variables=None if row[16] is None else json.loads(row[16]),
            counts=counts,
            canary=None if row[17] is None else json.loads(row[17]),
            placement=Placement(row[18]) if row[18] else None,
            schedule=None if row[19] is None else json.loads(row[19]),
        )

    def jobs(self) -> list[JobRecord]:
        """Every job, newest first."""
        rows = self._db.execute(f"SELECT {_JOB_COLUMNS} FROM jobs ORDER BY created_at DESC").fetchall()
        return [self._job_record(row) for row in rows]

    def batches(self, job_id: str, states: Iterable[BatchState] | None = None) -> list[BatchRecord]:
        """A job's batches in order, optionally only those in ``states``."""
        sql = f"SELECT {_BATCH_COLUMNS} FROM batches WHERE job_id=?"
        args: list[Any] = [job_id]
        if states is not None:
            wanted = [s.value for s in states]
            sql += f" AND state IN ({','.join('?' * len(wanted))})"
            args.extend(wanted)
        return [BatchRecord.from_row(row) for row in self._db.execute(sql + " ORDER BY idx", args)]

    def sender_list(self, job_id: str, index: int) -> str:
        """The SenderList JSON of one batch, exactly as it is sent."""
        row = self._db.execute("SELECT sender_list FROM batches WHERE job_id=? AND idx=?", (job_id, index)).fetchone()
        if row is None:
            raise JournalError(f"job {job_id!r} has no batch {index}")
        return zlib.decompress(row[0]).decode()

    def iter_sender_lists(self, job_id: str) -> Iterator[tuple[BatchRecord, str]]:
        """Every batch with its SenderList JSON, in order, one at a time."""
        for batch in self.batches(job_id):
            yield batch, self.sender_list(job_id, batch.index)

    def rejects(self, job_id: str) -> Iterator[Reject]:
        """The input lines that were not planned, in file order.

        Read a page at a time: a rollback journal's reader keeps writers from committing while
        its statement is open, and a caller may take its time between rows (an export)."""
        after: tuple[int, int] = (-1, -1)
        while True:
            rows = self._db.execute(
                "SELECT line, rowid, input, reason FROM rejects WHERE job_id=? AND (line, rowid) > (?, ?) "
                "ORDER BY line, rowid LIMIT ?",
                (job_id, *after, _PAGE_ROWS),
            ).fetchall()
            for line, _, text, reason in rows:
                yield Reject(line, text, reason)
            if len(rows) < _PAGE_ROWS:
                return
            after = (rows[-1][0], rows[-1][1])

    def attempts(self, job_id: str, index: int) -> list[dict[str, Any]]:
        """Every attempt of one batch: its time window and what it came back with."""
        cursor = self._db.execute(
            "SELECT attempt, started_at, finished_at, outcome, http_status, code, message, request_id, "
            "group_message_id, latency_ms FROM attempts WHERE job_id=? AND idx=? ORDER BY attempt",
            (job_id, index),
        )
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor]


def _unusable(path: Path, exc: BaseException) -> JournalUnusable:
    if isinstance(exc, JournalError):
        return exc if isinstance(exc, JournalUnusable) else JournalUnusable(str(exc))
    return JournalUnusable(str(journal_failure(path, exc)))


def _split_sql(script: str) -> list[str]:
    return [part.strip() for part in script.split(";") if part.strip()]
