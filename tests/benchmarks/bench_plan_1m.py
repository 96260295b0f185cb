"""Planning a 1,000,000-recipient job: time and peak memory.

    uv run python tests/benchmarks/bench_plan_1m.py [--recipients 1000000] [--rounds 1]

A CSV of ``--recipients`` numbers with two per-recipient parameters is written once. Each
measurement runs in a fresh process, so its peak RSS (``ru_maxrss``) is its own:

* ``engine``: what ``cams-tui send`` does before the first request - the recipients intake
  (normalize, deduplicate), every recipient's TemplateParams, packing into 1,000-recipient
  batches, and writing the job with all its batches to the SQLite journal;
* ``reference``: the same numbers held the way a plain loop around the SDK's models would,
  one pydantic ``Recipient`` per number, validated, with its params (no journal at all);
* ``baseline``: the interpreter with the same imports and nothing read, the floor of both.

Reported: wall time of each phase, peak RSS, and the engine's peak over the reference's.
Goal: the engine's peak RSS under 400 MB. Exits 1 when it is missed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

GOAL_MB = 400

CHILD = r"""
import json, resource, sys, time
from pathlib import Path

mode, csv_path, data_dir = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
from cams_tui.api.client import Placement
from cams_tui.api.models import MassMessageOptions, Recipient
from cams_tui.engine.journal import Journal, Reject
from cams_tui.engine.planning import plan_batches, sender_item
from cams_tui.recipients import IntakeOptions, check_params, read_recipients
from cams_tui.recipients.params import resolve_params

OPTIONS = MassMessageOptions(template_code="TPL", language="en", From="2000001")
VARIABLES = ["name", "order_id"]
GLOBALS = {"shop": "Demo Shop"}
times = {}
started = time.perf_counter()
if mode == "baseline":
    pass
elif mode == "reference":
    import csv
    with csv_path.open(newline="", encoding="utf-8") as handle:
        rows = csv.reader(handle)
        next(rows)
        recipients = [
            Recipient(to=phone.lstrip("+"), template_params={"name": name, "order_id": order_id, **GLOBALS})
            for phone, name, order_id in rows
        ]
    times["read + validate"] = time.perf_counter() - started
    count = len(recipients)
else:
    report = read_recipients(csv_path, IntakeOptions())
    times["intake"] = time.perf_counter() - started
    mark = time.perf_counter()
    assert check_params(report, VARIABLES, GLOBALS).ok
    items = (sender_item(row.to, resolve_params(row, VARIABLES + ["shop"], GLOBALS)) for row in report.recipients)
    batches = list(plan_batches(items, OPTIONS, placement=Placement.BODY, max_query_length=60000))
    times["params + batches"] = time.perf_counter() - mark
    mark = time.perf_counter()
    rejects = [Reject(r.line, r.text, r.reason) for r in report.rejected]
    summary = report.summary()
    del report
    with Journal(data_dir) as journal:
        journal.create_job(
            options=OPTIONS, params=GLOBALS, batches=batches, endpoint="http://127.0.0.1:9",
            rejects=rejects, rejected=summary["rejected"],
        )
    times["journal"] = time.perf_counter() - mark
    count = sum(b.size for b in batches)
    times["journal size MB"] = sum(f.stat().st_size for f in data_dir.glob("journal.sqlite3*")) / 1e6
times["total"] = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
print(json.dumps({"times": times, "peak_mb": peak, "count": count if mode != "baseline" else 0}))
"""


def _write_csv(path: Path, count: int) -> None:
    with path.open("w", encoding="utf-8") as handle:
        handle.write("phone,name,order_id\n")
        for i in range(count):
            handle.write(f"+63917{i:07d},Customer {i % 997},A{i}\n")


def _child(mode: str, csv_path: Path, data_dir: Path) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", CHILD, mode, str(csv_path), str(data_dir)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"{mode} failed:\n{result.stderr}")
    return json.loads(result.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipients", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        csv_path = folder / "numbers.csv"
        _write_csv(csv_path, args.recipients)
        print(f"{args.recipients:,} recipients, {csv_path.stat().st_size / 1e6:.0f} MB of CSV, {args.rounds} round(s)")
        results: dict[str, list[dict]] = {"baseline": [], "engine": [], "reference": []}
        for round_ in range(args.rounds):
            for mode in results:
                results[mode].append(_child(mode, csv_path, folder / f"data-{mode}-{round_}"))
    peaks = {mode: statistics.median(r["peak_mb"] for r in runs) for mode, runs in results.items()}
    for mode, runs in results.items():
        phases = {
            name: statistics.median(r["times"][name] for r in runs) for name in runs[0]["times"]
        }
        text = ", ".join(
            f"{name} {value:.1f} MB" if name.endswith("MB") else f"{name} {value:.2f} s" for name, value in phases.items()
        )
        print(f"{mode:9}: peak RSS {peaks[mode]:6.0f} MB; {text}")
    engine, reference = peaks["engine"], peaks["reference"]
    print(
        f"ratio    : engine / reference peak RSS = {engine / reference:.2f}; above the baseline: "
        f"engine {engine - peaks['baseline']:.0f} MB, reference {reference - peaks['baseline']:.0f} MB"
    )
    ok = engine < GOAL_MB and results["engine"][0]["count"] == args.recipients
    print(f"goal     : engine peak RSS < {GOAL_MB} MB: " + ("met" if ok else "MISSED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
