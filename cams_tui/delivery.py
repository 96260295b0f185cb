"""The delivery funnel of a job: what ListChatappMessage reports for its GroupMessageIds.

A message accepted by SendChatappMassMessage moves ``Sent`` → ``Delivered`` → ``Read``, or
ends ``Failed`` with a Viber reason (``SRVC_NOT_VIBER_USER``, …). The funnel counts each
message once, at its furthest stage, and reads the stages cumulatively: a read message was
delivered, and a delivered one was sent. Records appear some time after acceptance, so
``accepted`` minus ``reported`` are the messages CAMS does not list yet.

:func:`tally` is pure; :func:`fetch_records` pages through ListChatappMessage with a
:class:`~cams_tui.api.client.CamsClient`, asking for each GroupMessageId's outbound messages
(records carry no GroupMessageId: the request's filter is what ties them to a batch). A job
without a CustSpaceId cannot be listed: :func:`fetch_records` then raises
:class:`~cams_tui.listing.MissingCustSpaceId` without calling CAMS.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncGenerator, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from cams_tui.api.models import MessageRecord, Page
from cams_tui.engine.limiters.base import Limiter
from cams_tui.engine.ratelimit import RateLimiter
from cams_tui.listing import (
    DEFAULT_LOOKUP_RATE,
    LIST_MESSAGES,
    MissingCustSpaceId,
    is_outbound,
    list_page,
    outbound_request,
)

if TYPE_CHECKING:
    # Only a type here: what imports the funnel (the canary's settings, a dry run) does not
    # load the HTTP stack.
    from cams_tui.api.client import CamsClient

PAGE_SIZE = 100
"""The largest page ListChatappMessage returns."""
TOP_REASONS = 5
"""How many failure reasons the funnel keeps."""
_UNKNOWN_REASON = "(no reason given)"


@dataclass(frozen=True)
class Funnel:
    """Where a job's messages stand, cumulatively, and why the failed ones failed."""

    accepted: int
    """Recipients CAMS accepted (the job's ``ok`` recipients)."""
    reported: int = 0
    """Messages ListChatappMessage lists so far."""
    sent: int = 0
    """Listed messages that were sent (every listed message)."""
    delivered: int = 0
    """Delivered or read."""
    read: int = 0
    """Read."""
    failed: int = 0
    """Failed to deliver."""
    top_failures: tuple[tuple[str, int], ...] = field(default_factory=tuple)
    """The commonest failure reasons with their counts, commonest first."""

    @property
    def not_reported(self) -> int:
        """Accepted messages that ListChatappMessage does not list yet."""
        return max(self.accepted - self.reported, 0)


def latest(records: Iterable[MessageRecord]) -> list[MessageRecord]:
    """Each message once, as last listed (pages may shift while polling); records without a
    MessageId are all kept."""
    by_id: dict[str, MessageRecord] = {}
    anonymous: list[MessageRecord] = []
    for record in records:
        if record.message_id:
            by_id[record.message_id] = record
        else:
            anonymous.append(record)
    return [*by_id.values(), *anonymous]


def tally(records: Iterable[MessageRecord], *, accepted: int, top: int = TOP_REASONS) -> Funnel:
    """The funnel of ``records``; a message listed twice (pages shifting) counts once."""
    statuses: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    for record in latest(records):
        status = record.message_status.lower()
        statuses[status] += 1
        if status == "failed":
            reasons[record.fail_reason or _UNKNOWN_REASON] += 1
    reported = sum(statuses.values())
    return Funnel(
        accepted=accepted,
        reported=reported,
        sent=reported,
        delivered=statuses["delivered"] + statuses["read"],
        read=statuses["read"],
        failed=statuses["failed"],
        top_failures=tuple(sorted(reasons.items(), key=lambda item: (-item[1], item[0]))[:top]),
    )


async def fetch_records(
    client: CamsClient,
    *,
    business_number: str,
    group_message_ids: Iterable[str],
    cust_space_id: str | None = None,
    page_size: int = PAGE_SIZE,
    limiter: Limiter | None = None,
) -> AsyncGenerator[list[MessageRecord], None]:
    """Every outbound record of each GroupMessageId, one page at a time.

    Each page's start is paced by ``limiter``, the account's ListChatappMessage budget
    (``None``: a limiter of this process alone at the default lookup rate).
    Raises :class:`~cams_tui.listing.MissingCustSpaceId` before any call when
    ``cust_space_id`` is empty. Throttled pages are retried after the delay the server asks
    for; any other error is raised as the :class:`~cams_tui.api.errors.CamsError` it is."""
    if not cust_space_id:
        raise MissingCustSpaceId()
    if limiter is None:
        limiter = RateLimiter(DEFAULT_LOOKUP_RATE, operation=LIST_MESSAGES)
    for group_id in group_message_ids:
        index = 1
        while True:
            request = outbound_request(
                business_number=business_number,
                cust_space_id=cust_space_id,
                group_message_id=group_id,
                page=Page(index=index, size=page_size),
            )
            response = await list_page(client, request, limiter)
            # Inbound messages never count, even from a listing that ignores EventAction.
            outbound = [r for r in response if is_outbound(r)]
            if outbound:
                yield outbound
            if len(response) < page_size:
                break
            index += 1
