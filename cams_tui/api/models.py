"""Typed requests and responses of the CAMS operations cams-tui uses.

Requests validate what the official SDK leaves to the server (the 1,000-recipient cap,
digits-only numbers, every documented range) and turn themselves into the flat
``name -> string`` parameters that travel on the wire (:meth:`CamsRequest.to_params`).
Responses are read as the SDK's models declare them, strictly only where a value drives a
decision (``Code``, ``RequestId``, a send's ``GroupMessageId``, a lookup record's number,
template, direction, status and time, a Service ID, a template's code, language, components
and example). A field that is only shown accepts any JSON value (kept as text, see
:data:`Shown`), and every field may be absent. Unknown fields are ignored.
"""

from __future__ import annotations

import json
import time
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic.alias_generators import to_pascal

from cams_tui.api.limits import (  # noqa: F401  (re-exported: the models' limits)
    API_VERSION,
    FALLBACK_DURATION_RANGE,
    MAX_RECIPIENTS_PER_REQUEST,
    MSISDN_PATTERN,
    TTL_RANGE,
)

FallbackRule = Literal["undelivered", "sentFailed"]
Label = Literal["promotion", "transaction"]


def compact_json(value: Any) -> str:
    """JSON as the SDK sends nested values: no spaces, non-ASCII kept as is."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _as_text(value: Any) -> str | None:
    """A shown value as text: a string as is, ``true``/``false``, a number's digits, any
    other JSON value compact; ``None`` stays ``None``."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return compact_json(value)


def _as_text_or_empty(value: Any) -> str:
    text = _as_text(value)
    return "" if text is None else text


def _as_scalar(value: Any) -> int | float | str | None:
    """A shown time: a number kept as a number (milliseconds), anything else as text."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    return _as_text(value)


def _none_is_empty_list(value: Any) -> Any:
    return [] if value is None else value


def _none_is_empty_dict(value: Any) -> Any:
    return {} if value is None else value


Shown = Annotated[str, BeforeValidator(_as_text_or_empty)]
"""A field that is only shown: any JSON value, kept as text; absent or ``null`` is ``""``."""
ShownOrNone = Annotated[str | None, BeforeValidator(_as_text)]
"""A field that is only shown: any JSON value, kept as text; absent or ``null`` is ``None``."""
ShownTime = Annotated[int | float | str | None, BeforeValidator(_as_scalar)]
"""A time that is only shown: milliseconds since the epoch as CAMS sends them, or any other
JSON value as text. :func:`shown_time` formats it."""


def shown_time(value: int | float | str | None) -> str:
    """A millisecond timestamp as a local date and time (``2024-03-21 15:37``); a value that
    is not one is shown as it came, and an absent one as ``""``."""
    if value is None:
        return ""
    millis: float | None = None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        millis = float(value)
    elif isinstance(value, str) and value.strip().isdigit():
        millis = float(value.strip())
    if millis is None:
        return str(value)
    try:
        return time.strftime("%Y-%m-%d %H:%M", time.localtime(millis / 1000))
    except (OverflowError, OSError, ValueError):
        return str(value)


class _Wire(BaseModel):
    """Fields are snake_case in Python and PascalCase on the wire."""

    # Schemas are built on first use, not at import: the TUI opens faster.
    model_config = ConfigDict(
        alias_generator=to_pascal, populate_by_name=True, extra="ignore", defer_build=True
    )


# ---------------------------------------------------------------------------- requests


class CamsRequest(_Wire):
    """A request of one CAMS operation."""

    action: ClassVar[str]

    model_config = ConfigDict(
        alias_generator=to_pascal, populate_by_name=True, extra="forbid", frozen=True, defer_build=True
    )

    def to_params(self) -> dict[str, str]:
        """The request's parameters as they travel: strings, nested values as compact JSON."""
        return self._params_except(None)

    def _params_except(self, exclude: set[str] | None) -> dict[str, str]:
        params: dict[str, str] = {}
        for name, value in self.model_dump(by_alias=True, exclude_none=True, exclude=exclude).items():
            if isinstance(value, (dict, list)):
                params[name] = compact_json(value)
            else:
                params[name] = str(value)
        return params


class Page(_Wire):
    """A page of a listing: 1-based index and size."""

    index: int = Field(1, ge=1)
    size: int = Field(10, ge=1, le=100)


