"""Resolve ``unknown`` batches by looking their recipients up with ListChatappMessage.

A batch becomes ``unknown`` when its request may have been accepted but no answer says so
(the process died, the connection dropped, a 5xx came after acceptance). CAMS can tell:
ListChatappMessage lists a Service ID's messages filtered by recipient (``UserNumber``),
template and time window.

Why a lookup proves something:

- **Accepted.** CAMS accepts or refuses a SenderList whole (a request with one bad entry is
  refused whole), so *one* message of the batch's template to *one* of its recipients,
  sent within the batch's window ``[first attempt − skew, now + skew]``, proves the batch
  was accepted. The batch becomes ``ok``, resolved by lookup, and keeps the evidence (the
  MessageIds and the GroupMessageId found, which the delivery funnel then uses). A record
  whose GroupMessageId the journal gives to another batch proves nothing and is ignored.
- **Not sent (verified).** Every one of ``samples`` recipients (spread across the batch,
  preferring numbers that no other journaled batch of the same Service ID and template sent
  to in the window) has no message in the window, the lookup ran at least ``grace_s`` after
  the batch's last activity (the latest start or end of any attempt, so every attempt,
  throttled ones included, is covered), and CAMS is shown to be listing messages that old:
  the newest batch of the job accepted at least ``grace_s`` ago is listed. When that control
  is not listed, CAMS's records lag more than the grace period and nothing is declared:
  the batch stays ``unknown``. A verified batch may be resent, but only when the operator
  says so (``resume`` asks, showing the evidence).
- Otherwise the batch stays ``unknown`` and the reason says why (too early, lookup failed).

Residual risk: a message of the same template to the same number sent by anything the
journal does not know (another machine, another tool, a journal since deleted) within the
window would read as this batch's, and the batch would be marked ``ok`` wrongly (never
resent: the safe side). The window opens ``skew_s`` (5 minutes by default, for clocks that
are off) before the batch's first attempt; the samples prefer numbers no other journaled
batch sent to; a GroupMessageId the journal gives to another batch is not taken as evidence.

Cost: a batch found costs one lookup (its first sample is listed when any is); a batch not
found costs ``samples`` lookups, plus one when its grace had not run out at first look; a run
costs one control lookup when the job has a batch answered ok. Lookups are paced by their own :class:`RateLimiter`
(``lookup_rate``, 5/s by default: CAMS does not document this operation's limit; the
simulator's is 100/s).

The grace period defaults to 120 s: the simulator lists a message ``record_delay_s`` after
acceptance (0 by default) and CAMS's own listing is fed by its send pipeline within seconds;
two minutes leaves a wide margin while keeping a resume right after a crash short (a resume
waits for the grace to run out only for a batch not found at first look, and the control
catches a listing that lags even more).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cams_tui.api.client import CamsClient
from cams_tui.api.errors import CamsError, Outcome
from cams_tui.api.models import ListMessagesRequest, MessageRecord, Page
from cams_tui.engine.journal import BatchRecord, BatchState, JobRecord, Journal
from cams_tui.engine.ratelimit import RateLimiter

DEFAULT_GRACE_S = 120.0
DEFAULT_SAMPLES = 3
DEFAULT_SKEW_S = 300.0
DEFAULT_LOOKUP_RATE = 5.0
RESOLVED_BY_LOOKUP = "lookup"
_LOOKUP_PAGE = 50
_MAX_THROTTLED_TRIES = 8


@dataclass(frozen=True)
class ReconcileSettings:
    """How unknown batches are looked up."""

    grace_s: float = DEFAULT_GRACE_S
    """A batch is declared not sent only this long after its last attempt."""
    samples: int = DEFAULT_SAMPLES
    """Recipients looked up per batch before it is declared not sent."""
    skew_s: float = DEFAULT_SKEW_S
    """Clock difference allowed between this machine and CAMS, on both ends of the window."""
    lookup_rate: float = DEFAULT_LOOKUP_RATE
    """ListChatappMessage calls per second."""
    max_wait_s: float | None = None
    """How long to wait for a batch's grace to run out; ``None``: as long as it takes
    (at most ``grace_s``); 0: never wait (the batch stays unknown)."""

    def __post_init__(self) -> None:
        if self.grace_s < 0:
            raise ValueError(f"grace_s={self.grace_s}: must be 0 or more seconds")
        if self.samples < 1:
            raise ValueError(f"samples={self.samples}: look up at least 1 recipient")
        if self.skew_s < 0:
            raise ValueError(f"skew_s={self.skew_s}: must be 0 or more seconds")
        if self.lookup_rate <= 0:
            raise ValueError(f"lookup_rate={self.lookup_rate}: must be above 0 calls per second")


@dataclass(frozen=True)
class Resolution:
    """What the lookup concluded about one unknown batch."""

    index: int
    size: int
    state: str
    """``ok``, ``not_sent_verified`` or ``unknown`` (unresolved)."""
    reason: str
    evidence: dict[str, Any]
    lookups: int


@dataclass
class ReconcileReport:
    """The outcome of one reconciliation run of a job."""

    job_id: str
    resolutions: list[Resolution] = field(default_factory=list)
    lookups: int = 0
    elapsed_s: float = 0.0
    control: str = ""
    """What the control lookup showed (empty when none was made)."""

    def count(self, state: str) -> int:
        """Batches that ended in ``state``."""
        return sum(1 for r in self.resolutions if r.state == state)

    def recipients(self, state: str) -> int:
        """Recipients of the batches that ended in ``state``."""
        return sum(r.size for r in self.resolutions if r.state == state)


Notify = Callable[[str], None]


class Reconciler:
    """Looks up the unknown batches of one job and records what it finds in the journal.

    Use from one event loop; the journal is only touched from it. Holds the job's lock while
    it runs, so nothing sends the job meanwhile."""

    def __init__(
        self,
        client: CamsClient,
        journal: Journal,
        job_id: str,
        settings: ReconcileSettings | None = None,
        *,
        limiter: RateLimiter | None = None,
        clock: Callable[[], float] = time.time,
        notify: Notify | None = None,
    ) -> None:
        self._client = client
        self._journal = journal
        self.job_id = job_id
        self.settings = settings or ReconcileSettings()
        self._limiter = limiter or RateLimiter(self.settings.lookup_rate)
        self._clock = clock
        self._notify = notify or (lambda _text: None)
        self._lookups = 0
        self._control: bool | None = None
        self._control_text = ""

    async def run(self) -> ReconcileReport:
        """Resolve every unknown batch that can be resolved; returns what happened."""
        with self._journal.lock_job(self.job_id):
            return await self._run()

    async def _run(self) -> ReconcileReport:
        started = time.monotonic()
        journal = self._journal
        journal.recover(self.job_id)  # a batch left "sending" by a dead process is unknown
        job = journal.job(self.job_id)
        unknown = journal.batches(self.job_id, [BatchState.UNKNOWN])
        report = ReconcileReport(self.job_id)
        if not unknown:
            return report
        self._notify(f"looking up {len(unknown):,} unknown batches with ListChatappMessage")
        context = _JobContext.build(journal, job, unknown, self.settings.skew_s)
        for batch in unknown:
            resolution = await self._resolve(job, batch, context)
            report.resolutions.append(resolution)
            if resolution.state != BatchState.UNKNOWN.value:
                journal.resolve_batch(
                    self.job_id,
                    batch.index,
                    BatchState(resolution.state),
                    by=RESOLVED_BY_LOOKUP,
                    evidence=resolution.evidence,
                    group_message_id=resolution.evidence.get("group_message_id"),
                )
            self._notify(f"batch {batch.index} ({batch.size:,} recipients): {resolution.state}: {resolution.reason}")
        report.lookups = self._lookups
        report.control = self._control_text
        report.elapsed_s = round(time.monotonic() - started, 3)
        return report

    # ----------------------------------------------------------------- one batch

    async def _resolve(self, job: JobRecord, batch: BatchRecord, context: _JobContext) -> Resolution:
        before = self._lookups
        attempts = self._journal.attempts(self.job_id, batch.index)
        first, last = _activity(batch, attempts)
        numbers = [item["To"] for item in json.loads(self._journal.sender_list(self.job_id, batch.index))]
        samples = _pick_samples(numbers, context.foreign_numbers, self.settings.samples)
        window_start = first - self.settings.skew_s
        base = {
            "window_start": round(window_start, 3),
            "last_activity": round(last, 3),
            "attempts": len(attempts),
            "samples": samples,
        }

        def done(state: BatchState, reason: str, **extra: Any) -> Resolution:
            evidence = {**base, **extra, "looked_up_at": round(self._clock(), 3)}
            return Resolution(batch.index, batch.size, state.value, reason, evidence, self._lookups - before)

        try:
            ready_at = last + self.settings.grace_s
            checked: list[str] = []
            if self._clock() < ready_at:
                # Too early to declare anything but acceptance: one look, then wait for the grace.
                found = await self._find(job, samples[0], window_start, context)
                checked.append(samples[0])
                if found:
                    return done(BatchState.OK, _found_reason(found), **_found_evidence(found))
                wait = ready_at - self._clock()
                limit = self.settings.grace_s if self.settings.max_wait_s is None else self.settings.max_wait_s
                if wait > limit:
                    return done(
                        BatchState.UNKNOWN,
                        f"not listed yet, and too early to say it was not sent: look again after "
                        f"{time.strftime('%H:%M:%S', time.localtime(ready_at))}",
                        checked=checked,
                    )
                self._notify(f"batch {batch.index} is not listed yet: waiting {wait:.0f} s for the grace period")
                await asyncio.sleep(max(0.0, wait))
                checked = []
            for number in samples:
                found = await self._find(job, number, window_start, context)
                checked.append(number)
                if found:
                    return done(BatchState.OK, _found_reason(found), **_found_evidence(found))
            if not await self._listing_caught_up(job, context):
                return done(
                    BatchState.UNKNOWN,
                    f"not listed, but CAMS's listing lags more than the grace period ({self._control_text}): "
                    "cannot say it was not sent",
                    checked=checked,
                    control=self._control_text,
                )
        except CamsError as exc:
            return done(BatchState.UNKNOWN, f"the lookup failed: {exc}")
        return done(
            BatchState.NOT_SENT_VERIFIED,
            f"none of {len(checked)} recipients has a message of template {job.options.template_code} "
            f"since the batch's first attempt, {self.settings.grace_s:g} s after its last",
            checked=checked,
            control=self._control_text,
        )

    async def _find(
        self, job: JobRecord, number: str, window_start: float, context: _JobContext
    ) -> list[MessageRecord]:
        """This number's messages of the job's template since ``window_start`` (up to now +
        skew) that may be this batch's."""
        start = max(0, int(window_start * 1000))
        end = int((self._clock() + self.settings.skew_s) * 1000)
        request = ListMessagesRequest(
            business_number=job.options.from_,
            user_number=number,
            template_code=job.options.template_code,
            start_time=start,
            end_time=end,
            cust_space_id=job.options.cust_space_id,
            page=Page(index=1, size=_LOOKUP_PAGE),
        )
        records = await self._list(request)
        return [
            r
            for r in records
            # Digits only: CAMS may list the number with a "+" or spaces.
            if _digits(r.user_number) == number
            and (not r.template_code or r.template_code == job.options.template_code)
            and not (r.group_message_id and r.group_message_id in context.foreign_groups)
        ]

    async def _listing_caught_up(self, job: JobRecord, context: _JobContext) -> bool:
        """Whether CAMS lists the job's newest batch accepted at least ``grace_s`` ago (once
        per run). No such batch: nothing to compare with, the grace period alone decides."""
        if self._control is not None:
            return self._control
        cutoff = self._clock() - self.settings.grace_s
        control = next(
            (
                b
                for b in sorted(context.accepted, key=lambda b: b.answered_at or 0.0, reverse=True)
                if b.answered_at is not None and b.answered_at <= cutoff and b.group_message_id
            ),
            None,
        )
        if control is None:
            self._control = True
            self._control_text = "no batch of the job accepted before the grace period to compare with"
            return True
        request = ListMessagesRequest(
            business_number=job.options.from_,
            group_message_id=control.group_message_id,
            cust_space_id=job.options.cust_space_id,
            page=Page(index=1, size=1),
        )
        listed = bool(await self._list(request))
        age = self._clock() - (control.answered_at or 0.0)
        state = "listed" if listed else "NOT listed"
        self._control_text = f"batch {control.index}, accepted {age:.0f} s ago, is {state}"
        self._control = listed
        return listed

    async def _list(self, request: ListMessagesRequest) -> list[MessageRecord]:
        """One ListChatappMessage page, paced by the lookup limiter; throttling is retried."""
        tries = 0
        while True:
            permit = await self._limiter.acquire()
            permit.started()
            started = self._limiter.now()
            self._lookups += 1
            try:
                response = await self._client.list_messages(request)
            except CamsError as exc:
                permit.answered(self._limiter.now() - started)
                tries += 1
                if exc.outcome is not Outcome.THROTTLED or tries >= _MAX_THROTTLED_TRIES:
                    raise
                self._limiter.throttled(exc.retry_after_s, started)
                continue
            permit.answered(self._limiter.now() - started)
            self._limiter.succeeded()
            return response.data


