"""The answers our client reads, generated from the official SDK's response models.

For every operation cams-tui calls, hypothesis builds instances of the SDK 5.3.1 response-body
model (``alibabacloud_cams20200606.models.*ResponseBody``), walking its ``__init__``
annotations recursively through nested models and lists: every field of the type the SDK
declares, absent or present, and the wire names are those the SDK's own ``to_map()`` emits.
Unknown keys are added at every level (fields a later CAMS may add). Each body is answered
through a real httpx exchange to :class:`CamsClient`'s public method, and every value our
models keep must come out equal to what was generated (or to our default when absent).

A field we only show must also survive any other JSON value (shown as text).
"""

from __future__ import annotations

import asyncio
import functools
import json
import typing
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from alibabacloud_cams20200606 import models as sdk_models
from darabonba.model import DaraModel
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from cams_tui.api import models as our_models
from cams_tui.api.client import CamsClient
from cams_tui.api.credentials import Credentials
from cams_tui.api.errors import CamsApiError, Outcome
from cams_tui.api.models import (
    ListMessagesRequest,
    ListTemplatesRequest,
    MassMessageOptions,
    Recipient,
    SendMessageRequest,
    TemplateSummary,
    shown_time,
)

ENDPOINT = "https://cams.ap-southeast-1.aliyuncs.com"
CREDENTIALS = Credentials("LTAI5tExampleKeyId", "example-secret")
# JSON numbers every parser keeps exactly.
JSON_INTS = st.integers(-(2**53), 2**53)
EXTRA_KEY = st.from_regex(r"Zz[A-Z][A-Za-z]{0,10}", fullmatch=True)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | JSON_INTS | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(st.text(max_size=4), inner, max_size=2),
    max_leaves=4,
)


def sdk_hints(cls: type) -> dict[str, Any]:
    """The SDK model's ``__init__`` annotations, resolved (they are strings in the SDK)."""
    namespace = {**vars(sdk_models), "main_models": sdk_models, "List": typing.List, "Dict": typing.Dict}
    hints = typing.get_type_hints(cls.__init__, globalns=namespace)
    hints.pop("return", None)
    return hints


def is_sdk_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, DaraModel)


def value_strategy(annotation: Any) -> st.SearchStrategy[Any]:
    """Values of the type the SDK declares."""
    origin = typing.get_origin(annotation)
    if origin is list:
        (item,) = typing.get_args(annotation)
        return st.lists(value_strategy(item), max_size=3)
    if origin is dict:
        key, value = typing.get_args(annotation)
        return st.dictionaries(value_strategy(key), value_strategy(value), max_size=3)
    if is_sdk_model(annotation):
        return model_strategy(annotation)
    if annotation is str:
        return st.text(max_size=12)
    if annotation is bool:
        return st.booleans()
    if annotation is int:
        return JSON_INTS
    if annotation is float:
        return st.floats(allow_nan=False, allow_infinity=False)
    raise AssertionError(f"no strategy for the SDK's type {annotation!r}")