class Recipient(_Wire):
    """One entry of a SenderList: the number and the values of the template's variables."""

    to: str = Field(pattern=MSISDN_PATTERN)
    template_params: dict[str, str] | None = None


class MassMessageOptions(CamsRequest):
    """Everything of a SendChatappMassMessage request but its SenderList.

    A job stores these once; each batch adds its own recipients.
    """

    action: ClassVar[str] = "SendChatappMassMessage"

    channel_type: Literal["viber"] = "viber"
    template_code: str = Field(min_length=1)
    language: str = Field(min_length=1)
    from_: str = Field(alias="From", min_length=1)
    task_id: str | None = None
    cust_space_id: str | None = None
    ttl: int | None = Field(None, ge=TTL_RANGE[0], le=TTL_RANGE[1])
    label: Label | None = None
    tag: str | None = None
    fall_back_id: str | None = None
    fall_back_content: str | None = None
    fall_back_rule: FallbackRule | None = None
    fall_back_duration: int | None = Field(
        None, ge=FALLBACK_DURATION_RANGE[0], le=FALLBACK_DURATION_RANGE[1]
    )

    def with_recipients(self, recipients: list[Recipient]) -> SendMassMessageRequest:
        """The request that sends these options to ``recipients`` (validated)."""
        return SendMassMessageRequest(**self.model_dump(), sender_list=recipients)


def sender_list_json(recipients: list[Recipient]) -> str:
    """The SenderList byte for byte as the SDK sends it: compact JSON, absent TemplateParams
    left out, and ``TemplateParams`` before ``To`` (the order of the SDK's ``to_map``)."""
    return compact_json(
        [
            {"TemplateParams": r.template_params, "To": r.to}
            if r.template_params is not None
            else {"To": r.to}
            for r in recipients
        ]
    )


class SendMassMessageRequest(MassMessageOptions):
    """SendChatappMassMessage: one Viber template to 1 to 1,000 numbers."""

    sender_list: list[Recipient] = Field(min_length=1, max_length=MAX_RECIPIENTS_PER_REQUEST)

    def to_params(self) -> dict[str, str]:
        """Parameters as the SDK sends them."""
        # The SenderList is serialized once, here, not also by the generic dump.
        params = self._params_except({"sender_list"})
        params["SenderList"] = sender_list_json(self.sender_list)
        return params


class SendMessageRequest(CamsRequest):
    """SendChatappMessage with a template: the single test send."""

    action: ClassVar[str] = "SendChatappMessage"

    channel_type: Literal["viber"] = "viber"
    type: Literal["template"] = "template"
    from_: str = Field(alias="From", min_length=1)
    to: str = Field(pattern=MSISDN_PATTERN)
    template_code: str = Field(min_length=1)
    language: str = Field(min_length=1)
    template_params: dict[str, str] | None = None
    cust_space_id: str | None = None
    task_id: str | None = None
    ttl: int | None = Field(None, ge=TTL_RANGE[0], le=TTL_RANGE[1])
    label: Label | None = None
    tag: str | None = None
    fall_back_id: str | None = None
    fall_back_content: str | None = None
    fall_back_rule: FallbackRule | None = None
    fall_back_duration: int | None = Field(
        None, ge=FALLBACK_DURATION_RANGE[0], le=FALLBACK_DURATION_RANGE[1]
    )


class ListTemplatesRequest(CamsRequest):
    """ListChatappTemplate, narrowed by default to approved Viber templates."""

    action: ClassVar[str] = "ListChatappTemplate"

    template_type: Literal["VIBER"] = "VIBER"
    audit_status: str | None = "pass"
    page: Page = Field(default_factory=Page)
    name: str | None = None
    code: str | None = None
    language: str | None = None
    cust_space_id: str | None = None


class TemplateDetailRequest(CamsRequest):
    """GetChatappTemplateDetail of one template in one language."""

    action: ClassVar[str] = "GetChatappTemplateDetail"

    template_code: str = Field(min_length=1)
    language: str = Field(min_length=1)
    template_type: Literal["VIBER"] = "VIBER"
    cust_space_id: str | None = None


class ListViberServicesRequest(CamsRequest):
    """ListViberServiceMessage: the Service IDs that may be used as ``From``."""

    action: ClassVar[str] = "ListViberServiceMessage"

    cust_space_id: str | None = None


