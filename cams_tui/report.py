"""The final report of a job: one row per recipient with the latest delivery status CAMS
lists, totals per status and per country, and retarget lists drawn from it.

Fetching (:func:`fetch_report`) reads ListChatappMessage for each accepted batch by its
GroupMessageId (:func:`cams_tui.delivery.fetch_records`), page by page under the lookup
rate, and commits each batch's statuses to the journal as soon as they are read: a report
interrupted part-way goes on, next time, after the last batch it committed. A report run
that finished is not continued: the next one fetches everything again, so statuses that
moved (``sent`` → ``delivered`` → ``read``) are read afresh.

A batch a lookup resolved as accepted has no GroupMessageId (its answer was lost): its
recipients are looked up one by one (UserNumber, TemplateCode and the batch's time window),
and those still not found are ``not_listed``.

Statuses in the report:

- ``sent``, ``delivered``, ``read``, ``failed`` (with CAMS's ``fail_reason``, and
  ``fallback_sent`` from FailBackFlag) for accepted messages CAMS lists;
- ``not_listed``: accepted, but CAMS lists no message (yet);
- ``refused`` (CAMS refused the request: ``reason`` is its code), ``unknown``,
  ``not_sent_verified`` and ``pending``, from the journal, for recipients of batches that
  were not accepted.

Retarget lists (:class:`RetargetRule`) select rows by status: ``failed``,
``failed:SRVC_NOT_VIBER_USER``, ``not_listed``, ``fallback``, or ``unread:24`` (delivered but
not read 24 hours after the batch was accepted, as of the last fetch).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

import phonenumbers
from phonenumbers.phonenumberutil import COUNTRY_CODE_TO_REGION_CODE

from cams_tui.api.models import MessageRecord, Page
from cams_tui.delivery import PAGE_SIZE, fetch_records, latest
from cams_tui.engine.journal import BatchRecord, BatchState, Journal, ReportStatus
from cams_tui.engine.ratelimit import RateLimiter
from cams_tui.errors import UserError
from cams_tui.listing import MissingCustSpaceId, digits, is_evidence, list_page, outbound_request
from cams_tui.untrusted import write_csv

if TYPE_CHECKING:
    from cams_tui.api.client import CamsClient

REPORT_FIELDS = [
    "number", "country", "status", "reason", "fallback_sent", "batch", "message_id", "send_time", "checked_at",
]
LISTED_STATUSES = ("sent", "delivered", "read", "failed")
"""What CAMS lists for an accepted message, furthest last but ``failed``."""
_JOURNAL_STATUS = {
    BatchState.PLANNED.value: "pending",
    BatchState.SENDING.value: "unknown",
    BatchState.FAILED.value: "refused",
    BatchState.UNKNOWN.value: "unknown",
    BatchState.NOT_SENT_VERIFIED.value: "not_sent_verified",
}
NOT_LISTED = "not_listed"
ALL_STATUSES = (*LISTED_STATUSES, NOT_LISTED, *dict.fromkeys(_JOURNAL_STATUS.values()))
WINDOW_MARGIN_S = 300.0
"""Slack on each side of a batch's attempts when its recipients are looked up by number
(clocks differ; CAMS stamps a message when it handles it)."""


class ReportError(UserError):
    """A report that cannot be made or a retarget rule that cannot be read."""


# ------------------------------------------------------------------------ fetching


@dataclass(frozen=True)
class ReportProgress:
    """How far a fetch is, in batches of the job that CAMS accepted."""

    batches_done: int
    batches_total: int
    records: int
    """Records read by this fetch so far."""
    calls: int
    """ListChatappMessage calls made by this fetch so far."""
    resumed: bool
    """Whether this fetch continues an interrupted one."""


@dataclass(frozen=True)
class FetchSummary:
    """What a fetch did."""

    run: int
    resumed: bool
    batches_fetched: int
    batches_skipped: int
    """Batches an interrupted fetch had already read (not read again)."""
    records: int
    calls: int
    elapsed_s: float


@dataclass
class _Lookups:
    """The report's ListChatappMessage calls: one client, paced on the lookup rate's
    limiter (by :func:`~cams_tui.listing.list_page` and :func:`fetch_records`), counted."""

    client: CamsClient
    limiter: RateLimiter
    calls: int = 0

    def count(self) -> None:
        """One call made."""
        self.calls += 1


async def fetch_report(
    client: CamsClient,
    journal: Journal,
    job_id: str,
    *,
    lookup_rate: float,
    on_progress: Callable[[ReportProgress], None] = lambda _p: None,
    page_size: int = PAGE_SIZE,
) -> FetchSummary:
    """Read the latest status of every accepted recipient of the job into the journal.

    Raises :class:`~cams_tui.listing.MissingCustSpaceId` (nothing asked of CAMS) when the
    job has no CustSpaceId; a CAMS error other than throttling ends the fetch (what was
    committed stays, and the next fetch goes on from there)."""
    job = journal.job(job_id)
    if not job.options.cust_space_id:
        raise MissingCustSpaceId()
    started = time.monotonic()
    run, resumed = journal.report_run(job_id)
    done = journal.report_fetched(job_id, run)
    accepted = journal.batches(job_id, [BatchState.OK])
    paced = _Lookups(client, RateLimiter(lookup_rate, operation="ListChatappMessage"))
    records = fetched = 0
    skipped = sum(1 for b in accepted if b.index in done)
    on_progress(ReportProgress(skipped, len(accepted), 0, 0, resumed))
    for batch in accepted:
        if batch.index in done:
            continue
        numbers = [item["To"] for item in json.loads(journal.sender_list(job_id, batch.index))]
        if batch.group_message_id:
            found = await _by_group(paced, job.options.from_, job.options.cust_space_id, batch, page_size)
        else:
            found = await _by_number(paced, journal, job_id, batch, numbers)
        statuses = _statuses(found, set(numbers))
        journal.record_report_batch(job_id, batch.index, run, statuses, listed=bool(statuses))
        records += len(found)
        fetched += 1
        on_progress(ReportProgress(skipped + fetched, len(accepted), records, paced.calls, resumed))
    journal.finish_report_run(job_id, run)
    return FetchSummary(run, resumed, fetched, skipped, records, paced.calls, round(time.monotonic() - started, 2))


async def _by_group(
    lookups: _Lookups, business_number: str, cust_space_id: str, batch: BatchRecord, page_size: int
) -> list[MessageRecord]:
    found: list[MessageRecord] = []
    pages = fetch_records(
        lookups.client,
        business_number=business_number,
        group_message_ids=[batch.group_message_id or ""],
        cust_space_id=cust_space_id,
        page_size=page_size,
        limiter=lookups.limiter,
    )
    try:
        async for page in pages:
            lookups.count()
            found.extend(page)
            if len({r.message_id for r in found}) >= batch.size:
                break  # every recipient listed: the empty page after a full one is not asked for
    finally:
        await pages.aclose()
    return found


async def _by_number(
    lookups: _Lookups, journal: Journal, job_id: str, batch: BatchRecord, numbers: list[str]
) -> list[MessageRecord]:
    """A lookup-resolved batch: each number's messages of the template in the batch's window."""
    job = journal.job(job_id)
    attempts = journal.attempts(job_id, batch.index)
    starts = [a["started_at"] for a in attempts if a["started_at"]] or [batch.first_sent_at or time.time()]
    ends = [a["finished_at"] for a in attempts if a["finished_at"]] or [batch.reconciled_at or time.time()]
    start_ms = int((min(starts) - WINDOW_MARGIN_S) * 1000)
    end_ms = int((max(ends) + WINDOW_MARGIN_S) * 1000)
    template = job.options.template_code
    found: list[MessageRecord] = []
    for number in numbers:
        request = outbound_request(
            business_number=job.options.from_,
            cust_space_id=job.options.cust_space_id,
            user_number=number,
            template_code=template,
            start_ms=start_ms,
            end_ms=end_ms,
            page=Page(index=1, size=10),
        )
        page = await list_page(lookups.client, request, lookups.limiter, on_call=lookups.count)
        mine = [r for r in page if is_evidence(r, template_code=template, number=number)]
        if mine:
            found.append(mine[-1])
    return found


def _statuses(records: Iterable[MessageRecord], numbers: set[str]) -> list[ReportStatus]:
    """Each of the batch's numbers once, as last listed (a record of another number is
    none of this batch's)."""
    by_number: dict[str, ReportStatus] = {}
    for record in latest(records):
        number = digits(record.user_number)
        if number not in numbers:
            continue
        status = (record.message_status or "").lower()
        if status not in LISTED_STATUSES:
            status = "sent"  # listed, with a status this version does not know: it left
        by_number[number] = ReportStatus(
            number=number,
            status=status,
            fail_reason=record.fail_reason if status == "failed" else None,
            fallback=record.fail_back_flag,
            message_id=record.message_id or None,
            send_time=record.send_time,
        )
    return list(by_number.values())


