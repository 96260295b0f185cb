"""The business side of CAMS: each operation's validation, its effect and its answer.

Validation refuses a whole request on the first problem, naming the parameter (and, for a
SenderList, the entry) at fault, with HTTP 400 and a ``Code`` in the service's style.
First come the parameters the API declares required (:data:`REQUIRED_PARAMETERS`, as the
SDK's request models mark them, checked in their order: ``Missing<Name>``), then the
account's CustSpaceId, then each operation's own checks.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cams_tui.api.limits import FALLBACK_DURATION_RANGE, MAX_RECIPIENTS_PER_REQUEST, MSISDN_PATTERN, TTL_RANGE
from cams_tui.simulator import demo_data
from cams_tui.simulator.demo_data import Template
from cams_tui.simulator.responses import ApiError, success_body
from cams_tui.simulator.store import MessageStore

_MSISDN = re.compile(MSISDN_PATTERN)
_DIGITS = re.compile(r"^[0-9]+$")
_LABELS = ("promotion", "transaction")
_FALLBACK_RULES = ("undelivered", "sentFailed")
_MESSAGE_STATUSES = ("Sent", "Delivered", "Read", "Failed")
_EVENT_ACTIONS = ("DOWN", "UP")
_MAX_PAGE_SIZE = 100

REQUIRED_PARAMETERS: dict[str, tuple[str, ...]] = {
    "SendChatappMassMessage": ("ChannelType", "From", "Language"),
    "SendChatappMessage": ("ChannelType", "From", "To", "Type"),
    "ListChatappTemplate": (),
    "GetChatappTemplateDetail": ("Language",),
    "ListViberServiceMessage": ("CustSpaceId",),
    "ListChatappMessage": ("BusinessNumber", "ChannelType", "CustSpaceId", "Page"),
}
"""Per operation, the parameters its documentation (the SDK's "This parameter is required.")
declares required, in the SDK's order: a call without one is ``Missing<Name>``."""


@dataclass(frozen=True, slots=True)
class AcceptedRequest:
    """A SendChatappMassMessage the service accepted."""

    group_message_id: str
    template_code: str
    recipients: int
    time: float
    """UNIX time of acceptance, in seconds."""
    language: str = ""
    """The request's ``Language``."""
    numbers: tuple[str, ...] = ()
    """The numbers it carried, in order."""


@dataclass(frozen=True)
class Call:
    """One call as the service sees it, once the gateway let it through."""

    action: str
    params: dict[str, str]
    request_id: str
    now_ms: int
    fail_rate: float
    """Share of messages accepted by this call that will fail delivery."""
    record_delay_s: float
    """How long after acceptance a message shows in ListChatappMessage."""
    inbound_rate: float = 0.0
    """Share of this call's delivered recipients who later write back."""


class CamsService:
    """The account's state (templates, Service IDs, accepted messages) and its operations."""

    def __init__(self, store: MessageStore, *, cust_space_id: str = demo_data.DEMO_CUST_SPACE_ID) -> None:
        self.store = store
        self.cust_space_id = cust_space_id
        """The account's CustSpaceId; any other one given is refused."""
        self.accepted: Counter[str] = Counter()
        self.accepted_requests: list[AcceptedRequest] = []
        self._operations: dict[str, Callable[[Call], dict[str, Any]]] = {
            "SendChatappMassMessage": self._send_mass,
            "SendChatappMessage": self._send_one,
            "ListChatappTemplate": self._list_templates,
            "GetChatappTemplateDetail": self._template_detail,
            "ListViberServiceMessage": self._list_services,
            "ListChatappMessage": self._list_messages,
        }

    def knows(self, action: str) -> bool:
        """Whether ``action`` is an operation this service answers."""
        return action in self._operations

    def handle(self, call: Call) -> dict[str, Any]:
        """Run one operation: its success body, or :class:`ApiError`."""
        for name in REQUIRED_PARAMETERS[call.action]:
            _required(call.params, name)
        space = call.params.get("CustSpaceId")
        if space and space != self.cust_space_id:
            raise ApiError(
                400,
                "Authentication.NoAuth",
                f"CustSpaceId {space!r} is not a space of this account: "
                "use the Space ID shown in the CAMS console (Channel Management).",
            )
        return self._operations[call.action](call)

    # ------------------------------------------------------------------ sending

    def _send_mass(self, call: Call) -> dict[str, Any]:
        params = call.params
        _channel_type(params)
        language = params["Language"]
        sender = params["From"]
        template = _named_template(params, language)
        _service(sender)
        _check_sendable(template)
        _options(params)
        # Checked after the template, so that a probe with a code that cannot exist learns
        # "no such template" without giving any recipient.
        numbers = _sender_list(_required(params, "SenderList"), template)
        group = self.store.add(
            business_number=sender,
            template_code=template.code,
            numbers=numbers,
            accepted_ms=call.now_ms,
            fail_rate=call.fail_rate,
            fallback=bool(params.get("FallBackId") or params.get("FallBackContent")),
            language=language,
            template_name=template.name,
            inbound_rate=call.inbound_rate,
        )
        self.accepted.update(numbers)
        self.accepted_requests.append(
            AcceptedRequest(
                group.group_message_id, template.code, len(numbers), call.now_ms / 1000, language, tuple(numbers)
            )
        )
        return success_body(call.request_id, GroupMessageId=group.group_message_id)

    def _send_one(self, call: Call) -> dict[str, Any]:
        params = call.params
        _channel_type(params)
        kind = params["Type"]
        if kind != "template":
            raise ApiError(
                400,
                "InvalidParameter.MessageInvalid",
                f"Type {kind!r} is not supported here: only Type=template messages can be sent.",
            )
        sender = params["From"]
        to = params["To"]
        language = _required(params, "Language")
        template = _named_template(params, language)
        _service(sender)
        _check_sendable(template)
        _options(params)
        _check_number(to, "To")
        raw = params.get("TemplateParams")
        values = _json(raw, "TemplateParams", dict) if raw else {}
        _check_params(values, template, "TemplateParams")
        group = self.store.add(
            business_number=sender,
            template_code=template.code,
            numbers=(to,),
            accepted_ms=call.now_ms,
            fail_rate=call.fail_rate,
            fallback=bool(params.get("FallBackId") or params.get("FallBackContent")),
            grouped=False,
            language=language,
            template_name=template.name,
            inbound_rate=call.inbound_rate,
        )
        return success_body(call.request_id, MessageId=MessageStore.message_id(group, 0))

    # ----------------------------------------------------------------- listings

    def _list_templates(self, call: Call) -> dict[str, Any]:
        params = call.params
        offset, size = _page(params)
        template_type = params.get("TemplateType") or "VIBER"
        name = (params.get("Name") or "").lower()
        matching = [
            t
            for t in demo_data.TEMPLATES
            if template_type.upper() == "VIBER"
            and _matches(params.get("AuditStatus"), t.audit_status)
            and _matches(params.get("Code"), t.code)
            and _matches(params.get("Language"), t.language)
            and name in t.name.lower()
        ]
        page = [t.summary() for t in matching[offset : offset + size]]
        return success_body(call.request_id, Success=True, ListTemplate=page, Total=len(matching))

    def _template_detail(self, call: Call) -> dict[str, Any]:
        params = call.params
        code = params.get("TemplateCode") or ""
        name = params.get("TemplateName") or ""
        if not code and not name:
            raise ApiError(
                400,
                "MissingTemplateCode",
                "TemplateCode is required: give the template's code (or its TemplateName).",
            )
        language = params["Language"]
        template_type = (params.get("TemplateType") or "VIBER").upper()
        found = next(
            (
                t
                for t in demo_data.TEMPLATES
                if (t.code == code if code else t.name == name) and t.language == language
            ),
            None,
        )
        if found is None or template_type != "VIBER":
            known = demo_data.template_languages(code) if code else [
                t.language for t in demo_data.TEMPLATES if t.name == name
            ]
            hint = f" It exists in: {', '.join(known)}." if known else ""
            raise ApiError(
                400,
                "DetailError.TemplateNotExist",
                f"The template {code or name} does not exist in language {language}.{hint}",
            )
        return success_body(call.request_id, Success=True, Data=found.detail())

    def _list_services(self, call: Call) -> dict[str, Any]:
        return success_body(call.request_id, Success=True, Data=[s.to_wire() for s in demo_data.SERVICES])

    def _list_messages(self, call: Call) -> dict[str, Any]:
        params = call.params
        business_number = params["BusinessNumber"]
        offset, size = _page(params)
        if params["ChannelType"] != "viber":
            return success_body(call.request_id, Success=True, Data=[])
        status = params.get("MessageStatus") or None
        if status is not None and status not in _MESSAGE_STATUSES:
            raise ApiError(
                400,
                "InvalidParameter.MessageStatus",
                f"MessageStatus {status!r} is not one of {', '.join(_MESSAGE_STATUSES)}.",
            )
        event_action = params.get("EventAction") or None
        if event_action is not None and event_action not in _EVENT_ACTIONS:
            raise ApiError(
                400,
                "InvalidParameter.EventAction",
                f"EventAction {event_action!r} is not valid: use DOWN (sent) or UP (received).",
            )
        records = self.store.query(
            business_number=business_number,
            now_ms=call.now_ms,
            offset=offset,
            limit=size,
            record_delay_s=call.record_delay_s,
            group_message_id=params.get("GroupMessageId") or None,
            user_number=params.get("UserNumber") or None,
            template_code=params.get("TemplateCode") or None,
            message_status=status,
            event_action=event_action,
            start_ms=_optional_int(params, "StartTime"),
            end_ms=_optional_int(params, "EndTime"),
        )
        return success_body(call.request_id, Success=True, Data=records)


# ------------------------------------------------------------------ validation


def _required(params: dict[str, str], name: str) -> str:
    value = params.get(name)
    if value is None or value == "":
        raise ApiError(400, f"Missing{name}", f"{name} is mandatory for this action.")
    return value


def _channel_type(params: dict[str, str]) -> None:
    channel = _required(params, "ChannelType")
    if channel != "viber":
        raise ApiError(
            400,
            "InvalidParameter.ChannelTypeNotSupport",
            f"ChannelType {channel!r} is not supported by this operation: use viber.",
        )


def _service(sender: str) -> None:
    if not _DIGITS.match(sender):
        raise ApiError(
            400,
            "InvalidParameter.FromOnlyNumeric",
            f"From {sender!r} must be a numeric Viber Service ID.",
        )
    service = demo_data.find_service(sender)
    if service is None or not service.active:
        state = "is not active" if service else "does not exist in this account"
        raise ApiError(
            400,
            "InvalidParameter.From",
            f"The Viber Service ID {sender} {state}: use an active one listed by ListViberServiceMessage.",
        )


def _named_template(params: dict[str, str], language: str) -> Template:
    """The template a send names by TemplateCode (or TemplateName), in ``language``."""
    code = params.get("TemplateCode") or ""
    name = params.get("TemplateName") or ""
    if not code and not name:
        raise ApiError(400, "MissingTemplateCode", "TemplateCode is mandatory for this action.")
    if code:
        template = demo_data.find_template(code, language)
        languages = demo_data.template_languages(code)
    else:
        template = demo_data.find_template_by_name(name, language)
        languages = [t.language for t in demo_data.TEMPLATES if t.name == name]
    if template is None:
        if not languages:
            raise ApiError(400, "DetailError.TemplateNotExist", f"The template {code or name} does not exist.")
        raise ApiError(
            400,
            "InvalidParameter.LanguageNotSupport",
            f"The template {code or name} has no language {language!r}: it exists in {', '.join(languages)}.",
        )
    return template


def _check_sendable(template: Template) -> None:
    if not template.approved:
        raise ApiError(
            400,
            "Template.AuditNotPass",
            f"The template {template.code} ({template.language}) is not approved "
            f"(AuditStatus {template.audit_status}).",
        )


def _options(params: dict[str, str]) -> None:
    _ranged_int(params, "Ttl", TTL_RANGE)
    _ranged_int(params, "FallBackDuration", FALLBACK_DURATION_RANGE)
    for name, allowed in (("Label", _LABELS), ("FallBackRule", _FALLBACK_RULES)):
        value = params.get(name)
        if value and value not in allowed:
            raise ApiError(
                400,
                f"InvalidParameter.{name}",
                f"{name} {value!r} is not valid: use one of {', '.join(allowed)}.",
            )


def _ranged_int(params: dict[str, str], name: str, bounds: tuple[int, int]) -> None:
    text = params.get(name)
    if not text:
        return
    low, high = bounds
    if not _DIGITS.match(text) or not low <= int(text) <= high:
        raise ApiError(
            400,
            f"InvalidParameter.{name}",
            f"{name} {text!r} is out of range: give whole seconds from {low} to {high}.",
        )


def _json(text: str, name: str, kind: type) -> Any:
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, kind):
        shape = "an object" if kind is dict else "a list"
        raise ApiError(400, f"InvalidParameter.{name}", f"{name} must be {shape} in JSON.")
    return value


