"""Every answer of the simulator has the types and shapes the official SDK's models declare.

The SDK (``alibabacloud_cams20200606`` 5.3.1) is the oracle: for each operation the project
calls, generated requests go through the SDK to the simulator, and every attribute of every
model the SDK builds from the answer (recursively) is held against that model's ``__init__``
annotation. The answer's raw JSON keys are held against the wire names the model reads
(its ``from_map``), so the simulator sends nothing a real client could not find in the
model. The SDK's ``from_map`` copies scalars as they come, so a ``"2025-01-06 09:30:00"``
where the model says ``int`` shows up here as a ``str`` attribute.
"""

from __future__ import annotations

import importlib
import inspect
import re
import typing
from collections.abc import Iterator
from functools import cache
from typing import Any

import pytest
from alibabacloud_cams20200606 import models as sdk
from alibabacloud_cams20200606.client import Client
from alibabacloud_tea_openapi.exceptions import ClientException
from alibabacloud_tea_openapi.models import Config
from darabonba.model import DaraModel
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cams_tui.simulator import DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, Faults, Simulator, SimulatorConfig
from cams_tui.simulator import demo_data

SPACE = demo_data.DEMO_CUST_SPACE_ID
EXAMPLES = settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
PROXY_VARIABLES = ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")


# ------------------------------------------------------------------ the oracle


@cache
def annotations_of(model: type) -> dict[str, Any]:
    """The model's ``__init__`` annotations, resolved in its own module."""
    module = importlib.import_module(model.__module__)
    hints = typing.get_type_hints(model.__init__, globalns=vars(module))
    hints.pop("return", None)
    return hints


_FROM_MAP_FIELD = re.compile(
    r"if m\.get\('(\w+)'\) is not None:\s*\n"
    r"(?:\s*for \w+ in m\.get\('\w+'\):\s*\n)?"
    r"(?:\s*temp_model = [^\n]*\n)?"
    r"\s*self\.(\w+)"
)


@cache
def wire_names(model: type) -> dict[str, str]:
    """Wire name -> attribute name, as the model's ``from_map`` reads them."""
    source = inspect.getsource(model.from_map)
    names = dict(_FROM_MAP_FIELD.findall(source))
    # Every key the model reads must have been understood, or the check below is blind.
    assert set(names) == set(re.findall(r"m\.get\('(\w+)'\)", source)), model.__name__
    assert set(names.values()) <= set(annotations_of(model)), model.__name__
    return names


def _is_model(kind: Any) -> bool:
    return isinstance(kind, type) and issubclass(kind, DaraModel)


def check_value(value: Any, kind: Any, where: str, problems: list[str]) -> None:
    """Append to ``problems`` every way ``value`` is not of the annotated ``kind``."""
    if value is None:
        return  # absent from the answer (or null): the SDK leaves the attribute None
    origin = typing.get_origin(kind)
    if origin in (list, typing.List):  # noqa: UP006 - the SDK's annotations
        (item,) = typing.get_args(kind)
        if not isinstance(value, list):
            problems.append(f"{where}: {value!r} is {type(value).__name__}, the SDK declares {kind}")
            return
        for index, element in enumerate(value):
            check_value(element, item, f"{where}[{index}]", problems)
        return
    if origin in (dict, typing.Dict):  # noqa: UP006
        key_kind, value_kind = typing.get_args(kind)
        if not isinstance(value, dict):
            problems.append(f"{where}: {value!r} is {type(value).__name__}, the SDK declares {kind}")
            return
        for key, element in value.items():
            check_value(key, key_kind, f"{where} key {key!r}", problems)
            check_value(element, value_kind, f"{where}[{key!r}]", problems)
        return
    if _is_model(kind):
        if not isinstance(value, kind):
            problems.append(f"{where}: {type(value).__name__} where the SDK declares {kind.__name__}")
            return
        check_model(value, where, problems)
        return
    # bool is an int to Python, never to the SDK's models.
    exact = type(value) is kind or (kind is float and type(value) is int)
    if not exact:
        problems.append(f"{where}: {value!r} is {type(value).__name__}, the SDK declares {kind.__name__}")