@dataclass
class _JobContext:
    """What the journal says about the other batches: to pick samples and judge records."""

    foreign_numbers: set[str]
    """Numbers of other jobs' batches of the same Service ID and template, sent in the window."""
    foreign_groups: set[str]
    """GroupMessageIds the journal gives to batches other than the unknown ones."""
    accepted: list[BatchRecord]
    """The job's ``ok`` batches (controls of the listing)."""

    @classmethod
    def build(cls, journal: Journal, job: JobRecord, unknown: list[BatchRecord], skew_s: float) -> _JobContext:
        starts = [_activity(b, journal.attempts(job.id, b.index))[0] for b in unknown]
        window_start = min(starts) - skew_s if starts else 0.0
        numbers: set[str] = set()
        groups: set[str] = set()
        accepted: list[BatchRecord] = []
        for other in journal.jobs():
            same = (other.options.from_, other.options.template_code) == (
                job.options.from_,
                job.options.template_code,
            )
            if not same:
                continue
            for batch in journal.batches(other.id):
                if other.id == job.id:
                    if batch.state == BatchState.OK.value:
                        accepted.append(batch)
                        if batch.group_message_id:
                            groups.add(batch.group_message_id)
                    continue
                if batch.group_message_id:
                    groups.add(batch.group_message_id)
                # Numbers are unique within a job; another job's batch matters only if it
                # may have been sent in the window.
                moments = (batch.last_sent_at, batch.answered_at, batch.first_sent_at)
                latest = max([x for x in moments if x], default=0.0)
                if batch.first_sent_at is not None and latest >= window_start:
                    numbers.update(item["To"] for item in json.loads(journal.sender_list(other.id, batch.index)))
        return cls(numbers, groups, accepted)


