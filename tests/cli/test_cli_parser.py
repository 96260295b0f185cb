"""The command line is read once, by the full parser: no word changes meaning by where it is
or what it spells (a file named ``simulator``, a profile named ``send``)."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from cams_tui.cli import entry as cli
from cams_tui.simulator import Simulator
from tests.support.campaigns import demo_campaign

POSITIONALS = {"send": ["campaign.toml"], "resume": ["JOB"], "reconcile": ["JOB"], "export": ["JOB"], "report": ["JOB"]}


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = cli.build_parser()
    (action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(action.choices)


def _value_flags(parser: argparse.ArgumentParser) -> list[str]:
    return [a.option_strings[-1] for a in parser._actions if a.option_strings and a.nargs != 0]


def _outcome(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> object:
    """What ``cli.main`` dispatches for ``argv`` (its namespace), or how argparse exits."""
    seen: list[argparse.Namespace] = []
    monkeypatch.setattr(cli, "_dispatch", lambda args: seen.append(args) or 0)
    try:
        cli.main(argv)
    except SystemExit as exc:
        return ("exit", exc.code)
    (args,) = seen
    return vars(args)


def _full_parse(argv: list[str]) -> object:
    try:
        return vars(cli.build_parser().parse_args(argv))
    except SystemExit as exc:
        return ("exit", exc.code)


def _cases() -> list[tuple[str, str, str, list[str]]]:
    commands = _subcommands()
    top_flags = [f for f in _value_flags(cli.build_parser()) if f not in ("-h", "--help")]
    cases = []
    for command, sub in commands.items():
        if command == "simulator":
            continue
        positionals = POSITIONALS.get(command, [])
        for flag in [*_value_flags(sub), *top_flags]:
            for name in commands:
                cases.append((command, flag, name, [command, *positionals, flag, name]))
                cases.append((command, flag, name, [command, flag, name, *positionals]))
        for flag in top_flags:
            for name in commands:
                cases.append((command, flag, name, [flag, name, command, *positionals]))
    return cases


@pytest.mark.slow
def test_every_flag_value_spelled_like_a_subcommand_is_read_by_the_full_parser(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cases = _cases()
    assert len(cases) > 300
    parsed = 0
    for command, flag, name, argv in cases:
        outcome = _outcome(argv, monkeypatch)
        assert outcome == _full_parse(argv), argv
        if isinstance(outcome, dict):
            parsed += 1
            # The value went to its flag, and the command is the one asked for.
            assert outcome["command"] == command, argv
            value = outcome[flag.lstrip("-").replace("-", "_")]
            assert value == name or value == [name], argv
            assert "simulator_args" not in outcome, argv
    capsys.readouterr()
    # Typed flags (--rate, --batch-size, --format) refuse a word; the rest take it.
    assert parsed > len(cases) // 2


def test_the_simulator_gets_its_words_and_the_flags_before_it_stay_cams_tuis(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    outcome = _outcome(["--data-dir", "send", "simulator", "--port", "0", "--seed", "send"], monkeypatch)
    assert isinstance(outcome, dict)
    assert outcome["command"] == "simulator" and outcome["data_dir"] == "send"
    assert outcome["simulator_args"] == ["--port", "0", "--seed", "send"]
    assert _outcome(["simulator", "--help"], monkeypatch)["simulator_args"] == ["--help"]  # type: ignore[index]


def test_recipients_named_simulator_with_dry_run_sends_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    simulator: Simulator, threaded_sim_url: str,
) -> None:
    from cams_tui.simulator import DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET

    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", DEMO_ACCESS_KEY_ID)
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", DEMO_ACCESS_KEY_SECRET)
    monkeypatch.setenv("CAMS_TUI_CONFIG", str(tmp_path / "no-config.toml"))
    monkeypatch.delenv("CAMS_TUI_ENDPOINT", raising=False)
    campaign = demo_campaign(tmp_path, count=200)
    (tmp_path / "simulator").write_text("phone,order_id\n+639170000001,A1\n+639170000002,A2\n", encoding="utf-8")
    (tmp_path / "optout.txt").write_text("+639170000002\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    code = cli.main([
        "send", str(campaign), "--recipients", "simulator", "--dry-run", "--suppress", "optout.txt", "--json",
        "--endpoint", threaded_sim_url, "--data-dir", str(tmp_path / "data"),
    ])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert '"dry_run": true' in out and '"recipients": 1' in out and '"suppressed": 1' in out
    assert not simulator.accepted
    assert '"job_id": null' in out  # a dry run writes no job


@pytest.mark.parametrize("region", ["XX", "P", "1", "PHL", ""])
def test_a_bad_default_region_is_a_usage_error(region: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        cli.main(["send", "c.toml", "--default-region", region, "--dry-run"])
    assert caught.value.code == 2
    assert f"give a two-letter region code such as PH, SG or MY, not {region!r}" in capsys.readouterr().err


def test_a_default_region_in_lower_case_is_read_as_the_code(monkeypatch: pytest.MonkeyPatch) -> None:
    outcome = _outcome(["send", "c.toml", "--default-region", "ph"], monkeypatch)
    assert isinstance(outcome, dict) and outcome["default_region"] == "PH"
