"""The intake read in a process of its own gives the report read here, field by field."""

from __future__ import annotations

from pathlib import Path

import pytest

from cams_tui.recipients import IntakeOptions, read_recipients, read_recipients_text
from cams_tui.recipients.background import IntakeCancelled, read_in_process

TEXT = "phone,name,order_id\n" + "".join(
    f"+63917{i % 900:07d},Ná{i},\n" if i % 7 else f"not-a-number {i},x,y\n" for i in range(1200)
) + "\n\n+14155550123,Ann,Z\n"


def _same(a, b) -> None:  # type: ignore[no-untyped-def]
    assert list(a.recipients.numbers) == list(b.recipients.numbers)
    assert list(a.recipients.lines) == list(b.recipients.lines)
    assert a.recipients.columns == b.recipients.columns
    assert a.rejected == b.rejected and a.duplicates == b.duplicates
    assert a.suppressed == b.suppressed and a.non_mobile == b.non_mobile
    assert a.to_dict(listed=10**6) == b.to_dict(listed=10**6)


def test_a_file_read_in_a_process_is_the_same_report(tmp_path: Path) -> None:
    path = tmp_path / "numbers.csv"
    path.write_text(TEXT, encoding="utf-8")
    options = IntakeOptions(default_region="PH", suppressed=["639170000005"])
    seen: list[tuple[int, int | None]] = []
    report = read_in_process(path, None, options, progress=lambda d, t: seen.append((d, t)))
    _same(report, read_recipients(path, options))
    assert report.suppressed_count == 2 and report.duplicate_count > 0 and report.rejected_count > 0


def test_pasted_text_read_in_a_process_is_the_same_report() -> None:
    options = IntakeOptions(default_region="PH")
    _same(read_in_process(None, TEXT, options), read_recipients_text(TEXT, options))
    empty = read_in_process(None, "", options)
    assert len(empty.recipients) == 0


def test_a_missing_file_is_an_os_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(OSError, match="nowhere.csv"):
        read_in_process(tmp_path / "nowhere.csv", None, IntakeOptions())


def test_a_cancelled_read_stops(tmp_path: Path) -> None:
    path = tmp_path / "numbers.csv"
    path.write_text(TEXT, encoding="utf-8")
    with pytest.raises(IntakeCancelled):
        read_in_process(path, None, IntakeOptions(), cancelled=lambda: True)
