"""The recipients step uses one source at a time and says which; a large paste is a summary."""

from __future__ import annotations


from textual import events

from cams_tui.ui.campaign_draft import Step
from tests.support.ui_flow import demo_app, settle


async def _wait_report(pilot, count: int) -> None:  # noqa: ANN001
    for _ in range(200):
        await settle(pilot)
        report = pilot.app.state.report
        if report is not None and len(report.recipients) == count:
            return
        await pilot.pause(0.05)
    raise AssertionError(f"no report of {count} recipients: {pilot.app.state.report}")


async def test_a_file_is_never_replaced_by_typing_and_says_it_is_the_source(tmp_path, monkeypatch) -> None:
    numbers = tmp_path / "numbers.csv"
    numbers.write_text("phone\n" + "".join(f"+63917{i:07d}\n" for i in range(300)), encoding="utf-8")
    app = demo_app(tmp_path, monkeypatch)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await app.compose_screen.go_to(Step.RECIPIENTS)
        step = app.compose_screen.query_one("RecipientsStep")
        paste = app.compose_screen.query_one("#recipients-paste")
        paste.focus()
        await pilot.pause()
        await pilot.press(*"+639181234567")
        await pilot.pause(0.6)
        await _wait_report(pilot, 1)
        step.import_file(str(numbers))
        await _wait_report(pilot, 300)
        source = str(app.compose_screen.query_one("#recipients-source").render())
        assert "file" in source and "numbers.csv" in source and "pasted numbers are not used" in source
        assert paste.disabled and "not used" in str(paste.border_title)
        # A key or a paste into the set-aside box changes nothing.
        app.post_message(events.Paste("+639187654321"))
        await pilot.press(*"123")
        await pilot.pause(0.6)
        await settle(pilot)
        assert app.state.recipients_file == str(numbers) and len(app.state.report.recipients) == 300
        # An empty File field goes back to the pasted numbers, which were kept.
        step.import_file("")
        await _wait_report(pilot, 1)
        assert not paste.disabled and "pasted numbers" in str(app.compose_screen.query_one("#recipients-source").render())
        # F5 clears both.
        step.action_clear_source()
        await settle(pilot)
        assert app.state.report is None and app.state.pasted == "" and app.state.recipients_file == ""


async def test_a_large_paste_is_read_whole_and_shown_as_a_summary(tmp_path, monkeypatch) -> None:
    app = demo_app(tmp_path, monkeypatch)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await app.compose_screen.go_to(Step.RECIPIENTS)
        paste = app.compose_screen.query_one("#recipients-paste")
        paste.focus()
        text = "".join(f"+63 918 {i:07d}\n" for i in range(20_000))
        app.post_message(events.Paste(text))
        await _wait_report(pilot, 20_000)
        assert app.state.pasted == text
        assert paste.read_only and "20,000 lines pasted" in paste.text and len(paste.text) < 500
