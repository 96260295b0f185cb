"""The journal's records: the states of jobs and batches, and what is written and read back."""

from __future__ import annotations

import enum
import json
import zlib
from dataclasses import dataclass
from typing import Any

from cams_tui.api.endpoints import Placement
from cams_tui.api.models import MassMessageOptions
from cams_tui.errors import CannotProceed, UserError

# zlib's level for stored SenderLists: 1 packs a million recipients' 70 MB of JSON into
# about 11 MB (level 6: 9 MB) in a third of the time; any level reads back the same.
COMPRESS_LEVEL = 1


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
