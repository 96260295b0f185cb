"""The journal's schema: its tables, and the migrations that bring an older file up to date."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from cams_tui.engine.journal.records import JournalUnusable

SCHEMA_VERSION = 6

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


def migrate(db: sqlite3.Connection, path: Path) -> None:
    """Bring the journal open on ``db`` (the file ``path``) to :data:`SCHEMA_VERSION`,
    one committed migration at a time; a journal from a newer cams-tui is refused."""
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise JournalUnusable(
            f"the journal {path} was written by a newer cams-tui (schema {version}); upgrade cams-tui"
        )
    while version < SCHEMA_VERSION:
        db.execute("BEGIN IMMEDIATE")
        # Read again under the lock: another process opening the same journal may have
        # migrated it since (a second ALTER TABLE would fail on the existing column).
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version >= SCHEMA_VERSION:
            db.execute("COMMIT")
            break
        try:
            for statement in _split_sql(_MIGRATIONS[version]):
                db.execute(statement)
            db.execute(f"PRAGMA user_version={version + 1}")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        version += 1


def _split_sql(script: str) -> list[str]:
    return [part.strip() for part in script.split(";") if part.strip()]