def _sender_list(text: str, template: Template) -> tuple[str, ...]:
    entries = _json(text, "SenderList", list)
    if not 1 <= len(entries) <= MAX_RECIPIENTS_PER_REQUEST:
        raise ApiError(
            400,
            "InvalidParameter.SenderList",
            f"SenderList holds {len(entries)} numbers: give 1 to {MAX_RECIPIENTS_PER_REQUEST} per request.",
        )
    numbers: list[str] = []
    for index, entry in enumerate(entries):
        where = f"SenderList[{index}]"
        if not isinstance(entry, dict):
            raise ApiError(400, "InvalidParameter.SenderList", f"{where} must be an object with To.")
        to = entry.get("To")
        if not isinstance(to, str) or not to:
            raise ApiError(400, "InvalidParameter.PhoneNumberError", f"{where} has no To number.")
        _check_number(to, f"{where}.To")
        values = entry.get("TemplateParams")
        if values is None:
            values = {}
        if not isinstance(values, dict):
            raise ApiError(
                400, "InvalidParameter.TemplateParams", f"{where}.TemplateParams must be an object."
            )
        _check_params(values, template, f"{where}.TemplateParams (To {to})")
        numbers.append(to)
    return tuple(numbers)


def _check_number(number: str, where: str) -> None:
    if not _MSISDN.match(number):
        raise ApiError(
            400,
            "InvalidParameter.PhoneNumberError",
            f"{where} {number!r} is not a valid number: give digits only, country code first, "
            "no '+' (7 to 15 digits).",
        )


