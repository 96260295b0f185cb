"""Delivery windows in each recipient's local time, and several template languages in one
list: planned into groups, journaled per batch, sent by the job runner window by window
(on an injectable clock) and in each batch's own Language (as the simulator received it)."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import pytest

from cams_tui.api.client import Placement
from cams_tui.campaign import CampaignError, parse_campaign
from cams_tui.engine.events import Event, ScheduleEvent
from cams_tui.engine.grouping import (
    LanguageChoice,
    Targeting,
    schedule_json,
    targeting_for,
)
from cams_tui.engine.journal import BatchState, Journal
from cams_tui.engine.new_job import JobPlan, plan_job, write_job
from cams_tui.engine.run import JobRunner, RunHooks, RunOptions
from cams_tui.recipients.intake import IntakeReport, read_recipients_text
from cams_tui.recipients.zones import ZoneFinder
from cams_tui.schedule import DeliveryWindow, parse_hours
from cams_tui.simulator import Simulator
from tests.support.campaigns import CAMPAIGN
from tests.support.engine import OPTIONS, client

WINDOW = DeliveryWindow(*parse_hours("09:00-20:00"))
# Tuesday 1 December 2026, 03:00 UTC: 11:00 in Manila (UTC+8), 06:00 in Moscow (UTC+3),
# 22:00 on Monday in New York (UTC-5).
FROZEN = datetime(2026, 12, 1, 3, 0, tzinfo=timezone.utc).timestamp()
MOSCOW_OPENS = datetime(2026, 12, 1, 6, 0, tzinfo=timezone.utc).timestamp()
NEW_YORK_OPENS = datetime(2026, 12, 1, 14, 0, tzinfo=timezone.utc).timestamp()

MANILA = [f"6391712{i:05d}" for i in range(30)]
MOSCOW = [f"749512{i:05d}" for i in range(20)]
NEW_YORK = [f"121273{i:05d}" for i in range(25)]


def _intake(rows: list[tuple[str, ...]], header: str = "number,name,order_id") -> IntakeReport:
    return read_recipients_text("\n".join([header, *(",".join(("+" + r[0], *r[1:])) for r in rows)]) + "\n")


def _mixed() -> IntakeReport:
    # Interleaved, so that grouping (not the input order) decides what goes first.
    rows = []
    for i in range(30):
        rows.append((MANILA[i], "Ana", f"M{i}"))
        if i < 20:
            rows.append((MOSCOW[i], "Ivan", f"R{i}"))
        if i < 25:
            rows.append((NEW_YORK[i], "Bob", f"N{i}"))
    return _intake(rows)


def _plan(report: IntakeReport, targeting: Targeting, max_size: int = 10) -> JobPlan:
    return plan_job(
        report,
        names=["name", "order_id"],
        global_params={},
        options=OPTIONS,
        placement=Placement.BODY,
        max_query_length=60_000,
        max_size=max_size,
        targeting=targeting,
    )


def _numbers_of(journal: Journal, job_id: str, states: list[BatchState] | None = None) -> set[str]:
    import json

    found: set[str] = set()
    for batch in journal.batches(job_id, states):
        found.update(item["To"] for item in json.loads(journal.sender_list(job_id, batch.index)))
    return found


# ------------------------------------------------------------------ the window itself


def test_window_text_and_days_are_checked_with_the_fix() -> None:
    assert parse_hours("09:00-20:00") == (540, 1200)
    assert parse_hours("0:00-24:00") == (0, 1440)
    for bad, reason in [
        ("9-", "is not a time of day"),
        ("20:00-09:00", "ends before it starts"),
        ("09:00", "not a range of hours"),
        ("09:75-10:00", "between 00:00 and 24:00"),
    ]:
        with pytest.raises(ValueError, match=reason):
            parse_hours(bad)
    base = {"template_code": "T", "language": "en", "from": "2000001"}
    campaign = parse_campaign({**base, "schedule": {"window": "09:00-20:00", "days": ["Mon", "friday"]}})
    window = campaign.schedule.delivery_window()  # type: ignore[union-attr]
    assert window == DeliveryWindow(540, 1200, frozenset({0, 4}))
    assert window.describe() == "09:00-20:00 mon,fri"
    with pytest.raises(CampaignError, match=r"schedule.days: .*'someday' is not a weekday"):
        parse_campaign({**base, "schedule": {"window": "09:00-20:00", "days": ["someday"]}})
    with pytest.raises(CampaignError, match=r"schedule.zones: .*'Mars/Olympus' is not a time zone name"):
        parse_campaign({**base, "schedule": {"window": "09:00-20:00", "zones": {"US": "Mars/Olympus"}}})
    with pytest.raises(CampaignError, match=r"schedule.window: .*ends before it starts"):
        parse_campaign({**base, "schedule": {"window": "22:00-06:00"}})


def test_the_window_follows_daylight_saving_time_from_the_zone_data() -> None:
    zones = ("America/New_York",)
    # 8 March 2026, the first day of EDT: 09:00 local is 13:00 UTC (the day before: 14:00).
    before = datetime(2026, 3, 7, 12, 0, tzinfo=timezone.utc).timestamp()
    after = datetime(2026, 3, 8, 12, 0, tzinfo=timezone.utc).timestamp()
    assert WINDOW.next_open(zones, before) == datetime(2026, 3, 7, 14, 0, tzinfo=timezone.utc).timestamp()
    assert WINDOW.next_open(zones, after) == datetime(2026, 3, 8, 13, 0, tzinfo=timezone.utc).timestamp()
    opened = datetime(2026, 3, 8, 13, 0, tzinfo=timezone.utc).timestamp()
    assert WINDOW.closes_at(zones, opened) == datetime(2026, 3, 9, 0, 0, tzinfo=timezone.utc).timestamp()


def test_weekdays_skip_to_the_next_listed_day() -> None:
    weekdays = DeliveryWindow(540, 1200, frozenset(range(5)))
    saturday = datetime(2026, 12, 5, 3, 0, tzinfo=timezone.utc).timestamp()  # 11:00 in Manila
    assert not weekdays.is_open(("Asia/Manila",), saturday)
    monday_nine = datetime(2026, 12, 7, 1, 0, tzinfo=timezone.utc).timestamp()
    assert weekdays.next_open(("Asia/Manila",), saturday) == monday_nine


def test_zones_come_from_the_number_and_a_country_can_be_given_one() -> None:
    finder = ZoneFinder()
    assert finder.zones(639171200000) == (("Asia/Manila",), "PH")
    assert finder.zones(74951200000) == (("Europe/Moscow",), "RU")
    assert finder.zones(12127300000) == (("America/New_York",), "US")
    assert finder.zones(13105550100)[0] == ("America/Los_Angeles",)
    mobile, region = finder.zones(79161230001)  # placed at the country level: every zone of +7
    assert region == "RU" and "Europe/Moscow" in mobile and "Asia/Kamchatka" in mobile
    # All of them at once: the window is open only while 09:00-20:00 holds from Bucharest to Anadyr.
    opening = WINDOW.next_open(mobile, FROZEN)
    assert opening is not None and WINDOW.is_open(mobile, opening)
    assert ZoneFinder({"ru": "Europe/Moscow"}).zones(79161230001) == (("Europe/Moscow",), "RU")


# ------------------------------------------------------------------ planning


def test_at_a_frozen_clock_only_numbers_inside_their_window_go_now() -> None:
    plan = _plan(_mixed(), Targeting(window=WINDOW, zones=ZoneFinder(), now=FROZEN))
    groups = [(g.zones, g.opens_at, g.recipients) for g in plan.groups]
    assert groups == [
        (("Asia/Manila",), FROZEN, 30),
        (("Europe/Moscow",), MOSCOW_OPENS, 20),
        (("America/New_York",), NEW_YORK_OPENS, 25),
    ]
    assert plan.sendable_now(FROZEN) == 30 and plan.sendable_now(NEW_YORK_OPENS) == 75
    # Each batch is one group's: three of Manila, two of Moscow, three of New York.
    assert [(b.zones, b.size, b.not_before) for b in plan.batches] == (
        [(("Asia/Manila",), 10, FROZEN)] * 3
        + [(("Europe/Moscow",), 10, MOSCOW_OPENS)] * 2
        + [(("America/New_York",), 10, NEW_YORK_OPENS)] * 2
        + [(("America/New_York",), 5, NEW_YORK_OPENS)]
    )
    assert plan.rejects == []


def test_numbers_whose_window_never_holds_in_all_their_zones_are_rejected_with_the_fix() -> None:
    # 09:00-12:00 cannot hold at once from UTC+2 to UTC+12.
    narrow = DeliveryWindow(540, 720)
    report = _intake([("79161230001", "Olga", "R1"), (MANILA[0], "Ana", "M1")])
    plan = _plan(report, Targeting(window=narrow, zones=ZoneFinder(), now=FROZEN))
    assert plan.recipients == 1
    (reject,) = plan.rejects
    assert reject.line == 2 and reject.input == "+79161230001"
    assert "never holds at once" in reject.reason and '[schedule.zones] (RU = "' in reject.reason
    fixed = _plan(report, Targeting(window=narrow, zones=ZoneFinder({"RU": "Europe/Moscow"}), now=FROZEN))
    assert fixed.recipients == 2 and fixed.rejects == []


# ------------------------------------------------------------------ the runner, window by window


class _Clock:
    """A clock that moves only when the runner sleeps."""

    def __init__(self, start: float) -> None:
        self.now = start

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


def _window_job(journal: Journal, url: str, now: float) -> str:
    report = _mixed()
    plan = _plan(report, Targeting(window=WINDOW, zones=ZoneFinder(), now=now))
    return write_job(
        journal, report, plan, options=OPTIONS, params={}, endpoint=url, placement=Placement.BODY,
        schedule=schedule_json(None, WINDOW),
    )


async def test_the_runner_sends_each_group_when_its_window_opens(
    tmp_path: Path, simulator: Simulator, sim_url: str
) -> None:
    fake = _Clock(FROZEN)
    sent_at_each_wait: list[tuple[float, frozenset[str]]] = []

    def observe(event: Event) -> None:
        if isinstance(event, ScheduleEvent) and event.waiting_for == "window" and event.stage == "waiting":
            if not sent_at_each_wait or sent_at_each_wait[-1][0] != event.at:
                sent_at_each_wait.append((event.at, frozenset(simulator.accepted)))

    with Journal(tmp_path) as journal:
        job_id = _window_job(journal, sim_url, FROZEN)
        async with client(sim_url) as api:
            runner = JobRunner(api, journal, job_id, RunOptions(rate=50), RunHooks(event=observe),
                               clock=fake.clock, sleep=fake.sleep)
            result = await runner.run()
    # Waiting for Moscow's 09:00, only Manila had been sent; waiting for New York's, Moscow too.
    assert [(at, set(sent)) for at, sent in sent_at_each_wait] == [
        (MOSCOW_OPENS, set(MANILA)),
        (NEW_YORK_OPENS, set(MANILA) | set(MOSCOW)),
    ]
    assert result.done.state == "done" and result.done.ok == 75
    assert simulator.accepted == Counter(MANILA + MOSCOW + NEW_YORK)  # each exactly once
    assert fake.now == pytest.approx(NEW_YORK_OPENS, abs=1.0)


async def test_a_window_job_cancelled_while_waiting_resumes_later_exactly_once(
    tmp_path: Path, simulator: Simulator, sim_url: str
) -> None:
    fake = _Clock(FROZEN)
    with Journal(tmp_path) as journal:
        job_id = _window_job(journal, sim_url, FROZEN)
        async with client(sim_url) as api:
            holder: list[JobRunner] = []

            def cancel_on_wait(event: Event) -> None:
                if isinstance(event, ScheduleEvent) and event.waiting_for == "window":
                    holder[0].cancel()

            runner = JobRunner(api, journal, job_id, RunOptions(rate=50), RunHooks(event=cancel_on_wait),
                               clock=fake.clock, sleep=fake.sleep)
            holder.append(runner)
            first = await runner.run()
            assert first.done.state == "interrupted" and first.done.ok == 30
            assert set(simulator.accepted) == set(MANILA)
            assert _numbers_of(journal, job_id, [BatchState.PLANNED]) == set(MOSCOW) | set(NEW_YORK)

            # A new run (a restart) at 15:00 UTC: both windows are open, everything left goes.
            later = _Clock(datetime(2026, 12, 1, 15, 0, tzinfo=timezone.utc).timestamp())
            second = await JobRunner(api, journal, job_id, RunOptions(rate=50),
                                     clock=later.clock, sleep=later.sleep).run()
    assert second.done.state == "done" and second.done.ok == 75
    assert simulator.accepted == Counter(MANILA + MOSCOW + NEW_YORK)


async def test_the_job_carries_on_to_the_next_day(tmp_path: Path, simulator: Simulator, sim_url: str) -> None:
    # 21:00 in Manila: nothing is open for it until tomorrow 09:00.
    evening = datetime(2026, 12, 1, 13, 0, tzinfo=timezone.utc).timestamp()
    fake = _Clock(evening)
    report = _intake([(n, "Ana", f"M{i}") for i, n in enumerate(MANILA[:5])])
    with Journal(tmp_path) as journal:
        plan = _plan(report, Targeting(window=WINDOW, zones=ZoneFinder(), now=evening))
        assert plan.sendable_now(evening) == 0
        job_id = write_job(journal, report, plan, options=OPTIONS, params={}, endpoint=sim_url,
                           placement=Placement.BODY, schedule=schedule_json(None, WINDOW))
        async with client(sim_url) as api:
            result = await JobRunner(api, journal, job_id, RunOptions(rate=50),
                                     clock=fake.clock, sleep=fake.sleep).run()
    assert result.done.ok == 5
    assert fake.now == pytest.approx(datetime(2026, 12, 2, 1, 0, tzinfo=timezone.utc).timestamp(), abs=1.0)


# ------------------------------------------------------------------ several languages


def _two_languages() -> IntakeReport:
    rows = []
    for i in range(12):
        rows.append((MANILA[i], "en", "Ana", f"E{i}"))
        if i < 7:
            rows.append((MOSCOW[i], "ru", "Иван", f"R{i}"))
    return _intake(rows, header="number,language,name,order_id")


async def test_a_two_language_list_is_sent_in_per_language_batches(
    tmp_path: Path, simulator: Simulator, sim_url: str
) -> None:
    report = _two_languages()
    choice = LanguageChoice("en", frozenset({"en", "ru"}))
    plan = _plan(report, Targeting(languages=choice), max_size=5)
    assert [(g.language, g.recipients, g.batches) for g in plan.groups] == [("en", 12, 3), ("ru", 7, 2)]
    assert [b.language for b in plan.batches] == ["en"] * 3 + ["ru"] * 2
    with Journal(tmp_path) as journal:
        job_id = write_job(journal, report, plan, options=OPTIONS, params={}, endpoint=sim_url,
                           placement=Placement.BODY)
        assert [b.language for b in journal.batches(job_id)] == ["en"] * 3 + ["ru"] * 2
        async with client(sim_url) as api:
            result = await JobRunner(api, journal, job_id, RunOptions(rate=50)).run()
    assert result.done.ok == 19
    wanted = {**{n: "en" for n in MANILA[:12]}, **{n: "ru" for n in MOSCOW[:7]}}
    carried = {number: request.language for request in simulator.accepted_requests for number in request.numbers}
    assert carried == wanted
    assert sorted(r.language for r in simulator.accepted_requests) == ["en"] * 3 + ["ru"] * 2


def test_a_language_the_template_lacks_is_rejected_or_falls_back_when_asked() -> None:
    report = _intake(
        [(MANILA[0], "en", "Ana", "1"), (MANILA[1], "de", "Jan", "2"), (MOSCOW[0], "", "Ivan", "3")],
        header="number,language,name,order_id",
    )
    strict = _plan(report, Targeting(languages=LanguageChoice("en", frozenset({"en", "ru"}), {"RU": "ru"})))
    assert [(g.language, g.recipients) for g in strict.groups] == [("en", 1), ("ru", 1)]
    (reject,) = strict.rejects
    assert reject.line == 3 and "the template has no language 'de' (it has: en, ru)" in reject.reason
    assert "language_fallback = true" in reject.reason
    lenient = _plan(
        report, Targeting(languages=LanguageChoice("en", frozenset({"en", "ru"}), {"RU": "ru"}, fallback=True))
    )
    assert [(g.language, g.recipients) for g in lenient.groups] == [("en", 2), ("ru", 1)]
    assert lenient.rejects == []


def test_languages_and_windows_split_together_and_the_canary_comes_first() -> None:
    from cams_tui.engine.canary import CanarySettings

    report = _intake(
        [(MANILA[i], "ru" if i % 2 else "en", "A", str(i)) for i in range(10)]
        + [(NEW_YORK[i], "en", "B", str(i)) for i in range(4)],
        header="number,language,name,order_id",
    )
    targeting = targeting_for(
        language="en", languages={}, language_fallback=False, has_language_column=True,
        available=frozenset({"en", "ru"}),
        schedule=parse_campaign(
            {"template_code": "T", "language": "en", "from": "1", "schedule": {"window": "09:00-20:00"}}
        ).schedule,
        now=FROZEN,
    )
    plan = plan_job(
        report, names=["name", "order_id"], global_params={}, options=OPTIONS, placement=Placement.BODY,
        max_query_length=60_000, max_size=10, canary=CanarySettings(size=4), targeting=targeting,
    )
    assert [(g.language, g.zones, g.recipients) for g in plan.groups] == [
        ("en", ("Asia/Manila",), 5), ("ru", ("Asia/Manila",), 5), ("en", ("America/New_York",), 4),
    ]
    # The canary: the first four read (two en, two ru), in their own batches, first.
    assert plan.canary_batches == 2 and [b.size for b in plan.batches[:2]] == [2, 2]
    assert plan.recipients == 14


# ------------------------------------------------------------------ the command line


def _headless_campaign(folder: Path, extra: str = "") -> Path:
    (folder / "campaign.toml").write_text(CAMPAIGN.replace("{sender}", "2000001") + extra, encoding="utf-8")
    lines = ["phone,language,order_id"]
    lines += [f"+{n},en,E{i}" for i, n in enumerate(MANILA[:12])]
    lines += [f"+{n},ru,R{i}" for i, n in enumerate(MOSCOW[:7])]
    lines += [f"+{MANILA[20]},de,X1"]
    (folder / "numbers.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder / "campaign.toml"


def test_send_plans_per_language_and_each_request_carries_its_own(
    env: Path, sim: tuple[Simulator, str], capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from cams_tui.cli import main

    simulator, url = sim
    campaign = _headless_campaign(env)
    assert main(["send", str(campaign), "--dry-run", "--endpoint", url, "--batch-size", "5"]) == 0
    err = capsys.readouterr().err
    assert "en · 12 recipients" in err and "ru · 7 recipients" in err
    assert "+639171200020 rejected: the template has no language 'de' (it has: en, ru)" in err
    assert "19 recipients in 5 requests; left out: 1 rejected" in err
    assert not simulator.accepted
    assert main(["send", str(campaign), "--yes", "--json", "--endpoint", url, "--batch-size", "5"]) == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
    groups = next(e for e in events if e["event"] == "groups")
    assert [(g["language"], g["recipients"]) for g in groups["groups"]] == [("en", 12), ("ru", 7)]
    assert events[-1]["event"] == "done" and events[-1]["ok"] == 19
    carried = {number: request.language for request in simulator.accepted_requests for number in request.numbers}
    assert carried == {**{n: "en" for n in MANILA[:12]}, **{n: "ru" for n in MOSCOW[:7]}}
    # With language_fallback the German line goes in the campaign's language.
    campaign = _headless_campaign(env, "")
    text = campaign.read_text(encoding="utf-8").replace('cust_space_id', 'language_fallback = true\ncust_space_id')
    campaign.write_text(text, encoding="utf-8")
    assert main(["send", str(campaign), "--dry-run", "--endpoint", url, "--batch-size", "5"]) == 0
    assert "en · 13 recipients" in capsys.readouterr().err


def test_dry_run_says_how_many_go_now_and_when_the_rest_will(
    env: Path, sim: tuple[Simulator, str], capsys: pytest.CaptureFixture[str]
) -> None:
    import json
    import time

    from cams_tui.cli import main

    simulator, url = sim
    campaign = _headless_campaign(env, '\n[schedule]\nwindow = "09:00-20:00"\n')
    assert main(["send", str(campaign), "--dry-run", "--json", "--endpoint", url]) == 0
    now = time.time()
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
    groups = next(e for e in events if e["event"] == "groups")
    expected_now = sum(
        g["recipients"] for g in groups["groups"] if WINDOW.is_open(tuple(g["zones"]), now)
    )
    assert groups["sendable_now"] == expected_now
    for group in groups["groups"]:
        zones = tuple(group["zones"])
        assert group["opens_at"] == pytest.approx(WINDOW.next_open(zones, now), abs=120)
    assert {tuple(g["zones"]) for g in groups["groups"]} == {("Asia/Manila",), ("Europe/Moscow",)}
    assert main(["send", str(campaign), "--dry-run", "--endpoint", url]) == 0
    err = capsys.readouterr().err
    assert "delivery window 09:00-20:00 in each recipient's local time" in err
    assert ("go now" in err) and ("Asia/Manila" in err) and ("Europe/Moscow" in err)


# ------------------------------------------------------------------ the TUI's composition


def test_the_tuis_send_takes_the_window_fields_and_the_list_languages(tmp_path: Path) -> None:
    from cams_tui.api.models import TemplateDetail, TemplateSummary
    from cams_tui.simulator.demo_data import DEMO_SERVICE_ID, ORDER_SHIPPED, TEMPLATES, find_template
    from cams_tui.ui.campaign_draft import ComposeState, OptionsForm, create_job

    template = find_template(ORDER_SHIPPED, "en")
    assert template is not None
    text = "phone,language,order_id\n" + "\n".join(
        [f"+{n},en,E{i}" for i, n in enumerate(MANILA[:6])] + [f"+{n},ru,R{i}" for i, n in enumerate(MOSCOW[:4])]
    )
    state = ComposeState(
        templates=[TemplateSummary.model_validate(t.summary()) for t in TEMPLATES],
        template=TemplateSummary.model_validate(template.summary()),
        detail=TemplateDetail.model_validate(template.detail()),
        sender=DEMO_SERVICE_ID,
        params={"name": "Ann"},
        report=read_recipients_text(text),
        options=OptionsForm(send_window="09:00-20:00", send_days="mon,tue,wed,thu,fri,sat,sun"),
    )
    assert state.blocking_problems() == []
    campaign = state.campaign()
    assert campaign.schedule is not None and campaign.schedule.window == "09:00-20:00"
    assert OptionsForm(send_window="20-9").errors() == {"send_window": "window '20-9' ends before it starts; "
                                                        "write the hours within one day, e.g. 09:00-20:00"}
    assert "send_days" in OptionsForm(send_window="09:00-20:00", send_days="mon,funday").errors()
    groups, rejected = state.plan_groups()
    assert [(g.language, g.zones, g.recipients) for g in groups] in (
        [("en", ("Asia/Manila",), 6), ("ru", ("Europe/Moscow",), 4)],
        [("ru", ("Europe/Moscow",), 4), ("en", ("Asia/Manila",), 6)],
    ) and rejected == 0
    job_id = create_job(state, data_dir=tmp_path, endpoint="http://127.0.0.1:9", placement=Placement.BODY,
                        max_query_length=60_000)
    with Journal(tmp_path) as journal:
        job = journal.job(job_id)
        batches = journal.batches(job_id)
    assert job.schedule == {"window": {"start": 540, "end": 1200, "days": [0, 1, 2, 3, 4, 5, 6]}}
    assert sorted((b.language, b.zones, b.size) for b in batches) == [
        ("en", ("Asia/Manila",), 6), ("ru", ("Europe/Moscow",), 4)
    ]


async def test_the_tuis_preview_and_review_speak_each_language(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cams_tui.ui.widgets.template_preview import TemplatePreview
    from tests.support.ui_flow import demo_app, paste, settle

    app = demo_app(tmp_path, monkeypatch)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        state = app.state
        await pilot.press("down", "enter")  # order_shipped (en)
        await settle(pilot)
        await pilot.press("ctrl+n")
        rows = ["phone,language,name,order_id"] + [
            f"+{MANILA[0]},en,Ana,A1", f"+{MOSCOW[0]},ru,Иван,A2", f"+{MANILA[1]},en,Bob,A3"
        ]
        await paste(pilot, "\n".join(rows))
        assert state.recipient_count == 3
        await pilot.press("ctrl+n")  # params: the first recipient's preview, in English
        await settle(pilot)
        preview = app.compose_screen.query_one("#params-preview", TemplatePreview)
        assert "(en, 1/3)" in str(preview.border_title)
        await pilot.press("]")  # the second recipient: in Russian, loaded from CAMS
        await settle(pilot)
        assert "(ru, 2/3)" in str(preview.border_title)
        assert "ru" in state.language_details
        assert "Ваш заказ A2" in str(preview.render())
        await pilot.press("ctrl+n", "ctrl+n")  # options, review
        await settle(pilot)
        summary = str(app.compose_screen.query_one("#review-summary").render())
        assert "Languages" in summary and "en 2 · ru 1" in summary


def test_a_version_5_journal_gains_batch_languages_and_windows_and_keeps_its_batches(tmp_path: Path) -> None:
    import sqlite3
    import zlib

    from cams_tui.engine.journal import schema as module

    db = sqlite3.connect(tmp_path / "journal.sqlite3")
    for number in range(5):  # a journal as version 5 wrote it, with one job of one batch
        for statement in module._split_sql(module._MIGRATIONS[number]):
            db.execute(statement)
    db.execute(
        "INSERT INTO jobs (id, created_at, updated_at, state, endpoint, options_json, params_json, recipients, "
        "rejected, duplicates, suppressed, batches) VALUES ('old', 1, 1, 'planned', 'http://127.0.0.1:9', ?, '{}', "
        "1, 0, 0, 0, 1)",
        (OPTIONS.model_dump_json(by_alias=True, exclude_none=True),),
    )
    db.execute(
        "INSERT INTO batches (job_id, idx, size, state, sender_list, updated_at) VALUES ('old', 0, 1, 'planned', ?, 1)",
        (zlib.compress(b'[{"To":"639171200000"}]'),),
    )
    db.execute("PRAGMA user_version=5")
    db.commit()
    db.close()
    with Journal(tmp_path) as journal:
        (batch,) = journal.batches("old")
        assert (batch.language, batch.zones, batch.not_before) == (None, None, None)
        assert journal.sender_list("old", 0) == '[{"To":"639171200000"}]'
        assert journal._db.execute("PRAGMA user_version").fetchone()[0] == 6


def test_a_split_batch_keeps_its_language_and_window(tmp_path: Path) -> None:
    from cams_tui.engine.journal import PlannedBatch
    from cams_tui.engine.planning import split_in_halves

    items = ",".join(f'{{"To":"{n}"}}' for n in MOSCOW[:4])
    batch = PlannedBatch.of(4, f"[{items}]", language="ru", zones=("Europe/Moscow",), not_before=MOSCOW_OPENS)
    with Journal(tmp_path) as journal:
        job_id = journal.create_job(options=OPTIONS, params={}, batches=[batch], endpoint="http://127.0.0.1:9")
        created = journal.split_batch(job_id, 0, split_in_halves(journal.sender_list(job_id, 0)))
        pieces = journal.batches(job_id)
    assert [b.index for b in pieces] == created
    assert {(b.language, b.zones, b.not_before, b.size) for b in pieces} == {
        ("ru", ("Europe/Moscow",), MOSCOW_OPENS, 2)
    }


def test_the_send_monitor_says_what_a_window_wait_is_for() -> None:
    from cams_tui.ui.send_state import SendState

    state = SendState("job")
    state.apply([(0.0, ScheduleEvent("job", "waiting", MOSCOW_OPENS, "2026-12-01 06:00 +00:00", 3600.0, "window", 45))])
    assert state.phase == "scheduled"
    assert state.scheduled == "45 wait for their delivery window: next at 2026-12-01 06:00 +00:00, in 1h 00m 00s"
    state.apply([(1.0, ScheduleEvent("job", "waiting", MOSCOW_OPENS, "2026-12-01 06:00 +00:00", 3600.0))])
    assert state.scheduled.startswith("starts 2026-12-01 06:00 +00:00")


def test_a_campaign_with_windows_and_languages_round_trips_through_toml() -> None:
    import tomllib

    from cams_tui.campaign import campaign_to_toml

    campaign = parse_campaign({
        "template_code": "T", "language": "en", "from": "2000001", "language_fallback": True,
        "languages": {"ru": "ru", "PH": "tl"},
        "schedule": {"window": "09:00-20:00", "days": ["mon", "tue"], "zones": {"us": "America/New_York"}},
    })
    assert campaign.languages == {"RU": "ru", "PH": "tl"}
    assert campaign.schedule is not None and campaign.schedule.zones == {"US": "America/New_York"}
    again = parse_campaign(tomllib.loads(campaign_to_toml(campaign)))
    assert again == campaign
    plain = parse_campaign({"template_code": "T", "language": "en", "from": "2000001"})
    assert "language_fallback" not in campaign_to_toml(plain) and "languages" not in campaign_to_toml(plain)
    with pytest.raises(CampaignError, match=r"languages: .*'Philippines' is not a two-letter region code"):
        parse_campaign({"template_code": "T", "language": "en", "from": "1", "languages": {"Philippines": "tl"}})
