"""The simulator on its own: gateway checks, flow control, faults, records, HTTP behaviour."""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from cams_tui.api import signing
from cams_tui.api.client import CamsClient, Placement
from cams_tui.api.credentials import Credentials
from cams_tui.api.errors import CamsError, Outcome
from cams_tui.api.models import ListMessagesRequest, MassMessageOptions, Recipient
from cams_tui.simulator import DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, Faults, Simulator, SimulatorConfig
from cams_tui.simulator import demo_data
from cams_tui.simulator.cli import run_simulator_cli
from cams_tui.simulator.ratelimit import SlidingWindowLimiter
from cams_tui.simulator.store import FAIL_REASONS, MessageStore, Timing

SPACE = demo_data.DEMO_CUST_SPACE_ID
OPTIONS = MassMessageOptions(template_code=demo_data.SPRING_SALE, language="en", from_=demo_data.DEMO_SERVICE_ID)
VALUES = {"name": "Anna", "discount": "20%", "end_date": "31 March"}


def people(count: int, start: int = 0) -> list[Recipient]:
    return [Recipient(to=f"4477{start + i:08d}", template_params=VALUES) for i in range(count)]


def signed_parts(
    url: str,
    action: str,
    params: dict[str, str],
    *,
    secret: str = DEMO_ACCESS_KEY_SECRET,
    version: str = "2020-06-06",
    date: float | None = None,
    in_body: bool = False,
) -> tuple[str, dict[str, str], bytes]:
    """(target, headers, body) of a request signed by hand."""
    host = urlsplit(url).netloc
    encoded = signing.canonical_query(params)
    headers = {
        "host": host,
        "x-acs-action": action,
        "x-acs-version": version,
        "x-acs-date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(date or time.time())),
        "x-acs-signature-nonce": uuid.uuid4().hex,
    }
    body = b""
    if in_body:
        body = encoded.encode()
        headers["content-type"] = "application/x-www-form-urlencoded"
    headers["x-acs-content-sha256"] = signing.payload_sha256(body)
    headers["authorization"] = signing.sign(
        method="POST",
        path="/",
        query="" if in_body else encoded,
        headers=headers.items(),
        payload_hash=headers["x-acs-content-sha256"],
        access_key_id=DEMO_ACCESS_KEY_ID,
        secret=secret,
    )
    target = "/" if in_body or not encoded else f"/?{encoded}"
    return target, headers, body


def signed(url: str, action: str, params: dict[str, str], **options: Any) -> httpx.Request:
    """A request signed by hand, for what the typed client refuses to send."""
    target, headers, body = signed_parts(url, action, params, **options)
    return httpx.Request("POST", url + target, headers=headers, content=body)


async def send(request: httpx.Request) -> tuple[int, dict[str, Any], httpx.Headers]:
    async with httpx.AsyncClient(trust_env=False) as http_client:
        response = await http_client.send(request)
    return response.status_code, response.json(), response.headers


def mass_params(**overrides: str) -> dict[str, str]:
    params = {
        "ChannelType": "viber",
        "TemplateCode": demo_data.SPRING_SALE,
        "Language": "en",
        "From": demo_data.DEMO_SERVICE_ID,
        "SenderList": json.dumps([{"To": "447700900001", "TemplateParams": VALUES}]),
    }
    params.update(overrides)
    return {k: v for k, v in params.items() if v != "-"}


# ----------------------------------------------------------------------- faults


