"""A small CAMS for lookup tests whose answers are built with the official SDK's models (no
tests here).

It sits behind our real :class:`~cams_tui.api.client.CamsClient` as an
``httpx.MockTransport``: every request is signed, encoded and read as on the wire. Its
ListChatappMessage answers are ``ListChatappMessageResponseBody(...).to_map()`` with
``ListChatappMessageResponseBodyData`` records, shaped as real CAMS sends them: no
GroupMessageId in a record, an EventAction (``DOWN`` outbound, ``UP`` inbound with an empty
TemplateCode), SendTime as text. The request is read with the SDK's
``ListChatappMessageRequest.from_map``, so a parameter our client names differently from the
SDK is not seen at all; CustSpaceId and Page are required (HTTP 400 ``MissingCustSpaceId`` /
``MissingPage``), and the GroupMessageId, UserNumber, TemplateCode, EventAction and
StartTime/EndTime (ms) filters are honoured, unless a test asks it to ignore some (as a
lenient listing might) to show that our side filters too.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

import httpx
from alibabacloud_cams20200606.models import (
    ListChatappMessageRequest,
    ListChatappMessageResponseBody,
    ListChatappMessageResponseBodyData,
    SendChatappMassMessageResponseBody,
)


@dataclass
class Message:
    """One message the listing knows; ``group`` is internal (records never carry it)."""

    message_id: str
    number: str
    business_number: str
    template_code: str
    event_action: str
    sent_ms: int
    group: str = ""
    status: str = "Delivered"
    fail_reason: str | None = None


@dataclass
class SdkCams:
    """SendChatappMassMessage and ListChatappMessage, answered with the SDK's models."""

    listing_delay_s: float = 0.0
    """A message is listed this long after it was accepted."""
    inbound_for_every_number: bool = True
    """Each number sent to also wrote to the Service ID (an ``UP`` record, just after)."""
    ignore_filters: set[str] = field(default_factory=set)
    """Request filters this listing ignores (``EventAction``, ``TemplateCode``)."""
    lose_answers: set[int] = field(default_factory=set)
    """1-based SendChatappMassMessage calls accepted whose answer is lost (HTTP 500)."""
    failing_numbers: set[str] = field(default_factory=set)
    """Numbers whose outbound message ends ``Failed``."""
    messages: list[Message] = field(default_factory=list)
    accepted: dict[str, int] = field(default_factory=dict)
    """Outbound messages accepted per number, by SendChatappMassMessage."""
    list_requests: list[dict[str, str]] = field(default_factory=list)
    """The parameters of every ListChatappMessage call, as received."""
    list_answers: list[dict] = field(default_factory=list)
    sends: int = 0

    def transport(self) -> httpx.MockTransport:
        """The transport to give a CamsClient."""
        return httpx.MockTransport(self.handle)

    def add(self, number: str, template_code: str, *, event_action: str = "DOWN", sent_ms: int | None = None,
            business_number: str = "") -> Message:
        """A message sent by something else (another tool, or the user: ``UP``)."""
        message = Message(
            message_id=f"x{len(self.messages):08d}",
            number=number,
            business_number=business_number,
            template_code=template_code if event_action == "DOWN" else "",
            event_action=event_action,
            sent_ms=sent_ms if sent_ms is not None else int(time.time() * 1000),
        )
        self.messages.append(message)
        return message

    # ----------------------------------------------------------------- the wire

    def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer one signed request of our client."""
        params = dict(parse_qsl(request.content.decode("ascii"), keep_blank_values=True))
        params.update(dict(request.url.params))
        # Our client puts the query on the request line through httpx's "target" extension.
        target = request.extensions.get("target", b"").decode("ascii")
        if "?" in target:
            params.update(dict(parse_qsl(target.split("?", 1)[1], keep_blank_values=True)))
        action = request.headers["x-acs-action"]
        if action == "SendChatappMassMessage":
            return self._send(params)
        if action == "ListChatappMessage":
            return self._list(params)
        return httpx.Response(400, json={"Code": "UnsupportedAction", "Message": action, "RequestId": "r"})

    def _send(self, params: dict[str, str]) -> httpx.Response:
        self.sends += 1
        group = f"G{self.sends:06d}"
        now_ms = int(time.time() * 1000)
        for offset, item in enumerate(json.loads(params["SenderList"])):
            number = item["To"]
            self.accepted[number] = self.accepted.get(number, 0) + 1
            self.messages.append(
                Message(
                    message_id=f"{group}-{offset:04d}",
                    number=number,
                    business_number=params["From"],
                    template_code=params["TemplateCode"],
                    event_action="DOWN",
                    sent_ms=now_ms,
                    group=group,
                    status="Failed" if number in self.failing_numbers else "Delivered",
                    fail_reason="SRVC_NOT_VIBER_USER" if number in self.failing_numbers else None,
                )
            )
            if self.inbound_for_every_number:
                # The user's reply, in the same conversation: a listing that ignores
                # EventAction hands it out with the batch's messages.
                reply = self.add(number, "", event_action="UP", sent_ms=now_ms + 1, business_number=params["From"])
                reply.group = group
        if self.sends in self.lose_answers:
            return httpx.Response(500, json={"Code": "InternalError", "Message": "lost", "RequestId": "r"})
        body = SendChatappMassMessageResponseBody(code="OK", group_message_id=group, request_id=f"s{self.sends}")
        return httpx.Response(200, json=body.to_map())

    def _list(self, params: dict[str, str]) -> httpx.Response:
        self.list_requests.append(params)
        for name in ("CustSpaceId", "Page"):
            if not params.get(name):
                return httpx.Response(
                    400, json={"Code": f"Missing{name}", "Message": f"{name} is mandatory.", "RequestId": "r"}
                )
        typed: dict[str, object] = dict(params)
        typed["Page"] = json.loads(params["Page"])
        for name in ("StartTime", "EndTime"):
            if name in params:
                typed[name] = int(params[name])
        query = ListChatappMessageRequest().from_map(typed)
        visible_until = int((time.time() - self.listing_delay_s) * 1000)
        chosen = [
            m
            for m in self.messages
            if m.sent_ms <= visible_until
            and (not m.business_number or m.business_number == query.business_number)
            and (query.group_message_id is None or m.group == query.group_message_id)
            and (query.user_number is None or m.number == query.user_number)
            and (query.template_code is None or "TemplateCode" in self.ignore_filters
                 or m.template_code == query.template_code)
            and (query.event_action is None or "EventAction" in self.ignore_filters
                 or m.event_action == query.event_action)
            and (query.start_time is None or m.sent_ms >= query.start_time)
            and (query.end_time is None or m.sent_ms <= query.end_time)
        ]
        index, size = query.page.index or 1, query.page.size or 10
        page = chosen[(index - 1) * size : index * size]
        body = ListChatappMessageResponseBody(
            code="OK",
            request_id=f"l{len(self.list_requests)}",
            success=True,
            data=[_record(m) for m in page],
        ).to_map()
        self.list_answers.append(body)
        return httpx.Response(200, json=body)


def _record(message: Message) -> ListChatappMessageResponseBodyData:
    outbound = message.event_action == "DOWN"
    return ListChatappMessageResponseBodyData(
        message_id=message.message_id,
        unique_message_id=f"u{message.message_id}",
        user_number=message.number,
        business_number=message.business_number,
        channel_type="viber",
        event_action=message.event_action,
        event_action_name="outbound" if outbound else "inbound",
        message_status=message.status if outbound else "Received",
        fail_reason=message.fail_reason,
        send_time=time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(message.sent_ms / 1000)),
        template_code=message.template_code,
        message_type="TEMPLATE" if outbound else "TEXT",
        fail_back_flag="N",
    )
