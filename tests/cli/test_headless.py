"""`cams-tui send/resume/jobs/export` end to end against the simulator over real HTTP."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import stat
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import pytest

from cams_tui.api.endpoints import Placement
from cams_tui.cli import main
from cams_tui.engine.journal import Journal
from cams_tui.simulator import Faults, Simulator, SimulatorConfig
from tests.support.campaigns import demo_campaign, json_lines


def test_dry_run_plans_and_writes_no_job(env: Path, sim: tuple[Simulator, str], capsys: pytest.CaptureFixture[str]) -> None:
    simulator, url = sim
    campaign = demo_campaign(env)
    code = main(["send", str(campaign), "--dry-run", "--json", "--endpoint", url, "--batch-size", "100"])
    assert code == 0
    (plan,) = json_lines(capsys.readouterr().out)
    assert plan["event"] == "plan" and plan["job_id"] is None and plan["dry_run"] is True
    assert (plan["recipients"], plan["rejected"], plan["duplicates"], plan["suppressed"], plan["batches"]) == (
        450, 1, 1, 0, 5
    )
    assert not simulator.accepted
    assert main(["jobs", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_send_json_stream_then_jobs_and_export(
    env: Path, sim: tuple[Simulator, str], capsys: pytest.CaptureFixture[str]
) -> None:
    simulator, url = sim
    campaign = demo_campaign(env)
    assert main(["send", str(campaign), "--yes", "--json", "--endpoint", url, "--batch-size", "100"]) == 0
    events = json_lines(capsys.readouterr().out)
    assert [e["event"] for e in events] == ["plan"] + ["batch"] * 5 + ["done"]
    plan, done = events[0], events[-1]
    job_id = plan["job_id"]
    assert plan["recipients"] == 450 and plan["batches"] == 5
    for batch in events[1:-1]:
        assert set(batch) >= {"index", "size", "outcome", "http_status", "code", "message", "request_id",
                              "group_message_id", "attempt", "latency_ms"}
        assert batch["outcome"] == "ok"
    assert (done["state"], done["ok"], done["failed"], done["unknown"]) == ("done", 450, 0, 0)
    assert Counter(simulator.accepted.values()) == {1: 450}

    assert main(["jobs", "--json"]) == 0
    (job,) = json.loads(capsys.readouterr().out)
    assert (job["job_id"], job["state"], job["ok"], job["pending"]) == (job_id, "done", 450, 0)

    assert main(["export", job_id]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(rows) == 451
    assert rows[0]["to"] == "639170000000" and rows[0]["status"] == "ok" and rows[0]["group_message_id"]
    assert rows[-1]["status"] == "rejected" and rows[-1]["to"] == "not-a-number"

    out = env / "export.jsonl"
    assert main(["export", job_id, "--format", "jsonl", "-o", str(out)]) == 0
    lines = json_lines(out.read_text(encoding="utf-8"))
    assert Counter(r["status"] for r in lines) == {"ok": 450, "rejected": 1}
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_missing_credentials_name_the_variables(
    env: Path, sim: tuple[Simulator, str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, url = sim
    monkeypatch.delenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET")
    assert main(["send", str(demo_campaign(env)), "--yes", "--endpoint", url]) == 2
    err = capsys.readouterr().err
    assert "ALIBABA_CLOUD_ACCESS_KEY_ID" in err and "ALIBABA_CLOUD_ACCESS_KEY_SECRET" in err


def test_a_template_variable_without_value_is_refused_with_its_count(
    env: Path, sim: tuple[Simulator, str], capsys: pytest.CaptureFixture[str]
) -> None:
    simulator, url = sim
    campaign = demo_campaign(env, count=100, order_id=False)
    assert main(["send", str(campaign), "--yes", "--endpoint", url]) == 2
    err = capsys.readouterr().err
    assert "'order_id'" in err and "50 recipient" in err
    assert not simulator.accepted


def test_without_yes_and_without_a_terminal_nothing_is_sent(
    env: Path, sim: tuple[Simulator, str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    simulator, url = sim
    monkeypatch.setattr(sys, "stdin", io.StringIO("450\n"))
    assert main(["send", str(demo_campaign(env)), "--endpoint", url]) == 2
    assert "--yes" in capsys.readouterr().err
    assert not simulator.accepted


def test_typed_confirmation_must_match_the_count(
    env: Path, sim: tuple[Simulator, str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    simulator, url = sim

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stdin", Terminal("449\n"))
    assert main(["send", str(demo_campaign(env)), "--endpoint", url]) == 2
    assert "not confirmed" in capsys.readouterr().err and not simulator.accepted
    monkeypatch.setattr(sys, "stdin", Terminal("450\n"))
    assert main(["send", str(demo_campaign(env)), "--endpoint", url]) == 0
    assert len(simulator.accepted) == 450


def test_permission_denied_exits_4_with_advice_then_resume_completes(
    env: Path, sim: tuple[Simulator, str], capsys: pytest.CaptureFixture[str]
) -> None:
    simulator, url = sim
    simulator.faults = Faults(deny=True)
    assert main(["send", str(demo_campaign(env)), "--yes", "--json", "--endpoint", url, "--batch-size", "100"]) == 4
    captured = capsys.readouterr()
    done = json_lines(captured.out)[-1]
    assert done["state"] == "stopped" and done["code"] == "Ram.PermissionDeny"
    assert "cams:SendChatappMassMessage" in done["advice"]
    job_id = done["job_id"]
    simulator.faults = Faults()
    assert main(["resume", job_id, "--yes", "--endpoint", url]) == 0
    assert "done: 450 ok" in capsys.readouterr().err
    assert Counter(simulator.accepted.values()) == {1: 450}


def test_a_resume_in_query_placement_replans_a_body_job(
    env: Path, sim: tuple[Simulator, str], capsys: pytest.CaptureFixture[str]
) -> None:
    """Planned with parameters in the body (1,000 recipients in one batch), resumed with a
    profile that now says "query" (as the advice says when CAMS does not read bodies): the
    unsent batches are split to fit the URL, recorded, and sent in the query string."""
    simulator, url = sim
    simulator.faults = Faults(deny=True)
    assert main(["send", str(demo_campaign(env, count=1_200)), "--yes", "--json", "--endpoint", url]) == 4
    job_id = json_lines(capsys.readouterr().out)[-1]["job_id"]
    (env / "no-config.toml").write_text('default_profile = "q"\n[profiles.q]\nplacement = "query"\n', encoding="utf-8")
    simulator.faults = Faults()
    assert main(["resume", job_id, "--yes", "--endpoint", url]) == 0
    err = capsys.readouterr().err
    assert "done: 1,200 ok" in err
    assert Counter(simulator.accepted.values()) == {1: 1_200}
    with Journal(env / "data") as journal:
        job = journal.job(job_id)
        sizes = [b.size for b in journal.batches(job_id)]
    assert job.placement is Placement.QUERY
    assert sum(sizes) == 1_200 and max(sizes) < 1_000 and len(sizes) > 2


def test_permission_denied_in_plain_words_without_json(
    env: Path, sim: tuple[Simulator, str], capsys: pytest.CaptureFixture[str]
) -> None:
    simulator, url = sim
    simulator.faults = Faults(deny=True)
    assert main(["send", str(demo_campaign(env)), "--yes", "--endpoint", url]) == 4
    err = capsys.readouterr().err
    assert "Ram.PermissionDeny" in err and "cams:SendChatappMassMessage" in err and "cams-tui resume" in err


def test_unknown_exits_3_and_failed_exits_1(
    env: Path, sim: tuple[Simulator, str], capsys: pytest.CaptureFixture[str]
) -> None:
    simulator, url = sim
    simulator.faults = Faults.parse("5xx_after_accept=1")
    assert main(["send", str(demo_campaign(env)), "--yes", "--no-reconcile", "--endpoint", url]) == 3
    err = capsys.readouterr().err
    assert "unknown" in err
    # The hint is the resume that looks unknown batches up first, not the one that resends them.
    assert "resume with: cams-tui resume " in err and "--retry-unknown" not in err.split("resume with:")[1]
    # Without --no-reconcile the send looks its own unknown batch up: CAMS lists it, so it is ok.
    # (The same list again, on purpose: --allow-repeat.)
    assert main(["send", str(demo_campaign(env)), "--yes", "--allow-repeat", "--endpoint", url]) == 0
    err = capsys.readouterr().err
    assert "1 accepted" in err and "450 ok, 0 failed, 0 unknown" in err
    simulator.faults = Faults()
    # An inactive Service ID: CAMS refuses every request, the job goes on and records them.
    assert main(
        ["send", str(demo_campaign(env, sender="2000002")), "--yes", "--json", "--allow-repeat", "--endpoint", url]
    ) == 1
    done = json_lines(capsys.readouterr().out)[-1]
    assert (done["state"], done["failed"]) == ("done", 450)


def test_resume_of_a_finished_job_sends_nothing(
    env: Path, sim: tuple[Simulator, str], capsys: pytest.CaptureFixture[str]
) -> None:
    simulator, url = sim
    assert main(["send", str(demo_campaign(env)), "--yes", "--json", "--endpoint", url]) == 0
    job_id = json_lines(capsys.readouterr().out)[0]["job_id"]
    assert main(["resume", job_id, "--yes", "--endpoint", url]) == 0
    assert "nothing left to send" in capsys.readouterr().err
    assert main(["resume", "no-such-job", "--yes"]) == 2
    assert sum(simulator.accepted.values()) == 450


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=["INT", "TERM", "HUP"])
def test_a_stop_signal_stops_cleanly_with_130_and_the_job_resumes(
    env: Path, tmp_path: Path, signum: signal.Signals
) -> None:
    simulator = Simulator(SimulatorConfig(rate=10, latency_ms=100))
    campaign = demo_campaign(env, count=2000)
    with simulator.run_in_thread(port=0) as url:
        process = subprocess.Popen(
            [sys.executable, "-m", "cams_tui", "send", str(campaign), "--yes", "--json", "--endpoint", url,
             "--batch-size", "100"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=os.environ.copy(),
        )
        assert process.stdout is not None
        lines = []
        for line in process.stdout:
            lines.append(json.loads(line))
            if lines[-1]["event"] == "batch" and len(lines) >= 3:
                process.send_signal(signum)
                break
        rest, err = process.communicate(timeout=30)
        lines += json_lines(rest)
        assert process.returncode == 130, err
        done = lines[-1]
        assert done["event"] == "done" and done["state"] == "interrupted" and done["pending"] > 0
        assert "Traceback" not in err
        assert main(["resume", done["job_id"], "--yes", "--endpoint", url]) == 0
    assert Counter(simulator.accepted.values()) == {1: 2000}


def test_export_to_an_unwritable_place_is_a_plain_error(
    env: Path, sim: tuple[Simulator, str], capsys: pytest.CaptureFixture[str]
) -> None:
    _, url = sim
    assert main(["send", str(demo_campaign(env, count=3)), "--yes", "--json", "--endpoint", url]) == 0
    job_id = json_lines(capsys.readouterr().out)[0]["job_id"]
    assert main(["export", job_id, "-o", str(env / "missing-folder" / "x.csv")]) == 2
    err = capsys.readouterr().err
    assert "cannot write" in err and "Traceback" not in err


def test_a_send_settles_its_own_unknowns_exactly_once(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Connections dropped before acceptance (nothing recorded) and after it (the recipients
    # recorded, the answer lost), and 503s, during the first pass, as a network that misbehaves for a
    # while does: the send looks them up, resends only what CAMS verifiably never accepted,
    # and ends with nobody unknown and nobody messaged twice. (A batch whose last attempt is
    # the account's latest activity cannot be settled until something later is listed: the
    # faults end with the first pass so that the resends are that something.)
    simulator = Simulator(
        SimulatorConfig(rate=50, latency_ms=5, seed=11, faults=Faults.parse("drop_before_accept=0.1,5xx=0.05,drop=0.15,seed=5"))
    )
    first_pass = threading.Event()

    def heal_after_first_pass() -> None:
        while not first_pass.wait(0.01):
            if len(simulator.accepted_requests) >= 24:  # of 30 batches, about 15 % never accepted
                simulator.faults = Faults()
                first_pass.set()

    healer = threading.Thread(target=heal_after_first_pass, daemon=True)
    with simulator.run_in_thread(port=0) as url:
        healer.start()
        campaign = demo_campaign(env, 3000)
        code = main(
            ["send", str(campaign), "--yes", "--json", "--wait", "--grace", "3", "--resend-verified",
             "--batch-size", "100", "--endpoint", url]
        )
        first_pass.set()
        events = json_lines(capsys.readouterr().out)
    outcomes = Counter(e["outcome"] for e in events if e["event"] == "batch")
    assert outcomes["unknown"] >= 2, outcomes  # the faults did make some batches unknown
    reconciled = [e for e in events if e["event"] == "reconciled"]
    assert reconciled and reconciled[0]["ok"] >= 1 and reconciled[0]["not_sent_verified"] >= 1
    done = events[-1]
    assert done["event"] == "done"
    assert (done["ok"], done["unknown"], done["not_sent_verified"], done["pending"]) == (3000, 0, 0, 0)
    assert code == 0
    assert len(simulator.accepted) == 3000 and max(simulator.accepted.values()) == 1


def test_a_gateway_that_does_not_read_bodies_stops_the_job_and_query_resumes_it(
    env: Path, sim: tuple[Simulator, str], capsys: pytest.CaptureFixture[str]
) -> None:
    simulator, url = sim
    simulator.faults = Faults.parse("ignore_body=1")
    assert main(["send", str(demo_campaign(env, count=2_500)), "--yes", "--json", "--endpoint", url]) == 4
    captured = capsys.readouterr()
    events = json_lines(captured.out)
    done = events[-1]
    assert done["state"] == "stopped" and done["code"].startswith("Missing")
    assert 'placement = "query"' in done["advice"]
    # The job stopped at its first answer: nothing else left, nothing was accepted.
    assert [e["outcome"] for e in events if e["event"] == "batch"] == ["fatal"]
    assert not simulator.accepted
    (env / "no-config.toml").write_text('default_profile = "q"\n[profiles.q]\nplacement = "query"\n', encoding="utf-8")
    assert main(["resume", done["job_id"], "--yes", "--endpoint", url]) == 0
    assert "done: 2,500 ok" in capsys.readouterr().err
    assert Counter(simulator.accepted.values()) == {1: 2_500}


@pytest.mark.parametrize("where", ["campaign", "profile"])
@pytest.mark.parametrize("region", ["XX", "P", "1"])
def test_an_unknown_default_region_in_a_campaign_or_profile_is_a_usage_error(
    env: Path, sim: tuple[Simulator, str], capsys: pytest.CaptureFixture[str], where: str, region: str
) -> None:
    simulator, url = sim
    campaign = demo_campaign(env)
    argv = ["send", str(campaign), "--dry-run", "--endpoint", url]
    if where == "campaign":
        text = campaign.read_text(encoding="utf-8").replace('file = "numbers.csv"', f'file = "numbers.csv"\ndefault_region = "{region}"')
        campaign.write_text(text, encoding="utf-8")
    else:
        config = env / "config.toml"
        config.write_text(f'[profiles.p]\ndefault_region = "{region}"\n', encoding="utf-8")
        os.environ["CAMS_TUI_CONFIG"] = str(config)  # restored by the env fixture's monkeypatch
        argv += ["--profile", "p"]
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err and "error (" not in err
    assert "region" in err and region in err
    assert not simulator.accepted