def check_model(model: Any, where: str, problems: list[str]) -> None:
    """Hold every attribute of an SDK model against its annotation, recursively."""
    for attribute, kind in annotations_of(type(model)).items():
        check_value(getattr(model, attribute), kind, f"{where}.{attribute}", problems)


def check_keys(raw: Any, model: type, where: str, problems: list[str]) -> None:
    """Append every key of the raw JSON that the model has no wire name for, recursively."""
    if not isinstance(raw, dict):
        return
    names = wire_names(model)
    hints = annotations_of(model)
    for key, value in raw.items():
        if key not in names:
            problems.append(f"{where}: key {key!r} is not in {model.__name__} ({', '.join(sorted(names))})")
            continue
        kind = hints[names[key]]
        args = typing.get_args(kind)
        if _is_model(kind):
            check_keys(value, kind, f"{where}.{key}", problems)
        elif typing.get_origin(kind) in (list, typing.List) and args and _is_model(args[0]):  # noqa: UP006
            for index, element in enumerate(value if isinstance(value, list) else []):
                check_keys(element, args[0], f"{where}.{key}[{index}]", problems)


# ------------------------------------------------------------ the SDK, pointed


class RecordingClient(Client):
    """The SDK's client, keeping the raw body of the last answer it parsed."""

    last_body: dict[str, Any] | None = None

    def call_api(self, params: Any, request: Any, runtime: Any) -> dict[str, Any]:  # type: ignore[override]
        answer = super().call_api(params, request, runtime)
        self.last_body = answer.get("body")
        return answer


def sdk_client(url: str, *, key_id: str = DEMO_ACCESS_KEY_ID, secret: str = DEMO_ACCESS_KEY_SECRET) -> RecordingClient:
    return RecordingClient(
        Config(access_key_id=key_id, access_key_secret=secret, endpoint=url.removeprefix("http://"), protocol="http")
    )


def assert_matches_sdk(response: Any) -> None:
    """The parsed answer holds only declared types; its raw body only declared keys."""
    body = response.body
    problems: list[str] = []
    check_model(body, type(body).__name__, problems)
    raw = CLIENT.last_body
    assert isinstance(raw, dict)
    check_keys(raw, type(body), type(body).__name__, problems)
    assert not problems, "\n".join(problems)
    assert body.code == "OK"


CLIENT: RecordingClient
SENT: dict[str, list[str]] = {}
"""GroupMessageId -> the numbers it was sent to, for the listing's filters."""


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module", autouse=True)
def served() -> Iterator[Simulator]:
    """A simulator with mixed traffic: delivered, read, failed (some with SMS fallback) and
    recipients who wrote back, all settled at once so every field shows."""
    global CLIENT
    sim = Simulator(
        SimulatorConfig(
            seed=11,
            rate=1000,
            operation_rates={op: 1000 for op in ("SendChatappMessage", "ListChatappTemplate", "ListChatappMessage")},
            delivery_delay_s=(0.0, 0.0),
            read_delay_s=(0.0, 0.0),
            inbound_delay_s=(0.0, 0.0),
            inbound_share=0.5,
            faults=Faults(fail_delivery=0.3),
        )
    )
    with sim.run_in_thread() as url:
        CLIENT = sdk_client(url)
        for batch in range(3):
            numbers = [f"6391{batch}{i:06d}" for i in range(30)]
            reply = CLIENT.send_chatapp_mass_message(
                sdk.SendChatappMassMessageRequest(
                    channel_type="viber",
                    template_code=demo_data.ORDER_SHIPPED,
                    language="en",
                    from_=demo_data.DEMO_SERVICE_ID,
                    sender_list=[
                        sdk.SendChatappMassMessageRequestSenderList(to=n, template_params={"name": "A", "order_id": "1"})
                        for n in numbers
                    ],
                    fall_back_content="Your order is on its way" if batch else None,
                )
            )
            SENT[reply.body.group_message_id] = numbers
        yield sim


