"""The send monitor with the account's shared limiter (a real Redis): who shares the
account is shown, and when Redis goes away the monitor says so and offers, with l, to go
on alone at rate / N."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import pytest

from cams_tui.engine.events import LimiterEvent
from cams_tui.simulator import SimulatorConfig
from cams_tui.ui.send_state import SendState
from cams_tui.ui.widgets.counters import sharing_text
from cams_tui.ui.screens.send_dialogs import LocalLimiterDialog
from cams_tui.ui.screens.send_monitor import SendMonitorScreen
from tests.support.limiters import LoggingSimulator, RedisServer, busiest_window
from tests.support.ui_host import HostApp, finished, journal_counts, label_text, make_job, monitor_of, target, wait_for

RATE = 10


def _bound_keys(app: HostApp) -> set[str]:
    """The keys the footer offers now."""
    return {key for key, active in app.screen.active_bindings.items() if active.enabled}


@pytest.mark.slow
async def test_redis_stopped_mid_send_then_l_goes_on_alone_at_a_share_of_the_rate(tmp_path: Path) -> None:
    simulator = LoggingSimulator(SimulatorConfig(rate=RATE, latency_ms=50, seed=4))
    redis = RedisServer(tmp_path / "redis")
    redis.start()
    try:
        with simulator.run_in_thread() as url:
            job_id = make_job(tmp_path, url, 400, batch_size=10)
            shared = dataclasses.replace(target(url, tmp_path, RATE), limiter=redis.url)
            app = HostApp(lambda: SendMonitorScreen(job_id, target=shared, show_clock=False))
            async with app.run_test(size=(140, 36)) as pilot:
                screen = monitor_of(app)
                await wait_for(pilot, lambda: simulator.accepted_calls >= 8)
                assert "l" not in _bound_keys(app), "the key shows only while the limiter is unavailable"
                redis.stop()
                down_at = time.monotonic()
                await wait_for(pilot, lambda: bool(screen.state.limiter_unavailable), timeout=10)
                assert "cannot be reached" in screen.state.limiter_unavailable
                assert "limiter unavailable" in label_text(screen, "#counters-limit")
                held = len(simulator.arrivals)
                await pilot.pause(1.0)
                # Waiting: no new start while the limiter is unavailable.
                assert len([at for at in simulator.arrivals if at > down_at + 0.6]) == 0
                assert "l" in _bound_keys(app)
                await pilot.press("l")
                assert isinstance(app.screen, LocalLimiterDialog)
                await pilot.press("0", "enter")  # refused: N must be 1 or more
                assert isinstance(app.screen, LocalLimiterDialog)
                await pilot.press("backspace", "2")
                switched_at = time.monotonic()
                await pilot.press("enter")
                assert not isinstance(app.screen, LocalLimiterDialog)
                await wait_for(pilot, finished(app), timeout=60)
                assert screen.state.local_senders == 2 and not screen.state.limiter_unavailable
                assert "alone, 1/2 of the account" in label_text(screen, "#counters-limit")
                assert "l" not in _bound_keys(app)
                recipients, _ = journal_counts(tmp_path, job_id)
    finally:
        redis.stop()
    assert recipients == {"ok": 400}
    assert len(simulator.accepted) == 400 and max(simulator.accepted.values()) == 1
    after = [at for at in simulator.arrivals if at >= switched_at]
    assert len(simulator.arrivals) - held == len(after) >= 10
    assert busiest_window(after) <= RATE / 2
    assert simulator.throttled == 0


def _limiter_event(state: str, senders: int, rate: float = 10.0, reason: str = "") -> tuple[float, LimiterEvent]:
    return 0.0, LimiterEvent("job", state, reason, "host", "acct", senders, round(1 / senders, 3), rate)


def test_the_state_follows_who_shares_the_account_and_the_limit_line_says_it() -> None:
    state = SendState("job")
    assert sharing_text(state) == ""
    state.apply([_limiter_event("sharing", 3)])
    assert (state.senders, state.share) == (3, 0.333)
    assert sharing_text(state) == " · 3 senders share the account, this job 33%"
    state.apply([_limiter_event("unavailable", 3, reason="the account's limiter (host) cannot be used")])
    assert state.limiter_unavailable and "limiter unavailable" in sharing_text(state)
    state.apply([_limiter_event("available", 3)])
    assert not state.limiter_unavailable
    state.apply([_limiter_event("unavailable", 3, reason="down"), _limiter_event("local", 2, rate=5.0)])
    assert state.local_senders == 2 and state.limit == 5.0 and not state.limiter_unavailable
    assert sharing_text(state) == " · alone, 1/2 of the account"
    state.start_run()  # a new run starts shared again
    assert state.local_senders is None and sharing_text(state) == " · 2 senders share the account, this job 50%"