@functools.cache
def model_strategy(cls: type, **fixed: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Instances of an SDK model: each field absent (``None``) or of its declared type."""
    fields = {
        name: fixed.get(name, st.none() | value_strategy(annotation)) for name, annotation in sdk_hints(cls).items()
    }
    return st.fixed_dictionaries(fields).map(lambda values: cls(**values))


def with_extra_keys(instance: Any, body: dict[str, Any], draw: st.DrawFn) -> dict[str, Any]:
    """``body`` (``instance.to_map()``) with unknown keys added to every object of a model in
    it (not to a mapping such as a template's Example)."""
    result = dict(body)
    for name, wire in wire_names(type(instance)).items():
        value = getattr(instance, name)
        if isinstance(value, DaraModel):
            result[wire] = with_extra_keys(value, body[wire], draw)
        elif isinstance(value, list) and value and isinstance(value[0], DaraModel):
            result[wire] = [with_extra_keys(v, m, draw) for v, m in zip(value, body[wire])]
    for key, value in draw(st.dictionaries(EXTRA_KEY, JSON_VALUES, max_size=2)).items():
        result.setdefault(key, value)
    return result


def _sample(annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin is list:
        return [_sample(typing.get_args(annotation)[0])]
    if origin is dict:
        return {"k": "v"}
    if is_sdk_model(annotation):
        return annotation()
    return {str: "x", int: 1, bool: True, float: 1.5}[annotation]


@functools.cache
def wire_names(cls: type) -> dict[str, str]:
    """Each field's wire name, as the SDK's ``to_map()`` emits it (found by setting it alone)."""
    base = cls().to_map()
    names: dict[str, str] = {}
    for name, annotation in sdk_hints(cls).items():
        probe = cls()
        setattr(probe, name, _sample(annotation))
        mapped = probe.to_map()
        changed = [key for key in mapped if key not in base or mapped[key] != base[key]]
        assert len(changed) == 1, (cls.__name__, name, changed)
        names[name] = changed[0]
    return names


@st.composite
def sdk_bodies(draw: st.DrawFn, cls: type) -> tuple[Any, dict[str, Any]]:
    """An SDK response-body instance and the JSON CAMS would send for it (with extras)."""
    instance = draw(
        model_strategy(
            cls,
            code=st.sampled_from(["OK", "0000"]),
            request_id=st.none() | st.text(min_size=1, max_size=12),
        )
    )
    body = with_extra_keys(instance, instance.to_map(), draw)
    if "success" in sdk_hints(cls):
        body.setdefault("Success", draw(st.booleans()))
    return instance, body


def answered(body: Any) -> CamsClient:
    """A client whose every request is answered with ``body`` over a real httpx exchange."""
    text = json.dumps(body, ensure_ascii=False)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=text.encode(), headers={"content-type": "application/json"})

    return CamsClient(CREDENTIALS, ENDPOINT, transport=httpx.MockTransport(handler))


def run(body: Any, call: Callable[[CamsClient], Awaitable[Any]]) -> Any:
    async def main() -> Any:
        async with answered(body) as client:
            return await call(client)

    return asyncio.run(main())


# Fields our models add that the SDK's do not have (set from the exchange, or documented as
# never relied on).
NOT_FROM_THE_SDK = {"http_status", "latency_ms"}
NOT_IN_THE_SDK_RECORD = {"group_message_id"}


def assert_same(ours: BaseModel, sdk: Any, where: str) -> int:
    """Every field of ``ours`` that the SDK model has equals its generated value (or our
    default when it was absent); returns how many fields were compared."""
    compared = 0
    sdk_fields = sdk_hints(type(sdk))
    for name, info in type(ours).model_fields.items():
        if name in NOT_FROM_THE_SDK:
            continue
        if name not in sdk_fields:
            assert isinstance(sdk, sdk_models.ListChatappMessageResponseBodyData) and name in NOT_IN_THE_SDK_RECORD, (
                f"{where}.{name} is not in the SDK's {type(sdk).__name__}"
            )
            continue
        generated = getattr(sdk, name)
        value = getattr(ours, name)
        path = f"{where}.{name}"
        compared += 1
        if isinstance(value, BaseModel):
            assert generated is not None, path
            compared += assert_same(value, generated, path)
        elif isinstance(value, list):
            items = generated or []
            assert len(value) == len(items), path
            for i, (mine, theirs) in enumerate(zip(value, items)):
                if isinstance(mine, BaseModel):
                    compared += assert_same(mine, theirs, f"{path}[{i}]")
                else:
                    assert mine == theirs, f"{path}[{i}]"
        elif generated is None:
            default = info.get_default(call_default_factory=True)
            assert value == default, f"{path}: absent, so {default!r}; got {value!r}"
        else:
            assert value == generated and type(value) is type(generated), f"{path}: {generated!r} came out {value!r}"
    return compared


CONTRACT = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

OPTIONS = MassMessageOptions(template_code="tpl-1", language="en", from_="12345")


@CONTRACT
@given(sdk_bodies(sdk_models.SendChatappMassMessageResponseBody))
def test_send_chatapp_mass_message(generated: tuple[Any, dict[str, Any]]) -> None:
    sdk, body = generated
    request = OPTIONS.with_recipients([Recipient(to="6591000001")])
    if not sdk.group_message_id or not sdk.request_id:
        # "ok" needs evidence: without both, nothing could look the batch up.
        with pytest.raises(CamsApiError) as caught:
            run(body, lambda client: client.send_mass_message(request))
        assert caught.value.outcome is Outcome.UNKNOWN
        assert caught.value.code == sdk.code
        return
    response = run(body, lambda client: client.send_mass_message(request))
    assert assert_same(response, sdk, "SendChatappMassMessage") >= 5


@CONTRACT
@given(sdk_bodies(sdk_models.SendChatappMessageResponseBody))
def test_send_chatapp_message(generated: tuple[Any, dict[str, Any]]) -> None:
    sdk, body = generated
    request = SendMessageRequest(from_="12345", to="6591000001", template_code="tpl-1", language="en")
    response = run(body, lambda client: client.send_message(request))
    assert assert_same(response, sdk, "SendChatappMessage") >= 5


@CONTRACT
@given(sdk_bodies(sdk_models.ListChatappTemplateResponseBody))
def test_list_chatapp_template(generated: tuple[Any, dict[str, Any]]) -> None:
    sdk, body = generated
    response = run(body, lambda client: client.list_templates(ListTemplatesRequest()))
    assert assert_same(response, sdk, "ListChatappTemplate") >= 6


@CONTRACT
@given(sdk_bodies(sdk_models.GetChatappTemplateDetailResponseBody))
def test_get_chatapp_template_detail(generated: tuple[Any, dict[str, Any]]) -> None:
    sdk, body = generated
    detail = lambda client: client.template_detail("tpl-1", "en")  # noqa: E731
    if sdk.data is None:
        with pytest.raises(CamsApiError) as caught:
            run(body, detail)
        assert caught.value.outcome is Outcome.FAILED
        return
    assert assert_same(run(body, detail), sdk.data, "GetChatappTemplateDetail.Data") >= 8


@CONTRACT
@given(sdk_bodies(sdk_models.ListViberServiceMessageResponseBody))
def test_list_viber_service_message(generated: tuple[Any, dict[str, Any]]) -> None:
    sdk, body = generated
    response = run(body, lambda client: client.list_viber_services(cust_space_id="cs-1"))
    assert assert_same(response, sdk, "ListViberServiceMessage") >= 5


@CONTRACT
@given(sdk_bodies(sdk_models.ListChatappMessageResponseBody))
def test_list_chatapp_message(generated: tuple[Any, dict[str, Any]]) -> None:
    sdk, body = generated
    request = ListMessagesRequest(business_number="12345", cust_space_id="cs-1")
    response = run(body, lambda client: client.list_messages(request))
    assert assert_same(response, sdk, "ListChatappMessage") >= 5


# ----------------------------------------------------- the values that drive decisions


def test_decision_fields_are_typed_as_the_sdk_declares() -> None:
    """The fields the engine and UI decide on exist in our models, with the SDK's type."""
    decisions = {
        (our_models.CamsResponse, sdk_models.SendChatappMassMessageResponseBody): ["code", "request_id"],
        (our_models.SendMassMessageResponse, sdk_models.SendChatappMassMessageResponseBody): ["group_message_id"],
        (our_models.MessageRecord, sdk_models.ListChatappMessageResponseBodyData): [
            "user_number", "template_code", "event_action", "message_status", "send_time", "message_id",
        ],
        (our_models.ViberService, sdk_models.ListViberServiceMessageResponseBodyData): ["service_id"],
        (our_models.TemplateDetail, sdk_models.GetChatappTemplateDetailResponseBodyData): [
            "template_code", "language", "example",
        ],
        (our_models.TemplateComponent, sdk_models.GetChatappTemplateDetailResponseBodyDataComponents): ["type", "text"],
        (our_models.TemplateSummary, sdk_models.ListChatappTemplateResponseBodyListTemplate): [
            "template_code", "language",
        ],
        (our_models.ListTemplatesResponse, sdk_models.ListChatappTemplateResponseBody): ["total"],
    }
    for (ours, sdk), names in decisions.items():
        hints = sdk_hints(sdk)
        for name in names:
            annotation = normalized(ours.model_fields[name].annotation)
            declared = normalized(hints[name])
            assert annotation in {declared, declared | None}, f"{ours.__name__}.{name}: {annotation} is not {declared}"
            # Strict: a value of another type is refused, not converted (null may be empty).
            converters = {getattr(meta, "func", None) for meta in ours.model_fields[name].metadata}
            assert converters <= {our_models._none_is_empty_list, our_models._none_is_empty_dict}, name
            with pytest.raises(ValueError):
                ours.model_validate({ours.model_fields[name].alias or name: object()})


def normalized(annotation: Any) -> Any:
    """``typing.Dict[str, str]`` as ``dict[str, str]``, ``List[X]`` as ``list[X]``."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (list, dict):
        return origin[tuple(normalized(a) for a in args)] if len(args) > 1 else origin[normalized(args[0])]
    return annotation


def shown_fields(model: type[BaseModel]) -> dict[str, str]:
    """The wire names of the fields ``model`` only shows (any JSON value accepted)."""
    converters = {our_models._as_text, our_models._as_text_or_empty, our_models._as_scalar}
    return {
        info.alias or name: name
        for name, info in model.model_fields.items()
        if any(getattr(meta, "func", None) in converters for meta in info.metadata)
    }


def as_text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


SHOWN_MODELS = [
    (our_models.TemplateSummary, sdk_models.ListChatappTemplateResponseBodyListTemplate),
    (our_models.TemplateDetail, sdk_models.GetChatappTemplateDetailResponseBodyData),
    (our_models.TemplateButton, sdk_models.GetChatappTemplateDetailResponseBodyDataComponentsButtons),
    (our_models.TemplateComponent, sdk_models.GetChatappTemplateDetailResponseBodyDataComponents),
    (our_models.ViberService, sdk_models.ListViberServiceMessageResponseBodyData),
    (our_models.MessageRecord, sdk_models.ListChatappMessageResponseBodyData),
    (our_models.SendMessageResponse, sdk_models.SendChatappMessageResponseBody),
]


@pytest.mark.parametrize(("ours", "sdk"), SHOWN_MODELS, ids=lambda m: m.__name__)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_shown_field_takes_any_json_value(ours: type[BaseModel], sdk: type, data: st.DataObject) -> None:
    body = data.draw(model_strategy(sdk)).to_map()
    shown = shown_fields(ours)
    assert shown, f"{ours.__name__} shows nothing?"
    replaced = {wire: data.draw(JSON_VALUES) for wire in shown}
    body.update(replaced)
    parsed = ours.model_validate(body)
    for wire, value in replaced.items():
        kept = getattr(parsed, shown[wire])
        if shown[wire] == "last_update_time" and isinstance(value, (int, float)) and not isinstance(value, bool):
            assert kept == value
        else:
            default = ours.model_fields[shown[wire]].get_default(call_default_factory=True)
            assert kept == (default if value is None else as_text(value)), wire


def test_a_template_listing_with_millisecond_times_is_read_and_shown_as_dates() -> None:
    """The SDK's LastUpdateTime is an integer of milliseconds."""
    body = sdk_models.ListChatappTemplateResponseBody(
        code="OK",
        request_id="r-1",
        success=True,
        total=1,
        list_template=[
            sdk_models.ListChatappTemplateResponseBodyListTemplate(
                template_code="tpl-1", template_name="Spring", language="en", audit_status="pass",
                last_update_time=1711006633000,
            )
        ],
    ).to_map()
    templates: list[TemplateSummary] = run(body, lambda client: client.list_all_templates())
    assert [t.last_update_time for t in templates] == [1711006633000]
    shown = shown_time(templates[0].last_update_time)
    assert shown.startswith("2024-03-2") and len(shown) == len("2024-03-21 07:37")
    assert shown_time("not a time") == "not a time"
    assert shown_time(None) == ""
    assert shown_time(10**30) == str(10**30)
