"""Validation messages of the compose flow: in the state's rules and on the screens."""

from __future__ import annotations

import pytest

from cams_tui.durations import parse_duration
from cams_tui.ui.campaign_draft import ComposeState, OptionsForm, Step, StepState
from tests.support.ui_flow import demo_app, paste, settle


def test_durations_in_human_units() -> None:
    assert parse_duration("90") == 90
    assert parse_duration("15m") == 900
    assert parse_duration("1d 12h") == 129_600
    assert parse_duration("2w") == 1_209_600
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration("soon")


@pytest.mark.parametrize(
    ("field", "text", "message"),
    [
        ("ttl", "10s", "10s is out of range: allowed 30s to 14d"),
        ("ttl", "15d", "15d is out of range: allowed 30s to 14d"),
        ("fallback_duration", "30s", "30s is out of range: allowed 1m to 12h"),
        ("fallback_duration", "13h", "13h is out of range: allowed 1m to 12h"),
        ("ttl", "tomorrow", "not a duration"),
    ],
)
def test_out_of_range_durations_are_named_with_the_range(field: str, text: str, message: str) -> None:
    form = OptionsForm(**{field: text})
    assert message in form.errors()[field]
    state = ComposeState(options=form)
    assert state.status(Step.OPTIONS).state is StepState.ATTENTION
    assert any(message in problem for problem in state.blocking_problems())


def test_no_recipients_blocks_the_send() -> None:
    state = ComposeState()
    assert "no recipients: paste numbers or import a file" in state.blocking_problems()


async def test_unapproved_template_needs_attention_and_blocks(tmp_path, monkeypatch) -> None:
    app = demo_app(tmp_path, monkeypatch)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        # The two templates that are not approved sort last.
        await pilot.press(*["down"] * 6, "enter")
        await settle(pilot)
        status = app.state.status(Step.TEMPLATE)
        assert status.state is StepState.ATTENTION
        assert "is not approved (status auditing)" in status.reason
        shown = app.compose_screen.query_one("#template-status").render()
        assert "is not approved" in str(shown)
        assert any("not approved" in problem for problem in app.state.blocking_problems())


async def test_missing_params_are_marked_and_block_sending(tmp_path, monkeypatch) -> None:
    app = demo_app(tmp_path, monkeypatch)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("down", "enter")  # order_shipped: name, order_id
        await settle(pilot)
        await pilot.press("ctrl+n")
        await paste(pilot, "+63 917 100 2000\n+63 917 100 2001")
        await pilot.press("ctrl+n")
        table = app.compose_screen.query_one("#params-table")
        cells = [str(table.get_row_at(i)[1]) for i in range(table.row_count)]
        assert cells == ["— missing for 2 recipients", "— missing for 2 recipients"]
        assert app.state.status(Step.PARAMS).reason == "name missing for 2 recipients; order_id missing for 2 recipients"
        # The send button stays disabled even with the right count typed.
        await pilot.press("ctrl+n", "ctrl+n", "tab", "tab", "2")
        await pilot.pause()
        assert app.compose_screen.query_one("#review-send").disabled
        summary = str(app.compose_screen.query_one("#review-summary").content)
        assert "✗ name missing for 2 recipients" in summary


async def test_out_of_range_ttl_is_shown_beside_the_field(tmp_path, monkeypatch) -> None:
    app = demo_app(tmp_path, monkeypatch)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await app.compose_screen.go_to(Step.OPTIONS)
        app.compose_screen.query_one("#ttl").focus()
        await pilot.press(*"20d")
        await pilot.pause()
        note = str(app.compose_screen.query_one("#ttl-note").render())
        assert note == "✗ 20d is out of range: allowed 30s to 14d"
        assert app.state.status(Step.OPTIONS).state is StepState.ATTENTION
        await pilot.press("backspace", "backspace", "backspace", *"1d")
        await pilot.pause()
        assert str(app.compose_screen.query_one("#ttl-note").render()) == "= 1d (86,400 s)"


def test_counts_agree_with_their_nouns() -> None:
    from cams_tui.ui.campaign_draft import Estimate
    from cams_tui.wording import counted

    assert [counted(n, "batch", "batches") for n in (0, 1, 2, 1000)] == ["0 batches", "1 batch", "2 batches", "1,000 batches"]
    assert counted(1, "duplicate") == "1 duplicate"
    assert Estimate(recipients=1, batches=1, seconds=0.1).describe() == "1 recipient · 1 batch · ~1s"
