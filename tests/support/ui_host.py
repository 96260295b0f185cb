"""Shared pieces of the send monitor and jobs screen tests: journaled jobs, a host app, waiting on it."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from textual.app import App
from textual.pilot import Pilot
from textual.screen import Screen

from cams_tui.api.client import Placement
from cams_tui.api.credentials import Credentials
from cams_tui.api.models import MassMessageOptions
from cams_tui.engine.journal import Journal
from cams_tui.engine.planning import pack_batches, sender_item
from cams_tui.simulator import DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET
from cams_tui.simulator.demo_data import DEMO_SERVICE_ID, ORDER_SHIPPED
from cams_tui.ui.campaign_draft import ComposeState
from cams_tui.ui.connection import Connection
from cams_tui.ui.screen_routes import ScreenRoutes
from cams_tui.ui.screens.send_monitor import SendMonitorScreen
from cams_tui.ui.send_target import SendTarget


def numbers(count: int, start: int = 0) -> list[str]:
    """``count`` distinct Philippine mobile numbers (digits-only E.164)."""
    return [f"63917{start + i:07d}" for i in range(count)]


def make_job(
    data_dir: Path,
    endpoint: str,
    recipients: int,
    *,
    batch_size: int = 100,
    placement: Placement | None = None,
    cust_space_id: str | None = None,
) -> str:
    """Write a job for ``recipients`` numbers in batches of ``batch_size``; returns its id."""
    options = MassMessageOptions(
        template_code=ORDER_SHIPPED, language="en", From=DEMO_SERVICE_ID, cust_space_id=cust_space_id
    )
    items = (sender_item(to, {"name": "Ann", "order_id": f"A{i}"}) for i, to in enumerate(numbers(recipients)))
    with Journal(data_dir) as journal:
        return journal.create_job(
            options=options,
            params={},
            batches=pack_batches(items, max_size=batch_size),
            endpoint=endpoint,
            placement=placement,
        )


def target(url: str, data_dir: Path, rate: float) -> SendTarget:
    """A send target on the simulator at ``url``."""
    return SendTarget(
        endpoint=url,
        credentials=Credentials(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET),
        placement=Placement.BODY,
        rate=rate,
        data_dir=data_dir,
    )


def journal_counts(data_dir: Path, job_id: str) -> tuple[dict[str, int], dict[str, int]]:
    """(recipients per batch state, batches per batch state) as the journal holds them."""
    with Journal(data_dir) as journal:
        batches = journal.batches(job_id)
    recipients: dict[str, int] = {}
    per_state: dict[str, int] = {}
    for batch in batches:
        recipients[batch.state] = recipients.get(batch.state, 0) + batch.size
        per_state[batch.state] = per_state.get(batch.state, 0) + 1
    return recipients, per_state


class HostApp(ScreenRoutes[None]):
    """An app that shows one screen, quitting through its ``confirm_quit`` as cams-tui does,
    and opens the job screens as cams-tui does (the screens ask the app, never each other).

    An :class:`~cams_tui.ui.app_access.AppHost` without a connection or a composition:
    its screens are given the target they send to."""

    TITLE = "cams-tui"
    connection: Connection | None = None
    state: ComposeState | None = None

    def __init__(self, make_screen: Callable[[], Screen]) -> None:
        super().__init__()
        self._make_screen = make_screen

    def on_mount(self) -> None:
        self.push_screen(self._make_screen())

    async def action_quit(self) -> None:
        for screen in reversed(self.screen_stack):
            confirm = getattr(screen, "confirm_quit", None)
            if confirm is not None and confirm():
                return
        self.exit()


def showing(app: App, screen_type: type[Screen], selector: str) -> Callable[[], bool]:
    """A condition for :func:`wait_for`: the app shows a ``screen_type`` whose widget
    ``selector`` is mounted (a screen pushed is not yet composed)."""
    return lambda: isinstance(app.screen, screen_type) and bool(app.screen.query(selector))


async def wait_for(pilot: Pilot, condition: Callable[[], bool], timeout: float = 30.0) -> None:
    """Let the app run until ``condition`` holds (fails the test after ``timeout``)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s")
        await pilot.pause(0.05)


def monitor_of(app: HostApp) -> SendMonitorScreen:
    """The send monitor among the app's screens."""
    screen = next(s for s in app.screen_stack if isinstance(s, SendMonitorScreen))
    return screen


def finished(app: HostApp) -> Callable[[], bool]:
    """A condition for :func:`wait_for`: the monitor's run has ended and its outcome is shown."""
    return lambda: monitor_of(app).run is None and monitor_of(app).state.done is not None


def label_text(screen: SendMonitorScreen, selector: str) -> str:
    """The text the widget at ``selector`` shows."""
    return str(screen.query_one(selector).render())
