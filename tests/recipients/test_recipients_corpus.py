"""The corpus of messy files in tests/data/recipients/, against the counts in expected.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cams_tui.recipients import IntakeOptions, load_suppression, read_recipients

CORPUS = Path(__file__).resolve().parents[1] / "data" / "recipients"
CASES = [
    pytest.param(name, case, id=f"{name}-{index}")
    for name, cases in json.loads((CORPUS / "expected.json").read_text("utf-8")).items()
    for index, case in enumerate(cases)
]


@pytest.mark.parametrize(("name", "case"), CASES)
def test_corpus_file(name: str, case: dict[str, Any]) -> None:
    options = dict(case["options"])
    if "suppress" in case:
        options["suppressed"] = load_suppression(
            [CORPUS / path for path in case["suppress"]], options.get("default_region")
        )
    report = read_recipients(CORPUS / name, IntakeOptions(**options))

    assert report.summary() == case["summary"]
    simple = ("lines_read", "blank_lines", "delimiter", "encoding", "header", "phone_column",
              "param_columns", "per_country", "flagged_non_mobile")
    for key in simple:
        if key in case:
            assert getattr(report, key) == case[key], key
    if "recipients" in case:
        got = [[row.to, row.line, row.params] for row in report.recipients]
        assert got == case["recipients"]
    if "rejected_lines" in case:
        assert [r.line for r in report.rejected] == case["rejected_lines"]
    if "duplicate_lines" in case:
        assert [[d.line, d.first_line] for d in report.duplicates] == case["duplicate_lines"]
    reasons = {r.line: r.reason for r in report.rejected}
    for line, part in case.get("reason_contains", {}).items():
        assert part in reasons[int(line)]
    # Whatever the file, every line is accounted for.
    assert report.entries == sum(report.summary().values())
    if report.header is not None or report.delimiter is not None:
        header = 1 if report.header is not None else 0
        assert report.lines_read == header + report.blank_lines + report.entries


def test_bytes_and_file_objects_read_like_paths() -> None:
    path = CORPUS / "cp1252.csv"
    options = IntakeOptions(default_region="PH")
    by_path = read_recipients(path, options)
    by_bytes = read_recipients(path.read_bytes(), options)
    with path.open("rb") as handle:
        by_file = read_recipients(handle, options)
    assert list(by_path.recipients) == list(by_bytes.recipients) == list(by_file.recipients)
    assert by_path.notes[-1].endswith("read as Windows-1252")


def test_optout_list_suppresses_both_readings_of_an_ambiguous_entry() -> None:
    numbers = load_suppression([CORPUS / "optout.txt"], "PH")
    assert numbers == {"639171234567", "9592162120", "639592162120"}
    assert load_suppression([CORPUS / "optout.txt"]) == {"639171234567", "9592162120"}
    assert load_suppression([CORPUS / "missing.txt"], missing_ok=True) == frozenset()
    with pytest.raises(OSError, match="missing.txt"):
        load_suppression([CORPUS / "missing.txt"])