def test_faults_parse_every_key() -> None:
    faults = Faults.parse(
        "throttle=0.1, 5xx=0.05,5xx_after_accept=0.01,drop=0.05,slow=0.02,slow_ms=40000,"
        "deny=1,unsubscribed=false,fail_delivery=0.3,inbound=0.1,ignore_body=1,burst=4,seed=7"
    )
    assert faults == Faults(
        throttle=0.1,
        server_error=0.05,
        server_error_after_accept=0.01,
        drop=0.05,
        slow=0.02,
        slow_ms=40000,
        deny=True,
        fail_delivery=0.3,
        inbound=0.1,
        ignore_body=True,
        burst=4,
        seed=7,
    )
    assert Faults.parse(faults.to_spec()) == faults
    assert Faults.parse("") == Faults()


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ("thrtotle=0.1", ["thrtotle", "throttle"]),
        ("server_error=0.1", ["server_error", "5xx"]),
        ("drop=lots", ["drop", "lots"]),
        ("drop=1.5", ["drop", "between 0 and 1"]),
        ("deny=maybe", ["deny", "maybe"]),
        ("slow_ms=-3", ["slow_ms"]),
        ("burst", ["burst", "value"]),
        ("inbound=2", ["inbound", "between 0 and 1"]),
        ("ignore_body=sometimes", ["ignore_body", "sometimes"]),
    ],
)
def test_bad_fault_spec_names_the_problem(spec: str, words: list[str]) -> None:
    with pytest.raises(ValueError) as caught:
        Faults.parse(spec)
    assert all(word in str(caught.value) for word in words)


# ------------------------------------------------------------------- signatures


async def test_replayed_request_is_refused_for_its_nonce(sim_url: str, simulator: Simulator) -> None:
    request = signed(sim_url, "ListViberServiceMessage", {"CustSpaceId": SPACE})
    assert (await send(request))[0] == 200
    status, body, _ = await send(request)
    assert (status, body["Code"]) == (400, "SignatureNonceUsed")
    assert set(body) == {"RequestId", "HostId", "Code", "Message", "Recommend"}


@pytest.mark.parametrize(("minutes", "code"), [(-16, "InvalidTimeStamp.Expired"), (16, "InvalidTimeStamp.Expired"), (-14, "OK")])
async def test_timestamp_must_be_within_15_minutes(sim_url: str, minutes: int, code: str) -> None:
    status, body, _ = await send(signed(sim_url, "ListViberServiceMessage", {"CustSpaceId": SPACE}, date=time.time() + 60 * minutes))
    assert body["Code"] == code
    assert status == (200 if code == "OK" else 400)


async def test_gateway_refusals(sim_url: str) -> None:
    request = signed(sim_url, "ListViberServiceMessage", {"CustSpaceId": SPACE})
    del request.headers["authorization"]
    assert (await send(request))[1]["Code"] == "IncompleteSignature"
    request = signed(sim_url, "ListViberServiceMessage", {"CustSpaceId": SPACE})
    request.headers["authorization"] = "ACS3-HMAC-SHA256 Credential=x"
    assert (await send(request))[1]["Code"] == "IncompleteSignature"
    status, body, _ = await send(signed(sim_url, "SendAllTheThings", {}))
    assert (status, body["Code"]) == (404, "InvalidApi.NotFound")
    status, body, _ = await send(signed(sim_url, "ListViberServiceMessage", {"CustSpaceId": SPACE}, version="2017-05-25"))
    assert (status, body["Code"]) == (400, "InvalidVersion")
    status, body, _ = await send(signed(sim_url, "ListViberServiceMessage", {"CustSpaceId": SPACE}, secret="nope"))
    assert (status, body["Code"]) == (400, "SignatureDoesNotMatch")
    assert "nope" not in json.dumps(body) and DEMO_ACCESS_KEY_SECRET not in json.dumps(body)


async def test_tampered_parameters_break_the_signature(sim_url: str, simulator: Simulator) -> None:
    request = signed(sim_url, "SendChatappMassMessage", mass_params())
    tampered = httpx.Request(
        "POST", str(request.url).replace("447700900001", "447700900002"), headers=request.headers
    )
    status, body, _ = await send(tampered)
    assert (status, body["Code"]) == (400, "SignatureDoesNotMatch")
    assert not simulator.accepted


async def test_plus_and_percent_20_are_the_same_space(sim_url: str) -> None:
    request = signed(sim_url, "ListChatappTemplate", {"Name": "spring sale", "TemplateType": "VIBER"})
    with_plus = httpx.Request("POST", str(request.url).replace("%20", "+"), headers=request.headers)
    status, body, _ = await send(with_plus)
    assert (status, body["Code"], body["Total"]) == (200, "OK", 0)


