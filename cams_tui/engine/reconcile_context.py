"""What the journal says around a job's unknown batches: other jobs' numbers, and controls.

A control is an accepted batch whose listing shows how far CAMS's records have caught up;
samples are the recipients looked up per unknown batch, preferring numbers no other batch sent to.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from cams_tui.engine.journal import BatchRecord, BatchState, JobRecord, Journal
from cams_tui.engine.reconcile_models import RESOLVED_BY_LOOKUP


@dataclass
class Control:
    """A batch accepted by CAMS whose listing shows how far CAMS's records have caught up."""

    job_id: str
    index: int
    accepted_after: float
    """CAMS accepted it no earlier than this (the start of the attempt that was accepted,
    or of the first attempt when which one is not known)."""
    group_message_id: str | None
    listed: bool | None
    """``True``: shown listed; ``False``: looked up and not listed; ``None``: not looked up."""
    own: bool

    def describe(self, job_id: str, now: float) -> str:
        """``batch 3, sent 40 s ago after this batch's last activity, is listed``."""
        name = f"batch {self.index}" if self.own else f"batch {self.index} of job {self.job_id}"
        state = "listed" if self.listed else "NOT listed"
        ago = max(0.0, now - self.accepted_after)
        return f"{name}, sent {ago:.0f} s ago after this batch's last activity, is {state}"


@dataclass
class JobContext:
    """What the journal says about the other batches: to pick samples, judge records and
    find controls."""

    foreign_numbers: set[str]
    """Numbers of other jobs' batches of the same Service ID and template, sent in the window."""
    foreign_groups: dict[str, list[str]]
    """For those numbers: the GroupMessageIds of the other batches that were accepted."""
    controls: list[Control]
    """Accepted batches on the same Service ID and CustSpaceId, earliest accepted first."""

    @classmethod
    def build(cls, journal: Journal, job: JobRecord, unknown: list[BatchRecord], skew_s: float) -> JobContext:
        """The context of ``job``'s ``unknown`` batches, from every job of its Service ID."""
        starts = [activity(b, journal.attempts(job.id, b.index))[0] for b in unknown]
        window_start = min(starts) - skew_s if starts else 0.0
        numbers: set[str] = set()
        groups: dict[str, list[str]] = {}
        controls: list[Control] = []
        for other in journal.jobs():
            listed_alike = (other.options.from_, other.options.cust_space_id) == (
                job.options.from_,
                job.options.cust_space_id,
            )
            if not listed_alike:
                continue
            same_template = other.options.template_code == job.options.template_code
            own = other.id == job.id
            for batch in journal.batches(other.id):
                if batch.state == BatchState.OK.value:
                    control = control_of(other.id, batch, own)
                    if control is not None:
                        controls.append(control)
                if own or not same_template:
                    continue  # numbers are unique within a job; other templates never match
                # Another job's batch matters only if it may have been sent in the window.
                moments = (batch.last_sent_at, batch.answered_at, batch.first_sent_at)
                latest = max([x for x in moments if x], default=0.0)
                if batch.first_sent_at is not None and latest >= window_start:
                    sent_to = [item["To"] for item in json.loads(journal.sender_list(other.id, batch.index))]
                    numbers.update(sent_to)
                    if batch.state == BatchState.OK.value and batch.group_message_id:
                        for number in sent_to:
                            groups.setdefault(number, []).append(batch.group_message_id)
        controls.sort(key=lambda c: c.accepted_after)
        return cls(numbers, groups, controls)


def control_of(job_id: str, batch: BatchRecord, own: bool) -> Control | None:
    """A control from an ``ok`` batch: by its GroupMessageId when CAMS answered it, already
    shown listed when it was found by lookup; ``None`` when neither."""
    if batch.reconciled_by == RESOLVED_BY_LOOKUP:
        if batch.first_sent_at is None:
            return None
        return Control(job_id, batch.index, batch.first_sent_at, None, True, own)
    if not batch.group_message_id:
        return None
    # The answered attempt is the last one: CAMS accepted it after that attempt started.
    accepted_after = batch.last_sent_at or batch.answered_at
    if accepted_after is None:
        return None
    return Control(job_id, batch.index, accepted_after, batch.group_message_id, None, own)


def activity(batch: BatchRecord, attempts: list[dict[str, Any]]) -> tuple[float, float]:
    """(first start, last activity) over every attempt of a batch."""
    starts = [a["started_at"] for a in attempts if a["started_at"] is not None]
    moments = starts + [a["finished_at"] for a in attempts if a["finished_at"] is not None]
    first = min(starts) if starts else (batch.first_sent_at or batch.answered_at or time.time())
    last = max(moments) if moments else (batch.last_sent_at or first)
    return first, last


def pick_samples(numbers: list[str], foreign: set[str], count: int) -> list[str]:
    """``count`` numbers spread across the batch (first, last, evenly between), preferring
    numbers no other journaled batch sent to in the window."""
    preferred = [n for n in numbers if n not in foreign] or numbers
    if len(preferred) <= count:
        return list(preferred)
    if count == 1:
        return [preferred[0]]
    step = (len(preferred) - 1) / (count - 1)
    return list(dict.fromkeys(preferred[round(i * step)] for i in range(count)))
