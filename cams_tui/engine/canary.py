"""The canary: send the first recipients alone, judge their delivery, then go on or stop.

A blast that goes wrong (a template variable rendered empty, a wrong Service ID, Viber
refusing most numbers) should hurt a hundred people, not a hundred thousand. With a canary,
the job's first ``size`` recipients are planned as batches of their own
(:func:`split_canary`); the sender sends only those, then :func:`judge_canary` polls
ListChatappMessage by their GroupMessageIds until every message has left ``Sent`` (or a
timeout), and compares the failure share with a threshold:

- failure share = (recipients of canary batches CAMS refused + messages ``Failed`` or fallen
  back to SMS (``FailBackFlag`` set)) / canary recipients whose fate is known;
- healthy when that share is at most ``threshold`` (20 % by default) and the statuses
  settled; the job then goes on by itself or after the operator confirms;
- otherwise the job stops, resumable: ``cams-tui resume JOB_ID`` overrides the verdict.

While the rest is sending, :class:`SpikeDetector` samples the delivery statuses of recent
batches (one ListChatappMessage page per ``interval_s``, so its lookup rate is bounded) and
calls back when the failure share over its sliding window of settled messages exceeds the
threshold; the caller pauses or stops the sender and says why. A screen is told where the
canary stands with :class:`~cams_tui.engine.events.CanaryEvent`.

Both ask ListChatappMessage for outbound messages (``EventAction=DOWN``) of a GroupMessageId,
with the job's CustSpaceId: records carry no GroupMessageId of their own, and inbound ones
never count. A job without a CustSpaceId cannot be listed: the canary is then not healthy
and says why (:data:`~cams_tui.listing.NO_CUST_SPACE_ID`) without calling CAMS, and the
spike watch does nothing (:attr:`SpikeDetector.unavailable`).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Callable, Collection, Iterable
from dataclasses import asdict, dataclass, field, fields
from typing import TYPE_CHECKING, Any, TypeVar

from cams_tui.api.errors import CamsError
from cams_tui.api.models import MessageRecord, Page
from cams_tui.delivery import Funnel, fetch_records, latest, tally
from cams_tui.engine.events import BatchEvent, CanaryEvent
from cams_tui.engine.journal import BatchRecord, BatchState, JobRecord, Journal
from cams_tui.engine.limiters.base import Limiter
from cams_tui.engine.ratelimit import RateLimiter
from cams_tui.listing import (
    DEFAULT_LOOKUP_RATE,
    LIST_MESSAGES,
    NO_CUST_SPACE_ID,
    is_outbound,
    list_page,
    outbound_request,
)

if TYPE_CHECKING:
    # Only a type here: planning a job (a dry run) reads the canary's settings without the
    # HTTP stack.
    from cams_tui.api.client import CamsClient

DEFAULT_CANARY_SIZE = 100
DEFAULT_THRESHOLD = 0.20
DEFAULT_SETTLE_TIMEOUT_S = 120.0
DEFAULT_POLL_S = 2.0
CANARY_FAILED = "CanaryFailed"
FAILURE_SPIKE = "FailureSpike"
_FALLBACK_FLAGS = {"1", "y", "yes", "true"}
_SETTLED = {"delivered", "read", "failed"}

__all__ = [
    "CANARY_FAILED",
    "FAILURE_SPIKE",
    "CanaryError",
    "CanaryEvent",
    "CanarySettings",
    "CanaryVerdict",
    "SpikeDetector",
    "canary_size",
    "judge_canary",
    "split_canary",
]

T = TypeVar("T")


class CanaryError(ValueError):
    """A canary setting is not valid; the message says which and how to fix it."""


@dataclass(frozen=True)
class CanarySettings:
    """What the canary sends and how it judges."""

    size: int = DEFAULT_CANARY_SIZE
    """Recipients in the canary slice."""
    threshold: float = DEFAULT_THRESHOLD
    """The failure share above which the job stops (0 to 1)."""
    settle_timeout_s: float = DEFAULT_SETTLE_TIMEOUT_S
    """How long to wait for the canary's statuses to leave ``Sent``."""
    poll_s: float = DEFAULT_POLL_S
    """Seconds between two looks at the canary's statuses."""
    auto_continue: bool = True
    """Go on by itself when healthy (otherwise the operator confirms)."""

    def __post_init__(self) -> None:
        if self.size < 1:
            raise CanaryError(f"canary size {self.size}: give at least 1 recipient")
        if not 0.0 <= self.threshold < 1.0:
            raise CanaryError(f"canary threshold {self.threshold}: give a share from 0 to below 1, e.g. 0.2")
        if self.settle_timeout_s <= 0 or self.poll_s <= 0:
            raise CanaryError("the canary's timeout and poll interval must be above 0 seconds")

    def to_json(self) -> dict[str, Any]:
        """The settings as stored with the job."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CanarySettings:
        """The settings stored with a job (other keys, such as its verdict, are ignored)."""
        return cls(**{f.name: data[f.name] for f in fields(cls) if f.name in data})


def canary_part(spec: str | int, recipients: int) -> int:
    """Recipients in the canary of a list of ``recipients``, which must leave some of the
    list for after it: a canary of the whole list judges nothing before everyone has it.

    Raises :class:`CanaryError` naming the bad value (both front ends refuse it alike)."""
    size = canary_size(spec, recipients)
    if recipients and size >= recipients:
        than = "is" if size == recipients else "is more than"
        raise CanaryError(
            f"canary: {size:,} {than} the whole list of {recipients:,}: give fewer (e.g. 1%), "
            "or send without one"
        )
    return size


def canary_size(spec: str | int, recipients: int) -> int:
    """Recipients in the canary: ``"100"`` or ``"1%"`` (of ``recipients``, at least 1).

    Raises :class:`CanaryError` naming the bad value."""
    text = str(spec).strip()
    try:
        if text.endswith("%"):
            share = float(text[:-1])
            if not 0 < share <= 100:
                raise ValueError
            return max(1, math.ceil(recipients * share / 100))
        size = int(text)
        if size < 1:
            raise ValueError
        return size
    except ValueError:
        raise CanaryError(f"canary {text!r}: give a number of recipients (100) or a share (1%)") from None


def split_canary(items: Iterable[T], size: int) -> tuple[list[T], Iterable[T]]:
    """The first ``size`` items as a list, and an iterator over the rest (not consumed)."""
    iterator = iter(items)
    head = [item for _, item in zip(range(size), iterator, strict=False)]
    return head, iterator


@dataclass(frozen=True)
class CanaryVerdict:
    """The canary's funnel and what it means for the rest."""

    healthy: bool
    settled: bool
    funnel: Funnel
    recipients: int
    refused: int
    """Canary recipients whose request CAMS refused (``failed`` batches)."""
    bad: int
    """Refused, failed or fallen-back recipients."""
    judged: int
    """Canary recipients whose fate is known (refused or listed)."""
    failure_share: float
    threshold: float
    reason: str
    waited_s: float

    def to_json(self) -> dict[str, Any]:
        """The verdict as stored with the job and printed with ``--json``."""
        data = asdict(self)
        data["funnel"] = {**asdict(self.funnel), "top_failures": [list(p) for p in self.funnel.top_failures]}
        return data