# ------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"ChannelType": "whatsapp"}, "InvalidParameter.ChannelTypeNotSupport"),
        ({"TemplateCode": "-"}, "MissingTemplateCode"),
        ({"SenderList": "-"}, "MissingSenderList"),
        ({"SenderList": "not json"}, "InvalidParameter.SenderList"),
        ({"SenderList": "[]"}, "InvalidParameter.SenderList"),
        ({"SenderList": '[{"To": "07700 900001"}]'}, "InvalidParameter.PhoneNumberError"),
        ({"SenderList": '[{"To": "447700900001", "TemplateParams": {"name": "A"}}]'}, "InvalidParameter.TemplateParams"),
        ({"Ttl": "29"}, "InvalidParameter.Ttl"),
        ({"Ttl": "1209601"}, "InvalidParameter.Ttl"),
        ({"FallBackDuration": "59"}, "InvalidParameter.FallBackDuration"),
        ({"FallBackRule": "always"}, "InvalidParameter.FallBackRule"),
        ({"Label": "pormotion"}, "InvalidParameter.Label"),
        ({"TemplateCode": demo_data.LOYALTY_POINTS}, "Template.AuditNotPass"),
        ({"ChannelType": "-", "From": "-"}, "MissingChannelType"),
        ({"From": "-", "Language": "-"}, "MissingFrom"),
        ({"Language": "-"}, "MissingLanguage"),
        ({"CustSpaceId": "cams-elsewhere"}, "Authentication.NoAuth"),
    ],
)
async def test_mass_send_validation(sim_url: str, simulator: Simulator, overrides: dict[str, str], code: str) -> None:
    status, body, _ = await send(signed(sim_url, "SendChatappMassMessage", mass_params(**overrides), in_body=True))
    assert (status, body["Code"]) == (400, code)
    assert not simulator.accepted


async def test_bounds_and_both_placeholder_styles_are_accepted(sim_url: str, simulator: Simulator) -> None:
    status, body, _ = await send(
        signed(sim_url, "SendChatappMassMessage", mass_params(Ttl="30", FallBackDuration="43200", Label="promotion"))
    )
    assert (status, body["Code"]) == (200, "OK")
    reminder = json.dumps([{"To": "447700900009", "TemplateParams": {"name": "A", "date": "1 May", "time": "9:00"}}])
    params = mass_params(TemplateCode=demo_data.APPOINTMENT_REMINDER, SenderList=reminder)
    assert (await send(signed(sim_url, "SendChatappMassMessage", params)))[1]["Code"] == "OK"
    missing = json.dumps([{"To": "447700900009", "TemplateParams": {"name": "A", "date": "1 May"}}])
    params = mass_params(TemplateCode=demo_data.APPOINTMENT_REMINDER, SenderList=missing)
    body = (await send(signed(sim_url, "SendChatappMassMessage", params)))[1]
    assert body["Code"] == "InvalidParameter.TemplateParams" and "'time'" in body["Message"]


async def test_template_detail_requires_a_template_code(sim_url: str) -> None:
    status, body, _ = await send(signed(sim_url, "GetChatappTemplateDetail", {"Language": "en"}))
    assert (status, body["Code"]) == (400, "MissingTemplateCode")
    assert "TemplateCode is required" in body["Message"]


async def test_template_listing_page_must_be_valid(sim_url: str) -> None:
    for page in ('{"Index":0,"Size":10}', '{"Index":1,"Size":101}', '{"Index":1}', "1", '{"Index":"1","Size":10}'):
        status, body, _ = await send(signed(sim_url, "ListChatappTemplate", {"Page": page}))
        assert (status, body["Code"]) == (400, "InvalidParameter.PageInvalid"), page
    status, body, _ = await send(signed(sim_url, "ListChatappTemplate", {}))
    assert (status, body["Code"], len(body["ListTemplate"])) == (200, "OK", 7)  # Page may be left out here