def _check_params(values: dict[str, Any], template: Template, where: str) -> None:
    for name in template.variables:
        value = values.get(name)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not value.strip():
            raise ApiError(
                400,
                "InvalidParameter.TemplateParams",
                f"{where} has no value for the template variable {name!r}.",
            )


def _page(params: dict[str, str]) -> tuple[int, int]:
    """(offset, size) of the Page parameter; 1st page of 10 when absent (where it may be).

    Index and Size are both required inside a Page, as the SDK declares them."""
    text = params.get("Page")
    if not text:
        return 0, 10
    try:
        page = json.loads(text)
        index, size = page["Index"], page["Size"]
        valid = all(isinstance(v, int) and not isinstance(v, bool) for v in (index, size))
    except (ValueError, TypeError, KeyError):
        valid = False
    if not valid or index < 1 or not 1 <= size <= _MAX_PAGE_SIZE:
        raise ApiError(
            400,
            "InvalidParameter.PageInvalid",
            f"Page {text} is not valid: give {{\"Index\": 1 or more, \"Size\": 1 to {_MAX_PAGE_SIZE}}} in JSON.",
        )
    return (index - 1) * size, size


def _optional_int(params: dict[str, str], name: str) -> int | None:
    text = params.get(name)
    if not text:
        return None
    if not _DIGITS.match(text):
        raise ApiError(400, f"InvalidParameter.{name}", f"{name} {text!r} must be a UNIX time in milliseconds.")
    return int(text)


def _matches(wanted: str | None, actual: str) -> bool:
    return not wanted or wanted == actual
