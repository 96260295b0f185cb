"""The operator's whole session in the TUI: every screen tells the truth after an open, a
send, a new list, a cancel and a crash (Pilot, demo mode, the built-in simulator)."""

from __future__ import annotations

import time
from pathlib import Path

from textual.widgets import Button

from cams_tui.engine.journal import JobState
from cams_tui.simulator.demo_data import ORDER_SHIPPED
from tests.support.ui_flow import demo_app, paste, settle


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
        assert "Sent at" in summary and first in summary and "Ready to send" not in summary
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


async def test_ctrl_n_on_the_first_step_offers_a_new_campaign_once_something_is_composed(
    tmp_path: Path, monkeypatch
) -> None:
    from cams_tui.ui.screens.dialogs import ConfirmDialog

    app = demo_app(tmp_path, monkeypatch)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await choose_order_shipped(pilot)
        await pilot.press("ctrl+n")  # a template alone: nothing to start over, next step
        await settle(pilot)
        assert app.compose_screen.current.value == 2 and not isinstance(app.screen, ConfirmDialog)
        await paste(pilot, numbers(5))
        await pilot.press("ctrl+b")
        await settle(pilot)
        await pilot.press("ctrl+n")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog), "a composition exists: ctrl+n asks"
        await pilot.press("escape")  # keep it: the next step, the list untouched
        await settle(pilot)
        assert app.compose_screen.current.value == 2 and app.state.recipient_count == 5
        await pilot.press("ctrl+b")
        await settle(pilot)
        await pilot.press("ctrl+n")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert app.compose_screen.current.value == 1
        assert app.state.template is None and app.state.recipient_count == 0 and app.state.pasted == ""


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


# ------------------------------------------------------------------ the send monitor and the jobs


def _attempts(data_dir: Path, job_id: str) -> int:
    from cams_tui.engine.journal import Journal

    with Journal(data_dir) as journal:
        return sum(len(journal.attempts(job_id, b.index)) for b in journal.batches(job_id))


async def test_the_cancel_and_quit_dialogs_pause_at_once_and_keep_sending_resumes(tmp_path: Path) -> None:
    from cams_tui.simulator import Simulator, SimulatorConfig
    from cams_tui.ui.screens.dialogs import ConfirmDialog
    from cams_tui.ui.screens.send_monitor import SendMonitorScreen
    from tests.support.ui_host import HostApp, make_job, target

    simulator = Simulator(SimulatorConfig(rate=1000, latency_ms=5, seed=3))
    with simulator.run_in_thread() as url:
        job_id = make_job(tmp_path, url, 3_000, batch_size=10)
        app = HostApp(lambda: SendMonitorScreen(job_id, target=target(url, tmp_path, 20), show_clock=False))
        async with app.run_test(size=(120, 36)) as pilot:
            screen = next(s for s in app.screen_stack if isinstance(s, SendMonitorScreen))
            await wait_until(pilot, lambda: _attempts(tmp_path, job_id) >= 5)
            for key in ("c", "ctrl+q"):
                await pilot.press(key)
                assert isinstance(app.screen, ConfirmDialog)
                await pilot.pause(0.3)  # requests in flight finish
                held = _attempts(tmp_path, job_id)
                await pilot.pause(0.6)
                assert _attempts(tmp_path, job_id) == held, f"requests started while the {key} dialog was open"
                assert screen.state.phase == "paused"
                await pilot.press("escape")  # keep sending
                await wait_until(pilot, lambda: _attempts(tmp_path, job_id) > held + 2)
                assert screen.state.phase == "running"
            await pilot.press("c")
            await pilot.pause(0.3)
            at_confirm = _attempts(tmp_path, job_id)
            await pilot.press("y")
            await wait_until(pilot, lambda: screen.run is None and screen.state.done is not None)
            assert _attempts(tmp_path, job_id) == at_confirm, "cancel sent more after the dialog opened"