@pytest.mark.parametrize("how", ["config", "fault"])
async def test_a_gateway_that_ignores_the_body_misses_body_parameters(how: str) -> None:
    config = SimulatorConfig(seed=1, ignore_body=how == "config")
    sim = Simulator(config)
    if how == "fault":
        sim.faults = Faults.parse("ignore_body=1")
    async with sim.serve() as url:
        status, body, _ = await send(signed(url, "SendChatappMassMessage", mass_params(), in_body=True))
        assert (status, body["Code"]) == (400, "MissingChannelType")
        # The same call in the query string still goes through: only the body is unread.
        status, body, _ = await send(signed(url, "SendChatappMassMessage", mass_params()))
        assert (status, body["Code"]) == (200, "OK")
    assert len(sim.accepted_requests) == 1


@pytest.mark.parametrize(("ignore_body", "code"), [(False, "DetailError.TemplateNotExist"), (True, "MissingChannelType")])
async def test_a_probe_for_a_template_that_cannot_exist_tells_whether_the_body_was_read(
    ignore_body: bool, code: str
) -> None:
    sim = Simulator(SimulatorConfig(seed=1, ignore_body=ignore_body))
    probe = mass_params(TemplateCode="cams-tui-probe-no-such-template", SenderList="-")
    async with sim.serve() as url:
        status, body, _ = await send(signed(url, "SendChatappMassMessage", probe, in_body=True))
        assert (status, body["Code"]) == (400, code)
        # With recipients too: refused before any of them is looked at.
        with_numbers = mass_params(TemplateCode="cams-tui-probe-no-such-template")
        status, body, _ = await send(signed(url, "SendChatappMassMessage", with_numbers, in_body=True))
        assert (status, body["Code"]) == (400, code)
    assert not sim.accepted and not sim.accepted_requests and len(sim.store) == 0


def test_simulator_config_checks_its_new_fields() -> None:
    with pytest.raises(ValueError, match="inbound_share"):
        SimulatorConfig(inbound_share=1.5)
    with pytest.raises(ValueError, match="inbound_delay_s"):
        SimulatorConfig(inbound_delay_s=(3.0, 1.0))
    with pytest.raises(ValueError, match="extra_access_keys"):
        SimulatorConfig(extra_access_keys={"LTAI5tX": ""})
    config = SimulatorConfig(extra_access_keys={"LTAI5tX": "s"})
    assert list(config.access_keys) == [DEMO_ACCESS_KEY_ID, "LTAI5tX"]
    assert "'s'" not in repr(config)


def test_demo_templates_declare_every_variable_in_their_example() -> None:
    for template in demo_data.TEMPLATES:
        assert set(template.variables) == set(template.example), template.name
    assert demo_data.placeholders("$(a) {{ b }} $(a) {{c}}") == ["a", "b", "c"]


# ----------------------------------------------------------------- flow control


def test_sliding_window_admits_exactly_rate_per_second() -> None:
    now = [100.0]
    limiter = SlidingWindowLimiter(clock=lambda: now[0])
    assert all(limiter.try_acquire("k", 10) is None for _ in range(10))
    assert limiter.try_acquire("k", 10) == 1000
    now[0] = 100.6
    assert limiter.try_acquire("k", 10) == 400
    assert limiter.try_acquire("other", 10) is None  # each key has its own window
    now[0] = 101.0  # the first ten starts leave the window exactly now
    assert all(limiter.try_acquire("k", 10) is None for _ in range(10))
    assert limiter.try_acquire("k", 10) is not None


def test_sliding_window_never_holds_more_than_rate() -> None:
    now = [0.0]
    limiter = SlidingWindowLimiter(clock=lambda: now[0])
    admitted: list[float] = []
    for step in range(2000):  # a call every 7 ms, far over 10/s
        now[0] = step * 0.007
        if limiter.try_acquire("k", 10) is None:
            admitted.append(now[0])
    assert all(later - earlier >= 1.0 - 1e-9 for earlier, later in zip(admitted, admitted[10:]))
    # Refused calls do not count: the window is used at its full rate.
    assert len(admitted) >= 10 * int(now[0])


