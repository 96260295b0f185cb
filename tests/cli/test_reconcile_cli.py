"""`cams-tui reconcile` and the look-ups of `cams-tui resume`, end to end on the simulator."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cams_tui.cli import main
from cams_tui.engine.journal import Journal
from cams_tui.simulator import Simulator
from tests.support.campaigns import demo_campaign, json_lines
from tests.support.engine import CUST_SPACE_ID, LOOKUP_OPTIONS, make_job


def _campaign(folder: Path, count: int) -> Path:
    """The headless tests' campaign, with its CustSpaceId (its batches are looked up)."""
    campaign = demo_campaign(folder, count=count)
    assert "cust_space_id" in campaign.read_text(encoding="utf-8")
    return campaign


def test_reconcile_finds_a_batch_accepted_by_an_earlier_attempt(
    env: Path, sim: tuple[Simulator, str], capsys: pytest.CaptureFixture[str]
) -> None:
    simulator, url = sim
    campaign = _campaign(env, count=300)
    assert main(["send", str(campaign), "--yes", "--json", "--endpoint", url, "--batch-size", "100"]) == 0
    capsys.readouterr()
    with Journal(env / "data") as journal:
        (job,) = journal.jobs()
        journal.mark_sending(job.id, 1)  # as if it were being sent again when the process died
        sent_at = journal.attempts(job.id, 1)[-1]["started_at"]
    # Batch 1 was accepted (by its first attempt): the lookup finds it, whatever the grace.
    assert main(["reconcile", job.id, "--json", "--grace", "0.2", "--lookup-rate", "50", "--endpoint", url]) == 0
    events = json_lines(capsys.readouterr().out)
    (resolution,) = [e for e in events if e["event"] == "resolution"]
    assert resolution["state"] == "ok" and resolution["lookups"] == 1
    assert resolution["evidence"]["message_ids"] and resolution["evidence"]["window_start"] < sent_at
    assert max(simulator.accepted.values()) == 1


def test_a_batch_never_sent_is_verified_and_resent_only_with_consent(
    env: Path, sim: tuple[Simulator, str], capsys: pytest.CaptureFixture[str]
) -> None:
    simulator, url = sim
    # A job whose batch 0 was committed "sending", then the process died before it left.
    with Journal(env / "data") as journal:
        job_id = make_job(journal, url, 300, 100, options=LOOKUP_OPTIONS)
        journal.mark_sending(job_id, 0)
    # Nothing sent after batch 0 is listed yet: an empty lookup proves nothing, so batch 0
    # stays unknown, and the resume sends the rest.
    code = main(["resume", job_id, "--yes", "--json", "--grace", "0.3", "--wait", "--endpoint", url])
    out = capsys.readouterr()
    assert code == 3, out.err
    assert "no batch on this Service ID accepted after this one is listed" in out.err
    assert len(simulator.accepted) == 200
    # The rest, accepted after it and listed, is the control: batch 0 is verified not sent.
    code = main(["resume", job_id, "--yes", "--json", "--grace", "0.3", "--wait", "--endpoint", url])
    out = capsys.readouterr()
    assert code == 3, out.err
    assert "verified not sent are left out" in out.err and "batch 0 (100 recipients) verified not sent" in out.err
    assert len(simulator.accepted) == 200
    assert main(["jobs", "--json"]) == 0
    (row,) = [r for r in json.loads(capsys.readouterr().out) if r["job_id"] == job_id]
    assert (row["ok"], row["not_sent"], row["unknown"]) == (200, 100, 0)
    assert main(["resume", job_id, "--yes", "--json", "--resend-verified", "--endpoint", url]) == 0
    assert len(simulator.accepted) == 300 and max(simulator.accepted.values()) == 1


def test_reconcile_with_its_redis_down_goes_on_alone_with_local_limiter(
    env: Path, sim: tuple[Simulator, str], capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.support.limiters import free_port

    simulator, url = sim
    campaign = _campaign(env, count=300)
    assert main(["send", str(campaign), "--yes", "--json", "--endpoint", url, "--batch-size", "100"]) == 0
    capsys.readouterr()
    with Journal(env / "data") as journal:
        (job,) = journal.jobs()
        journal.mark_sending(job.id, 1)
    # The profile's Redis is down: the lookups' budget cannot be reached.
    config = env / "config.toml"
    config.write_text(
        f'default_profile = "p"\n[profiles.p]\nlimiter = "redis://127.0.0.1:{free_port()}/0"\n'
        f'cust_space_id = "{CUST_SPACE_ID}"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("CAMS_TUI_CONFIG", str(config))
    code = main(["reconcile", job.id, "--json", "--grace", "0.2", "--lookup-rate", "50", "--endpoint", url,
                 "--local-limiter", "2"])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "lookups' limiter (redis://127.0.0.1" in out.err and "cannot be reached" in out.err
    assert "paced here alone, at 25 calls/s" in out.err
    (resolution,) = [e for e in json_lines(out.out) if e["event"] == "resolution"]
    assert resolution["state"] == "ok"
