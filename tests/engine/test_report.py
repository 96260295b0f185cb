"""The final report and retarget lists, against the simulator over real HTTP: statuses
that move over time, totals per status and country, a fetch that goes on after an
interruption, batches without a GroupMessageId looked up by number, and a retarget file
that ``send --dry-run`` takes with the expected count."""

from __future__ import annotations

import csv
import io
import json
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from cams_tui.api.errors import CamsError
from cams_tui.cli import main
from cams_tui.engine.journal import Journal
from cams_tui.report import ReportError, ReportRow, RetargetRule, country_of, fetch_report, report_rows
from cams_tui.simulator import Faults, Simulator, SimulatorConfig
from tests.support.campaigns import demo_campaign
from tests.support.engine import LOOKUP_OPTIONS, client, make_job

SETTLED_AFTER_S = 6.0 + 4.0  # the longest delivery delay, then the longest read delay


@pytest.fixture
def moving() -> Iterator[tuple[Simulator, str]]:
    """A simulator whose statuses move for ~10 s after acceptance, with failures."""
    simulator = Simulator(
        SimulatorConfig(
            rate=100, seed=17, faults=Faults(fail_delivery=0.1), delivery_delay_s=(0.5, 6.0),
            read_delay_s=(1.0, 4.0), read_share=0.6,
        )
    )
    with simulator.run_in_thread(port=0) as url:
        yield simulator, url


