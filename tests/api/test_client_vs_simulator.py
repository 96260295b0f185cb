"""Our CamsClient against the simulator: every operation round-trips, every refusal maps
to the outcome the engine acts on.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest

from cams_tui.api.client import CamsClient, Placement
from cams_tui.api.credentials import Credentials
from cams_tui.api.errors import CamsError, Outcome
from cams_tui.api.models import (
    ListMessagesRequest,
    ListTemplatesRequest,
    MassMessageOptions,
    Page,
    Recipient,
    SendMassMessageRequest,
    SendMessageRequest,
)
from cams_tui.simulator import DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, Faults, Simulator, SimulatorConfig
from cams_tui.simulator import demo_data

OPTIONS = MassMessageOptions(
    template_code=demo_data.ORDER_SHIPPED,
    language="en",
    from_=demo_data.DEMO_SERVICE_ID,
    label="transaction",
    ttl=86_400,
    fall_back_rule="undelivered",
    fall_back_duration=600,
    tag="spring campaign+1",
)
# Query placement must fit the URL cap of httpx; the body takes a full batch.
BATCH_SIZE = {Placement.QUERY: 300, Placement.BODY: 1000}


def recipients(count: int, start: int = 0) -> list[Recipient]:
    # Spaces, '+', '*', '&', '=' and non-ASCII exercise both encodings of the signature.
    return [
        Recipient(to=f"6591{start + i:07d}", template_params={"name": f"Zoë {i} +*&=", "order_id": f"A {i}"})
        for i in range(count)
    ]


def batch(count: int, start: int = 0) -> SendMassMessageRequest:
    return OPTIONS.with_recipients(recipients(count, start))


@pytest.fixture(params=[Placement.QUERY, Placement.BODY], ids=["query", "body"])
def placement(request: pytest.FixtureRequest) -> Placement:
    return request.param


@pytest.fixture
async def client(sim_url: str, demo_credentials: Credentials, placement: Placement) -> AsyncIterator[CamsClient]:
    async with CamsClient(demo_credentials, sim_url, placement=placement) as cams:
        yield cams


async def error_of(call: object) -> CamsError:
    with pytest.raises(CamsError) as caught:
        await call  # type: ignore[misc]
    return caught.value


# --------------------------------------------------------------------- round trips


async def test_listings_round_trip(client: CamsClient) -> None:
    page = await client.list_templates(ListTemplatesRequest(page=Page(index=1, size=2)))
    assert page.total == 5
    assert len(page.list_template) == 2
    everything = await client.list_all_templates(page_size=2)
    assert len(everything) == 5
    assert all(t.audit_status == "pass" for t in everything)
    auditing = await client.list_templates(ListTemplatesRequest(audit_status="auditing"))
    assert [t.template_code for t in auditing.list_template] == [demo_data.LOYALTY_POINTS]
    russian = await client.list_templates(ListTemplatesRequest(language="ru", name="sale"))
    assert [(t.template_name, t.language) for t in russian.list_template] == [("spring_sale", "ru")]

    detail = await client.template_detail(demo_data.ORDER_SHIPPED, "en")
    assert detail.example == {"name": "Anna", "order_id": "A-10042"}
    buttons = next(c for c in detail.components if c.type == "BUTTONS").buttons
    assert [(b.type, b.url) for b in buttons] == [("URL", "https://shop.example.com/track")]

    services = await client.list_viber_services(cust_space_id=demo_data.DEMO_CUST_SPACE_ID)
    assert [(s.service_id, s.business_account_name, s.state) for s in services.data][0] == (
        "2000001",
        "Demo Shop",
        "active",
    )


async def test_mass_send_and_message_listing_round_trip(
    client: CamsClient, simulator: Simulator, placement: Placement
) -> None:
    size = BATCH_SIZE[placement]
    sent = await client.send_mass_message(batch(size))
    assert sent.code == "OK"
    assert sent.group_message_id
    assert sent.request_id
    assert len(simulator.accepted) == size and set(simulator.accepted.values()) == {1}

    listed = await client.list_messages(
        ListMessagesRequest(
            business_number=demo_data.DEMO_SERVICE_ID,
            group_message_id=sent.group_message_id,
            page=Page(index=3, size=100),
            cust_space_id=demo_data.DEMO_CUST_SPACE_ID,
        )
    )
    assert [r.user_number for r in listed.data] == [f"6591{i:07d}" for i in range(200, 300)]
    # A record carries no GroupMessageId (as in the SDK's model): the request's filter found them.
    assert {r.event_action for r in listed.data} == {"DOWN"}

    single = await client.send_message(
        SendMessageRequest(
            from_=demo_data.DEMO_SERVICE_ID,
            to="65910000007",
            template_code=demo_data.APPOINTMENT_REMINDER,
            language="en",
            template_params={"name": "Zoë", "date": "12 May", "time": "10:30"},
        )
    )
    assert single.message_id
    mine = await client.list_messages(
        ListMessagesRequest(
            business_number=demo_data.DEMO_SERVICE_ID,
            user_number="65910000007",
            cust_space_id=demo_data.DEMO_CUST_SPACE_ID,
        )
    )
    assert [r.template_code for r in mine.data] == [demo_data.ORDER_SHIPPED, demo_data.APPOINTMENT_REMINDER]
    assert mine.data[1].message_id == single.message_id


# -------------------------------------------------------------------- outcomes


async def test_rate_limit_is_throttled_with_a_delay(demo_credentials: Credentials, placement: Placement) -> None:
    sim = Simulator(SimulatorConfig(rate=3, seed=1))
    async with sim.serve() as url, CamsClient(demo_credentials, url, placement=placement) as client:
        results = await asyncio.gather(
            *(client.send_mass_message(batch(2, start=10 * i)) for i in range(5)), return_exceptions=True
        )
    refused = [r for r in results if isinstance(r, CamsError)]
    assert len(refused) == 2
    assert all(e.outcome is Outcome.THROTTLED and e.code == "System.LimitControl" for e in refused)
    assert all(e.retry_after_s is not None and 0 < e.retry_after_s <= 1.0 for e in refused)
    assert sum(sim.accepted.values()) == 6


async def test_throttle_fault_is_throttled(
    client: CamsClient, simulator: Simulator
) -> None:
    simulator.faults = Faults(burst=1)
    error = await error_of(client.send_mass_message(batch(3)))
    assert error.outcome is Outcome.THROTTLED
    assert error.retry_after_s == pytest.approx(0.2)
    assert not simulator.accepted
    assert (await client.send_mass_message(batch(3))).code == "OK"


@pytest.mark.parametrize(
    ("faults", "code"),
    [(Faults(deny=True), "Ram.PermissionDeny"), (Faults(unsubscribed=True), "Product.Unsubscript")],
    ids=["deny", "unsubscribed"],
)
async def test_account_refusals_are_fatal(client: CamsClient, simulator: Simulator, faults: Faults, code: str) -> None:
    simulator.faults = faults
    error = await error_of(client.send_mass_message(batch(3)))
    assert (error.outcome, error.code, error.http_status) == (Outcome.FATAL, code, 400)
    assert error.advice
    assert not simulator.accepted


@pytest.mark.parametrize(
    ("key_id", "secret", "code"),
    [
        (DEMO_ACCESS_KEY_ID, "wrong-secret", "SignatureDoesNotMatch"),
        ("LTAI5tUnknownKey", DEMO_ACCESS_KEY_SECRET, "InvalidAccessKeyId.NotFound"),
    ],
    ids=["bad-signature", "unknown-key"],
)
async def test_credential_refusals_are_fatal(
    sim_url: str, simulator: Simulator, placement: Placement, key_id: str, secret: str, code: str
) -> None:
    async with CamsClient(Credentials(key_id, secret), sim_url, placement=placement) as client:
        error = await error_of(client.send_mass_message(batch(3)))
    assert (error.outcome, error.code) == (Outcome.FATAL, code)
    assert "wrong-secret" not in str(error)
    assert not simulator.accepted


@pytest.mark.parametrize(
    ("options", "code"),
    [
        (OPTIONS.model_copy(update={"template_code": "no-such-template"}), "DetailError.TemplateNotExist"),
        (OPTIONS.model_copy(update={"language": "th"}), "InvalidParameter.LanguageNotSupport"),
        (OPTIONS.model_copy(update={"template_code": demo_data.BLACK_FRIDAY}), "Template.AuditNotPass"),
        (OPTIONS.model_copy(update={"from_": "2000002"}), "InvalidParameter.From"),
        (OPTIONS.model_copy(update={"from_": "DemoShop"}), "InvalidParameter.FromOnlyNumeric"),
    ],
    ids=["template", "language", "not-approved", "inactive-from", "non-numeric-from"],
)
async def test_business_refusals_are_failed(
    client: CamsClient, simulator: Simulator, options: MassMessageOptions, code: str
) -> None:
    error = await error_of(client.send_mass_message(options.with_recipients(recipients(2))))
    assert (error.outcome, error.code, error.http_status) == (Outcome.FAILED, code, 400)
    assert not simulator.accepted


async def test_missing_template_variable_is_failed_naming_it(client: CamsClient) -> None:
    people = recipients(3)
    people[1] = Recipient(to=people[1].to, template_params={"name": "Zoë", "order_id": " "})
    error = await error_of(client.send_mass_message(OPTIONS.with_recipients(people)))
    assert (error.outcome, error.code) == (Outcome.FAILED, "InvalidParameter.TemplateParams")
    assert "SenderList[1]" in error.message and "order_id" in error.message


async def test_unsendable_number_is_failed(client: CamsClient) -> None:
    # The request model refuses such numbers before sending; build one that skips it.
    bad = SendMassMessageRequest.model_construct(
        **OPTIONS.model_dump(),
        sender_list=[Recipient.model_construct(to="+6591000001", template_params={"name": "a", "order_id": "b"})],
    )
    error = await error_of(client.send_mass_message(bad))
    assert (error.outcome, error.code) == (Outcome.FAILED, "InvalidParameter.PhoneNumberError")


@pytest.mark.parametrize(
    ("faults", "accepted"),
    [
        (Faults(drop=1.0), True),
        (Faults(slow=1.0, slow_ms=3000), True),
        (Faults(server_error_after_accept=1.0), True),
        (Faults(server_error=1.0), False),
    ],
    ids=["drop", "slow", "5xx-after-accept", "5xx"],
)
async def test_lost_answers_are_unknown(
    sim_url: str, simulator: Simulator, demo_credentials: Credentials, faults: Faults, accepted: bool
) -> None:
    simulator.faults = faults
    async with CamsClient(demo_credentials, sim_url, read_timeout=0.5) as client:
        error = await error_of(client.send_mass_message(batch(4)))
        assert error.outcome is Outcome.UNKNOWN
        # Unknown is real: the recipients may well have been accepted.
        assert sum(simulator.accepted.values()) == (4 if accepted else 0)
        simulator.faults = Faults()
        # The pooled client keeps working after the failure.
        assert (await client.send_mass_message(batch(4, start=100))).code == "OK"


async def test_nothing_listening_is_not_sent(demo_credentials: Credentials) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with CamsClient(demo_credentials, f"http://127.0.0.1:{port}", connect_timeout=1.0) as client:
        error = await error_of(client.send_mass_message(batch(2)))
    assert error.outcome is Outcome.NOT_SENT


async def test_sts_credentials_round_trip(placement: Placement) -> None:
    sim = Simulator(SimulatorConfig(access_key_id="STS.Key", access_key_secret="s3cret", security_token="tok"))
    async with sim.serve() as url:
        async with CamsClient(Credentials("STS.Key", "s3cret", "tok"), url, placement=placement) as client:
            assert (await client.list_viber_services(cust_space_id=demo_data.DEMO_CUST_SPACE_ID)).code == "OK"
        async with CamsClient(Credentials("STS.Key", "s3cret", "other"), url, placement=placement) as client:
            error = await error_of(client.list_viber_services())
    assert (error.outcome, error.code) == (Outcome.FATAL, "InvalidSecurityToken.Malformed")
