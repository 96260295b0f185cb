"""The delivery funnel: pure tallying, and paging ListChatappMessage on the simulator."""

from __future__ import annotations

from cams_tui.api.client import CamsClient
from cams_tui.api.credentials import Credentials
from cams_tui.api.models import MassMessageOptions, MessageRecord, Recipient
from cams_tui.delivery import Funnel, fetch_records, tally
from cams_tui.simulator import Faults, Simulator, SimulatorConfig
from cams_tui.simulator.demo_data import DEMO_SERVICE_ID, ORDER_SHIPPED
from tests.support.engine import CUST_SPACE_ID


def record(message_id: str, status: str, reason: str | None = None) -> MessageRecord:
    return MessageRecord(message_id=message_id, message_status=status, fail_reason=reason)


def test_tally_is_cumulative_and_counts_each_message_once() -> None:
    records = [
        record("1", "Sent"),
        record("2", "Delivered"),
        record("3", "Read"),
        record("4", "Failed", "SRVC_NOT_VIBER_USER"),
        record("5", "Failed", "SRVC_NOT_VIBER_USER"),
        record("6", "Failed", "SRVC_USER_BLOCKED"),
        record("7", "Failed"),
        record("3", "Read"),  # listed twice as pages shifted
    ]
    funnel = tally(records, accepted=10)
    assert funnel == Funnel(
        accepted=10,
        reported=7,
        sent=7,
        delivered=2,
        read=1,
        failed=4,
        top_failures=(("SRVC_NOT_VIBER_USER", 2), ("(no reason given)", 1), ("SRVC_USER_BLOCKED", 1)),
    )
    assert funnel.not_reported == 3
    assert tally([], accepted=0) == Funnel(accepted=0)


async def test_funnel_from_the_simulator(demo_credentials: Credentials) -> None:
    simulator = Simulator(
        SimulatorConfig(
            seed=9,
            delivery_delay_s=(0.0, 0.0),
            read_delay_s=(0.0, 0.0),
            read_share=0.5,
            faults=Faults.parse("fail_delivery=0.3"),
        )
    )
    options = MassMessageOptions(template_code=ORDER_SHIPPED, language="en", From=DEMO_SERVICE_ID)
    async with simulator.serve() as url:
        async with CamsClient(demo_credentials, url) as client:
            groups = []
            for start in (0, 250):
                recipients = [
                    Recipient(to=f"6391700{start + i:05d}", template_params={"name": "A", "order_id": "1"})
                    for i in range(250)
                ]
                answer = await client.send_mass_message(options.with_recipients(recipients))
                groups.append(answer.group_message_id)
            pages = [
                page
                async for page in fetch_records(
                    client,
                    business_number=DEMO_SERVICE_ID,
                    group_message_ids=groups,
                    cust_space_id=CUST_SPACE_ID,
                    page_size=100,
                )
            ]
    assert [len(p) for p in pages] == [100, 100, 50, 100, 100, 50]
    funnel = tally([r for page in pages for r in page], accepted=500)
    assert funnel.reported == funnel.sent == 500 and funnel.not_reported == 0
    assert funnel.delivered + funnel.failed == 500
    assert 0 < funnel.read < funnel.delivered
    assert 100 < funnel.failed < 200
    assert sum(count for _, count in funnel.top_failures) == funnel.failed
    assert all(reason.startswith("SRVC_") for reason, _ in funnel.top_failures)
