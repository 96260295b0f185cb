"""One vocabulary of job states and counts, for every place that shows a job: the TUI's
jobs screens and send monitor, ``cams-tui jobs`` (text and JSON) and the export.

Counts are recipients, never batches. A batch being sent by a live process is *in flight*;
the same batch with no live process is *unknown* (the process died with the request possibly
accepted). A job is *sending* only while a process holds its lock (``Journal.job_is_live``):
one marked ``running`` in the journal whose process is gone is *interrupted*. A job whose
batches all have an answer but some are unknown or verified not sent is *unsettled*, and says
what to do next.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from cams_tui.engine.journal import BatchState, JobRecord, JobState, Journal

SENDING = "sending"
"""A live process is sending (or looking up) the job."""
INTERRUPTED = JobState.INTERRUPTED.value
"""Cancelled, or its process died: resumable."""
STOPPED = JobState.STOPPED.value
"""Stopped by an error (a fatal answer, a failed canary, a failure spike): resumable."""
UNSETTLED = "unsettled"
"""Every batch answered, but some recipients are unknown or verified not sent."""
DONE = JobState.DONE.value
"""Every recipient ok or failed."""
PLANNED = JobState.PLANNED.value
"""Written to the journal, never started."""

STATE_TEXT = {
    SENDING: "sending",
    INTERRUPTED: "interrupted",
    STOPPED: "stopped (error)",
    UNSETTLED: "unsettled",
    DONE: "done",
    PLANNED: "planned",
}


@dataclass(frozen=True)
class JobStatus:
    """Where a job stands, in recipients."""

    state: str
    total: int
    ok: int
    failed: int
    in_flight: int
    unknown: int
    not_sent_verified: int
    pending: int
    live: bool

    @property
    def text(self) -> str:
        """The state as shown."""
        return STATE_TEXT.get(self.state, self.state)

    @property
    def resumable(self) -> bool:
        """Whether recipients are left to send (pending, or verified not sent)."""
        return not self.live and (self.pending > 0 or self.not_sent_verified > 0)

    def next_step(self, *, tui: bool = True) -> str:
        """What the operator can do next, in the words of the TUI's jobs screen (``tui``)
        or of the command line; ``""`` when nothing is left to do."""
        if self.live:
            return ""
        steps = []
        if self.pending:
            steps.append(f"r resumes {self.pending:,} left to send" if tui else "resume sends the rest")
        if self.unknown:
            steps.append(f"L looks up {self.unknown:,} unknown" if tui else "reconcile looks the unknown up")
        if self.not_sent_verified:
            steps.append(
                f"S sends {self.not_sent_verified:,} verified not sent" if tui
                else "resume --resend-verified sends those verified not sent"
            )
        return "; ".join(steps)

    def counts_json(self) -> dict[str, Any]:
        """The counts and state, for JSON output."""
        data = asdict(self)
        data.pop("live")
        return data


def job_status(job: JobRecord, *, live: bool) -> JobStatus:
    """The status of ``job`` (as the journal holds it), ``live`` when a process holds its lock."""
    c = job.counts
    sending = c.get(BatchState.SENDING.value, 0)
    unknown = c.get(BatchState.UNKNOWN.value, 0) + (0 if live else sending)
    verified = c.get(BatchState.NOT_SENT_VERIFIED.value, 0)
    pending = c.get(BatchState.PLANNED.value, 0)
    if live:
        state = SENDING
    elif job.state == JobState.RUNNING.value:
        state = INTERRUPTED
    elif job.state == JobState.DONE.value and (unknown or verified or pending):
        state = UNSETTLED if not pending else INTERRUPTED
    else:
        state = job.state
    return JobStatus(
        state=state,
        total=job.recipients,
        ok=c.get(BatchState.OK.value, 0),
        failed=c.get(BatchState.FAILED.value, 0),
        in_flight=sending if live else 0,
        unknown=unknown,
        not_sent_verified=verified,
        pending=pending,
        live=live,
    )


def read_statuses(journal: Journal) -> list[tuple[JobRecord, JobStatus]]:
    """Every job of the journal with its status, newest first."""
    return [(job, job_status(job, live=journal.job_is_live(job.id))) for job in journal.jobs()]


def unfinished(statuses: list[tuple[JobRecord, JobStatus]]) -> list[tuple[JobRecord, JobStatus]]:
    """The jobs that need the operator: left to send, unknown, or verified not sent."""
    return [
        (job, status) for job, status in statuses
        if not status.live and (status.pending or status.unknown or status.not_sent_verified)
    ]