# ------------------------------------------------------------------------- the rows


def country_of(number: str) -> str:
    """The region of a number's country calling code (``PH``; ``001`` for non-geographic
    codes, ``ZZ`` when unknown), from libphonenumber's own table. Calling codes are
    prefix-free, so the first prefix the table knows is the code."""

    text = digits(number)
    for length in (1, 2, 3):
        if len(text) > length and int(text[:length]) in COUNTRY_CODE_TO_REGION_CODE:
            return phonenumbers.region_code_for_country_code(int(text[:length]))
    return "ZZ"


@dataclass(frozen=True)
class ReportRow:
    """One recipient in the report."""

    number: str
    """E.164 with its ``+``."""
    country: str
    status: str
    reason: str
    fallback_sent: bool
    batch: int
    message_id: str
    send_time: str
    checked_at: float | None
    """When CAMS was last asked about it (``None``: never)."""
    accepted_at: float | None
    """When its batch was accepted (``None``: it was not)."""

    def as_dict(self) -> dict[str, Any]:
        """The row as the report file has it: the number in digits, as the export's ``to``
        (a leading ``+`` would reach a spreadsheet as ``'+``, escaped as a formula)."""
        return {
            "number": self.number.lstrip("+"),
            "country": self.country,
            "status": self.status,
            "reason": self.reason,
            "fallback_sent": "yes" if self.fallback_sent else "no",
            "batch": self.batch,
            "message_id": self.message_id,
            "send_time": self.send_time,
            "checked_at": "" if self.checked_at is None else _iso(self.checked_at),
        }