def _bad(record: MessageRecord) -> bool:
    return record.message_status.lower() == "failed" or (record.fail_back_flag or "").lower() in _FALLBACK_FLAGS


async def judge_canary(
    client: CamsClient,
    journal: Journal,
    job_id: str,
    batches: Collection[int],
    settings: CanarySettings,
    *,
    notify: Callable[[str], None] | None = None,
    on_funnel: Callable[[Funnel], None] | None = None,
    limiter: Limiter | None = None,
) -> CanaryVerdict:
    """Poll the canary's statuses (its batches of indices ``batches``) until settled or timed
    out, and judge them against ``settings.threshold``. Each page is paced by ``limiter``,
    the account's ListChatappMessage budget (``None``: this process alone paces them)."""
    notify = notify or (lambda _text: None)
    job = journal.job(job_id)
    canary = [b for b in journal.batches(job_id) if b.index in batches]
    recipients = sum(b.size for b in canary)
    refused = sum(b.size for b in canary if b.state == BatchState.FAILED.value)
    accepted = [b for b in canary if b.state == BatchState.OK.value and b.group_message_id]
    accepted_count = sum(b.size for b in accepted)
    started = time.monotonic()
    unlistable = bool(accepted) and not job.options.cust_space_id
    records: list[MessageRecord] = []
    settled = not accepted
    if accepted and not unlistable:
        records, settled = await _poll_statuses(
            client, job, accepted, settings, started, notify=notify, on_funnel=on_funnel, limiter=limiter
        )
    funnel = tally(records, accepted=accepted_count)
    listed = latest(records)
    bad_listed = sum(1 for r in listed if _bad(r))
    judged = refused + sum(1 for r in listed if r.message_status.lower() in _SETTLED)
    bad = refused + bad_listed
    share = bad / judged if judged else 0.0
    waited = round(time.monotonic() - started, 2)
    limit = settings.threshold
    healthy, reason = _judgement(
        settings, funnel, unlistable=unlistable, settled=settled, judged=judged, recipients=recipients, share=share
    )
    return CanaryVerdict(
        healthy=healthy,
        settled=settled,
        funnel=funnel,
        recipients=recipients,
        refused=refused,
        bad=bad,
        judged=judged,
        failure_share=round(share, 4),
        threshold=limit,
        reason=reason,
        waited_s=waited,
    )


