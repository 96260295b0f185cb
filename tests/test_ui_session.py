"""The operator's whole session in the TUI: every screen tells the truth after an open, a
send, a new list, a cancel and a crash (Pilot, demo mode, the built-in simulator)."""

from __future__ import annotations

import time
from pathlib import Path

from textual.widgets import Button

from cams_tui.simulator.demo_data import ORDER_SHIPPED
from tests.test_ui_flow import demo_app, paste, settle


def text_of(app, selector: str) -> str:  # noqa: ANN001
    return str(app.compose_screen.query_one(selector).render())


async def wait_until(pilot, condition, timeout: float = 30.0) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await pilot.pause(0.05)


def numbers(count: int, start: int = 0) -> str:
    return "\n".join(f"+63 917 {1000000 + start + i}" for i in range(count))


CAMPAIGN = f"""\
template_code = "{ORDER_SHIPPED}"
language = "en"
from = "2000001"

[params]
name = "Ana"
order_id = "A-1"

[recipients]
file = "numbers.txt"
"""


async def choose_order_shipped(pilot) -> None:  # noqa: ANN001
    await pilot.press("down", "enter")  # order_shipped (en), the second row
    await settle(pilot)


async def test_review_shows_the_opened_campaigns_list_not_the_previous_one(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "campaign.toml").write_text(CAMPAIGN, encoding="utf-8")
    (tmp_path / "numbers.txt").write_text(numbers(300) + "\n", encoding="utf-8")
    app = demo_app(tmp_path, monkeypatch)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+n", "ctrl+n", "ctrl+n", "ctrl+n")  # Review first, with no list
        await settle(pilot)
        assert "no recipients" in text_of(app, "#review-summary")
        assert app.open_campaign(tmp_path / "campaign.toml") == ""
        await wait_until(pilot, lambda: app.state.recipient_count == 300)
        await settle(pilot)
        summary = text_of(app, "#review-summary")
        assert "Recipients 300" in summary.replace("  ", " ").replace("  ", " ")
        assert "no recipients" not in summary
        assert "Type 300 to send" in text_of(app, "#review-confirm-label")


async def send_from_review(pilot, app, count: int) -> str:  # noqa: ANN001
    await pilot.press("ctrl+n", "ctrl+n", "ctrl+n")  # params, options, review
    await settle(pilot)
    app.compose_screen.query_one("#review-confirm").focus()
    await pilot.press(*str(count), "enter")
    await wait_until(pilot, lambda: app.state.job_id is not None)
    await settle(pilot)
    return app.state.job_id


async def test_after_a_send_review_says_so_and_a_new_list_can_be_sent(tmp_path: Path, monkeypatch) -> None:
    app = demo_app(tmp_path, monkeypatch)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await choose_order_shipped(pilot)
        app.state.params.update(name="Ana", order_id="A-1")
        await pilot.press("ctrl+n")
        await paste(pilot, numbers(5))
        first = await send_from_review(pilot, app, 5)
        await wait_until(pilot, lambda: getattr(app.screen, "state", None) is not None and app.screen.state.done is not None)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is app.compose_screen
        summary = text_of(app, "#review-summary")
        assert f"Sent at" in summary and first in summary and "Ready to send" not in summary
        assert app.compose_screen.query_one("#review-send", Button).disabled
        # A new list: Review speaks of it, and Send works again once its count is typed.
        await app.action_go_step(2)
        await settle(pilot)
        app.compose_screen.query_one("#recipients-paste").clear()
        await paste(pilot, numbers(7, start=100))
        assert app.state.recipient_count == 7
        await app.action_go_step(5)
        await settle(pilot)
        summary = text_of(app, "#review-summary")
        assert first not in summary and "Ready to send" in summary
        assert text_of(app, "#review-send-result") == ""
        app.compose_screen.query_one("#review-confirm").focus()
        await pilot.press(*"7")
        await settle(pilot)
        assert not app.compose_screen.query_one("#review-send", Button).disabled
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.state.job_id not in (None, first))


