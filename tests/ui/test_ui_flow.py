"""The compose flow driven by keyboard alone, in demo mode on the built-in simulator."""

from __future__ import annotations

import time

from textual.widgets import Static

from cams_tui.ui.campaign_draft import Step, StepState
from cams_tui.ui.screens.send_monitor import SendMonitorScreen
from tests.support.ui_flow import GOOD, demo_app, e164, paste, pasted_list, settle


async def test_demo_mode_is_marked_and_lists_templates(tmp_path, monkeypatch) -> None:
    app = demo_app(tmp_path, monkeypatch)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert "DEMO" in app.sub_title
        assert len(app.state.templates) == 7
        assert app.state.sender == "2000001"
        assert app.compose_screen.query_one("#template-table").row_count == 7


async def test_whole_flow_by_keyboard_sends_a_journaled_job(tmp_path, monkeypatch) -> None:
    from cams_tui.engine.journal import Journal

    app = demo_app(tmp_path, monkeypatch)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        state = app.state
        # 1 Template: order_shipped (en) is the second row; enter chooses it.
        await pilot.press("down", "enter")
        await settle(pilot)
        assert state.template is not None and state.template.template_name == "order_shipped"
        assert state.template.language == "en"
        assert state.status(Step.TEMPLATE).state is StepState.DONE
        # 2 Recipients: paste 50 lines, 3 of them bad.
        await pilot.press("ctrl+n")
        await paste(pilot, pasted_list())
        assert state.recipient_count == 47
        assert state.report.rejected_count == 3, state.report.rejected
        assert app.compose_screen.query_one("#recipients-rejected").row_count == 3
        # 3 Params: name comes from the column; order_id needs a value.
        await pilot.press("ctrl+n")
        assert "order_id" in state.params_problem()
        assert state.status(Step.PARAMS).state is StepState.ATTENTION
        await pilot.press("down", "enter", *"A-1001", "enter")
        assert state.params == {"order_id": "A-1001"}
        assert state.params_problem() == ""
        # 4 Options: the fallback rule from its list, then wait, policy, text, TTL.
        await pilot.press("ctrl+n")
        await pilot.press("enter", "down", "enter")
        await pilot.press("tab", *"2m", "tab", *"S0001", "tab", *"Shipped", "tab", *"1d")
        await pilot.pause()
        assert state.options.fallback_rule == "undelivered"
        assert state.options.seconds("fallback_duration") == 120
        assert state.options.seconds("ttl") == 86400
        assert state.options.errors() == {}
        # 5 Review: a test send, then the typed confirmation.
        await pilot.press("ctrl+n")
        await pilot.press(*"+63 917 100 2000", "enter")
        await settle(pilot)
        assert state.test_send is not None and state.test_send.ok, state.test_send
        await pilot.press("tab", "tab", *"47", "enter")
        await settle(pilot)
        assert state.job_id is not None
        monitor = app.screen
        assert isinstance(monitor, SendMonitorScreen)
        deadline = time.monotonic() + 30
        while not (monitor.run is None and monitor.state.phase == "done") and time.monotonic() < deadline:
            await pilot.pause(0.1)
        assert monitor.state.phase == "done"
        # Back on Review, once the send has ended: no line there still says it is sending.
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is app.compose_screen
        result = str(app.compose_screen.query_one("#review-send-result", Static).render())
        assert state.job_id in result and "sending" not in result, result
    with Journal(tmp_path / "data" / "demo") as journal:
        jobs = journal.jobs()
        assert [job.id for job in jobs] == [state.job_id]
        job = jobs[0]
        assert job.recipients == 47 and job.rejected == 3
        assert job.options.template_code == state.template.template_code
        assert job.options.fall_back_rule == "undelivered" and job.options.ttl == 86400
        sent = [item for _, text in journal.iter_sender_lists(job.id) for item in __import__("json").loads(text)]
    assert [item["To"] for item in sent] == [e164(n) for n in GOOD]
    assert sent[0]["TemplateParams"] == {"name": "Customer 0", "order_id": "A-1001"}


async def test_other_screens_styles_do_not_leak_into_compose(tmp_path, monkeypatch) -> None:
    """A screen's stylesheet stays loaded once it has been shown: its rules must only match
    its own widgets, or the compose screen changes shape after a visit to settings or jobs."""
    app = demo_app(tmp_path, monkeypatch)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)

        def shape() -> list[tuple[str, object]]:
            return [(str(widget), widget.region) for widget in app.compose_screen.query("TemplateStep *")]

        before = shape()
        for key in ("f4", "escape", "f2", "escape"):  # settings, back; jobs, back
            await pilot.press(key)
            await settle(pilot)
        assert app.screen is app.compose_screen
        assert shape() == before


async def test_a_failed_listing_is_reported_and_stays_reported(tmp_path, monkeypatch) -> None:
    """Templates and Service IDs are listed side by side: when one listing fails, the other is
    cancelled, so its progress cannot overwrite the error."""
    from cams_tui.api.client import CamsClient

    async def refuse(self, **_: object) -> None:  # noqa: ANN001
        raise RuntimeError("the Service IDs cannot be listed")

    monkeypatch.setattr(CamsClient, "list_viber_services", refuse)
    app = demo_app(tmp_path, monkeypatch)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.pause(0.3)
        status = str(app.compose_screen.query_one("#template-status").render())
        assert status == "Could not load templates: the Service IDs cannot be listed  (ctrl+r to retry)"
        assert app.state.templates == []