async def _poll_statuses(
    client: CamsClient,
    job: JobRecord,
    accepted: list[BatchRecord],
    settings: CanarySettings,
    started: float,
    *,
    notify: Callable[[str], None],
    on_funnel: Callable[[Funnel], None] | None,
    limiter: Limiter | None,
) -> tuple[list[MessageRecord], bool]:
    """The accepted canary batches' records, read again every ``poll_s`` until every
    status settled (``True``) or ``settle_timeout_s`` passed since ``started`` (``False``)."""
    accepted_count = sum(b.size for b in accepted)
    while True:
        records: list[MessageRecord] = []
        try:
            async for page in fetch_records(
                client,
                business_number=job.options.from_,
                group_message_ids=[b.group_message_id for b in accepted if b.group_message_id],
                cust_space_id=job.options.cust_space_id,
                limiter=limiter,
            ):
                records.extend(page)
        except CamsError as exc:
            notify(f"canary: the status lookup failed ({exc}); trying again")
        funnel = tally(records, accepted=accepted_count)
        if on_funnel:
            on_funnel(funnel)
        done = sum(1 for r in records if r.message_status.lower() in _SETTLED)
        if funnel.reported >= accepted_count and done >= funnel.reported:
            return records, True
        if time.monotonic() - started >= settings.settle_timeout_s:
            return records, False
        notify(f"canary: {done:,} of {accepted_count:,} statuses settled, waiting")
        await asyncio.sleep(settings.poll_s)


def _judgement(
    settings: CanarySettings,
    funnel: Funnel,
    *,
    unlistable: bool,
    settled: bool,
    judged: int,
    recipients: int,
    share: float,
) -> tuple[bool, str]:
    """Whether the canary is healthy, and why, from what its statuses showed."""
    limit = settings.threshold
    if unlistable:
        return False, f"the canary cannot be judged: {NO_CUST_SPACE_ID}"
    if judged == 0:
        return False, "no canary recipient's fate is known (unknown or unlisted): nothing to judge by"
    if share > limit:
        top = ", ".join(f"{code} ×{n}" for code, n in funnel.top_failures) or "refused by CAMS"
        return False, f"{share:.0%} of the canary failed (threshold {limit:.0%}): {top}"
    if not settled:
        return False, (
            f"the canary's statuses did not settle within {settings.settle_timeout_s:g} s "
            f"({judged:,} of {recipients:,} known, {share:.0%} failed)"
        )
    return True, f"{share:.0%} of the canary failed (threshold {limit:.0%})"


