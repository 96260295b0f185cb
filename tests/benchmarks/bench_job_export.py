"""Creating a 1,000,000-recipient journal job, and exporting 200,000 rows from both front ends.

    uv run python tests/benchmarks/bench_job_export.py [--recipients 1000000] [--export-rows 200000] [--rounds 3]

Job creation: from an intake already read (the planning benchmark's list: a number and two
parameters per row), :func:`~cams_tui.engine.new_job.plan_job` + ``write_job`` (planning
by column, compression, one SQLite transaction), against the per-recipient path it replaced
(``sender_item`` + ``resolve_params`` per recipient, ``plan_batches``, ``create_job``), in
the same run. The intake's own time is shown for scale.

Export: a 200,000-recipient job with half its batches answered, written as CSV to a file by

* ``headless``: ``cams-tui export JOB -o FILE`` as a process (its start included);
* ``tui``: the jobs screen under Pilot, its export action (the dialog's choice given), to
  the file on disk;
* ``reference``: the row-by-row export (one dict per recipient through the neutralising
  CSV writer), in this process.

Goals: job creation ≤ 2 s; each export ≤ 2 s. Exits 1 when one is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from cams_tui.api.endpoints import Placement  # noqa: E402
from cams_tui.api.models import MassMessageOptions  # noqa: E402
from cams_tui.engine.journal import Answer, BatchState, Journal, Reject  # noqa: E402
from cams_tui.engine.new_job import plan_job, write_job  # noqa: E402
from cams_tui.engine.planning import plan_batches, sender_item  # noqa: E402
from cams_tui.export import EXPORT_FIELDS, export_rows  # noqa: E402
from cams_tui.recipients import IntakeOptions, read_recipients  # noqa: E402
from cams_tui.recipients.params import resolve_params  # noqa: E402
from cams_tui.untrusted import write_csv  # noqa: E402

OPTIONS = MassMessageOptions(template_code="TPL", language="en", From="2000001")
NAMES = ["name", "order_id", "shop"]
GLOBALS = {"shop": "Demo Shop"}
GOAL_S = 2.0


def write_list(path: Path, count: int) -> None:
    with path.open("w", encoding="utf-8") as handle:
        handle.write("phone,name,order_id\n")
        for i in range(count):
            handle.write(f"+63917{i:07d},Customer {i % 997},A{i}\n")


def create_new(report, data_dir: Path) -> str:  # type: ignore[no-untyped-def]
    plan = plan_job(
        report, names=NAMES, global_params=GLOBALS, options=OPTIONS, placement=Placement.BODY, max_query_length=60_000
    )
    with Journal(data_dir) as journal:
        return write_job(
            journal, report, plan, options=OPTIONS, params=GLOBALS, endpoint="http://127.0.0.1:9", placement=Placement.BODY
        )


def create_old(report, data_dir: Path) -> str:  # type: ignore[no-untyped-def]
    items = (sender_item(row.to, resolve_params(row, NAMES, GLOBALS) or None) for row in report.recipients)
    batches = list(plan_batches(items, OPTIONS, placement=Placement.BODY, max_query_length=60_000))
    with Journal(data_dir) as journal:
        return journal.create_job(
            options=OPTIONS, params=GLOBALS, batches=batches, endpoint="http://127.0.0.1:9",
            rejects=[Reject(r.line, r.text, r.reason) for r in report.rejected],
        )


def answer_half(data_dir: Path, job_id: str) -> None:
    with Journal(data_dir) as journal:
        batches = journal.batches(job_id)
        for batch in batches[: len(batches) // 2]:
            journal.mark_sending(job_id, batch.index)
            journal.record_answer(
                job_id, batch.index, 1, BatchState.OK,
                Answer(outcome="ok", code="OK", message="", request_id=f"req-{batch.index}", group_message_id="89"),
            )


def export_reference(data_dir: Path, job_id: str, path: Path) -> None:
    with Journal(data_dir) as journal, path.open("w", encoding="utf-8", newline="") as handle:
        write_csv(handle, list(EXPORT_FIELDS), export_rows(journal, job_id))


def export_headless(data_dir: Path, job_id: str, path: Path) -> None:
    env = {**os.environ, "CAMS_TUI_CONFIG": str(data_dir / "no-config.toml")}
    subprocess.run(
        [sys.executable, "-m", "cams_tui", "export", job_id, "-o", str(path), "--data-dir", str(data_dir)],
        check=True, env=env, stdout=subprocess.DEVNULL,
    )


async def export_tui(data_dir: Path, job_id: str, path: Path) -> float:
    """Seconds from the export action to the file being whole on disk."""
    from tests.support.ui_host import HostApp, target

    from cams_tui.ui.screens.jobs import JobsScreen

    app = HostApp(lambda: JobsScreen(target=target("http://127.0.0.1:9", data_dir, 10), show_clock=False))
    async with app.run_test(size=(120, 36)) as pilot:
        while not getattr(app.screen, "jobs", None):
            await pilot.pause(0.05)
        screen = app.screen
        started = time.perf_counter()
        screen._export(job_id, ("csv", path))
        await app.workers.wait_for_complete()
        elapsed = time.perf_counter() - started
        await pilot.pause()
    return elapsed


def timed(function, *args) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    function(*args)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipients", type=int, default=1_000_000)
    parser.add_argument("--export-rows", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    results: dict[str, list[float]] = {k: [] for k in ("intake", "create new", "create old", "export reference", "export headless", "export tui")}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        big, small = folder / "big.csv", folder / "small.csv"
        write_list(big, args.recipients)
        write_list(small, args.export_rows)
        started = time.perf_counter()
        report = read_recipients(big, IntakeOptions())
        results["intake"].append(time.perf_counter() - started)
        small_report = read_recipients(small, IntakeOptions())
        export_dir = folder / "export-data"
        export_job = create_new(small_report, export_dir)
        answer_half(export_dir, export_job)
        with Journal(export_dir) as journal:
            rows = journal.job(export_job).recipients
        for round_ in range(args.rounds):
            results["create new"].append(timed(create_new, report, folder / f"new-{round_}"))
            results["create old"].append(timed(create_old, report, folder / f"old-{round_}"))
            out = {name: folder / f"{name}-{round_}.csv" for name in ("reference", "headless", "tui")}
            results["export reference"].append(timed(export_reference, export_dir, export_job, out["reference"]))
            results["export headless"].append(timed(export_headless, export_dir, export_job, out["headless"]))
            results["export tui"].append(asyncio.run(export_tui(export_dir, export_job, out["tui"])))
            reference = out["reference"].read_bytes()
            for name in ("headless", "tui"):
                if out[name].read_bytes() != reference:
                    raise SystemExit(f"the {name} export differs from the row-by-row export")
    medians = {name: statistics.median(values) for name, values in results.items()}
    print(f"job creation: {args.recipients:,} recipients; export: {rows:,} rows; {args.rounds} round(s)")
    for name, values in results.items():
        print(f"{name:17} median {medians[name]:6.2f} s  ({', '.join(f'{v:.2f}' for v in values)})")
    print(f"job creation new / old = {medians['create new'] / medians['create old']:.2f}; "
          f"its share of intake + creation = {medians['create new'] / (medians['create new'] + medians['intake']):.0%}")
    for name in ("headless", "tui"):
        print(f"export {name} / row-by-row reference = {medians['export ' + name] / medians['export reference']:.2f}")
    ok = medians["create new"] <= GOAL_S and medians["export headless"] <= GOAL_S and medians["export tui"] <= GOAL_S
    print(f"goal: creation ≤ {GOAL_S} s, exports ≤ {GOAL_S} s: " + ("met" if ok else "MISSED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
