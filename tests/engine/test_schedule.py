"""Scheduled sends: the time is refused when it cannot be meant, the job waits in the
runner (one place for both front ends), a cancel during the wait sends nothing, and a job
killed while waiting and resumed sends at its time, exactly once."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from cams_tui.api.client import Placement
from cams_tui.campaign import CampaignError, parse_campaign
from cams_tui.cli import main
from cams_tui.engine.events import Event, ScheduleEvent
from cams_tui.engine.journal import Journal, JobState
from cams_tui.engine.planning import plan_batches
from cams_tui.engine.run import JobRunner, RunHooks, RunOptions
from cams_tui.schedule import JobSchedule, ScheduleError, countdown, parse_send_time
from cams_tui.simulator import Simulator
from tests.support.campaigns import demo_campaign
from tests.support.engine import OPTIONS, client, items

NOW = 1_800_000_000.0  # a fixed Unix time for the pure tests


# ------------------------------------------------------------------- the time itself


def test_a_time_without_a_zone_is_refused_naming_the_fix() -> None:
    with pytest.raises(ScheduleError, match=r"--at: 2026-12-24T09:00 has no time zone; add its UTC offset"):
        parse_send_time("2026-12-24T09:00", now=NOW)


def test_a_time_in_the_past_is_refused() -> None:
    with pytest.raises(ScheduleError, match="is in the past"):
        parse_send_time("2020-01-01T00:00Z", now=NOW)
    with pytest.raises(ScheduleError, match="is in the past"):
        parse_send_time(datetime.fromtimestamp(NOW, timezone.utc).isoformat(), now=NOW)


def test_a_malformed_time_is_refused_with_an_example() -> None:
    with pytest.raises(ScheduleError, match=r"'tomorrow 9am' is not a date and time; write it as 2026-12-24T09:00\+08:00"):
        parse_send_time("tomorrow 9am", now=NOW)


def test_a_future_time_keeps_its_zone_for_display() -> None:
    moment = parse_send_time("2027-03-01T09:30+08:00", now=NOW)
    schedule = JobSchedule.of(moment)
    assert schedule.at == moment.timestamp()
    assert schedule.describe() == "2027-03-01 09:30 +08:00"
    assert JobSchedule.from_json(json.loads(json.dumps(schedule.to_json()))) == schedule
    assert JobSchedule.of(parse_send_time("2027-03-01T09:30-05:30", now=NOW)).describe() == "2027-03-01 09:30 -05:30"


def test_countdown_reads_as_time_left() -> None:
    assert countdown(5.2) == "6s"
    assert countdown(65) == "1m 05s"
    assert countdown(3 * 3600 + 4 * 60 + 5) == "3h 04m 05s"
    assert countdown(2 * 86400 + 3 * 3600 + 60) == "2d 03h 01m"


def _campaign_with(schedule: dict[str, object]) -> object:
    return parse_campaign({"template_code": "T", "language": "en", "from": "2000001", "schedule": schedule})


def test_the_campaign_schedule_table_takes_at_and_checks_its_fields() -> None:
    campaign = _campaign_with({"at": "2027-03-01T09:30+08:00"})
    assert campaign.schedule.at == datetime(2027, 3, 1, 9, 30, tzinfo=timezone(timedelta(hours=8)))  # type: ignore[attr-defined]
    with pytest.raises(CampaignError, match="schedule.at: 2027-03-01T09:30 has no time zone"):
        _campaign_with({"at": datetime(2027, 3, 1, 9, 30)})  # a TOML local datetime
    with pytest.raises(CampaignError, match=r"schedule.window: .*is not a range of hours"):
        _campaign_with({"window": "9am"})
    with pytest.raises(CampaignError, match=r"schedule.days: Input should be a valid list"):
        _campaign_with({"at": "2027-03-01T09:30+08:00", "days": "mon"})
    with pytest.raises(CampaignError, match="schedule.every: is not a campaign field"):
        _campaign_with({"every": "day"})


# ------------------------------------------------------------------ the runner's wait


class _FakeTime:
    """A clock that moves only when the runner sleeps."""

    def __init__(self, start: float) -> None:
        self.now = start
        self.naps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.naps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


def _scheduled_job(journal: Journal, url: str, at: float, count: int = 250) -> str:
    batches = plan_batches(items(count), OPTIONS, placement=Placement.BODY, max_query_length=60_000, max_size=100)
    return journal.create_job(
        options=OPTIONS, params={}, batches=batches, endpoint=url,
        schedule=JobSchedule(at=at, zone="+08:00").to_json(),
    )


async def test_the_runner_waits_for_the_start_then_sends(tmp_path: Path, simulator: Simulator, sim_url: str) -> None:
    fake = _FakeTime(time.time())
    events: list[Event] = []
    with Journal(tmp_path) as journal:
        job_id = _scheduled_job(journal, sim_url, fake.now + 3600.5)
        sent_during_wait: list[int] = []

        def observe(event: Event) -> None:
            events.append(event)
            if isinstance(event, ScheduleEvent) and event.stage == "waiting":
                sent_during_wait.append(sum(simulator.accepted.values()))

        async with client(sim_url) as api:
            runner = JobRunner(api, journal, job_id, RunOptions(rate=50), RunHooks(event=observe),
                               clock=fake.clock, sleep=fake.sleep)
            result = await runner.run()
    waits = [e for e in events if isinstance(e, ScheduleEvent)]
    assert waits[0].stage == "waiting" and waits[0].remaining_s == pytest.approx(3600.5)
    assert waits[-1].stage == "starting"
    assert len(waits) == 3601 + 1  # one a second, and the start
    assert max(fake.naps) <= 1.0 and fake.now >= time.time()  # it waited on the fake clock
    assert set(sent_during_wait) == {0}
    assert result.done.state == "done" and result.done.ok == 250
    assert sum(simulator.accepted.values()) == 250
    # The wait came before everything else the run says.
    assert isinstance(events[0], ScheduleEvent)


async def test_a_cancel_during_the_wait_sends_nothing_and_keeps_the_time(
    tmp_path: Path, simulator: Simulator, sim_url: str
) -> None:
    fake = _FakeTime(time.time())
    with Journal(tmp_path) as journal:
        job_id = _scheduled_job(journal, sim_url, fake.now + 86_400)
        async with client(sim_url) as api:
            runner: JobRunner

            events: list[Event] = []

            def observe(event: Event) -> None:
                events.append(event)
                if isinstance(event, ScheduleEvent) and event.remaining_s < 86_390:
                    runner.cancel()

            runner = JobRunner(api, journal, job_id, RunOptions(rate=50), RunHooks(event=observe),
                               clock=fake.clock, sleep=fake.sleep)
            result = await runner.run()
        job = journal.job(job_id)
    assert result.done.state == JobState.INTERRUPTED.value and result.done.pending == 250
    assert [e.stage for e in events if isinstance(e, ScheduleEvent)][-1] == "cancelled"
    assert job.state == JobState.INTERRUPTED.value and job.schedule is not None
    assert not simulator.accepted and not simulator.accepted_requests


async def test_a_job_whose_time_has_passed_sends_at_once(tmp_path: Path, simulator: Simulator, sim_url: str) -> None:
    with Journal(tmp_path) as journal:
        job_id = _scheduled_job(journal, sim_url, time.time() - 5)
        events: list[Event] = []
        async with client(sim_url) as api:
            result = await JobRunner(api, journal, job_id, RunOptions(rate=50), RunHooks(event=events.append)).run()
    assert result.done.ok == 250
    assert not [e for e in events if isinstance(e, ScheduleEvent)]


# ------------------------------------------------------------------ the command line


def test_send_refuses_a_past_or_zoneless_time_before_anything(
    env: Path, sim: tuple[Simulator, str], capsys: pytest.CaptureFixture[str]
) -> None:
    simulator, url = sim
    campaign = demo_campaign(env, count=50)
    assert main(["send", str(campaign), "--yes", "--endpoint", url, "--at", "2020-01-01T09:00+08:00"]) == 2
    assert "--at: 2020-01-01T09:00+08:00 is in the past" in capsys.readouterr().err
    assert main(["send", str(campaign), "--yes", "--endpoint", url, "--at", "2030-01-01T09:00"]) == 2
    assert "has no time zone" in capsys.readouterr().err
    assert not simulator.accepted
    with Journal(env / "data") as journal:
        assert journal.jobs() == []


def test_dry_run_shows_the_start(env: Path, sim: tuple[Simulator, str], capsys: pytest.CaptureFixture[str]) -> None:
    _simulator, url = sim
    campaign = demo_campaign(env, count=50)
    code = main(["send", str(campaign), "--dry-run", "--json", "--endpoint", url, "--at", "2030-01-01T09:00+08:00"])
    assert code == 0
    (plan,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert plan["scheduled_at"] == "2030-01-01T09:00:00+08:00" and plan["recipients"] == 50


def _start_scheduled_send(campaign: Path, url: str, at: datetime, data: Path, env_vars: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "cams_tui", "send", str(campaign), "--yes", "--json", "--rate", "50",
         "--batch-size", "100", "--endpoint", url, "--at", at.isoformat()],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**env_vars, "CAMS_TUI_DATA_DIR": str(data)},
    )


def _wait_for_schedule_event(process: subprocess.Popen[str]) -> dict[str, object]:
    assert process.stdout is not None
    for line in process.stdout:
        event = json.loads(line)
        if event["event"] == "schedule":
            return event
    raise AssertionError(f"no schedule event: {process.stderr.read() if process.stderr else ''}")


@pytest.mark.slow
def test_killed_while_waiting_then_resumed_sends_at_its_time_exactly_once(
    env: Path, sim: tuple[Simulator, str], capsys: pytest.CaptureFixture[str]
) -> None:
    import os

    simulator, url = sim
    campaign = demo_campaign(env, count=450)
    at = datetime.now(timezone(timedelta(hours=8))).replace(microsecond=0) + timedelta(seconds=8)  # room for a slow start
    process = _start_scheduled_send(campaign, url, at, env / "data", dict(os.environ))
    event = _wait_for_schedule_event(process)
    assert event["stage"] == "waiting" and event["at"] == at.timestamp()
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=30)
    assert process.returncode == -signal.SIGKILL
    assert not simulator.accepted  # killed while waiting: nothing left
    with Journal(env / "data") as journal:
        (job,) = journal.jobs()
    assert job.schedule == {"at": at.timestamp(), "zone": "+08:00"} and job.pending == 450

    # The resume waits for the same time, then sends every recipient once.
    assert main(["resume", job.id, "--yes", "--json", "--endpoint", url]) == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert events[0]["event"] == "schedule" and events[0]["at"] == at.timestamp()
    assert events[-1]["event"] == "done" and events[-1]["ok"] == 450
    assert len(simulator.accepted) == 450 and set(simulator.accepted.values()) == {1}
    assert min(r.time for r in simulator.accepted_requests) >= at.timestamp()


@pytest.mark.slow
def test_ctrl_c_while_waiting_sends_nothing(env: Path, sim: tuple[Simulator, str]) -> None:
    import os

    simulator, url = sim
    campaign = demo_campaign(env, count=200)
    at = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(seconds=8)  # room for a slow start
    process = _start_scheduled_send(campaign, url, at, env / "data", dict(os.environ))
    _wait_for_schedule_event(process)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 130, err
    assert '"stage": "cancelled"' in out
    time.sleep(max(at.timestamp() - time.time(), 0) + 1.0)  # past its time: still nothing
    assert not simulator.accepted and not simulator.accepted_requests
    with Journal(env / "data") as journal:
        (job,) = journal.jobs()
    assert job.state == JobState.INTERRUPTED.value and job.pending == 200


def test_the_campaign_schedule_round_trips_and_a_past_one_is_refused_by_send(
    env: Path, sim: tuple[Simulator, str], capsys: pytest.CaptureFixture[str]
) -> None:
    from cams_tui.campaign import campaign_to_toml, load_campaign

    simulator, url = sim
    campaign = demo_campaign(env, count=20)
    text = campaign.read_text(encoding="utf-8")
    campaign.write_text(text + '\n[schedule]\nat = 2030-01-01T09:00:00+08:00\n', encoding="utf-8")
    loaded = load_campaign(campaign)
    assert 'at = "2030-01-01T09:00:00+08:00"' in campaign_to_toml(loaded)
    (env / "again.toml").write_text(campaign_to_toml(loaded), encoding="utf-8")
    assert load_campaign(env / "again.toml").schedule == loaded.schedule
    assert main(["send", str(campaign), "--dry-run", "--endpoint", url]) == 0
    assert "scheduled for 2030-01-01 09:00 +08:00" in capsys.readouterr().err
    campaign.write_text(text + '\n[schedule]\nat = "2021-01-01T09:00+08:00"\n', encoding="utf-8")
    assert main(["send", str(campaign), "--yes", "--endpoint", url]) == 2
    assert "schedule.at: 2021-01-01T09:00+08:00 is in the past" in capsys.readouterr().err
    assert not simulator.accepted


async def test_a_job_waiting_elsewhere_is_not_waited_on_twice(tmp_path: Path, simulator: Simulator, sim_url: str) -> None:
    from cams_tui.engine.journal import JournalError

    with Journal(tmp_path) as journal:
        job_id = _scheduled_job(journal, sim_url, time.time() + 3600)
        async with client(sim_url) as api:
            with journal.lock_job(job_id):  # as another process waiting for (or sending) it
                with pytest.raises(JournalError, match="is being sent by another cams-tui process"):
                    await JobRunner(api, journal, job_id, RunOptions(rate=50)).run()
    assert not simulator.accepted
