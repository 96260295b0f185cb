"""Resolve ``unknown`` batches by looking their recipients up with ListChatappMessage.

A batch becomes ``unknown`` when its request may have been accepted but no answer says so
(the process died, the connection dropped, a 5xx came after acceptance). CAMS can tell:
ListChatappMessage lists a Service ID's messages filtered by recipient (``UserNumber``),
template, direction (``EventAction``) and time window. Its records carry no GroupMessageId,
so an unknown batch (whose GroupMessageId was never heard) is looked up by number, template
and window; every request asks for outbound messages only (``EventAction=DOWN``) and carries
the job's CustSpaceId and a Page, as CAMS requires (:mod:`cams_tui.listing`). A job without
a CustSpaceId is not looked up at all: its unknown batches stay unknown and the report says
why (:data:`~cams_tui.listing.NO_CUST_SPACE_ID`).

Why a lookup proves something:

- **Accepted.** CAMS accepts or refuses a SenderList whole (a request with one bad entry is
  refused whole), so *one* outbound message of the batch's template to *one* of its
  recipients, sent within the batch's window ``[first attempt − skew, now + skew]``, proves
  the batch was accepted. The batch becomes ``ok``, resolved by lookup, and keeps the
  evidence (the MessageIds found). Never evidence: an inbound record (``UP``), a record with
  an empty TemplateCode or another template, and a message that another journaled batch on
  the same number is listed with (asked by that batch's GroupMessageId and the number).
- **Not sent (verified).** Every one of ``samples`` recipients (spread across the batch,
  preferring numbers that no other journaled batch of the same Service ID and template sent
  to in the window) has no message in the window, the lookup ran at least ``grace_s`` after
  the batch's last activity (the latest start or end of any attempt, so every attempt,
  throttled ones included, is covered), *and a control is listed*.
- Otherwise the batch stays ``unknown`` and the reason says why (too early, no control, the
  control not listed, the lookup failed, no CustSpaceId).

**The control.** An empty lookup means "not sent" only if CAMS is shown to list messages at
least as recent as the batch: the grace period alone is a guess about CAMS's lag. A control
is a batch of this journal on the same Service ID and CustSpaceId (of this job or another,
any template) that CAMS accepted *after the unknown batch's last activity*: one answered
``ok`` whose accepted attempt started after it (looked up by its GroupMessageId), or one
found by lookup (here or earlier) whose first attempt started after it (already shown
listed). If such a batch is listed, CAMS's listing has caught up past the unknown batch, so
the unknown batch's messages would be listed too had it been accepted. No control (for
instance the job's only sent batch is the unknown one, or every batch after it is unknown
too): the batch stays unknown, with the reason, until something sent after it is listed (a
resume sends the rest, which then serves; a later lookup can then decide). The control
listed not yet: CAMS's listing runs late, and the batch stays unknown. A batch verified not
sent may be resent, but only when the operator says so (``resume`` asks, showing the
evidence).

Residual risk: a message of the same template to the same number sent by anything the
journal does not know (another machine, another tool, a journal since deleted) within the
window would read as this batch's, and the batch would be marked ``ok`` wrongly (never
resent: the safe side). The window opens ``skew_s`` (5 minutes by default, for clocks that
are off) before the batch's first attempt; the samples prefer numbers no other journaled
batch sent to.

Cost: every unknown batch gets one early look (its first sample) before any waiting, so a
batch found costs one lookup and also serves as a control for the batches before it; a
batch not found costs ``samples`` lookups, plus one when its grace had not run out at the
first look, plus one per control looked up (once per run each). Lookups are paced by their
own budget: the account's limiter for ListChatappMessage (``limiter=``, shared with every
other lookup of the account: the canary, the spike watch, the delivery funnel, other
senders), or a process limiter at ``lookup_rate`` (5/s by default: CAMS does not document
this operation's limit; the simulator's is 100/s).

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
from typing import TYPE_CHECKING, Any

from cams_tui.api.errors import CamsError
from cams_tui.api.models import ListMessagesRequest, MessageRecord, Page
from cams_tui.engine.journal import BatchRecord, BatchState, JobRecord, Journal
from cams_tui.engine.limiters.base import Limiter, LimiterNotice
from cams_tui.engine.ratelimit import RateLimiter
from cams_tui.engine.reconcile_context import Control, JobContext, activity, pick_samples
from cams_tui.engine.reconcile_models import (
    DEFAULT_GRACE_S,
    DEFAULT_SAMPLES,
    DEFAULT_SKEW_S,
    RESOLVED_BY_LOOKUP,
    Notify,
    ReconcileReport,
    ReconcileSettings,
    Resolution,
)
from cams_tui.listing import (
    DEFAULT_LOOKUP_RATE,
    LIST_MESSAGES,
    NO_CUST_SPACE_ID,
    is_evidence,
    is_outbound,
    list_page,
    outbound_request,
)

__all__ = [
    "DEFAULT_GRACE_S",
    "DEFAULT_LOOKUP_RATE",
    "DEFAULT_SAMPLES",
    "DEFAULT_SKEW_S",
    "RESOLVED_BY_LOOKUP",
    "Notify",
    "ReconcileReport",
    "ReconcileSettings",
    "Reconciler",
    "Resolution",
]

if TYPE_CHECKING:
    # Only a type here: the commands that import the reconciler but never reach CAMS (a dry
    # run, ``jobs``) do not load the HTTP stack.
    from cams_tui.api.client import CamsClient


_LOOKUP_PAGE = 50


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
        limiter: Limiter | None = None,
        clock: Callable[[], float] = time.time,
        notify: Notify | None = None,
    ) -> None:
        self._client = client
        self._journal = journal
        self.job_id = job_id
        self.settings = settings or ReconcileSettings()
        self._clock = clock
        self._notify = notify or (lambda _text: None)
        # The account's lookup limiter when given (its rate is its own, not lookup_rate);
        # else this process alone paces the lookups.
        self._limiter: Limiter = limiter or RateLimiter(self.settings.lookup_rate, operation=LIST_MESSAGES)
        if self._limiter.on_notice is None:
            self._limiter.on_notice = self._limiter_notice
        self._lookups = 0
        self._control_texts: list[str] = []
        self._foreign_groups: dict[str, list[str]] = {}
        self._foreign_ids: dict[str, set[str]] = {}

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
        if not job.options.cust_space_id:
            # CAMS refuses a listing without CustSpaceId: ask nothing, decide nothing.
            report.blocked = NO_CUST_SPACE_ID
            self._notify(f"{len(unknown):,} unknown batches not looked up: {NO_CUST_SPACE_ID}")
            report.resolutions = [
                Resolution(b.index, b.size, BatchState.UNKNOWN.value, NO_CUST_SPACE_ID, {}, 0) for b in unknown
            ]
            report.elapsed_s = round(time.monotonic() - started, 3)
            return report
        self._notify(f"looking up {len(unknown):,} unknown batches with ListChatappMessage")
        context = JobContext.build(journal, job, unknown, self.settings.skew_s)
        self._foreign_groups = context.foreign_groups
        looks = [_Look.of(journal, job, batch, context, self.settings) for batch in unknown]
        # First one look at each, before any waiting: a batch found is settled at once, and
        # is then a control for the batches sent before it.
        resolutions: dict[int, Resolution] = {}
        for look in looks:
            early = await self._early_look(job, look, context)
            if early is not None:
                resolutions[look.batch.index] = early
                self._record(job, look, early)
        for look in looks:
            if look.batch.index not in resolutions:
                resolution = await self._resolve(job, look, context)
                resolutions[look.batch.index] = resolution
                self._record(job, look, resolution)
        report.resolutions = [resolutions[look.batch.index] for look in looks]
        report.lookups = self._lookups
        report.control = "; ".join(dict.fromkeys(self._control_texts))
        report.elapsed_s = round(time.monotonic() - started, 3)
        return report

    def _record(self, job: JobRecord, look: _Look, resolution: Resolution) -> None:
        batch = look.batch
        if resolution.state != BatchState.UNKNOWN.value:
            self._journal.resolve_batch(
                self.job_id,
                batch.index,
                BatchState(resolution.state),
                by=RESOLVED_BY_LOOKUP,
                evidence=resolution.evidence,
            )
        self._notify(f"batch {batch.index} ({batch.size:,} recipients): {resolution.state}: {resolution.reason}")

    # ----------------------------------------------------------------- one batch

    async def _early_look(self, job: JobRecord, look: _Look, context: JobContext) -> Resolution | None:
        """The first sample, looked up once: the batch's resolution if found (or the lookup
        failed), else ``None``."""
        look.mark = self._lookups
        try:
            found = await self._find(job, look.samples[0], look.window_start)
        except CamsError as exc:
            return look.done(self, BatchState.UNKNOWN, f"the lookup failed: {exc}")
        look.checked.append(look.samples[0])
        look.early_at = self._clock()
        if not found:
            look.spent += self._lookups - look.mark
            return None
        # Listed, and accepted after its first attempt began: a control for earlier batches.
        context.controls.append(Control(job.id, look.batch.index, look.first, None, True, own=True))
        context.controls.sort(key=lambda c: c.accepted_after)
        return look.done(self, BatchState.OK, _found_reason(found), **_found_evidence(found))

    async def _resolve(self, job: JobRecord, look: _Look, context: JobContext) -> Resolution:
        look.mark = self._lookups
        try:
            ready_at = look.last + self.settings.grace_s
            if look.early_at is None or look.early_at < ready_at:
                # The early look came before the grace ran out: it proves nothing absent.
                wait = ready_at - self._clock()
                limit = self.settings.grace_s if self.settings.max_wait_s is None else self.settings.max_wait_s
                if wait > limit:
                    return look.done(
                        self,
                        BatchState.UNKNOWN,
                        f"not listed yet, and too early to say it was not sent: look again after "
                        f"{time.strftime('%H:%M:%S', time.localtime(ready_at))}",
                        checked=list(look.checked),
                    )
                if wait > 0:
                    self._notify(
                        f"batch {look.batch.index} is not listed yet: waiting {wait:.0f} s for the grace period"
                    )
                    await asyncio.sleep(wait)
                look.checked = []
            for number in look.samples:
                if number in look.checked:
                    continue
                found = await self._find(job, number, look.window_start)
                look.checked.append(number)
                if found:
                    return look.done(self, BatchState.OK, _found_reason(found), **_found_evidence(found))
            listed, control = await self._control_for(job, look.last, context)
            if listed is None:
                return look.done(
                    self,
                    BatchState.UNKNOWN,
                    "not listed, but no batch on this Service ID accepted after this one is listed to show "
                    "that CAMS lists messages this recent: cannot say it was not sent (look it up again once "
                    "a later batch, such as the rest of this job, has been sent)",
                    checked=list(look.checked),
                    control=control,
                )
            if not listed:
                return look.done(
                    self,
                    BatchState.UNKNOWN,
                    f"not listed, but CAMS's listing runs late ({control}): cannot say it was not sent; "
                    "look it up again later",
                    checked=list(look.checked),
                    control=control,
                )
        except CamsError as exc:
            return look.done(self, BatchState.UNKNOWN, f"the lookup failed: {exc}", checked=list(look.checked))
        return look.done(
            self,
            BatchState.NOT_SENT_VERIFIED,
            f"none of {len(look.checked)} recipients has a message of template {job.options.template_code} "
            f"since the batch's first attempt, {self.settings.grace_s:g} s after its last, and {control}",
            checked=list(look.checked),
            control=control,
        )

    async def _find(self, job: JobRecord, number: str, window_start: float) -> list[MessageRecord]:
        """This number's outbound messages of the job's template since ``window_start`` (up
        to now + skew) that may be this batch's."""
        start = max(0, int(window_start * 1000))
        end = int((self._clock() + self.settings.skew_s) * 1000)
        request = outbound_request(
            business_number=job.options.from_,
            cust_space_id=job.options.cust_space_id,
            user_number=number,
            template_code=job.options.template_code,
            start_ms=start,
            end_ms=end,
            page=Page(index=1, size=_LOOKUP_PAGE),
        )
        template = job.options.template_code
        found = [r for r in await self._list(request) if is_evidence(r, template_code=template, number=number)]
        if found and number in self._foreign_groups:
            theirs = await self._foreign_message_ids(job, number)
            found = [r for r in found if r.message_id not in theirs]
        return found

    async def _foreign_message_ids(self, job: JobRecord, number: str) -> set[str]:
        """MessageIds of the messages other journaled batches sent to ``number`` (asked by
        their GroupMessageIds, once per number)."""
        known = self._foreign_ids.get(number)
        if known is not None:
            return known
        ids: set[str] = set()
        for group in self._foreign_groups[number]:
            request = outbound_request(
                business_number=job.options.from_,
                cust_space_id=job.options.cust_space_id,
                group_message_id=group,
                user_number=number,
                page=Page(index=1, size=_LOOKUP_PAGE),
            )
            ids.update(r.message_id for r in await self._list(request) if r.message_id)
        self._foreign_ids[number] = ids
        return ids

    async def _control_for(self, job: JobRecord, after: float, context: JobContext) -> tuple[bool | None, str]:
        """Whether a control accepted after ``after`` is listed (``None``: there is none),
        and what it showed."""
        candidates = [c for c in context.controls if c.accepted_after >= after]
        now = self._clock()
        shown = next((c for c in candidates if c.listed), None)
        if shown is not None:
            text = shown.describe(job.id, now)
            self._control_texts.append(text)
            return True, text
        # The earliest accepted is the first the listing shows; one look per control per run.
        control = next((c for c in candidates if c.group_message_id and c.listed is None), None)
        if control is None:
            looked = next((c for c in candidates if c.listed is False), None)
            if looked is not None:
                text = looked.describe(job.id, now)
                self._control_texts.append(text)
                return False, text
            text = "no batch accepted after this one to compare with"
            self._control_texts.append(text)
            return None, text
        request = outbound_request(
            business_number=job.options.from_,
            cust_space_id=job.options.cust_space_id,
            group_message_id=control.group_message_id,
            page=Page(index=1, size=1),
        )
        control.listed = any(is_outbound(r) for r in await self._list(request))
        text = control.describe(job.id, now)
        self._control_texts.append(text)
        return control.listed, text

    async def _list(self, request: ListMessagesRequest) -> list[MessageRecord]:
        """One ListChatappMessage page, paced by the lookup limiter; throttling is retried."""
        return await list_page(self._client, request, self._limiter, on_call=self._count_lookup)

    def _count_lookup(self) -> None:
        self._lookups += 1

    def _limiter_notice(self, notice: LimiterNotice) -> None:
        if notice.state != "sharing":
            self._notify(f"lookups' limiter ({notice.sharing.limiter}): {notice.reason}")


