"""Shared pieces of the engine tests (and of some UI tests and benchmarks): demo options, jobs in a
journal, a client with the demo credentials."""

from __future__ import annotations

from cams_tui.api.client import CamsClient, Placement
from cams_tui.api.credentials import Credentials
from cams_tui.api.models import MassMessageOptions
from cams_tui.engine.journal import Journal
from cams_tui.engine.planning import plan_batches, sender_item
from cams_tui.simulator import DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET
from cams_tui.simulator.demo_data import DEMO_SERVICE_ID, ORDER_SHIPPED

OPTIONS = MassMessageOptions(template_code=ORDER_SHIPPED, language="en", From=DEMO_SERVICE_ID)
CUST_SPACE_ID = "cams-demo-shop"
"""A CustSpaceId for jobs that are looked up (ListChatappMessage requires one)."""
LOOKUP_OPTIONS = OPTIONS.model_copy(update={"cust_space_id": CUST_SPACE_ID})
"""The demo options with a CustSpaceId: for jobs whose batches are looked up."""


def numbers(count: int, start: int = 0) -> list[str]:
    """Distinct valid Philippine mobile numbers."""
    return [f"63917{i:07d}" for i in range(start, start + count)]


def items(count: int, start: int = 0) -> list[str]:
    """SenderList items with every variable of the demo template ``order_shipped``."""
    return [sender_item(n, {"name": "Ana", "order_id": f"A{i}"}) for i, n in enumerate(numbers(count, start))]


def make_job(
    journal: Journal,
    url: str,
    count: int,
    batch_size: int,
    item_list: list[str] | None = None,
    *,
    options: MassMessageOptions = OPTIONS,
) -> str:
    """A job of ``count`` recipients in batches of ``batch_size``."""
    batches = plan_batches(
        item_list if item_list is not None else items(count),
        options,
        placement=Placement.BODY,
        max_query_length=60_000,
        max_size=batch_size,
    )
    return journal.create_job(options=options, params={}, batches=batches, endpoint=url)


def client(url: str, **kwargs: object) -> CamsClient:
    """A client with the simulator's demo credentials."""
    return CamsClient(Credentials(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET), url, **kwargs)  # type: ignore[arg-type]
