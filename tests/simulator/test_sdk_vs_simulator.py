"""The official SDK, pointed at the simulator, cannot tell it from CAMS.

The SDK is synchronous (``requests``), so the simulator runs in its own thread. The SDK
builds its URL as ``protocol://host`` + ``:port`` only when the request's port is not 80,
and it never sets one, so the port travels inside ``endpoint="127.0.0.1:PORT"``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from alibabacloud_cams20200606 import models as sdk
from alibabacloud_cams20200606.client import Client
from alibabacloud_tea_openapi.exceptions import ClientException, ThrottlingException
from alibabacloud_tea_openapi.models import Config

from cams_tui.simulator import DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, Faults, Simulator, SimulatorConfig
from cams_tui.simulator import demo_data

PROXY_VARIABLES = ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    # requests would route 127.0.0.1 through a proxy taken from the environment.
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def sdk_client(
    url: str,
    *,
    key_id: str = DEMO_ACCESS_KEY_ID,
    secret: str = DEMO_ACCESS_KEY_SECRET,
    token: str | None = None,
) -> Client:
    host_port = url.removeprefix("http://")
    return Client(
        Config(
            access_key_id=key_id,
            access_key_secret=secret,
            security_token=token,
            endpoint=host_port,
            protocol="http",
        )
    )


def mass_request(count: int, *, start: int = 0) -> sdk.SendChatappMassMessageRequest:
    senders = [
        sdk.SendChatappMassMessageRequestSenderList(
            to=f"9591{start + i:07d}",
            template_params={"name": f"Anna {i} & co*", "order_id": f"A+{i}"},
        )
        for i in range(count)
    ]
    return sdk.SendChatappMassMessageRequest(
        channel_type="viber",
        template_code=demo_data.ORDER_SHIPPED,
        language="en",
        from_=demo_data.DEMO_SERVICE_ID,
        sender_list=senders,
        label="transaction",
        ttl=3600,
    )


@pytest.fixture
def served() -> Iterator[tuple[Simulator, str]]:
    sim = Simulator(SimulatorConfig(seed=7))
    with sim.run_in_thread() as url:
        yield sim, url


def test_sdk_sends_1000_recipients(served: tuple[Simulator, str]) -> None:
    sim, url = served
    reply = sdk_client(url).send_chatapp_mass_message(mass_request(1000))
    assert reply.status_code == 200
    assert reply.body.code == "OK"
    assert reply.body.group_message_id
    assert len(sim.accepted) == 1000
    assert set(sim.accepted.values()) == {1}
    assert sim.accepted_requests[0].group_message_id == reply.body.group_message_id
    assert sim.accepted_requests[0].recipients == 1000


def test_sdk_wrong_secret_is_signature_does_not_match(served: tuple[Simulator, str]) -> None:
    sim, url = served
    with pytest.raises(ClientException) as caught:
        sdk_client(url, secret="not-the-secret").send_chatapp_mass_message(mass_request(3))
    assert caught.value.code == "SignatureDoesNotMatch"
    assert caught.value.status_code == 400
    assert not sim.accepted


def test_sdk_unknown_key_is_not_found(served: tuple[Simulator, str]) -> None:
    _, url = served
    with pytest.raises(ClientException) as caught:
        sdk_client(url, key_id="LTAI5tSomebodyElse").list_viber_service_message(sdk.ListViberServiceMessageRequest(cust_space_id=demo_data.DEMO_CUST_SPACE_ID))
    assert caught.value.code == "InvalidAccessKeyId.NotFound"
    assert caught.value.status_code == 404


def test_sdk_1001_recipients_refused(served: tuple[Simulator, str]) -> None:
    sim, url = served
    with pytest.raises(ClientException) as caught:
        sdk_client(url).send_chatapp_mass_message(mass_request(1001))
    assert caught.value.code == "InvalidParameter.SenderList"
    assert "1001" in caught.value.message
    assert not sim.accepted


def test_sdk_burst_over_the_rate_is_throttled(served: tuple[Simulator, str]) -> None:
    sim, url = served
    calls = 15
    barrier = threading.Barrier(calls)
    results: list[str] = []
    retry_after: list[int] = []
    lock = threading.Lock()

    def send(index: int) -> None:
        client = sdk_client(url)
        barrier.wait()
        try:
            client.send_chatapp_mass_message(mass_request(2, start=index * 10))
            outcome = "OK"
        except ThrottlingException as exc:
            outcome = exc.code
            with lock:
                retry_after.append(exc.retry_after)
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == calls
    assert results.count("System.LimitControl") >= 1
    assert results.count("OK") + results.count("System.LimitControl") == calls
    assert all(wait > 0 for wait in retry_after)
    # Exactly the accepted calls left records; a throttled call accepted nothing.
    assert len(sim.accepted_requests) == results.count("OK")
    assert sum(sim.accepted.values()) == 2 * results.count("OK")


def test_sdk_lists_templates_and_reads_a_detail(served: tuple[Simulator, str]) -> None:
    _, url = served
    client = sdk_client(url)
    listing = client.list_chatapp_template(
        sdk.ListChatappTemplateRequest(
            template_type="VIBER",
            audit_status="pass",
            page=sdk.ListChatappTemplateRequestPage(index=1, size=10),
        )
    ).body
    assert listing.code == "OK"
    assert listing.total == 5
    assert {t.template_name for t in listing.list_template} == {
        "order_shipped",
        "spring_sale",
        "appointment_reminder",
    }
    detail = client.get_chatapp_template_detail(
        sdk.GetChatappTemplateDetailRequest(template_code=demo_data.SPRING_SALE, language="ru")
    ).body.data
    assert detail.template_code == demo_data.SPRING_SALE
    assert detail.language == "ru"
    header = detail.components[0]
    assert (header.type, header.format, header.url) == ("HEADER", "IMAGE", "https://shop.example.com/img/spring-sale.jpg")
    assert set(detail.example) == {"name", "discount", "end_date"}


def test_sdk_single_send_and_message_listing(served: tuple[Simulator, str]) -> None:
    _, url = served
    client = sdk_client(url)
    single = client.send_chatapp_message(
        sdk.SendChatappMessageRequest(
            channel_type="viber",
            type="template",
            from_=demo_data.DEMO_SERVICE_ID,
            to="959123456789",
            template_code=demo_data.APPOINTMENT_REMINDER,
            language="en",
            template_params={"name": "Anna", "date": "12 May", "time": "10:30"},
        )
    ).body
    assert single.code == "OK" and single.message_id
    group = client.send_chatapp_mass_message(mass_request(25)).body.group_message_id
    listed = client.list_chatapp_message(
        sdk.ListChatappMessageRequest(
            channel_type="viber",
            business_number=demo_data.DEMO_SERVICE_ID,
            cust_space_id=demo_data.DEMO_CUST_SPACE_ID,
            group_message_id=group,
            page=sdk.ListChatappMessageRequestPage(index=2, size=10),
        )
    ).body
    assert listed.code == "OK"
    assert [r.user_number for r in listed.data] == [f"9591{i:07d}" for i in range(10, 20)]
    assert {r.message_status for r in listed.data} <= {"Sent", "Delivered", "Read", "Failed"}
    by_number = client.list_chatapp_message(
        sdk.ListChatappMessageRequest(
            channel_type="viber",
            business_number=demo_data.DEMO_SERVICE_ID,
            cust_space_id=demo_data.DEMO_CUST_SPACE_ID,
            page=sdk.ListChatappMessageRequestPage(index=1, size=10),
            user_number="959123456789",
        )
    ).body.data
    assert [r.message_id for r in by_number] == [single.message_id]


def test_sdk_permission_denied_then_resumed(served: tuple[Simulator, str]) -> None:
    sim, url = served
    client = sdk_client(url)
    sim.faults = Faults(deny=True)
    with pytest.raises(ClientException) as caught:
        client.send_chatapp_mass_message(mass_request(5))
    assert caught.value.code == "Ram.PermissionDeny"
    assert caught.value.data["AccessDeniedDetail"]["AuthAction"] == "cams:SendChatappMassMessage"
    sim.faults = Faults()
    assert client.send_chatapp_mass_message(mass_request(5)).body.code == "OK"


def test_sdk_sts_token() -> None:
    sim = Simulator(SimulatorConfig(access_key_id="STS.DemoKey", access_key_secret="sts-secret", security_token="tok-1"))
    with sim.run_in_thread() as url:
        ok = sdk_client(url, key_id="STS.DemoKey", secret="sts-secret", token="tok-1")
        assert ok.list_viber_service_message(sdk.ListViberServiceMessageRequest(cust_space_id=demo_data.DEMO_CUST_SPACE_ID)).body.code == "OK"
        bad = sdk_client(url, key_id="STS.DemoKey", secret="sts-secret", token="tok-2")
        with pytest.raises(ClientException) as caught:
            bad.list_viber_service_message(sdk.ListViberServiceMessageRequest(cust_space_id=demo_data.DEMO_CUST_SPACE_ID))
        assert caught.value.code == "InvalidSecurityToken.Malformed"


def message_query(**overrides: object) -> sdk.ListChatappMessageRequest:
    fields: dict[str, object] = {
        "channel_type": "viber",
        "business_number": demo_data.DEMO_SERVICE_ID,
        "cust_space_id": demo_data.DEMO_CUST_SPACE_ID,
        "page": sdk.ListChatappMessageRequestPage(index=1, size=100),
    }
    fields.update(overrides)
    return sdk.ListChatappMessageRequest(**fields)


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"cust_space_id": None}, "MissingCustSpaceId"),
        ({"page": None}, "MissingPage"),
        ({"channel_type": None}, "MissingChannelType"),
        ({"business_number": None}, "MissingBusinessNumber"),
        ({"page": sdk.ListChatappMessageRequestPage(index=0, size=10)}, "InvalidParameter.PageInvalid"),
        ({"page": sdk.ListChatappMessageRequestPage(index=1)}, "InvalidParameter.PageInvalid"),
        ({"cust_space_id": "cams-somebody-else"}, "Authentication.NoAuth"),
        ({"event_action": "SIDEWAYS"}, "InvalidParameter.EventAction"),
    ],
)
def test_sdk_message_listing_requires_what_the_api_declares(
    served: tuple[Simulator, str], overrides: dict[str, object], code: str
) -> None:
    _, url = served
    with pytest.raises(ClientException) as caught:
        sdk_client(url).list_chatapp_message(message_query(**overrides))
    assert (caught.value.status_code, caught.value.code) == (400, code)


def test_sdk_service_listing_requires_the_space(served: tuple[Simulator, str]) -> None:
    _, url = served
    client = sdk_client(url)
    with pytest.raises(ClientException) as caught:
        client.list_viber_service_message(sdk.ListViberServiceMessageRequest())
    assert (caught.value.status_code, caught.value.code) == (400, "MissingCustSpaceId")
    with pytest.raises(ClientException) as caught:
        client.list_viber_service_message(sdk.ListViberServiceMessageRequest(cust_space_id="cams-nope"))
    assert caught.value.code == "Authentication.NoAuth" and "cams-nope" in caught.value.message


def test_sdk_a_wrong_space_refuses_a_send_and_a_template_listing(served: tuple[Simulator, str]) -> None:
    sim, url = served
    client = sdk_client(url)
    request = mass_request(2)
    request.cust_space_id = "cams-nope"
    with pytest.raises(ClientException) as caught:
        client.send_chatapp_mass_message(request)
    assert caught.value.code == "Authentication.NoAuth"
    assert not sim.accepted
    with pytest.raises(ClientException) as caught:
        client.list_chatapp_template(sdk.ListChatappTemplateRequest(cust_space_id="cams-nope"))
    assert caught.value.code == "Authentication.NoAuth"


def test_sdk_unknown_action_is_invalid_api() -> None:
    sim = Simulator(SimulatorConfig(seed=1))
    with sim.run_in_thread() as url:
        from alibabacloud_tea_openapi import utils_models as open_api_util_models

        params = open_api_util_models.Params(
            action="SendAllTheThings", version="2020-06-06", protocol="HTTP", pathname="/", method="POST",
            auth_type="AK", style="RPC", req_body_type="formData", body_type="json",
        )
        with pytest.raises(ClientException) as caught:
            sdk_client(url).call_api(params, open_api_util_models.OpenApiRequest(), _runtime())
    assert (caught.value.status_code, caught.value.code) == (404, "InvalidApi.NotFound")


def _runtime():  # noqa: ANN202 - the SDK's runtime options
    from darabonba.runtime import RuntimeOptions

    return RuntimeOptions()


def test_sdk_keys_of_one_account_share_its_quota() -> None:
    second_id, second_secret = "LTAI5tSecondUser", "second-secret"
    sim = Simulator(SimulatorConfig(rate=2, seed=4, extra_access_keys={second_id: second_secret}))
    with sim.run_in_thread() as url:
        first, second = sdk_client(url), sdk_client(url, key_id=second_id, secret=second_secret)
        assert first.send_chatapp_mass_message(mass_request(1, start=0)).body.code == "OK"
        assert second.send_chatapp_mass_message(mass_request(1, start=1)).body.code == "OK"
        # Two calls in this second already, whichever key made them: the third waits.
        with pytest.raises(ThrottlingException):
            second.send_chatapp_mass_message(mass_request(1, start=2))
        with pytest.raises(ClientException) as caught:
            sdk_client(url, key_id=second_id, secret="wrong").list_chatapp_template(sdk.ListChatappTemplateRequest())
        assert caught.value.code == "SignatureDoesNotMatch"
    assert len(sim.accepted_requests) == 2


def test_sdk_inbound_replies_mix_with_sent_records() -> None:
    sim = Simulator(
        SimulatorConfig(seed=9, delivery_delay_s=(0.0, 0.0), inbound_delay_s=(0.0, 0.0), faults=Faults.parse("inbound=0.5"))
    )
    with sim.run_in_thread() as url:
        client = sdk_client(url)
        group = client.send_chatapp_mass_message(mass_request(40)).body.group_message_id
        every = client.list_chatapp_message(message_query()).body.data
        replies = [r for r in every if r.event_action == "UP"]
        sent = [r for r in every if r.event_action == "DOWN"]
        assert len(sent) == 40 and 5 < len(replies) < 35
        assert all(r.template_code == "" and r.business_number == demo_data.DEMO_SERVICE_ID for r in replies)
        assert {r.user_number for r in replies} <= {r.user_number for r in sent}
        assert all(r.template_code == demo_data.ORDER_SHIPPED and r.template_name == "order_shipped" for r in sent)
        # A bulk send's own listing holds only what it sent; EventAction picks either side.
        by_group = client.list_chatapp_message(message_query(group_message_id=group)).body.data
        assert [r.message_id for r in by_group] == [r.message_id for r in sent]
        ups = client.list_chatapp_message(message_query(event_action="UP")).body.data
        assert [r.message_id for r in ups] == [r.message_id for r in replies]
        number = replies[0].user_number
        mixed = client.list_chatapp_message(message_query(user_number=number)).body.data
        assert [r.event_action for r in mixed] == ["DOWN", "UP"]
        assert client.list_chatapp_message(
            message_query(user_number=number, template_code=demo_data.ORDER_SHIPPED)
        ).body.data[0].event_action == "DOWN"
        # Times are milliseconds: a window ending before the send holds nothing.
        before = client.list_chatapp_message(message_query(end_time=int(sim.accepted_requests[0].time * 1000) - 1))
        assert before.body.data == []


def test_sdk_without_inbound_there_are_no_replies(served: tuple[Simulator, str]) -> None:
    _, url = served
    client = sdk_client(url)
    client.send_chatapp_mass_message(mass_request(20))
    assert client.list_chatapp_message(message_query(event_action="UP")).body.data == []