def _iso(moment: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(moment))


def report_rows(journal: Journal, job_id: str) -> Iterator[ReportRow]:
    """One row per recipient of the job, in send order, from what the journal holds."""
    journal.job(job_id)
    checked = journal.report_batch_times(job_id)
    countries: dict[str, str] = {}
    for batch, sender_list in journal.iter_sender_lists(job_id):
        statuses = journal.report_statuses(job_id, batch.index) if batch.state == BatchState.OK.value else {}
        for item in json.loads(sender_list):
            number = item["To"]
            # A calling code has at most three digits: they decide the country.
            country = countries.get(number[:3]) or countries.setdefault(number[:3], country_of(number))
            status = statuses.get(number)
            if batch.state != BatchState.OK.value:
                yield ReportRow(
                    "+" + number, country, _JOURNAL_STATUS[batch.state],
                    (batch.code or "") if batch.state == BatchState.FAILED.value else "",
                    False, batch.index, "", "", None, None,
                )
            elif status is None:
                yield ReportRow(
                    "+" + number, country, NOT_LISTED, "", False, batch.index, "", "",
                    checked.get(batch.index), batch.answered_at,
                )
            else:
                yield ReportRow(
                    "+" + number, country, status.status, status.fail_reason or "",
                    (status.fallback or "").upper() == "Y", batch.index, status.message_id or "",
                    status.send_time or "", status.fetched_at, batch.answered_at,
                )


@dataclass
class Totals:
    """How many recipients have each status, overall and per country."""

    by_status: Counter[str] = field(default_factory=Counter)
    by_country: dict[str, Counter[str]] = field(default_factory=dict)
    fallback_sent: int = 0
    failure_reasons: Counter[str] = field(default_factory=Counter)

    def add(self, row: ReportRow) -> None:
        """Count one row."""
        self.by_status[row.status] += 1
        self.by_country.setdefault(row.country, Counter())[row.status] += 1
        if row.fallback_sent:
            self.fallback_sent += 1
        if row.status == "failed":
            self.failure_reasons[row.reason or "(no reason given)"] += 1

    @property
    def recipients(self) -> int:
        """Every row counted."""
        return sum(self.by_status.values())

    def lines(self) -> list[str]:
        """The totals as the operator reads them."""
        order = [s for s in ALL_STATUSES if self.by_status.get(s)]
        out = [f"{self.recipients:,} recipients: " + ", ".join(f"{s} {self.by_status[s]:,}" for s in order)]
        if self.fallback_sent:
            out.append(f"fallback SMS sent: {self.fallback_sent:,}")
        if self.failure_reasons:
            out.append("failed because: " + ", ".join(f"{r} {n:,}" for r, n in self.failure_reasons.most_common()))
        for country in sorted(self.by_country, key=lambda c: -sum(self.by_country[c].values())):
            counts = self.by_country[country]
            out.append(
                f"  {country}: {sum(counts.values()):,} recipients · "
                + " · ".join(f"{s} {counts[s]:,}" for s in ALL_STATUSES if counts.get(s))
            )
        return out

    def to_json(self) -> dict[str, Any]:
        """The totals as one JSON object."""
        return {
            "recipients": self.recipients,
            "by_status": dict(self.by_status),
            "fallback_sent": self.fallback_sent,
            "failure_reasons": dict(self.failure_reasons),
            "by_country": {c: dict(n) for c, n in self.by_country.items()},
        }