# ------------------------------------------------------------------ inputs

APPROVED = [t for t in demo_data.TEMPLATES if t.approved]
numbers = st.from_regex(r"[1-9][0-9]{6,14}", fullmatch=True)
values = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=30).filter(
    str.strip
)
spaces = st.sampled_from([None, SPACE])


@st.composite
def template_params(draw: st.DrawFn, template: demo_data.Template) -> dict[str, str]:
    return {name: draw(values) for name in template.variables}


# ---------------------------------------------------------------- the tests


@EXAMPLES
@given(data=st.data(), template=st.sampled_from(APPROVED), space=spaces)
def test_send_chatapp_mass_message(data: st.DataObject, template: demo_data.Template, space: str | None) -> None:
    recipients = data.draw(st.lists(numbers, min_size=1, max_size=20, unique=True))
    response = CLIENT.send_chatapp_mass_message(
        sdk.SendChatappMassMessageRequest(
            channel_type="viber",
            template_code=template.code,
            language=template.language,
            from_=demo_data.DEMO_SERVICE_ID,
            cust_space_id=space,
            sender_list=[
                sdk.SendChatappMassMessageRequestSenderList(to=n, template_params=data.draw(template_params(template)))
                for n in recipients
            ],
            ttl=data.draw(st.none() | st.integers(30, 1_209_600)),
            label=data.draw(st.sampled_from([None, "promotion", "transaction"])),
            tag=data.draw(st.none() | st.text("abc-_", min_size=1, max_size=10)),
        )
    )
    assert_matches_sdk(response)
    assert response.body.group_message_id


@EXAMPLES
@given(data=st.data(), template=st.sampled_from(APPROVED), to=numbers, space=spaces)
def test_send_chatapp_message(data: st.DataObject, template: demo_data.Template, to: str, space: str | None) -> None:
    response = CLIENT.send_chatapp_message(
        sdk.SendChatappMessageRequest(
            channel_type="viber",
            type="template",
            from_=demo_data.DEMO_SERVICE_ID,
            to=to,
            template_code=template.code,
            language=template.language,
            cust_space_id=space,
            template_params=data.draw(template_params(template)),
        )
    )
    assert_matches_sdk(response)
    assert response.body.message_id


@EXAMPLES
@given(
    audit_status=st.sampled_from([None, "pass", "fail", "auditing", "unaudit"]),
    language=st.sampled_from([None, "en", "ru"]),
    name=st.sampled_from([None, "", "sale", "order_shipped"]),
    page=st.none() | st.tuples(st.integers(1, 3), st.integers(1, 20)),
    space=spaces,
)
def test_list_chatapp_template(
    audit_status: str | None, language: str | None, name: str | None, page: tuple[int, int] | None, space: str | None
) -> None:
    response = CLIENT.list_chatapp_template(
        sdk.ListChatappTemplateRequest(
            template_type="VIBER",
            audit_status=audit_status,
            language=language,
            name=name,
            cust_space_id=space,
            page=None if page is None else sdk.ListChatappTemplateRequestPage(index=page[0], size=page[1]),
        )
    )
    assert_matches_sdk(response)
    assert isinstance(response.body.total, int)
    for row in response.body.list_template:
        assert row.category in ("UTILITY", "MARKETING", "AUTHENTICATION")
        assert row.last_update_time > 1_600_000_000_000  # milliseconds, not seconds


@EXAMPLES
@given(template=st.sampled_from(demo_data.TEMPLATES), by_name=st.booleans(), space=spaces)
def test_get_chatapp_template_detail(template: demo_data.Template, by_name: bool, space: str | None) -> None:
    response = CLIENT.get_chatapp_template_detail(
        sdk.GetChatappTemplateDetailRequest(
            template_code=None if by_name else template.code,
            template_name=template.name if by_name else None,
            language=template.language,
            template_type="VIBER",
            cust_space_id=space,
        )
    )
    assert_matches_sdk(response)
    data = response.body.data
    # As Viber has them: media only in the HEADER, no FOOTER, at most one button, a URL one.
    assert {c.type for c in data.components} <= {"HEADER", "BODY", "BUTTONS"}
    buttons = [b for c in data.components for b in (c.buttons or [])]
    assert len(buttons) <= 1 and all(b.type == "URL" for b in buttons)
    assert data.allow_send is template.approved