async def test_operations_have_separate_windows(demo_credentials: Credentials) -> None:
    sim = Simulator(SimulatorConfig(rate=1, seed=3))
    async with sim.serve() as url, CamsClient(demo_credentials, url) as client:
        await client.send_mass_message(OPTIONS.with_recipients(people(1)))
        with pytest.raises(CamsError) as caught:
            await client.send_mass_message(OPTIONS.with_recipients(people(1, start=1)))
        assert caught.value.outcome is Outcome.THROTTLED
        assert (await client.list_viber_services(cust_space_id=SPACE)).code == "OK"
    assert dict(sim.stats["SendChatappMassMessage"]) == {"OK": 1, "System.LimitControl": 1}


# ------------------------------------------------------------ faults end to end


async def test_accepted_counter_is_exact_under_drop_faults(demo_credentials: Credentials) -> None:
    sim = Simulator(SimulatorConfig(rate=1000, seed=5, faults=Faults(drop=0.5, seed=11)))
    async with sim.serve() as url, CamsClient(demo_credentials, url, placement=Placement.BODY) as client:
        outcomes = []
        for index in range(20):
            try:
                await client.send_mass_message(OPTIONS.with_recipients(people(50, start=index * 50)))
                outcomes.append(Outcome.OK)
            except CamsError as error:
                outcomes.append(error.outcome)
    dropped = outcomes.count(Outcome.UNKNOWN)
    assert 0 < dropped < 20 and outcomes.count(Outcome.OK) == 20 - dropped
    # Dropped or not, every batch was accepted exactly once.
    assert len(sim.accepted) == 1000 and set(sim.accepted.values()) == {1}
    assert len(sim.accepted_requests) == 20
    assert sim.stats["SendChatappMassMessage"] == {"OK": 20 - dropped, "(dropped)": dropped}


async def test_deny_then_resume(sim_url: str, simulator: Simulator, demo_credentials: Credentials) -> None:
    simulator.faults = Faults.parse("deny=1")
    async with CamsClient(demo_credentials, sim_url) as client:
        with pytest.raises(CamsError) as caught:
            await client.send_mass_message(OPTIONS.with_recipients(people(2)))
        assert caught.value.code == "Ram.PermissionDeny"
        assert "cams:SendChatappMassMessage" in (caught.value.access_denied_detail or "")
        assert (await client.list_viber_services(cust_space_id=SPACE)).code == "OK"  # reading is still allowed
        simulator.faults = Faults()
        assert (await client.send_mass_message(OPTIONS.with_recipients(people(2)))).code == "OK"


# ---------------------------------------------------------------------- records


async def test_records_appear_after_the_record_delay(demo_credentials: Credentials) -> None:
    sim = Simulator(SimulatorConfig(record_delay_s=0.4, seed=2))
    async with sim.serve() as url, CamsClient(demo_credentials, url) as client:
        sent = await client.send_mass_message(OPTIONS.with_recipients(people(3)))
        query = ListMessagesRequest(
            business_number=demo_data.DEMO_SERVICE_ID, group_message_id=sent.group_message_id, cust_space_id=SPACE
        )
        assert (await client.list_messages(query)).data == []
        await asyncio.sleep(0.5)
        records = (await client.list_messages(query)).data
    assert [r.user_number for r in records] == [p.to for p in people(3)]
    assert all(r.message_status == "Sent" for r in records)


def make_store(**timing: Any) -> MessageStore:
    return MessageStore(seed=99, timing=Timing(**timing))


