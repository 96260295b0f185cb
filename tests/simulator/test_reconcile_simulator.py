"""What reconciliation relies on, checked on the simulator over real HTTP: ListChatappMessage
filters by UserNumber and time window, a request accepted whose answer was lost still leaves
its messages, and records appear only ``record_delay_s`` after acceptance."""

from __future__ import annotations

import asyncio
import time

import pytest

from cams_tui.api.client import CamsClient
from cams_tui.api.credentials import Credentials
from cams_tui.api.errors import CamsError, Outcome
from cams_tui.api.models import ListMessagesRequest, MassMessageOptions, Page, Recipient
from cams_tui.simulator import DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, Faults, Simulator, SimulatorConfig
from cams_tui.simulator.demo_data import DEMO_CUST_SPACE_ID, ORDER_SHIPPED, SPRING_SALE

SENDER = "2000001"
OPTIONS = MassMessageOptions(template_code=ORDER_SHIPPED, language="en", From=SENDER)


def _recipients(start: int, count: int) -> list[Recipient]:
    return [
        Recipient(to=f"63917{start + i:07d}", template_params={"name": "Ana", "order_id": str(i)})
        for i in range(count)
    ]


async def _lookup(client: CamsClient, number: str, start_ms: int | None, end_ms: int | None) -> list[str]:
    response = await client.list_messages(
        ListMessagesRequest(
            business_number=SENDER,
            user_number=number,
            template_code=ORDER_SHIPPED,
            start_time=start_ms,
            end_time=end_ms,
            page=Page(index=1, size=50),
            cust_space_id=DEMO_CUST_SPACE_ID,
        )
    )
    return [r.message_id for r in response.data]


async def test_dropped_answer_leaves_messages_found_by_number_and_window() -> None:
    simulator = Simulator(SimulatorConfig(rate=50, seed=5, record_delay_s=0.4))
    async with simulator.serve(port=0) as url:
        credentials = Credentials(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET)
        async with CamsClient(credentials, url, read_timeout=2.0) as client:
            simulator.faults = Faults(drop=1.0)
            before_ms = int(time.time() * 1000)
            with pytest.raises(CamsError) as caught:
                await client.send_mass_message(OPTIONS.with_recipients(_recipients(0, 5)))
            assert caught.value.outcome is Outcome.UNKNOWN
            simulator.faults = Faults()
            after_ms = int(time.time() * 1000) + 10
            number = "639170000003"
            # Accepted, but not listed before the record delay...
            assert await _lookup(client, number, before_ms - 1000, after_ms + 60_000) == []
            await asyncio.sleep(0.5)
            # ...then listed within the window, and not outside it.
            found = await _lookup(client, number, before_ms - 1000, after_ms + 60_000)
            assert len(found) == 1
            assert await _lookup(client, number, after_ms + 1000, after_ms + 60_000) == []
            assert await _lookup(client, number, before_ms - 60_000, before_ms - 1000) == []
            # Another number is not listed, nor the same number under another template.
            assert await _lookup(client, "639170000099", before_ms - 1000, after_ms + 60_000) == []
            other = await client.list_messages(
                ListMessagesRequest(
                    business_number=SENDER,
                    user_number=number,
                    template_code=SPRING_SALE,
                    cust_space_id=DEMO_CUST_SPACE_ID,
                )
            )
            assert other.data == []
    assert simulator.accepted[number] == 1


async def test_refused_request_leaves_no_message() -> None:
    simulator = Simulator(SimulatorConfig(rate=50, seed=6))
    async with simulator.serve(port=0) as url:
        credentials = Credentials(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET)
        async with CamsClient(credentials, url) as client:
            bad = _recipients(100, 3) + [Recipient(to="639170000200", template_params={"name": "", "order_id": "1"})]
            with pytest.raises(CamsError):
                await client.send_mass_message(OPTIONS.with_recipients(bad))
            # All or nothing: none of the valid entries of the refused request is listed.
            assert await _lookup(client, "639170000100", None, None) == []
    assert not simulator.accepted