async def test_counters_speak_of_recipients_and_the_state_leads_the_title(tmp_path: Path) -> None:
    from cams_tui.simulator import Simulator, SimulatorConfig
    from cams_tui.ui.screens.send_monitor import SendMonitorScreen
    from tests.support.ui_host import HostApp, make_job, target

    simulator = Simulator(SimulatorConfig(rate=1000, latency_ms=5, seed=3))
    with simulator.run_in_thread() as url:
        job_id = make_job(tmp_path, url, 2_000, batch_size=100)
        app = HostApp(lambda: SendMonitorScreen(job_id, target=target(url, tmp_path, 4), show_clock=False))
        async with app.run_test(size=(80, 24)) as pilot:
            screen = next(s for s in app.screen_stack if isinstance(s, SendMonitorScreen))
            await wait_until(pilot, lambda: screen.state.recipients["ok"] >= 200)
            title = str(screen.query_one("#monitor-title").render())
            assert title.startswith("sending · "), title
            shown = str(screen.query_one("#counters-batches").render())
            ok = screen.state.recipients["ok"]
            assert f"ok {ok:,}" in shown and ok % 100 == 0 and ok >= 200, shown
            assert "in flight" in shown
            calls = screen.state.calls_per_s
            assert calls <= 4.5, f"{calls} calls/s shown under a 4/s limit"
            await pilot.press("p")
            await wait_until(pilot, lambda: screen.state.phase == "paused")
            await pilot.pause(0.3)
            assert "ETA paused" in str(screen.query_one("#counters-progress").render())
            assert str(screen.query_one("#monitor-title").render()).startswith("paused · ")
            await pilot.press("c", "y")
            await wait_until(pilot, lambda: screen.run is None)


def _seed_dead_job(data_dir: Path, url: str) -> str:
    """A job whose process died mid-send: marked running, a batch still 'sending', the rest planned."""
    from cams_tui.engine.journal import Journal
    from tests.support.ui_host import make_job

    job_id = make_job(data_dir, url, 500, batch_size=100)
    with Journal(data_dir) as journal:
        journal.set_job_state(job_id, JobState.RUNNING)
        journal.mark_sending(job_id, 0)
    return job_id


async def test_a_job_with_no_live_process_is_not_running_and_the_start_says_so(tmp_path: Path, monkeypatch) -> None:
    from cams_tui.ui.screens.jobs import JobsScreen

    app = demo_app(tmp_path, monkeypatch)
    job_id = _seed_dead_job(tmp_path / "data" / "demo", "http://127.0.0.1:9")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.pause(0.3)
        told = [n.message for n in app._notifications]
        assert any(f"Job {job_id} is interrupted: 400 left to send, 100 unknown" in m for m in told), told
        await pilot.press("f2")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, JobsScreen)
        row = [str(cell) for cell in screen.query_one("#jobs-table").get_row_at(0)]
        # When, State, Recipients, OK, Failed, In flight, Unknown, Not sent, Pending, Template, Job
        assert row[1:9] == ["interrupted", "500", "0", "0", "0", "100", "0", "400"], row
        # F2 again, F4 twice: no pile of screens; one esc per screen leads back.
        await pilot.press("f2")
        await pilot.press("f4")
        await settle(pilot)
        await pilot.press("f4")
        await settle(pilot)
        assert sum(type(s).__name__ == "SettingsScreen" for s in app.screen_stack) == 1
        assert sum(isinstance(s, JobsScreen) for s in app.screen_stack) == 1
        await pilot.press("f2")
        await settle(pilot)
        assert app.screen is screen and len(app.screen_stack) == 2