def test_store_filters_by_number_time_template_and_status() -> None:
    store = make_store(delivery_delay_s=(1.0, 1.0))
    first = store.add(business_number="2000001", template_code="T1", numbers=("111111111", "222222222"),
                      accepted_ms=1_000_000, fail_rate=0.0, fallback=False)
    store.add(business_number="2000001", template_code="T2", numbers=("222222222", "333333333"),
              accepted_ms=2_000_000, fail_rate=1.0, fallback=True)
    store.add(business_number="2000009", template_code="T1", numbers=("222222222",),
              accepted_ms=3_000_000, fail_rate=0.0, fallback=False)

    def query(**filters: Any) -> list[dict[str, Any]]:
        return store.query(business_number="2000001", now_ms=4_000_000, offset=0, limit=100, **filters)

    assert [(r["UserNumber"], r["TemplateCode"]) for r in query(user_number="222222222")] == [
        ("222222222", "T1"),
        ("222222222", "T2"),
    ]
    assert query(user_number="999999999") == []
    assert [r["UserNumber"] for r in query(start_ms=1_500_000)] == ["222222222", "333333333"]
    assert [r["UserNumber"] for r in query(end_ms=1_500_000)] == ["111111111", "222222222"]
    assert [r["TemplateCode"] for r in query(template_code="T2")] == ["T2", "T2"]
    by_group = query(group_message_id=first.group_message_id)
    assert [r["MessageId"] for r in by_group] == [MessageStore.message_id(first, 0), MessageStore.message_id(first, 1)]
    assert all("GroupMessageId" not in r and r["EventAction"] == "DOWN" for r in by_group)
    failed = query(message_status="Failed")
    assert [r["UserNumber"] for r in failed] == ["222222222", "333333333"]
    assert all(r["FailReason"] in dict(FAIL_REASONS) and r["FailBackFlag"] == "Y" for r in failed)
    assert all(r["FailBackFlag"] == "N" and "FailReason" not in r for r in by_group)
    assert [r["UserNumber"] for r in store.query(business_number="2000001", now_ms=4_000_000, offset=1, limit=2)] == [
        "222222222",
        "222222222",
    ]
    # Nothing is visible before it was accepted.
    assert store.query(business_number="2000001", now_ms=1_500_000, offset=0, limit=100, user_number="333333333") == []


def test_store_replies_are_up_records_for_the_same_number() -> None:
    store = make_store(delivery_delay_s=(1.0, 1.0), inbound_delay_s=(10.0, 10.0))
    group = store.add(business_number="2000001", template_code="T1", numbers=tuple(f"4470000{i:04d}" for i in range(200)),
                      accepted_ms=1_000_000, fail_rate=0.2, fallback=False, inbound_rate=0.3)

    def query(now_ms: int, **filters: Any) -> list[dict[str, Any]]:
        return store.query(business_number="2000001", now_ms=now_ms, offset=0, limit=1000, **filters)

    assert query(1_010_999, event_action="UP") == []  # replies come 1 s + 10 s after acceptance
    replies = query(1_011_000, event_action="UP")
    assert 30 < len(replies) < 90
    failed = {r["UserNumber"] for r in query(1_011_000, message_status="Failed")}
    assert not failed & {r["UserNumber"] for r in replies}  # an undelivered message draws no reply
    assert all(
        r["TemplateCode"] == "" and r["BusinessNumber"] == "2000001" and r["Type"] == "text" and r["Message"]
        for r in replies
    )
    assert len({r["MessageId"] for r in replies} | {MessageStore.message_id(group, i) for i in range(200)}) == 200 + len(replies)
    assert [r["EventAction"] for r in query(1_011_000, user_number=replies[0]["UserNumber"])] == ["DOWN", "UP"]
    assert all(r["EventAction"] == "DOWN" for r in query(1_011_000, group_message_id=group.group_message_id))
    assert all(r["EventAction"] == "DOWN" for r in query(1_011_000, template_code="T1"))
    # A window that starts after the send still holds the replies that came in it.
    assert [r["MessageId"] for r in query(1_011_000, start_ms=1_005_000)] == [r["MessageId"] for r in replies]


def test_statuses_move_over_time() -> None:
    store = make_store(delivery_delay_s=(1.0, 3.0), read_delay_s=(5.0, 10.0), read_share=0.5)
    group = store.add(business_number="2000001", template_code="T", numbers=tuple(str(10**9 + i) for i in range(1000)),
                      accepted_ms=0, fail_rate=0.3, fallback=False)

    def statuses(at_ms: int) -> dict[str, int]:
        counts: dict[str, int] = {}
        for index in range(1000):
            status = store.status(group, index, at_ms)[0]
            counts[status] = counts.get(status, 0) + 1
        return counts

    assert statuses(999) == {"Sent": 1000}
    settled = statuses(3000)
    assert "Sent" not in settled and 240 < settled["Failed"] < 360
    final = statuses(13_000)
    assert final["Failed"] == settled["Failed"]
    assert 0.4 < final["Read"] / (1000 - final["Failed"]) < 0.6
    assert statuses(13_000) == final  # a pure function of the seed and the time