def _numbers_file(folder: Path) -> dict[str, str]:
    """20,000 numbers in three countries; returns number -> its country."""
    countries: dict[str, str] = {}
    lines = ["phone,order_id"]
    for i in range(8000):
        countries[f"+63917{i:07d}"] = "PH"
    for i in range(6000):
        countries[f"+7916{i:07d}"] = "RU"
    for i in range(6000):
        countries[f"+1650253{i:04d}"] = "US"
    lines += [f"{number},A{i}" for i, number in enumerate(countries)]
    (folder / "numbers.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return countries


def _rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def _listings(simulator: Simulator) -> int:
    """ListChatappMessage calls the simulator answered."""
    return sum(simulator.stats["ListChatappMessage"].values())


_ORDER = {"sent": 0, "delivered": 1, "read": 2, "failed": 1}


@pytest.mark.slow
def test_report_of_a_20000_recipient_job_with_moving_statuses_and_a_retarget_list(
    env: Path, moving: tuple[Simulator, str], capsys: pytest.CaptureFixture[str]
) -> None:
    simulator, url = moving
    campaign = demo_campaign(env)
    countries = _numbers_file(env)
    assert main(["send", str(campaign), "--yes", "--json", "--endpoint", url]) == 0
    sent_at = time.time()
    job_id = json.loads(capsys.readouterr().out.splitlines()[0])["job_id"]
    assert sum(simulator.accepted.values()) == 20_000

    # At once: most messages are still only sent.
    first = env / "first.csv"
    assert main(["report", job_id, "-o", str(first), "--lookup-rate", "60", "--endpoint", url]) == 0
    capsys.readouterr()
    time.sleep(max(0.0, sent_at + SETTLED_AFTER_S + 0.5 - time.time()))
    # Later: a new fetch (the first one finished), every status settled.
    second = env / "second.csv"
    assert main(["report", job_id, "-o", str(second), "--lookup-rate", "60", "--endpoint", url]) == 0
    err = capsys.readouterr().err

    early, late = _rows(first), _rows(second)
    assert len(early) == len(late) == 20_000
    assert ["+" + r["number"] for r in late] == list(countries)  # one row per recipient, in send order
    early_counts, late_counts = Counter(r["status"] for r in early), Counter(r["status"] for r in late)
    assert early_counts["sent"] > late_counts["sent"] == 0
    assert late_counts["delivered"] and late_counts["read"] and late_counts["failed"]
    moved = 0
    for before, after in zip(early, late):
        assert _ORDER[after["status"]] >= _ORDER[before["status"]], (before, after)
        moved += before["status"] != after["status"]
    assert moved > 10_000  # statuses moved over time
    # The report says what CAMS says, number by number.
    truth = {
        "+" + record["UserNumber"]: record
        for group_id in {r.group_message_id for r in simulator.accepted_requests}
        for record in simulator.store.query(
            business_number="2000001", now_ms=int(time.time() * 1000), offset=0, limit=1000,
            group_message_id=group_id,
        )
    }
    for row in late:
        record = truth["+" + row["number"]]
        assert row["status"] == record["MessageStatus"].lower()
        assert row["reason"] == (record.get("FailReason") or "")
        assert row["message_id"] == record["MessageId"]
        assert row["country"] == countries["+" + row["number"]]
    failed_reasons = Counter(r["reason"] for r in late if r["status"] == "failed")
    assert set(failed_reasons) >= {"SRVC_NOT_VIBER_USER"}
    # Totals per status and per country on stderr.
    assert f"20,000 recipients: delivered {late_counts['delivered']:,}, read {late_counts['read']:,}, " \
           f"failed {late_counts['failed']:,}" in err
    assert "  PH: 8,000 " in err and "  RU: 6,000 " in err and "  US: 6,000 " in err
    assert f"SRVC_NOT_VIBER_USER {failed_reasons['SRVC_NOT_VIBER_USER']:,}" in err

    # A retarget list of those who are not Viber users, offline from the journal.
    retarget = env / "not-viber.txt"
    code = main(["report", job_id, "--no-fetch", "--retarget", "failed:SRVC_NOT_VIBER_USER", "-o", str(retarget)])
    assert code == 0
    expected = ["+" + r["number"] for r in late if r["reason"] == "SRVC_NOT_VIBER_USER"]
    assert retarget.read_text(encoding="utf-8").splitlines() == ["phone", *expected]
    assert f"retarget list: {len(expected):,} numbers" in capsys.readouterr().err
    # The next campaign (its values for everyone) reaches exactly them.
    followup = env / "followup.toml"
    followup.write_text(
        campaign.read_text(encoding="utf-8").replace('name = "Ana"', 'name = "Ana"\norder_id = "ALL"'),
        encoding="utf-8",
    )
    code = main(["send", str(followup), "--recipients", str(retarget), "--dry-run", "--json", "--endpoint", url])
    assert code == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    # The dry run also says that these numbers got this template in the last day (a repeat).
    assert [e["event"] for e in events] == ["repeat", "plan"]
    plan = events[-1]
    assert plan["recipients"] == len(expected) and plan["rejected"] == 0 and plan["duplicates"] == 0


async def test_an_interrupted_fetch_goes_on_where_it_stopped(tmp_path: Path, simulator: Simulator, sim_url: str) -> None:
    with Journal(tmp_path) as journal:
        job_id = make_job(journal, sim_url, 1000, 100, options=LOOKUP_OPTIONS)
        async with client(sim_url) as api:
            from cams_tui.engine.run import JobRunner, RunOptions

            await JobRunner(api, journal, job_id, RunOptions(rate=50)).run()
            seen: list[int] = []

            def interrupt_after_four(progress: object) -> None:
                seen.append(progress.batches_done)  # type: ignore[attr-defined]
                if progress.batches_done == 4:  # type: ignore[attr-defined]
                    simulator.faults = Faults(unsubscribed=True)  # CAMS refuses from now on

            with pytest.raises(CamsError):
                await fetch_report(api, journal, job_id, lookup_rate=100, on_progress=interrupt_after_four)
            partial = Counter(r.status for r in report_rows(journal, job_id))
            assert partial["not_listed"] == 600 and sum(partial.values()) == 1000
            simulator.faults = Faults()
            calls_before = _listings(simulator)
            summary = await fetch_report(api, journal, job_id, lookup_rate=100)
            assert summary.resumed and summary.batches_skipped == 4 and summary.batches_fetched == 6
            # Only the six batches left were asked about (one full page each: every recipient listed, no empty page asked for).
            assert _listings(simulator) - calls_before == summary.calls == 6
            assert not Counter(r.status for r in report_rows(journal, job_id))["not_listed"]
            # Finished: the next fetch starts over and reads every batch again.
            again = await fetch_report(api, journal, job_id, lookup_rate=100)
            assert not again.resumed and again.batches_fetched == 10


async def test_a_batch_without_group_message_id_is_looked_up_by_number(
    tmp_path: Path, simulator: Simulator, sim_url: str
) -> None:
    with Journal(tmp_path) as journal:
        job_id = make_job(journal, sim_url, 30, 10, options=LOOKUP_OPTIONS)
        async with client(sim_url) as api:
            from cams_tui.engine.run import JobRunner, RunOptions

            await JobRunner(api, journal, job_id, RunOptions(rate=50)).run()
            # As a batch whose answer was lost and that a lookup then found accepted.
            journal._db.execute("UPDATE batches SET group_message_id=NULL WHERE job_id=? AND idx=1", (job_id,))
            summary = await fetch_report(api, journal, job_id, lookup_rate=100)
        rows = list(report_rows(journal, job_id))
    assert summary.batches_fetched == 3
    assert [r.status for r in rows].count("not_listed") == 0
    # Two batches by GroupMessageId (one short page each), ten numbers one by one.
    assert summary.calls == _listings(simulator) == 2 + 10


async def test_a_job_without_cust_space_id_asks_cams_nothing(tmp_path: Path, simulator: Simulator, sim_url: str) -> None:
    from cams_tui.listing import MissingCustSpaceId

    with Journal(tmp_path) as journal:
        job_id = make_job(journal, sim_url, 10, 10)
        async with client(sim_url) as api:
            with pytest.raises(MissingCustSpaceId):
                await fetch_report(api, journal, job_id, lookup_rate=100)
    assert _listings(simulator) == 0


def _row(status: str, reason: str = "", *, fallback: bool = False, accepted: float = 0.0, checked: float = 0.0) -> ReportRow:
    return ReportRow("+639170000001", "PH", status, reason, fallback, 0, "", "", checked, accepted)


def test_retarget_rules() -> None:
    not_viber = RetargetRule.parse("failed:srvc_not_viber_user")
    assert not_viber.matches(_row("failed", "SRVC_NOT_VIBER_USER"))
    assert not not_viber.matches(_row("failed", "SRVC_USER_BLOCKED"))
    assert RetargetRule.parse("failed").matches(_row("failed", "SRVC_USER_BLOCKED"))
    assert RetargetRule.parse("not-listed").matches(_row("not_listed"))
    assert RetargetRule.parse("fallback").matches(_row("failed", fallback=True))
    unread = RetargetRule.parse("unread:24")
    assert unread.matches(_row("delivered", accepted=0.0, checked=24 * 3600))
    assert not unread.matches(_row("delivered", accepted=0.0, checked=23 * 3600))
    assert not unread.matches(_row("read", accepted=0.0, checked=48 * 3600))
    with pytest.raises(ReportError, match="unknown status 'bounced'; use one of sent, delivered"):
        RetargetRule.parse("bounced")
    with pytest.raises(ReportError, match="unread takes a number of hours"):
        RetargetRule.parse("unread:soon")
    with pytest.raises(ReportError, match="only failed takes a reason"):
        RetargetRule.parse("read:X")


def test_country_from_the_calling_code() -> None:
    assert [country_of(n) for n in ("639171234567", "79161234567", "16502530000", "442079460000", "80012345678")] == [
        "PH", "RU", "US", "GB", "001",
    ]


def test_report_of_an_unknown_job_and_a_bad_rule_are_usage_errors(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", "nope", "--no-fetch"]) == 2
    assert "no job 'nope'" in capsys.readouterr().err
    assert main(["report", "nope", "--retarget", "bounced"]) == 2
    assert "unknown status 'bounced'" in capsys.readouterr().err
