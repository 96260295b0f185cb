"""The intake pipeline: never crashes, accounts for every line, streams, carries parameters."""

from __future__ import annotations

import codecs
import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from cams_tui.recipients import (
    IntakeOptions,
    IntakeReport,
    check_params,
    read_recipients,
    read_recipients_text,
)
from cams_tui.recipients.params import resolve_params

PH = IntakeOptions(default_region="PH")


def _accounted(report: IntakeReport) -> None:
    """The invariants every report keeps, whatever it was fed."""
    summary = report.summary()
    assert report.entries == sum(summary.values())
    assert len(report.recipients) == summary["recipients"]
    assert len({row.to for row in report.recipients}) == len(report.recipients)
    assert sum(report.per_country.values()) == len(report.recipients)
    assert all(r.reason for r in report.rejected)
    assert len(report.rejected) == report.rejected_count
    assert len(report.duplicates) == report.duplicate_count
    for row in report.recipients:
        assert row.to.isdigit() and row.to[0] != "0" and 7 <= len(row.to) <= 17
        assert 1 <= row.line <= max(report.lines_read, 1)
    first_lines = {row.to: row.line for row in report.recipients}
    for duplicate in report.duplicates:
        assert duplicate.first_line < duplicate.line or duplicate.first_line == duplicate.line
        assert duplicate.first_line in first_lines.values()


# Cells made of the pieces real lists are made of, so hypothesis reaches valid numbers too.
_cell = st.one_of(
    st.sampled_from(["+63 917 123 4567", "09171234567", "639181234567", "9592162120",
                     "+1 415 555 2671", "0049 170 1234567", "02 8123 4567", "", " ", "n/a",
                     '"0917, 555 0000"', "6.39E+11", "\ufeffphone", "Name", "mobile"]),
    st.text("0123456789+ -()", max_size=16),
    st.text(max_size=12),
)
_line = st.lists(_cell, min_size=0, max_size=4)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    lines=st.lists(_line, max_size=12),
    delimiter=st.sampled_from([",", ";", "\t", "|"]),
    region=st.sampled_from([None, "PH", "US"]),
)
def test_any_text_is_accounted_for(lines: list[list[str]], delimiter: str, region: str | None) -> None:
    text = "\n".join(delimiter.join(cells) for cells in lines)
    report = read_recipients_text(text, IntakeOptions(default_region=region))
    _accounted(report)
    if report.delimiter is None and report.header is None:
        # One cell a line, with no separator in it: the lines add up exactly.
        if all(len(cells) <= 1 and not any(c in "".join(cells) for c in ",;\t|\r") for cells in lines):
            assert report.lines_read == report.blank_lines + report.entries


@settings(max_examples=150, deadline=None)
@given(data=st.binary(max_size=400), region=st.sampled_from([None, "PH"]))
def test_any_bytes_never_crash(data: bytes, region: str | None) -> None:
    _accounted(read_recipients(data, IntakeOptions(default_region=region)))


@settings(max_examples=60, deadline=None)
@given(
    data=st.binary(max_size=200),
    bom=st.sampled_from([b"", codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE]),
)
def test_any_bytes_after_a_byte_order_mark_never_crash(data: bytes, bom: bytes) -> None:
    _accounted(read_recipients(bom + data, PH))


def test_one_number_per_line_adds_up_exactly() -> None:
    text = "phone\n+63 917 123 4567\n\n09171234567\njunk\n+95 9 216 2120\n"
    report = read_recipients_text(text, PH)
    assert report.header == ["phone"]
    assert report.lines_read == 6
    assert (report.blank_lines, report.summary()) == (
        1,
        {"recipients": 2, "rejected": 1, "duplicates": 1, "suppressed": 0},
    )
    assert 1 + report.blank_lines + report.entries == report.lines_read


def test_pasted_numbers_with_any_separators() -> None:
    text = "+63 917 123 4567, 0918 765 4321; 0919 111 2222\t0920 333 4444|0921 555 6666\n"
    report = read_recipients_text(text, PH)
    assert [row.to for row in report.recipients] == [
        "639171234567", "639187654321", "639191112222", "639203334444", "639215556666",
    ]
    assert {row.line for row in report.recipients} == {1}


def test_suppressed_numbers_are_counted_and_never_kept() -> None:
    options = IntakeOptions(default_region="PH", suppressed=frozenset({"639171234567"}))
    report = read_recipients_text("09171234567\n+63 917 123 4567\n09181234567\n", options)
    assert report.summary() == {"recipients": 1, "rejected": 0, "duplicates": 0, "suppressed": 2}
    assert [s.line for s in report.suppressed] == [1, 2]


def test_control_characters_in_parameters_reject_the_line() -> None:
    text = "phone,name\n09171234567,Ann\n09181234567,\"Bo\x07b\"\n"
    report = read_recipients_text(text, PH)
    assert report.summary()["recipients"] == 1
    assert report.rejected[0].line == 3
    assert "column 'name' contains a control character (U+0007)" in report.rejected[0].reason


def test_parameter_values_are_trimmed_and_columns_can_be_limited() -> None:
    text = "mobile,name,city,unused\n09171234567,  Ann  , Manila ,x\n"
    report = read_recipients_text(text, IntakeOptions(default_region="PH",
                                                      param_columns=frozenset({"name", "city"})))
    assert report.param_columns == ["name", "city"]
    assert report.recipients[0].params == {"name": "Ann", "city": "Manila"}