def _activity(batch: BatchRecord, attempts: list[dict[str, Any]]) -> tuple[float, float]:
    """(first start, last activity) over every attempt of a batch."""
    starts = [a["started_at"] for a in attempts if a["started_at"] is not None]
    moments = starts + [a["finished_at"] for a in attempts if a["finished_at"] is not None]
    first = min(starts) if starts else (batch.first_sent_at or batch.answered_at or time.time())
    last = max(moments) if moments else (batch.last_sent_at or first)
    return first, last


def _pick_samples(numbers: list[str], foreign: set[str], count: int) -> list[str]:
    """``count`` numbers spread across the batch (first, last, evenly between), preferring
    numbers no other journaled batch sent to in the window."""
    preferred = [n for n in numbers if n not in foreign] or numbers
    if len(preferred) <= count:
        return list(preferred)
    if count == 1:
        return [preferred[0]]
    step = (len(preferred) - 1) / (count - 1)
    return list(dict.fromkeys(preferred[round(i * step)] for i in range(count)))


def _found_evidence(found: list[MessageRecord]) -> dict[str, Any]:
    groups = sorted({r.group_message_id for r in found if r.group_message_id})
    return {
        "message_ids": [r.message_id for r in found][:5],
        "found_number": found[0].user_number,
        "send_time": found[0].send_time,
        "group_message_id": groups[0] if len(groups) == 1 else None,
    }


def _found_reason(found: list[MessageRecord]) -> str:
    record = found[0]
    return (
        f"accepted: CAMS lists message {record.message_id} to {record.user_number}"
        + (f" (GroupMessageId {record.group_message_id})" if record.group_message_id else "")
    )


def _digits(number: str) -> str:
    """The digits of a listed number, as the SenderList's ``To`` has them."""
    return "".join(ch for ch in number if ch.isdigit())