@dataclass
class _Look:
    """One unknown batch being looked up: its window, samples and what was checked."""

    batch: BatchRecord
    first: float
    last: float
    window_start: float
    samples: list[str]
    attempts: int
    checked: list[str] = field(default_factory=list)
    early_at: float | None = None
    spent: int = 0
    """Lookups made for this batch in earlier phases."""
    mark: int = 0
    """The reconciler's lookup count when the current phase began."""

    @classmethod
    def of(
        cls, journal: Journal, job: JobRecord, batch: BatchRecord, context: JobContext, settings: ReconcileSettings
    ) -> _Look:
        attempts = journal.attempts(job.id, batch.index)
        first, last = activity(batch, attempts)
        numbers = [item["To"] for item in json.loads(journal.sender_list(job.id, batch.index))]
        samples = pick_samples(numbers, context.foreign_numbers, settings.samples)
        return cls(batch, first, last, first - settings.skew_s, samples, len(attempts))

    def done(self, reconciler: Reconciler, state: BatchState, reason: str, **extra: Any) -> Resolution:
        """The resolution, with the evidence it rests on."""
        evidence = {
            "window_start": round(self.window_start, 3),
            "last_activity": round(self.last, 3),
            "attempts": self.attempts,
            "samples": self.samples,
            **extra,
            "looked_up_at": round(reconciler._clock(), 3),
        }
        lookups = self.spent + reconciler._lookups - self.mark
        return Resolution(self.batch.index, self.batch.size, state.value, reason, evidence, lookups)



def _found_evidence(found: list[MessageRecord]) -> dict[str, Any]:
    return {
        "message_ids": [r.message_id for r in found][:5],
        "found_number": found[0].user_number,
        "send_time": found[0].send_time,
        "template_code": found[0].template_code,
    }


def _found_reason(found: list[MessageRecord]) -> str:
    record = found[0]
    return (
        f"accepted: CAMS lists message {record.message_id} of template {record.template_code} to {record.user_number}"
    )
