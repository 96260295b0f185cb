"""The final report of a job: fetch pace against the lookup rate, and writing its rows
against the export of the same job (the reference).

    uv run python tests/benchmarks/bench_report.py [--recipients 20000] [--lookup-rate 20]

Goals: the fetch keeps to its lookup rate (at least 90 % of it, never above it: it must not
crowd out the account's other lookups) with one call per 100 recipients, and writing the
report's rows takes at most 3x the export's time (it reads the statuses beside each batch).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from cams_tui.engine.journal import Journal  # noqa: E402
from cams_tui.engine.run import JobRunner, RunOptions  # noqa: E402
from cams_tui.export import write_export as _write_export  # noqa: E402
from cams_tui.report import Totals, fetch_report, report_rows, write_report  # noqa: E402
from cams_tui.simulator import Faults, Simulator, SimulatorConfig  # noqa: E402
from tests.support.engine import LOOKUP_OPTIONS, client, make_job  # noqa: E402


async def _measure(url: str, data: Path, recipients: int, lookup_rate: float) -> int:
    with Journal(data) as journal:
        job_id = make_job(journal, url, recipients, 1000, options=LOOKUP_OPTIONS)
        async with client(url) as api:
            await JobRunner(api, journal, job_id, RunOptions(rate=200)).run()
            started = time.monotonic()
            summary = await fetch_report(api, journal, job_id, lookup_rate=lookup_rate)
            elapsed = time.monotonic() - started
        pace = summary.calls / elapsed
        print(f"fetch: {summary.calls:,} calls, {summary.records:,} records in {elapsed:.1f} s: "
              f"{pace:.1f} calls/s at a lookup rate of {lookup_rate:g}")
        timings: dict[str, list[float]] = {"export": [], "report": []}
        for _round in range(3):
            for name in timings:
                buffer = io.StringIO()
                started = time.monotonic()
                if name == "export":
                    _write_export(journal, job_id, "csv", buffer)
                else:
                    write_report(report_rows(journal, job_id), buffer, "csv", Totals())
                timings[name].append(time.monotonic() - started)
    export, report = sorted(timings["export"])[1], sorted(timings["report"])[1]
    print(f"rows: export {export:.2f} s, report {report:.2f} s (median of 3): ratio {report / export:.2f}")
    ok = True
    if not 0.9 * lookup_rate <= pace <= lookup_rate * 1.05:
        print(f"MISSED: the fetch ran at {pace:.1f} calls/s, not within 90-105 % of {lookup_rate:g}")
        ok = False
    if summary.calls > -(-recipients // 100):
        print(f"MISSED: {summary.calls} calls for {recipients:,} recipients (one per 100 expected)")
        ok = False
    if report > 3 * export:
        print("MISSED: the report's rows take over 3x the export's")
        ok = False
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipients", type=int, default=20_000)
    parser.add_argument("--lookup-rate", type=float, default=20.0)
    args = parser.parse_args()
    simulator = Simulator(
        SimulatorConfig(rate=1000, seed=9, faults=Faults(fail_delivery=0.05), delivery_delay_s=(0.0, 0.0),
                        operation_rates={"ListChatappMessage": 1000})
    )
    with simulator.run_in_thread() as url, tempfile.TemporaryDirectory() as folder:
        return asyncio.run(_measure(url, Path(folder), args.recipients, args.lookup_rate))


if __name__ == "__main__":
    sys.exit(main())
