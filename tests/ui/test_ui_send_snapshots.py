"""Snapshots of the send monitor mid-run: a fixed sequence of engine events, no engine,
a frozen clock (events carry their own times, shown in UTC)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from cams_tui.ui.screens.send_monitor import SendMonitorScreen
from tests.support.send_replay import JOB, replay_events
from tests.support.ui_host import HostApp


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Times of day are shown in local time: make it UTC for the snapshots."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def _app() -> HostApp:
    return HostApp(lambda: SendMonitorScreen(JOB, autostart=False, show_clock=False))


async def _feed(pilot) -> None:  # type: ignore[no-untyped-def]
    screen = pilot.app.screen
    assert isinstance(screen, SendMonitorScreen)
    screen.feed(replay_events())
    screen.flush_events()
    await pilot.pause()


@pytest.mark.parametrize("size", [(80, 24), (120, 36)])
def test_send_monitor_mid_run(snap_compare, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(_app(), terminal_size=size, run_before=_feed)


def test_send_monitor_problems_filter(snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await _feed(pilot)
        await pilot.press("f")

    assert snap_compare(_app(), terminal_size=(120, 36), run_before=run_before)