def test_rows_short_of_parameter_columns_and_overlong_values_in_any_column() -> None:
    long = "z" * 1001
    text = (
        "mobile,name,city\n09171234567, Ann ,Manila\n09181234567,Ben\n"
        f"09191234567,Cy,{long}\n09201234567,{long},Cebu\n09271234567\n"
    )
    report = read_recipients_text(text, PH)
    assert [(row.line, row.params) for row in report.recipients] == [
        (2, {"name": "Ann", "city": "Manila"}),
        (3, {"name": "Ben", "city": ""}),
        (6, {"name": "", "city": ""}),
    ]
    assert [(r.line, r.reason.split(" holds")[0]) for r in report.rejected] == [
        (4, "column 'city'"),
        (5, "column 'name'"),
    ]


def test_quoted_fields_may_span_lines_and_hold_delimiters() -> None:
    text = (
        'phone;note\n"0917 123 4567";"a; b ""c"""\n'
        '0918 765 4321;"two\nlines"\n0919 111 2222;plain\n'
    )
    report = read_recipients_text(text, PH)
    assert [(row.line, row.params["note"]) for row in report.recipients] == [
        (2, 'a; b "c"'),
        (5, "plain"),
    ]
    # A line break inside a value is a control character: that record is rejected, whole.
    assert [(r.line, r.text) for r in report.rejected] == [(3, "0918 765 4321")]
    assert "U+000A" in report.rejected[0].reason
    assert report.lines_read == 5


def test_a_broken_csv_record_is_rejected_not_fatal() -> None:
    huge = "x" * 200_000
    text = f'phone,name\n0917 123 4567,"{huge}\n0918 765 4321,Ben\n'
    report = read_recipients_text(text, PH)
    _accounted(report)
    assert report.rejected and "quotes" in report.rejected[0].reason


def test_utf16_without_bom_and_header_column_found_by_content() -> None:
    data = "Customer\tContact\nAnn\t+63 917 123 4567\nBob\t+63 918 765 4321\n".encode("utf-16-le")
    report = read_recipients(data, PH)
    assert report.encoding == "UTF-16 LE"
    assert report.phone_column == "Contact"
    assert [row.params for row in report.recipients] == [{"Customer": "Ann"}, {"Customer": "Bob"}]


def test_no_header_extra_columns_are_explained() -> None:
    report = read_recipients_text("Ann,0917 123 4567\nBob,0918 765 4321\n", PH)
    assert report.summary()["recipients"] == 2
    assert any("no header row" in note for note in report.notes)


def test_streaming_reports_progress_in_bytes() -> None:
    rows = "".join(f"+63 917 {i // 10000:03d} {i % 10000:04d}\n" for i in range(20_000))
    data = ("phone\n" + rows).encode()
    seen: list[tuple[int, int | None]] = []
    report = read_recipients(io.BytesIO(data), PH, progress=lambda done, total: seen.append((done, total)))
    assert len(report.recipients) == 20_000
    assert len(seen) >= 3
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)
    assert seen[-1] == (len(data), len(data))


def test_listing_is_capped_but_counts_stay_exact() -> None:
    report = read_recipients_text("junk\n" * 50, IntakeOptions(max_listed=10))
    assert report.rejected_count == 50 and len(report.rejected) == 10


def test_options_are_validated_with_clear_messages() -> None:
    with pytest.raises(ValidationError, match="not a region code"):
        IntakeOptions(default_region="XX")
    with pytest.raises(ValidationError, match="digits with the country code"):
        IntakeOptions(suppressed=frozenset({"+639171234567"}))
    assert IntakeOptions(default_region=" ph ").default_region == "PH"


def test_unreadable_path_names_the_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(OSError, match="nope.csv"):
        read_recipients(tmp_path / "nope.csv")


def test_check_params_sources_and_missing_values() -> None:
    text = "phone,name,code\n09171234567,Ann,A1\n09181234567,,B2\n09191112222,Cy,\n"
    report = read_recipients_text(text, PH)
    result = check_params(report, ["name", "code", "shop", "promo"], {"code": "X", "shop": "Main",
                                                                       "extra": "1"})
    assert result.from_columns == ["name", "code"]
    assert result.from_globals == ["shop"]
    missing = {m.name: (m.count, m.first_lines) for m in result.missing}
    assert missing == {"name": (1, [3]), "promo": (3, [2, 3, 4])}
    assert result.unused_globals == ["extra"]
    assert not result.ok and len(result.problems()) == 2
    rows = list(report.recipients)
    assert resolve_params(rows[2], ["name", "code", "shop"], {"code": "X", "shop": "Main"}) == {
        "name": "Cy", "code": "X", "shop": "Main",
    }


def test_check_params_rejects_control_characters_in_globals() -> None:
    report = read_recipients_text("09171234567\n", PH)
    result = check_params(report, ["shop"], {"shop": "Main\x00"})
    assert not result.ok
    assert "control character (U+0000)" in result.errors[0]


def test_report_summary_is_the_plan_event_shape() -> None:
    report = read_recipients_text("09171234567\n09171234567\nx\n", PH)
    assert report.summary() == {"recipients": 1, "rejected": 1, "duplicates": 1, "suppressed": 0}
    data = report.to_dict()
    assert data["per_country"] == {"PH": 1}
    assert data["duplicate_lines"] == [{"line": 2, "text": "09171234567", "first_line": 1}]
