"""The jobs screen's look-up action (L): unknown batches resolved by ListChatappMessage,
shown with how, and the ones verified not sent resent after the operator confirms."""

from __future__ import annotations

import asyncio
import json
import types
from pathlib import Path

from cams_tui.api.models import Recipient
from cams_tui.config import Profile
from cams_tui.engine.journal import Journal
from cams_tui.simulator import Simulator, SimulatorConfig
from cams_tui.ui.screens.jobs import JobDetailScreen
from cams_tui.ui.screens.send_dialogs import TypedCountDialog
from cams_tui.ui.screens.send_monitor import SendMonitorScreen
from tests.support.engine import CUST_SPACE_ID, OPTIONS, client
from tests.support.ui_host import HostApp, journal_counts, make_job, target, wait_for


def _send_behind_the_journals_back(url: str, data_dir: Path, job_id: str, index: int) -> None:
    """Batch ``index`` is committed ``sending`` and really accepted, but its answer never
    reached the journal (as when the process is killed right after sending)."""
    with Journal(data_dir) as journal:
        journal.mark_sending(job_id, index)
        items = json.loads(journal.sender_list(job_id, index))

    async def send() -> None:
        async with client(url) as cams:
            recipients = [Recipient(to=i["To"], template_params=i.get("TemplateParams")) for i in items]
            await cams.send_mass_message(OPTIONS.with_recipients(recipients))

    asyncio.run(send())


async def test_look_up_resolves_unknowns_and_resends_the_verified_after_confirming(tmp_path: Path) -> None:
    simulator = Simulator(SimulatorConfig(rate=1000, seed=8))
    with simulator.run_in_thread() as url:
        job_id = make_job(tmp_path, url, 300, batch_size=100, cust_space_id=CUST_SPACE_ID)
        with Journal(tmp_path) as journal:
            journal.mark_sending(job_id, 1)  # committed, then killed before it left
        # Batch 0 went after it and was accepted: found, it shows CAMS lists messages sent
        # after batch 1's attempt, so batch 1's absence is evidence.
        await asyncio.to_thread(_send_behind_the_journals_back, url, tmp_path, job_id, 0)
        app = HostApp(lambda: JobDetailScreen(job_id, target=target(url, tmp_path, 50), show_clock=False))
        app.connection = types.SimpleNamespace(  # type: ignore[attr-defined]
            context=types.SimpleNamespace(profile=Profile(reconcile_grace_s=0.3, lookup_rate=50))
        )
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_for(pilot, lambda: isinstance(app.screen, JobDetailScreen) and app.screen.job is not None)
            detail = app.screen
            await pilot.press("L")
            await wait_for(pilot, lambda: isinstance(app.screen, TypedCountDialog))
            body = str(app.screen.query_one(".body").render())
            assert "100 recipients" in body and "batch 1: looked up" in body
            recipients, _ = journal_counts(tmp_path, job_id)
            assert recipients == {"ok": 100, "not_sent_verified": 100, "planned": 100}
            await wait_for(pilot, lambda: "found accepted" in str(detail.query_one("#job-summary").render()))
            assert "1 (100) verified not sent" in str(detail.query_one("#job-summary").render())
            await pilot.press("y")  # not the count: nothing happens
            await pilot.pause(0.2)
            assert isinstance(app.screen, TypedCountDialog)
            await pilot.press("backspace", *"100", "enter")
            await wait_for(pilot, lambda: isinstance(app.screen, SendMonitorScreen))
            await wait_for(pilot, lambda: journal_counts(tmp_path, job_id)[0] == {"ok": 300})
    assert len(simulator.accepted) == 300 and max(simulator.accepted.values()) == 1
