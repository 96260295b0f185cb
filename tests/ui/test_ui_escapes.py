"""Text from CAMS or from the input reaches the TUI's jobs screen and rejected-lines table
with its control characters shown (``\\x1b``), never obeyed by the terminal."""

from __future__ import annotations

from pathlib import Path

from cams_tui.engine.journal import Answer, BatchState, JobState, Journal
from cams_tui.ui.screens.jobs import JobDetailScreen, JobsScreen
from cams_tui.ui.widgets.results_table import ResultsTable
from cams_tui.ui.widgets.send_log import SendLog
from tests.support.ui_host import HostApp, make_job, target, wait_for

ENDPOINT = "http://127.0.0.1:9"
PAYLOAD = "\x1b]0;pwned\x07\x1b[2J"
SHOWN = "\\x1b]0;pwned\\x07\\x1b[2J"


def _no_controls(text: str) -> bool:
    return not any(ord(ch) < 0x20 and ch != "\n" or 0x7F <= ord(ch) < 0xA0 for ch in text)


async def test_the_jobs_screen_shows_cams_text_escaped(tmp_path: Path) -> None:
    job_id = make_job(tmp_path, ENDPOINT, 20, batch_size=10)
    with Journal(tmp_path) as journal:
        attempt = journal.mark_sending(job_id, 0)
        journal.record_answer(
            job_id, 0, attempt, BatchState.FAILED,
            Answer("failed", http_status=400, code=f"Bad{PAYLOAD}", message=f"refused {PAYLOAD}",
                   request_id=f"R{PAYLOAD}"),
        )
        journal.set_job_state(job_id, JobState.STOPPED, stop_code=f"X{PAYLOAD}", stop_message=f"stop {PAYLOAD}")
    app = HostApp(lambda: JobsScreen(target=target(ENDPOINT, tmp_path, 10), show_clock=False))
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_for(pilot, lambda: len(app.screen.jobs) == 1)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, JobDetailScreen) and app.screen.job is not None)
        detail = app.screen
        summary = str(detail.query_one("#job-summary").render())
        assert f"Stopped by X{SHOWN}: stop {SHOWN}" in summary and _no_controls(summary)
        (entry,) = detail.query_one(SendLog).entries
        assert entry.code == f"Bad{SHOWN}" and entry.message == f"refused {SHOWN}" and entry.request_id == f"R{SHOWN}"
        results = detail.query_one(ResultsTable)
        await wait_for(pilot, lambda: results.row_count > 0)
        cells = " ".join(str(cell) for cell in results.get_row_at(0))
        assert f"Bad{SHOWN}" in cells and _no_controls(cells)
        # What the terminal would be sent: the whole screen, drawn.
        screen_text = app.export_screenshot()
        assert "\x1b]0;pwned" not in screen_text and "pwned\x07" not in screen_text


async def test_a_pasted_line_with_terminal_escapes_is_rejected_escaped(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from textual.widgets import DataTable

    from cams_tui.ui.campaign_draft import Step
    from tests.support.ui_flow import demo_app, paste, settle

    app = demo_app(tmp_path, monkeypatch)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await app.compose_screen.go_to(Step.RECIPIENTS)
        # No ";" or ",": a pasted line is split at them (the number is the first field).
        await paste(pilot, "+639171234567\nbad\x1b[2J\x07\x9bline\n")
        rejected = app.compose_screen.query_one("#recipients-rejected", DataTable)
        await wait_for(pilot, lambda: rejected.row_count > 0)
        cells = [str(cell) for row in range(rejected.row_count) for cell in rejected.get_row_at(row)]
        assert any("bad\\x1b[2J\\x07\\x9bline" in cell for cell in cells), cells
        assert all(_no_controls(cell) for cell in cells)