def write_report(rows: Iterable[ReportRow], handle: TextIO, fmt: str, totals: Totals) -> None:
    """The rows as CSV (through :func:`cams_tui.untrusted.write_csv`) or JSON Lines,
    counted into ``totals`` as they are written."""

    def counted() -> Iterator[dict[str, Any]]:
        for row in rows:
            totals.add(row)
            yield row.as_dict()

    if fmt == "jsonl":
        for data in counted():
            handle.write(json.dumps(data, ensure_ascii=False) + "\n")
        return
    write_csv(handle, REPORT_FIELDS, counted())


# ------------------------------------------------------------------------ retarget


@dataclass(frozen=True)
class RetargetRule:
    """Which report rows a retarget list takes."""

    status: str
    """A report status, ``fallback`` (the SMS fallback was sent) or ``unread``."""
    reason: str | None = None
    """For ``failed``: only this CAMS fail reason (any case)."""
    hours: float | None = None
    """For ``unread``: delivered, not read, at least this long after acceptance."""

    @classmethod
    def parse(cls, spec: str) -> RetargetRule:
        """``failed``, ``failed:SRVC_NOT_VIBER_USER``, ``not_listed``, ``fallback``,
        ``unread:24`` (hours), … ; :class:`ReportError` names what is allowed."""
        status, _, detail = spec.strip().partition(":")
        status = status.strip().lower().replace("-", "_")
        detail = detail.strip()
        known = (*ALL_STATUSES, "fallback", "unread")
        if status not in known:
            raise ReportError(
                f"--retarget {spec!r}: unknown status {status!r}; use one of {', '.join(known)} "
                "(failed:REASON for one failure reason, unread:HOURS for delivered but not read)"
            )
        if status == "unread":
            try:
                hours = float(detail) if detail else 0.0
            except ValueError:
                raise ReportError(f"--retarget {spec!r}: unread takes a number of hours, e.g. unread:24") from None
            if hours < 0:
                raise ReportError(f"--retarget {spec!r}: the hours must be 0 or more")
            return cls(status, hours=hours)
        if detail and status != "failed":
            raise ReportError(f"--retarget {spec!r}: only failed takes a reason (failed:SRVC_NOT_VIBER_USER)")
        return cls(status, reason=detail.upper() or None)

    def matches(self, row: ReportRow) -> bool:
        """Whether ``row`` belongs in the list."""
        if self.status == "fallback":
            return row.fallback_sent
        if self.status == "unread":
            if row.status != "delivered" or row.accepted_at is None or row.checked_at is None:
                return False
            return row.checked_at - row.accepted_at >= (self.hours or 0.0) * 3600
        if row.status != self.status:
            return False
        return self.reason is None or row.reason.upper() == self.reason


def retarget_numbers(rows: Iterable[ReportRow], rules: list[RetargetRule], totals: Totals) -> Iterator[str]:
    """The numbers of the rows any rule takes, each once, in send order (every row is
    counted into ``totals``)."""
    for row in rows:
        totals.add(row)
        if any(rule.matches(row) for rule in rules):
            yield row.number


def write_retarget(numbers: Iterable[str], handle: TextIO) -> int:
    """A recipients file that ``send`` and the TUI read: one E.164 number a line, under a
    ``phone`` header. Returns how many numbers it holds."""
    handle.write("phone\n")
    count = 0
    for number in numbers:
        handle.write(number + "\n")
        count += 1
    return count
