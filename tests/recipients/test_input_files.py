"""Inputs are refused by kind and size, and read as a snapshot."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from cams_tui.campaign import CampaignError, load_campaign
from cams_tui.cli import main
from cams_tui.config import ConfigError, load_settings
from cams_tui.input_files import CAMPAIGN_MAX_BYTES, PARAM_VALUE_MAX_CHARS, RECIPIENTS_MAX_BYTES, InputFileError
from cams_tui.recipients.decoding import open_source
from cams_tui.recipients.intake import read_recipients
from tests.support.campaigns import demo_campaign

CAMPAIGN = 'template_code = "T1"\nlanguage = "en"\nfrom = "2000001"\n'


def _refusal(path: Path) -> str:
    """The message reading ``path`` as a recipient list gives, within 5 s (a blocked open fails)."""
    outcome: list[BaseException | None] = []

    def read() -> None:
        try:
            read_recipients(path)
            outcome.append(None)
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            outcome.append(exc)

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    thread.join(timeout=5)
    assert outcome, f"reading {path} blocked"
    assert isinstance(outcome[0], OSError), outcome
    return str(outcome[0])


def test_special_files_are_refused_by_kind(tmp_path: Path) -> None:
    fifo = tmp_path / "numbers.fifo"
    os.mkfifo(fifo)  # nobody writes to it: the open must not wait
    assert "is a named pipe (FIFO), not a regular file" in _refusal(fifo)
    assert "is a folder" in _refusal(tmp_path)
    for device in ("/dev/zero", "/dev/urandom", "/dev/null"):
        message = _refusal(Path(device))
        assert "is a character device" in message and device in message


def test_send_names_the_kind_not_a_missing_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CAMS_TUI_CONFIG", str(tmp_path / "no-config.toml"))
    campaign = demo_campaign(tmp_path, count=3)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for recipients, kind in (("/dev/zero", "character device"), (str(fifo), "named pipe"), (str(tmp_path), "folder")):
        code = main(["send", str(campaign), "--recipients", recipients, "--dry-run", "--data-dir", str(tmp_path / "d")])
        err = capsys.readouterr().err
        assert code == 2 and kind in err and "does not exist" not in err, err
    for flag in ("--suppress",):
        code = main(["send", str(campaign), flag, "/dev/urandom", "--dry-run", "--data-dir", str(tmp_path / "d")])
        err = capsys.readouterr().err
        assert code == 2 and "opt-out list /dev/urandom" in err and "character device" in err, err


def _numbers(path: Path, count: int) -> None:
    path.write_text("phone\n" + "".join(f"+63917{i:07d}\n" for i in range(count)), encoding="utf-8")


@pytest.mark.parametrize("change", ["truncate", "append", "rewrite", "replace"])
def test_a_list_that_changes_while_read_is_refused(tmp_path: Path, change: str) -> None:
    path = tmp_path / "numbers.csv"
    _numbers(path, 50_000)
    source = open_source(path, "the recipient list")
    for _ in range(10):
        next(source.lines)
    if change == "truncate":
        os.truncate(path, 100_000)
    elif change == "append":
        with path.open("a") as file:
            file.write("+639179999999\n")
    elif change == "rewrite":
        stat = path.stat()
        with path.open("r+b") as file:
            file.write(b"phone\n+639")
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    else:
        replacement = tmp_path / "new.csv"
        _numbers(replacement, 50_000)
        os.replace(replacement, path)
    with pytest.raises(InputFileError, match="the recipient list .*numbers.csv .* while it was read") as caught:
        for _ in source.lines:
            pass
    assert {"truncate": "changed size", "append": "changed size", "rewrite": "was written to",
            "replace": "was replaced"}[change] in str(caught.value)


def test_a_list_truncated_during_a_send_plans_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "numbers.csv"
    _numbers(path, 200_000)
    cut = []

    def progress(done: int, total: int | None) -> None:
        if not cut and done > 500_000:
            os.truncate(path, 1_000_000)
            cut.append(done)

    with pytest.raises(OSError, match="changed size"):
        read_recipients(path, progress=progress)
    assert cut


def test_an_unchanged_list_reads_whole(tmp_path: Path) -> None:
    path = tmp_path / "numbers.csv"
    _numbers(path, 20_000)
    assert len(read_recipients(path).recipients.numbers) == 20_000


def test_sizes_over_the_limits_are_refused_with_both_sizes(tmp_path: Path) -> None:
    big = tmp_path / "numbers.csv"
    with big.open("wb") as file:  # sparse: costs no disk
        file.truncate(RECIPIENTS_MAX_BYTES + 1)
    message = _refusal(big)
    assert "1,024.0 MiB, over the limit of 1,024.0 MiB: split it" in message
    campaign = tmp_path / "campaign.toml"
    with campaign.open("wb") as file:
        file.truncate(CAMPAIGN_MAX_BYTES + 1)
    with pytest.raises(CampaignError, match=r"4\.0 MiB, over the limit of 4\.0 MiB"):
        load_campaign(campaign)
    config = tmp_path / "config.toml"
    os.link(campaign, config)
    with pytest.raises(ConfigError, match=r"over the limit of 4\.0 MiB"):
        load_settings(config)


def test_special_files_as_campaign_and_config(tmp_path: Path) -> None:
    for path, kind in ((Path("/dev/zero"), "character device"), (tmp_path, "folder")):
        with pytest.raises(CampaignError, match=kind):
            load_campaign(path)
        with pytest.raises(ConfigError, match=kind):
            load_settings(path)
    fifo = tmp_path / "config.fifo"
    os.mkfifo(fifo)
    with pytest.raises(ConfigError, match="named pipe"):
        load_settings(fifo)


def test_deeply_nested_toml_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "deep.toml"
    path.write_text(CAMPAIGN + "x = " + "[" * 200_000 + "]" * 200_000 + "\n", encoding="utf-8")
    with pytest.raises(CampaignError, match="nested too deeply"):
        load_campaign(path)
    with pytest.raises(ConfigError, match="nested too deeply"):
        load_settings(path)


def test_a_config_with_a_byte_order_mark_reads_like_a_campaign_with_one(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_bytes(b"\xef\xbb\xbf" + b'default_profile = "work"\n[profiles.work]\nregion = "ap-southeast-1"\n')
    assert load_settings(config).default_profile == "work"
    campaign = tmp_path / "campaign.toml"
    campaign.write_bytes(b"\xef\xbb\xbf" + CAMPAIGN.encode())
    assert load_campaign(campaign).template_code == "T1"


def test_parameter_values_longer_than_a_viber_message_are_refused(tmp_path: Path) -> None:
    campaign = tmp_path / "campaign.toml"
    campaign.write_text(CAMPAIGN + f'[params]\nname = "{"a" * (PARAM_VALUE_MAX_CHARS + 1)}"\n', encoding="utf-8")
    with pytest.raises(CampaignError, match="params.name is 1,001 characters long; .* at most 1,000"):
        load_campaign(campaign)
    campaign.write_text(CAMPAIGN + f'[params]\nname = "{"a" * PARAM_VALUE_MAX_CHARS}"\n', encoding="utf-8")
    assert len(load_campaign(campaign).params["name"]) == PARAM_VALUE_MAX_CHARS
    numbers = tmp_path / "numbers.csv"
    numbers.write_text(
        f"phone,name\n+639170000001,{'b' * PARAM_VALUE_MAX_CHARS}\n+639170000002,{'b' * 1001}\n", encoding="utf-8"
    )
    report = read_recipients(numbers)
    assert len(report.recipients.numbers) == 1
    (rejected,) = report.rejected
    assert rejected.line == 3 and "column 'name' holds 1,001 characters" in rejected.reason


def test_a_sparse_or_binary_recipients_file_is_refused_at_once(tmp_path: Path) -> None:
    from cams_tui.recipients import IntakeOptions, read_recipients

    sparse = tmp_path / "sparse.csv"
    with sparse.open("wb") as handle:
        handle.truncate(512 * 1024 * 1024)  # 512 MiB of holes: nothing on disk, NULs when read
    started = time.monotonic()
    with pytest.raises(OSError, match="NUL bytes") as caught:
        read_recipients(sparse, IntakeOptions(default_region="PH"))
    assert time.monotonic() - started < 5  # refused from its first bytes, not read whole
    assert "numbers" in str(caught.value)