async def test_new_campaign_starts_over(tmp_path: Path, monkeypatch) -> None:
    app = demo_app(tmp_path, monkeypatch)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await choose_order_shipped(pilot)
        await pilot.press("ctrl+n")
        await paste(pilot, numbers(5))
        assert app.state.recipient_count == 5
        await app.action_new_campaign()
        await settle(pilot)
        assert app.state.template is None and app.state.recipient_count == 0 and app.state.pasted == ""
        assert app.compose_screen.current.value == 1
        assert len(app.state.templates) == 7, "the account's templates are kept"
        await pilot.press("ctrl+n")
        await settle(pilot)
        assert "No recipients yet" in text_of(app, "#recipients-counts")


async def test_review_shows_what_recipients_get_and_blank_values_are_not_set(tmp_path: Path, monkeypatch) -> None:
    app = demo_app(tmp_path, monkeypatch)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await choose_order_shipped(pilot)
        await pilot.press("ctrl+n")
        await paste(pilot, "phone,name\n" + "\n".join(f"+63 917 {1000000 + i},Customer {i}" for i in range(4)))
        app.state.params.update(name="Maria", order_id="   ")
        await app.action_go_step(5)
        await settle(pilot)
        summary = text_of(app, "#review-summary")
        assert "name=(column; the global value is not used)" in summary
        assert "name=Maria" not in summary
        assert "order_id=(missing for 4)" in summary, "spaces are no value"
        assert "order_id missing for 4 recipients" in summary
        # The test send knows it too, and sends nothing.
        app.compose_screen.query_one("#review-test-number").focus()
        await pilot.press(*"+63 917 1000000", "enter")
        await settle(pilot)
        assert app.state.test_send is not None and not app.state.test_send.ok
        assert "no value for order_id" in app.state.test_send.text
        app.state.params["order_id"] = "x" * 100_000
        app.compose_screen.refresh_state()
        await settle(pilot)
        assert "100,000 characters, at most 1,000" in text_of(app, "#review-summary")


async def test_a_canary_of_the_whole_list_is_refused(tmp_path: Path, monkeypatch) -> None:
    app = demo_app(tmp_path, monkeypatch)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await choose_order_shipped(pilot)
        app.state.params.update(name="Ana", order_id="A-1")
        await pilot.press("ctrl+n")
        await paste(pilot, numbers(5))
        await app.action_go_step(5)
        await settle(pilot)
        app.compose_screen.query_one("#review-canary").focus()
        await pilot.press("5")
        app.compose_screen.query_one("#review-confirm").focus()
        await pilot.press("5")
        await settle(pilot)
        assert "5 is the whole list of 5" in text_of(app, "#review-summary")
        assert app.compose_screen.query_one("#review-send", Button).disabled


async def test_review_warns_of_a_repeat_of_a_recent_send(tmp_path: Path, monkeypatch) -> None:
    app = demo_app(tmp_path, monkeypatch)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await choose_order_shipped(pilot)
        app.state.params.update(name="Ana", order_id="A-1")
        await pilot.press("ctrl+n")
        await paste(pilot, numbers(6))
        first = await send_from_review(pilot, app, 6)
        await wait_until(pilot, lambda: getattr(app.screen, "state", None) is not None and app.screen.state.done is not None)
        await pilot.press("escape")
        await app.action_new_campaign()
        await settle(pilot)
        await choose_order_shipped(pilot)
        app.state.params.update(name="Ana", order_id="A-1")
        await pilot.press("ctrl+n")
        await paste(pilot, numbers(6))
        await app.action_go_step(5)
        await settle(pilot)
        await wait_until(pilot, lambda: "already got this template" in text_of(app, "#review-summary"))
        summary = text_of(app, "#review-summary")
        assert f"6 of these numbers already got this template in the last 24 h: job {first}" in summary
