"""The streamed export writes exactly what one neutralised row at a time would, in both formats."""

from __future__ import annotations

import io
import json
from pathlib import Path

from cams_tui.api.models import MassMessageOptions
from cams_tui.engine.journal import Answer, BatchState, Journal, PlannedBatch, Reject
from cams_tui.export import EXPORT_FIELDS, export_rows, export_to_file, write_export
from cams_tui.untrusted import write_csv

OPTIONS = MassMessageOptions(template_code="TPL", language="en", From="2000001")
NASTY = ['=HYPERLINK("x")', "a,b\r\nc", "\r=1", 'quote " here', "tab\there", "ünï"]


def _job(data: Path) -> str:
    batches = []
    for b in range(6):
        items = [{"TemplateParams": {"name": NASTY[b]}, "To": f"63917{b:03d}{i:04d}"} for i in range(50 + b)]
        if b == 5:
            items.append({"To": "+not digits"})  # a stored number that is not plain digits
        batches.append(PlannedBatch.of(len(items), json.dumps(items, separators=(",", ":"))))
    with Journal(data) as journal:
        job_id = journal.create_job(
            options=OPTIONS, params={}, batches=batches, endpoint="http://127.0.0.1:9",
            rejects=[Reject(line, text, "not a number") for line, text in enumerate(NASTY * 2000, start=2)],
        )
        states = [BatchState.OK, BatchState.FAILED, BatchState.UNKNOWN, BatchState.NOT_SENT_VERIFIED]
        for index, state in enumerate(states):
            journal.mark_sending(job_id, index)
            journal.record_answer(
                job_id, index, 1, state,
                Answer(outcome=state.value, code=NASTY[index], message=NASTY[-1 - index], request_id=f"r{index}"),
            )
    return job_id


def _one_row_at_a_time(journal: Journal, job_id: str, fmt: str) -> str:
    out = io.StringIO()
    rows = export_rows(journal, job_id)
    if fmt == "csv":
        write_csv(out, list(EXPORT_FIELDS), rows)
    else:
        out.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    return out.getvalue()


def test_streamed_export_is_the_row_by_row_export(tmp_path: Path) -> None:
    data = tmp_path / "data"
    job_id = _job(data)
    with Journal(data) as journal:
        total = journal.job(job_id).recipients + journal.job(job_id).rejected
        for fmt in ("csv", "jsonl"):
            out = io.StringIO()
            seen: list[tuple[int, int]] = []
            count = write_export(journal, job_id, fmt, out, lambda d, t: seen.append((d, t)))
            assert out.getvalue() == _one_row_at_a_time(journal, job_id, fmt)
            assert count == total == seen[-1][0]
            assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_export_to_file_is_private_and_counts_rows(tmp_path: Path) -> None:
    data = tmp_path / "data"
    job_id = _job(data)
    path = tmp_path / "out.csv"
    count = export_to_file(data, job_id, "csv", path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.read_text(encoding="utf-8").count("\n") >= count
    assert "'=HYPERLINK" in path.read_text(encoding="utf-8")
