"""What every ListChatappMessage lookup shares: the request it sends and what a record proves.

Lookups of unknown batches, the canary, the failure-spike watch and the delivery funnel all
read ListChatappMessage. They ask for outbound messages only (``EventAction=DOWN``: the
listing also holds what users sent to the Service ID, ``UP``), always with the job's
``CustSpaceId`` and a ``Page`` (CAMS requires both), and they read only what a real record
carries: a record has no GroupMessageId, so a batch's messages are found by asking for its
GroupMessageId in the request, or by number, template and time window.

A record is evidence of one of our sends only when it is outbound and of the batch's
template: an inbound record (``UP``, whose TemplateCode is empty) or one of another template
says nothing about the batch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cams_tui.api.errors import CamsError, Outcome
from cams_tui.api.models import ListMessagesRequest, MessageRecord, Page

if TYPE_CHECKING:
    from cams_tui.api.client import CamsClient
    from cams_tui.engine.limiters.base import Limiter

LIST_MESSAGES = ListMessagesRequest.action
"""The operation every lookup is paced as: its budget is the account's, apart from the sends'."""
DEFAULT_LOOKUP_RATE = 5.0
"""ListChatappMessage calls per second when the profile says nothing (CAMS does not document
this operation's limit; the simulator's is 100/s)."""
MAX_THROTTLED_TRIES = 8
"""A throttled page is asked again at most this many times in all."""

OUTBOUND = "DOWN"
"""EventAction of a message the business sent (``UP``: one a user sent to it)."""

NO_CUST_SPACE_ID = (
    "ListChatappMessage needs a CustSpaceId and this job has none: lookups of unknown batches, "
    "the canary and the delivery funnel need the profile's `cust_space_id` (the CAMS console "
    "shows it: Channel Management, the space's ID). Set it in the profile (or the campaign's "
    "cust_space_id) before sending; nothing was asked of CAMS"
)
"""Why a lookup of a job without a CustSpaceId was not made."""


@dataclass(eq=False)
class MissingCustSpaceId(CamsError):
    """A lookup was not made: the job has no CustSpaceId (ListChatappMessage requires one)."""

    outcome: Outcome = Outcome.FAILED
    message: str = NO_CUST_SPACE_ID
    action: str = ListMessagesRequest.action
    code: str | None = "MissingCustSpaceId"

    def __str__(self) -> str:
        return self.message


def outbound_request(
    *,
    business_number: str,
    cust_space_id: str | None,
    page: Page,
    group_message_id: str | None = None,
    user_number: str | None = None,
    template_code: str | None = None,
    start_ms: int | None = None,
    end_ms: int | None = None,
) -> ListMessagesRequest:
    """A ListChatappMessage request for outbound messages, with the CustSpaceId and Page CAMS
    requires. Raises :class:`MissingCustSpaceId` (no call made) when there is no CustSpaceId."""
    if not cust_space_id:
        raise MissingCustSpaceId()
    return ListMessagesRequest(
        business_number=business_number,
        cust_space_id=cust_space_id,
        page=page,
        event_action=OUTBOUND,
        group_message_id=group_message_id,
        user_number=user_number,
        template_code=template_code,
        start_time=start_ms,
        end_time=end_ms,
    )


def is_outbound(record: MessageRecord) -> bool:
    """Whether a record is a message the business sent. A record without EventAction is
    taken as the request asked (``DOWN``); any other value is not ours."""
    return (record.event_action or OUTBOUND).upper() == OUTBOUND


def digits(number: str) -> str:
    """The digits of a listed number, as a SenderList's ``To`` has them (CAMS may list a
    number with a ``+`` or spaces)."""
    return "".join(ch for ch in number if ch.isdigit())


def is_evidence(record: MessageRecord, *, template_code: str, number: str | None = None) -> bool:
    """Whether a record may be a message of a batch of ``template_code`` (to ``number``):
    outbound, of exactly that template (an empty TemplateCode proves nothing), to that number."""
    return (
        is_outbound(record)
        and bool(record.template_code)
        and record.template_code == template_code
        and (number is None or digits(record.user_number) == number)
    )


async def list_page(
    client: CamsClient,
    request: ListMessagesRequest,
    limiter: Limiter,
    *,
    on_call: Callable[[], None] | None = None,
) -> list[MessageRecord]:
    """One ListChatappMessage page, its start paced by ``limiter`` (the account's lookup
    budget, shared by every lookup of every sender that uses the same limiter).

    A throttled answer backs the limiter off (every sender of the account slows down) and the
    page is asked again, at most :data:`MAX_THROTTLED_TRIES` times in all; any other error is
    raised as the :class:`CamsError` it is. ``on_call`` is told of every call made."""
    tries = 0
    while True:
        permit = await limiter.acquire()
        permit.started()
        started = limiter.now()
        if on_call is not None:
            on_call()
        try:
            response = await client.list_messages(request)
        except CamsError as exc:
            permit.answered(limiter.now() - started)
            tries += 1
            if exc.outcome is not Outcome.THROTTLED or tries >= MAX_THROTTLED_TRIES:
                raise
            limiter.throttled(exc.retry_after_s, started)
            continue
        permit.answered(limiter.now() - started)
        limiter.succeeded()
        return response.data