@dataclass
class SpikeDetector:
    """Watches the delivery statuses of recent batches while a job sends.

    Feed it the sender's events (:meth:`observe`) and run :meth:`run` beside the sender.
    Every ``interval_s`` it looks at one page of the newest batch accepted at least
    ``settle_after_s`` ago; settled messages enter a sliding window of ``window`` messages.
    Once the window holds ``min_sample`` messages and the failed-or-fallen-back share exceeds
    ``threshold``, ``on_spike`` is called once with the reason and the detector stops.
    Its pages are paced by ``limiter``, the account's ListChatappMessage budget (``None``:
    this process alone paces them, at the default lookup rate).
    """

    client: CamsClient
    business_number: str
    on_spike: Callable[[str], None]
    threshold: float = DEFAULT_THRESHOLD
    cust_space_id: str | None = None
    interval_s: float = 2.0
    settle_after_s: float = 2.0
    window: int = 500
    min_sample: int = 100
    clock: Callable[[], float] = time.monotonic
    limiter: Limiter | None = None
    _pending: deque[tuple[float, str]] = field(default_factory=deque)
    _recent: deque[bool] = field(init=False)
    _seen: set[str] = field(default_factory=set)
    lookups: int = 0
    fired: str | None = None
    unavailable: str | None = None
    """Why the watch cannot look (no CustSpaceId), or ``None``."""

    def __post_init__(self) -> None:
        self._recent = deque(maxlen=self.window)
        if self.limiter is None:
            self.limiter = RateLimiter(DEFAULT_LOOKUP_RATE, operation=LIST_MESSAGES)

    def observe(self, event: object) -> None:
        """A subscriber to the sender's events: remembers accepted batches."""
        if isinstance(event, BatchEvent) and event.outcome == "ok" and event.group_message_id:
            self._pending.append((self.clock(), event.group_message_id))

    @property
    def failure_share(self) -> float:
        """The failed share of the window (0 when empty)."""
        return sum(self._recent) / len(self._recent) if self._recent else 0.0

    def _count_lookup(self) -> None:
        self.lookups += 1

    async def run(self) -> None:
        """Sample until cancelled or a spike is found."""
        while self.fired is None and self.unavailable is None:
            await asyncio.sleep(self.interval_s)
            await self.check()

    async def check(self) -> None:
        """One look: the newest batch old enough to have settled, one page of it."""
        cutoff = self.clock() - self.settle_after_s
        group: str | None = None
        while self._pending and self._pending[0][0] <= cutoff:
            group = self._pending.popleft()[1]  # older ones are skipped: the newest matters
        if group is None:
            return
        if not self.cust_space_id:
            self.unavailable = f"the failure-spike watch is off: {NO_CUST_SPACE_ID}"
            return
        request = outbound_request(
            business_number=self.business_number,
            cust_space_id=self.cust_space_id,
            group_message_id=group,
            page=Page(index=1, size=100),
        )
        assert self.limiter is not None
        try:
            records = await list_page(self.client, request, self.limiter, on_call=self._count_lookup)
        except CamsError:
            return  # a missed sample; the next one will do
        for record in records:
            if not is_outbound(record):
                continue
            if record.message_status.lower() not in _SETTLED or record.message_id in self._seen:
                continue
            self._seen.add(record.message_id)
            self._recent.append(_bad(record))
        if len(self._recent) >= self.min_sample and self.failure_share > self.threshold:
            self.fired = (
                f"{self.failure_share:.0%} of the last {len(self._recent):,} sampled messages failed "
                f"(threshold {self.threshold:.0%})"
            )
            self.on_spike(self.fired)