def test_list_viber_service_message() -> None:
    response = CLIENT.list_viber_service_message(sdk.ListViberServiceMessageRequest(cust_space_id=SPACE))
    assert_matches_sdk(response)
    assert demo_data.DEMO_SERVICE_ID in {s.service_id for s in response.body.data}


@st.composite
def message_queries(draw: st.DrawFn) -> sdk.ListChatappMessageRequest:
    group = draw(st.sampled_from([None, *SENT]))
    known = [n for numbers_ in SENT.values() for n in numbers_]
    return sdk.ListChatappMessageRequest(
        channel_type="viber",
        business_number=demo_data.DEMO_SERVICE_ID,
        cust_space_id=SPACE,
        page=sdk.ListChatappMessageRequestPage(index=draw(st.integers(1, 3)), size=draw(st.integers(1, 50))),
        group_message_id=group,
        user_number=draw(st.none() | st.sampled_from(known)),
        template_code=draw(st.sampled_from([None, demo_data.ORDER_SHIPPED, demo_data.SPRING_SALE])),
        message_status=draw(st.sampled_from([None, "Sent", "Delivered", "Read", "Failed"])),
        event_action=draw(st.sampled_from([None, "DOWN", "UP"])),
        start_time=draw(st.none() | st.just(0) | st.just(1_600_000_000_000)),
        end_time=draw(st.none() | st.just(4_000_000_000_000)),
    )


@EXAMPLES
@given(query=message_queries())
def test_list_chatapp_message(query: sdk.ListChatappMessageRequest) -> None:
    response = CLIENT.list_chatapp_message(query)
    assert_matches_sdk(response)
    for record in response.body.data:
        assert record.event_action in ("DOWN", "UP")
        assert record.fail_back_flag in ("Y", "N")
        if record.event_action == "DOWN":
            assert record.template_code
        else:
            assert record.template_code == "" and not record.fail_reason
        # Every filter holds.
        if query.group_message_id:
            assert record.user_number in SENT[query.group_message_id] and record.event_action == "DOWN"
        for attribute in ("user_number", "template_code", "message_status", "event_action"):
            wanted = getattr(query, attribute)
            if wanted:
                assert getattr(record, attribute) == wanted


def test_every_declared_field_of_a_record_is_exercised() -> None:
    """The generated traffic shows each kind of record, so the checks above saw them all."""
    records = []
    for action in ("DOWN", "UP"):
        for index in (1, 2):
            records += CLIENT.list_chatapp_message(
                sdk.ListChatappMessageRequest(
                    channel_type="viber",
                    business_number=demo_data.DEMO_SERVICE_ID,
                    cust_space_id=SPACE,
                    event_action=action,
                    page=sdk.ListChatappMessageRequestPage(index=index, size=100),
                )
            ).body.data
    assert {r.event_action for r in records} == {"DOWN", "UP"}
    assert {r.fail_back_flag for r in records} == {"Y", "N"}
    assert any(r.fail_reason for r in records) and any(r.message for r in records)
    assert {r.message_status for r in records if r.event_action == "DOWN"} >= {"Read", "Failed"}


def test_error_bodies_carry_only_the_gateway_fields() -> None:
    with pytest.raises(ClientException) as caught:
        CLIENT.list_chatapp_message(
            sdk.ListChatappMessageRequest(channel_type="viber", business_number=demo_data.DEMO_SERVICE_ID, cust_space_id=SPACE)
        )
    assert caught.value.code == "MissingPage"
    assert set(caught.value.data) - {"statusCode"} <= {"RequestId", "HostId", "Code", "Message", "Recommend", "AccessDeniedDetail"}
