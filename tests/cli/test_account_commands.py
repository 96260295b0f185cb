"""``cams-tui templates`` and ``cams-tui doctor`` against the simulator."""

from __future__ import annotations

import json

import pytest

from cams_tui.cli import main
from cams_tui.simulator import DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, Faults, Simulator
from cams_tui.simulator.demo_data import DEMO_SERVICE_ID

# The demo account's CustSpaceId (the simulator requires one of ListChatappMessage and
# ListViberServiceMessage, as CAMS does).
DEMO_CUST_SPACE_ID = "cams-demo-shop"


@pytest.fixture
def demo_env(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", DEMO_ACCESS_KEY_ID)
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", DEMO_ACCESS_KEY_SECRET)
    monkeypatch.delenv("ALIBABA_CLOUD_SECURITY_TOKEN", raising=False)
    monkeypatch.setenv("CAMS_TUI_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("CAMS_TUI_DATA_DIR", str(tmp_path / "data"))


def test_templates_json_lists_only_approved_viber_templates(
    demo_env: None, threaded_sim_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["templates", "--json", "--endpoint", threaded_sim_url]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows, "the demo data has approved templates"
    assert all(set(row) == {"template_code", "name", "language", "audit_status", "category"} for row in rows)
    assert {row["audit_status"] for row in rows} == {"pass"}
    codes = {row["template_code"] for row in rows}
    assert "loyalty_points" not in codes and "black_friday" not in codes


def test_templates_table_for_people(demo_env: None, threaded_sim_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["templates", "--endpoint", threaded_sim_url]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split()[:2] == ["TEMPLATE_CODE", "NAME"]
    assert "order_shipped" in out


def test_doctor_passes_every_check_in_both_placements(
    demo_env: None, simulator: Simulator, threaded_sim_url: str, capsys: pytest.CaptureFixture[str], tmp_path
) -> None:
    for placement in ("body", "query"):
        (tmp_path / "config.toml").write_text(
            f'default_profile = "p"\n[profiles.p]\nplacement = "{placement}"\n'
            f'cust_space_id = "{DEMO_CUST_SPACE_ID}"\nfrom = "{DEMO_SERVICE_ID}"\n',
            encoding="utf-8",
        )
        assert main(["doctor", "--endpoint", threaded_sim_url]) == 0
        out = capsys.readouterr().out
        for name in (
            "credentials", "CustSpaceId", "endpoint", "clock", "signature", "placement", "permission", "templates",
            "service IDs",
        ):
            assert f"ok   {name}" in out, out
        assert "FAIL" not in out
    # The probe reached CAMS and was refused: nothing was accepted, nobody was messaged.
    assert not simulator.accepted


def test_doctor_says_what_needs_the_cust_space_id(
    demo_env: None, threaded_sim_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["doctor", "--endpoint", threaded_sim_url]) == 1
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if "CustSpaceId" in line)
    assert line.split()[0] == "FAIL"
    assert "lookups of unknown batches" in line and "Channel Management" in line and "cust_space_id" in line


def test_doctor_names_the_permission_a_mass_send_needs(
    demo_env: None, simulator: Simulator, threaded_sim_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    simulator.faults = Faults(deny=True)
    main(["doctor", "--endpoint", threaded_sim_url])
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if " permission " in line)
    assert line.split()[0] == "FAIL"
    assert "cams:SendChatappMassMessage" in line and "acs:cams::" in line


def test_doctor_explains_a_wrong_secret(
    demo_env: None, threaded_sim_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "not-the-secret")
    assert main(["doctor", "--endpoint", threaded_sim_url]) == 1
    out = capsys.readouterr().out
    assert "FAIL signature" in out and "SignatureDoesNotMatch" in out
    assert "ALIBABA_CLOUD_ACCESS_KEY_SECRET" in out
    assert "not-the-secret" not in out


def test_doctor_names_an_unreachable_endpoint(demo_env: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor", "--endpoint", "http://127.0.0.1:9"]) == 1
    assert "FAIL endpoint" in capsys.readouterr().out


def test_doctor_reports_an_unsubscribed_account(
    demo_env: None, simulator: Simulator, threaded_sim_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    simulator.faults = Faults(unsubscribed=True)
    assert main(["doctor", "--endpoint", threaded_sim_url]) == 1
    out = capsys.readouterr().out
    assert "Product.Unsubscript" in out and "activate it in the CAMS console" in out


def test_missing_credentials_exit_2_with_the_variable_names(
    demo_env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("ALIBABA_CLOUD_ACCESS_KEY_ID")
    assert main(["templates", "--endpoint", "http://127.0.0.1:9"]) == 2
    assert "ALIBABA_CLOUD_ACCESS_KEY_ID" in capsys.readouterr().err


def test_plain_http_to_a_remote_host_is_refused(demo_env: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["templates", "--endpoint", "http://cams.example.com"]) == 2
    assert "only https is allowed" in capsys.readouterr().err


def test_doctor_proves_a_mass_send_body_is_read_without_delivering(
    demo_env: None, simulator: Simulator, threaded_sim_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    simulator.faults = Faults.parse("ignore_body=1")
    assert main(["doctor", "--endpoint", threaded_sim_url]) == 1
    line = next(line for line in capsys.readouterr().out.splitlines() if " placement " in line)
    assert line.split()[0] == "FAIL" and 'placement = "query"' in line and "Missing" in line
    assert not simulator.accepted


def _doctor_config(tmp_path, limiter: str, account: str | None = None) -> None:
    lines = ['default_profile = "p"', "[profiles.p]", f'cust_space_id = "{DEMO_CUST_SPACE_ID}"',
             f'from = "{DEMO_SERVICE_ID}"', f'limiter = "{limiter}"']
    if account:
        lines.append(f'account = "{account}"')
    (tmp_path / "config.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _account_line(out: str) -> str:
    (line,) = [line for line in out.splitlines() if "account limit" in line]
    return line.strip()


def test_doctor_reports_the_account_key_where_its_budget_is_and_who_sends_on_it(
    demo_env: None, threaded_sim_url: str, capsys: pytest.CaptureFixture[str], tmp_path
) -> None:
    import asyncio

    from cams_tui.engine.limiters.factory import build_limiter

    _doctor_config(tmp_path, "host")
    assert main(["doctor", "--endpoint", threaded_sim_url]) == 0
    line = _account_line(capsys.readouterr().out)
    assert line.startswith("ok")
    assert "the AccessKey ID" in line and DEMO_ACCESS_KEY_ID not in line and DEMO_ACCESS_KEY_SECRET not in line
    assert str(tmp_path / "data") in line and "0 sender(s) of SendChatappMassMessage" in line

    # Two senders of the account "shop" are active on the host's budget now.
    _doctor_config(tmp_path, "host", account="shop")

    async def two_senders() -> list:
        limiters = [build_limiter("host", 10, account="shop", data_dir=tmp_path / "data") for _ in range(2)]
        for limiter in limiters:
            (await limiter.acquire()).started()
        return limiters

    held = asyncio.run(two_senders())
    assert main(["doctor", "--endpoint", threaded_sim_url]) == 0
    line = _account_line(capsys.readouterr().out)
    assert "account 'shop' (the profile's account)" in line
    assert "2 sender(s) of SendChatappMassMessage, 0 of ListChatappMessage" in line
    assert len(held) == 2


def test_doctor_says_when_the_accounts_redis_cannot_be_reached_and_hides_its_password(
    demo_env: None, threaded_sim_url: str, capsys: pytest.CaptureFixture[str], tmp_path
) -> None:
    from tests.support.limiters import free_port

    _doctor_config(tmp_path, f"redis://:hunter2secret@127.0.0.1:{free_port()}/0")
    assert main(["doctor", "--endpoint", threaded_sim_url]) == 1
    out = capsys.readouterr().out
    line = _account_line(out)
    assert line.startswith("FAIL") and "cannot be used" in line and "127.0.0.1" in line
    assert "--local-limiter" in line
    assert "hunter2secret" not in out


def test_doctor_says_the_process_limiter_shares_nothing(
    demo_env: None, threaded_sim_url: str, capsys: pytest.CaptureFixture[str], tmp_path
) -> None:
    _doctor_config(tmp_path, "process")
    assert main(["doctor", "--endpoint", threaded_sim_url]) == 0
    line = _account_line(capsys.readouterr().out)
    assert "this process alone" in line and "not shared" in line