async def test_cams_tui_jobs_agrees_that_a_dead_job_is_not_running(tmp_path: Path, monkeypatch, capsys) -> None:
    import json

    from cams_tui.cli import main

    monkeypatch.setenv("CAMS_TUI_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("CAMS_TUI_DATA_DIR", str(tmp_path / "data"))
    job_id = _seed_dead_job(tmp_path / "data", "http://127.0.0.1:9")
    assert main(["jobs", "--json"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert (row["job_id"], row["state"], row["in_flight"], row["unknown"], row["pending"]) == (
        job_id, "interrupted", 0, 100, 400
    )


async def test_resume_from_the_jobs_screen_asks_the_count_and_keeps_the_log(tmp_path: Path) -> None:
    from cams_tui.engine.journal import Journal
    from cams_tui.simulator import Simulator, SimulatorConfig
    from cams_tui.ui.screens.jobs import JobsScreen
    from cams_tui.ui.screens.send_dialogs import TypedCountDialog
    from cams_tui.ui.screens.send_monitor import SendMonitorScreen
    from cams_tui.ui.widgets.send_log import SendLog
    from tests.support.ui_host import HostApp, journal_counts, make_job, target

    simulator = Simulator(SimulatorConfig(rate=1000, seed=3))
    with simulator.run_in_thread() as url:
        job_id = make_job(tmp_path, url, 500, batch_size=100)
        # Two batches sent earlier, then the job was cancelled.
        with Journal(tmp_path) as journal:
            from cams_tui.engine.journal import Answer, BatchState

            for index in (0, 1):
                attempt = journal.mark_sending(job_id, index)
                journal.record_answer(job_id, index, attempt, BatchState.OK, Answer("ok", http_status=200, code="OK"))
            journal.set_job_state(job_id, JobState.INTERRUPTED)
        app = HostApp(lambda: JobsScreen(target=target(url, tmp_path, 100), show_clock=False))
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_until(pilot, lambda: bool(getattr(app.screen, "jobs", None)))
            await pilot.press("r")
            await wait_until(pilot, lambda: isinstance(app.screen, TypedCountDialog))
            await pilot.press(*"30")  # not the count
            await pilot.press("enter")
            await pilot.pause(0.2)
            assert isinstance(app.screen, TypedCountDialog), "a wrong count sends nothing"
            assert journal_counts(tmp_path, job_id)[0] == {"ok": 200, "planned": 300}
            await pilot.press("backspace", "backspace", *"300", "enter")
            await wait_until(pilot, lambda: isinstance(app.screen, SendMonitorScreen))
            monitor = app.screen
            await wait_until(pilot, lambda: monitor.run is None and monitor.state.done is not None)
            log = monitor.query_one(SendLog)
            assert {e.index for e in log.entries} == {0, 1, 2, 3, 4}, "the earlier runs' lines are kept"
            # The jobs screen reads the journal again by itself.
            await pilot.press("escape")
            await wait_until(pilot, lambda: str(app.screen.query_one("#jobs-table").get_row_at(0)[1]) == "done")


async def test_recipients_verified_not_sent_can_be_sent_later_from_the_tui(tmp_path: Path) -> None:
    from cams_tui.engine.journal import Answer, BatchState, Journal
    from cams_tui.simulator import Simulator, SimulatorConfig
    from cams_tui.ui.screens.jobs import JobsScreen
    from cams_tui.ui.screens.send_dialogs import TypedCountDialog
    from cams_tui.ui.screens.send_monitor import SendMonitorScreen
    from tests.support.ui_host import HostApp, journal_counts, make_job, target

    simulator = Simulator(SimulatorConfig(rate=1000, seed=3))
    with simulator.run_in_thread() as url:
        job_id = make_job(tmp_path, url, 300, batch_size=100)
        with Journal(tmp_path) as journal:
            for index in (0, 1):
                attempt = journal.mark_sending(job_id, index)
                journal.record_answer(job_id, index, attempt, BatchState.OK, Answer("ok", http_status=200, code="OK"))
            attempt = journal.mark_sending(job_id, 2)
            journal.record_answer(job_id, 2, attempt, BatchState.UNKNOWN, Answer("unknown", code="Timeout"))
            journal.resolve_batch(
                job_id, 2, BatchState.NOT_SENT_VERIFIED, by="test", evidence={"checked": ["a number"], "control": "c"}
            )
            journal.set_job_state(job_id, JobState.DONE)
        app = HostApp(lambda: JobsScreen(target=target(url, tmp_path, 100), show_clock=False))
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_until(pilot, lambda: bool(getattr(app.screen, "jobs", None)))
            jobs = app.screen
            row = [str(c) for c in jobs.query_one("#jobs-table").get_row_at(0)]
            assert row[1] == "unsettled" and row[7] == "100", row
            assert "S sends 100 verified not sent" in str(jobs.query_one("#jobs-title").render())
            # "Not now", then r (nothing pending) offers them again, and S at any later time.
            await pilot.press("S")
            await wait_until(pilot, lambda: isinstance(app.screen, TypedCountDialog))
            await pilot.press("escape")
            await pilot.press("r")
            await wait_until(pilot, lambda: isinstance(app.screen, TypedCountDialog))
            await pilot.press("escape")
            await pilot.press("S")
            await wait_until(pilot, lambda: isinstance(app.screen, TypedCountDialog))
            await pilot.press(*"100", "enter")
            await wait_until(pilot, lambda: isinstance(app.screen, SendMonitorScreen))
            await wait_until(pilot, lambda: journal_counts(tmp_path, job_id)[0] == {"ok": 300})
    assert len(simulator.accepted) == 100


async def test_f1_shows_the_screens_keys_first_then_the_fields(tmp_path: Path, monkeypatch) -> None:
    from cams_tui.ui.screens.help import HelpScreen

    app = demo_app(tmp_path, monkeypatch)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await choose_order_shipped(pilot)
        await app.action_go_step(5)  # Review: its focus is on an input with cursor keys
        await settle(pilot)
        await pilot.press("f1")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        keys = str(app.screen.query_one("#help-keys").render())
        assert keys.index("This screen") < keys.index("Everywhere") < keys.index("This field")
        assert "Next step" in keys.split("Everywhere")[0] and "Test send" in keys.split("Everywhere")[0]
        assert "Jobs" in keys.split("Everywhere")[1].split("This field")[0]
        # What the screen's own keys are is visible at 80×24, in the first rows.
        first_rows = keys.splitlines()[:8]
        assert any("^n" in row and "Next step" in row for row in first_rows), first_rows
        await pilot.press("f1")
        await settle(pilot)
        assert not isinstance(app.screen, HelpScreen)


async def test_a_rejected_line_shows_its_reason_first_and_whole(tmp_path: Path, monkeypatch) -> None:
    from cams_tui.ui.campaign_draft import Step
    from cams_tui.ui.screens.send_dialogs import InfoDialog

    app = demo_app(tmp_path, monkeypatch)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await app.compose_screen.go_to(Step.RECIPIENTS)
        await paste(pilot, "+639171234567\nnot a phone number at all written long " + "x" * 200 + "\n")
        table = app.compose_screen.query_one("#recipients-rejected")
        reason = str(table.get_row_at(0)[1])
        assert [str(c.label) for c in table.columns.values()][:2] == ["Line", "Reason"]
        table.focus()
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, InfoDialog)
        text = str(app.screen.query_one("#info-text").render())
        reject = app.state.report.rejected[0]
        assert reason in text and reject.text in text.replace("\n", "")  # all the intake keeps of it


async def test_the_demo_keeps_its_theme_without_writing_the_config(tmp_path: Path, monkeypatch) -> None:
    app = demo_app(tmp_path, monkeypatch)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.theme = "cams-viber"
        await pilot.pause()
    assert not (tmp_path / "config.toml").exists(), "the demo wrote the user's config"
    again = demo_app(tmp_path, monkeypatch)
    async with again.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert again.theme == "cams-viber"


async def test_a_lookup_after_the_demo_restarts_finds_what_it_accepted_before(tmp_path: Path, monkeypatch) -> None:
    from cams_tui.engine.journal import BatchState, Journal
    from cams_tui.ui.screens.jobs import JobsScreen

    app = demo_app(tmp_path, monkeypatch)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await choose_order_shipped(pilot)
        app.state.params.update(name="Ana", order_id="A-1")
        await pilot.press("ctrl+n")
        await paste(pilot, numbers(5))
        job_id = await send_from_review(pilot, app, 5)
        await wait_until(pilot, lambda: getattr(app.screen, "state", None) is not None and app.screen.state.done is not None)
    demo_journal = tmp_path / "data" / "demo"
    # As after a crash between the request and its answer: the batch accepted, its answer lost.
    with Journal(demo_journal) as journal:
        assert journal.job(job_id).counts == {"ok": 5}
        journal._db.execute("UPDATE batches SET state='sending' WHERE job_id=?", (job_id,))
        journal._db.execute("UPDATE jobs SET state='interrupted' WHERE id=?", (job_id,))
        journal._db.commit()

    # The demo again: a new simulator, with the records the first one kept.
    again = demo_app(tmp_path, monkeypatch)
    async with again.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("f2")
        await wait_until(pilot, lambda: isinstance(again.screen, JobsScreen) and again.screen.chosen_job() is not None)
        assert again.screen.chosen_job().id == job_id
        await pilot.press("L")
        await settle(pilot)
        with Journal(demo_journal) as journal:
            await wait_until(pilot, lambda: journal.job(job_id).counts == {"ok": 5})
            assert not journal.batches(job_id, [BatchState.NOT_SENT_VERIFIED]), "an accepted batch is never 'verified not sent'"
