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

The package is one concern per module: :mod:`.records` (states and records), :mod:`.schema`
(tables and migrations), :mod:`.database` (opening, transactions, locks), :mod:`.jobs`,
:mod:`.batches`, :mod:`.splits` and :mod:`.reports` (the writes), :mod:`.reads` (the queries).
:class:`Journal` joins them; it is the one entry point. Settings read at run time
(``JOURNAL_MODE``, ``OPEN_TIMEOUT_S``) live in :mod:`.database`, and are set there.
"""

from __future__ import annotations

from cams_tui.engine.journal.batches import BatchWrites
from cams_tui.engine.journal.database import ENV_KILL_AT_COMMIT, JOURNAL_NAME
from cams_tui.engine.journal.jobs import JobWrites
from cams_tui.engine.journal.reads import JournalReads
from cams_tui.engine.journal.records import (
    COMPRESS_LEVEL,
    Answer,
    BatchRecord,
    BatchState,
    JobRecord,
    JobState,
    JournalError,
    JournalUnusable,
    PlannedBatch,
    Reject,
    ReportStatus,
)
from cams_tui.engine.journal.reports import ReportStore
from cams_tui.engine.journal.schema import SCHEMA_VERSION
from cams_tui.engine.journal.splits import BatchSplits

__all__ = [
    "COMPRESS_LEVEL",
    "ENV_KILL_AT_COMMIT",
    "JOURNAL_NAME",
    "SCHEMA_VERSION",
    "Answer",
    "BatchRecord",
    "BatchState",
    "JobRecord",
    "JobState",
    "Journal",
    "JournalError",
    "JournalUnusable",
    "PlannedBatch",
    "Reject",
    "ReportStatus",
]


class Journal(JobWrites, BatchWrites, BatchSplits, ReportStore, JournalReads):
    """The journal of one data dir. Not thread-safe: use it from one thread (the event loop)."""