# ------------------------------------------------------------------------- HTTP


async def test_a_half_megabyte_url_is_served(sim_url: str) -> None:
    params = {"CustSpaceId": SPACE, "Pad": "x" * 600_000}
    # httpx refuses URLs over 64 KiB: write this request by hand.
    target, headers, _ = signed_parts(sim_url, "ListViberServiceMessage", params)
    assert len(target) > 512 * 1024
    parts = urlsplit(sim_url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    head = f"POST {target} HTTP/1.1\r\n" + "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    writer.write(head.encode() + b"content-length: 0\r\n\r\n")
    await writer.drain()
    status_line = await reader.readline()
    writer.close()
    assert status_line.startswith(b"HTTP/1.1 200")


async def test_a_megabyte_body_is_served(sim_url: str) -> None:
    status, body, _ = await send(signed(sim_url, "ListViberServiceMessage", {"CustSpaceId": SPACE, "Pad": "y" * 1_000_000}, in_body=True))
    assert (status, body["Code"]) == (200, "OK")


def test_keep_alive_reuses_one_connection(simulator: Simulator, threaded_sim_url: str) -> None:
    parts = urlsplit(threaded_sim_url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
    codes = []
    sockets = []
    for _ in range(3):
        request = signed(threaded_sim_url, "ListViberServiceMessage", {"CustSpaceId": SPACE})
        connection.request("POST", request.url.raw_path.decode(), headers=dict(request.headers))
        sockets.append(connection.sock)
        response = connection.getresponse()
        codes.append(json.loads(response.read())["Code"])
    connection.close()
    assert codes == ["OK"] * 3
    assert sockets[0] is not None and all(s is sockets[0] for s in sockets)


# -------------------------------------------------------------------------- CLI


def test_cli_rejects_bad_flags(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_simulator_cli(["--faults", "drop=2"]) == 2
    assert "between 0 and 1" in capsys.readouterr().err
    assert run_simulator_cli(["--access-key-id", "LTAI5tX"]) == 2
    assert "together" in capsys.readouterr().err
    assert run_simulator_cli(["--rate", "0"]) == 2


def test_cli_serves_until_interrupted() -> None:
    code = "import sys; from cams_tui.simulator.cli import run_simulator_cli; sys.exit(run_simulator_cli(sys.argv[1:]))"
    process = subprocess.Popen(
        [sys.executable, "-c", code, "--port", "0", "--faults", "drop=0.1", "--seed", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        banner = []
        while not banner or not banner[-1].startswith("Press Ctrl-C"):
            line = process.stdout.readline()  # type: ignore[union-attr]
            assert line, "the simulator exited before serving"
            banner.append(line)
        url = banner[0].rsplit(" ", 1)[1].strip()
        reply = httpx.post(url + "/", headers={"x-acs-action": "ListViberServiceMessage", "x-acs-version": "2020-06-06"})
        assert reply.json()["Code"] == "IncompleteSignature"
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=10)
    assert process.returncode == 0, err
    assert banner[0].startswith("CAMS simulator listening on http://127.0.0.1:")
    assert DEMO_ACCESS_KEY_ID in "".join(banner) and "drop=0.1" in "".join(banner)
    assert "ListViberServiceMessage: IncompleteSignature 1" in out


def test_a_busy_port_is_reported_to_the_caller() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(OSError):
            with Simulator().run_in_thread(port=taken.getsockname()[1]):
                pass


def test_the_secret_stays_out_of_reprs() -> None:
    sim = Simulator(SimulatorConfig(access_key_id="LTAI5tMine", access_key_secret="very-private", security_token="tok-private"))
    shown = repr(sim) + repr(sim.config) + repr(sim._verifier)
    assert "LTAI5tMine" in shown
    assert "very-private" not in shown and "tok-private" not in shown


def test_the_demo_profile_carries_the_simulators_space(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import argparse

    from cams_tui.ui import connection
    from cams_tui.ui.launch import create_app

    assert connection.DEMO_CUST_SPACE_ID == demo_data.DEMO_CUST_SPACE_ID == SimulatorConfig().cust_space_id
    assert connection.DEMO_SERVICE_ID == demo_data.DEMO_SERVICE_ID
    monkeypatch.setenv("CAMS_TUI_CONFIG", str(tmp_path / "none.toml"))
    args = argparse.Namespace(demo=True, theme=None, profile=None, endpoint=None, data_dir=str(tmp_path))
    app = create_app(args)
    assert app.connection.context.profile.cust_space_id == demo_data.DEMO_CUST_SPACE_ID
    assert app.state.options.cust_space_id == demo_data.DEMO_CUST_SPACE_ID


def _serve_cli(args: list[str], env: dict[str, str]) -> tuple[str, subprocess.Popen[str]]:
    """Start ``cams-tui simulator ARGS`` in a process; returns its URL once it serves."""
    code = "import sys; from cams_tui.simulator.cli import run_simulator_cli; sys.exit(run_simulator_cli(sys.argv[1:]))"
    process = subprocess.Popen(
        [sys.executable, "-c", code, "--port", "0", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, **env},
    )
    first = process.stdout.readline()  # type: ignore[union-attr]
    assert first.startswith("CAMS simulator listening on "), process.communicate(timeout=10)
    return first.rsplit(" ", 1)[1].strip(), process


async def _templates_with(url: str, key_id: str, secret: str) -> str:
    from cams_tui.api.client import CamsClient
    from cams_tui.api.credentials import Credentials
    from cams_tui.api.errors import CamsError

    async with CamsClient(Credentials(key_id, secret), url) as cams:
        try:
            await cams.list_templates()
        except CamsError as exc:
            return exc.code or "error"
        return "OK"


@pytest.mark.parametrize("way", ["env", "file"])
async def test_cli_takes_its_secret_from_the_environment_or_a_file(tmp_path: Path, way: str) -> None:
    secret = "sim-secret-7c1a"
    if way == "env":
        args, env = ["--access-key-id", "LTAI5tSim"], {"CAMS_TUI_SIMULATOR_SECRET": secret}
    else:
        (tmp_path / "secret").write_text(secret + "\n", encoding="utf-8")
        args, env = ["--access-key-id", "LTAI5tSim", "--access-key-secret-file", str(tmp_path / "secret")], {}
    url, process = _serve_cli(args, env)
    try:
        assert await _templates_with(url, "LTAI5tSim", secret) == "OK"
        assert await _templates_with(url, "LTAI5tSim", "wrong") == "SignatureDoesNotMatch"
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=10)
    assert secret not in out + err  # neither in the banner nor anywhere else
    assert "visible to every local user" not in err


def test_cli_secret_problems_and_exposures_are_said(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from cams_tui.simulator.cli import _loopback

    monkeypatch.setenv("CAMS_TUI_SIMULATOR_SECRET", "a")
    assert run_simulator_cli(["--access-key-id", "X", "--access-key-secret", "b"]) == 2
    assert "give the secret once" in capsys.readouterr().err
    monkeypatch.delenv("CAMS_TUI_SIMULATOR_SECRET")
    assert run_simulator_cli(["--access-key-id", "X", "--access-key-secret-file", str(tmp_path / "none")]) == 2
    assert "cannot be read" in capsys.readouterr().err
    (tmp_path / "empty").write_text("\n")
    assert run_simulator_cli(["--access-key-id", "X", "--access-key-secret-file", str(tmp_path / "empty")]) == 2
    assert "first line is empty" in capsys.readouterr().err
    assert _loopback("127.0.0.1") and _loopback("::1") and _loopback("localhost")
    assert not _loopback("0.0.0.0") and not _loopback("::") and not _loopback("192.0.2.1")


def test_cli_warns_when_it_listens_beyond_loopback_and_about_a_secret_in_argv() -> None:
    url, process = _serve_cli(["--host", "0.0.0.0", "--access-key-id", "LTAI5tSim", "--access-key-secret", "s"], {})
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=10)
    assert "listening on 0.0.0.0 takes calls from other machines" in err
    assert "visible to every local user (ps)" in err