class ListMessagesRequest(CamsRequest):
    """ListChatappMessage: per-recipient statuses, by GroupMessageId or by number and time."""

    action: ClassVar[str] = "ListChatappMessage"

    channel_type: Literal["viber"] = "viber"
    business_number: str = Field(min_length=1)
    page: Page = Field(default_factory=Page)
    group_message_id: str | None = None
    user_number: str | None = None
    template_code: str | None = None
    message_status: str | None = None
    event_action: Literal["DOWN", "UP"] | None = Field(
        None, description="DOWN: messages the business sent; UP: messages users sent to it"
    )
    start_time: int | None = Field(None, ge=0, description="UNIX time in milliseconds")
    end_time: int | None = Field(None, ge=0, description="UNIX time in milliseconds")
    cust_space_id: str | None = None


# --------------------------------------------------------------------------- responses


class CamsResponse(_Wire):
    """Fields every CAMS answer carries."""

    request_id: str = ""
    code: str = "OK"
    message: ShownOrNone = None
    access_denied_detail: ShownOrNone = None
    # Set by the client from the HTTP exchange, never read from the body.
    http_status: int = Field(200, exclude=True)
    latency_ms: float = Field(0.0, exclude=True)


class SendMassMessageResponse(CamsResponse):
    """The answer to SendChatappMassMessage."""

    group_message_id: str | None = None


class SendMessageResponse(CamsResponse):
    """The answer to SendChatappMessage."""

    message_id: ShownOrNone = None


class TemplateSummary(_Wire):
    """One row of ListChatappTemplate."""

    template_code: str = ""
    template_name: Shown = ""
    language: str = ""
    audit_status: Shown = ""
    category: Shown = ""
    template_type: Shown = ""
    last_update_time: ShownTime = None
    """Milliseconds since the epoch, as CAMS sends it: show it with :func:`shown_time`."""
    reason: ShownOrNone = None


class ListTemplatesResponse(CamsResponse):
    """A page of templates, and how many there are in all."""

    list_template: Annotated[list[TemplateSummary], BeforeValidator(_none_is_empty_list)] = Field(
        default_factory=list
    )
    total: int = 0


class TemplateButton(_Wire):
    """A button of a template component."""

    type: Shown = ""
    text: Shown = ""
    url: ShownOrNone = None


class TemplateComponent(_Wire):
    """A HEADER, BODY, FOOTER or BUTTONS component of a template."""

    type: str = ""
    format: ShownOrNone = None
    text: str | None = None
    url: ShownOrNone = None
    caption: str | None = None
    buttons: Annotated[list[TemplateButton], BeforeValidator(_none_is_empty_list)] = Field(default_factory=list)


class TemplateDetail(_Wire):
    """The content of a template: its components and sample values of its variables."""

    template_code: str = ""
    name: Shown = ""
    language: str = ""
    category: Shown = ""
    audit_status: Shown = ""
    template_type: Shown = ""
    components: Annotated[list[TemplateComponent], BeforeValidator(_none_is_empty_list)] = Field(
        default_factory=list
    )
    example: Annotated[dict[str, str], BeforeValidator(_none_is_empty_dict)] = Field(default_factory=dict)


class TemplateDetailResponse(CamsResponse):
    """The answer to GetChatappTemplateDetail."""

    data: TemplateDetail | None = None


class ViberService(_Wire):
    """A Viber Service ID usable as ``From``."""

    service_id: str = ""
    business_account_name: Shown = ""
    state: Shown = ""


class ListViberServicesResponse(CamsResponse):
    """The answer to ListViberServiceMessage."""

    data: Annotated[list[ViberService], BeforeValidator(_none_is_empty_list)] = Field(default_factory=list)


class MessageRecord(_Wire):
    """One message as ListChatappMessage reports it."""

    message_id: str = ""
    user_number: str = ""
    business_number: Shown = ""
    message_status: str = ""
    fail_reason: ShownOrNone = None
    send_time: str | None = None
    template_code: str | None = None
    event_action: str | None = None
    """``DOWN`` for a message the business sent, ``UP`` for one a user sent to it."""
    group_message_id: ShownOrNone = None
    """Not in the SDK's model of a record: real CAMS is not known to send it. Never rely on it."""
    fail_back_flag: str | None = None


class ListMessagesResponse(CamsResponse):
    """A page of message records."""

    data: Annotated[list[MessageRecord], BeforeValidator(_none_is_empty_list)] = Field(default_factory=list)
