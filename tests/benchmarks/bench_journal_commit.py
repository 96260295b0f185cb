"""What a durable journal commit costs, at a send's pace (~20 commits/s: 10 calls/s, two
commits per call). Compares the rollback journal the journal uses (TRUNCATE, synchronous=FULL)
with the WAL mode it left, on the same disk, in interleaved rounds.

    uv run python tests/benchmarks/bench_journal_commit.py [--commits 200] [--rate 20] [--dir DIR]

Prints the median and 99th percentile of one commit (mark_sending or record_answer) per
mode. Goal: the rollback journal's p99 stays under 50 ms (a 20/s pace leaves 50 ms a commit).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from cams_tui.api.models import MassMessageOptions
from cams_tui.engine.journal import database as journal_module
from cams_tui.engine.journal import Answer, BatchState, Journal, PlannedBatch

GOAL_P99_S = 0.050


def _round(folder: Path, mode: str, commits: int, rate: float) -> list[float]:
    journal_module.JOURNAL_MODE = mode
    sender_list = "[" + ",".join(f'{{"To":"63917{i:07d}"}}' for i in range(1000)) + "]"
    timings: list[float] = []
    with Journal(folder) as journal:
        job_id = journal.create_job(
            options=MassMessageOptions(template_code="T", language="en", From="1"), params={},
            batches=[PlannedBatch.of(1000, sender_list)] * (commits // 2 + 1), endpoint="http://127.0.0.1:9",
        )
        gap = 1 / rate
        for index in range(commits // 2):
            start = time.perf_counter()
            attempt = journal.mark_sending(job_id, index)
            timings.append(time.perf_counter() - start)
            time.sleep(max(0.0, gap - timings[-1]))
            start = time.perf_counter()
            journal.record_answer(job_id, index, attempt, BatchState.OK, Answer("ok", 200, "OK", "ok", "R", "G", 9.0))
            timings.append(time.perf_counter() - start)
            time.sleep(max(0.0, gap - timings[-1]))
    return timings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--commits", type=int, default=200, help="commits per mode and round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--rate", type=float, default=20.0, help="commits per second")
    parser.add_argument("--dir", type=Path, help="a folder on the disk to measure (default: the temp dir)")
    args = parser.parse_args()
    results: dict[str, list[float]] = {"truncate": [], "wal": []}
    with tempfile.TemporaryDirectory(dir=args.dir) as temp:
        for number in range(args.rounds):
            for mode in results:
                results[mode] += _round(Path(temp) / f"{mode}-{number}", mode, args.commits, args.rate)
    for mode, timings in results.items():
        timings.sort()
        p99 = timings[int(len(timings) * 0.99) - 1]
        print(f"{mode:9} commits {len(timings):5}  median {statistics.median(timings) * 1000:6.2f} ms  "
              f"p99 {p99 * 1000:6.2f} ms")
    rollback = sorted(results["truncate"])
    p99 = rollback[int(len(rollback) * 0.99) - 1]
    ok = p99 < GOAL_P99_S
    print(f"goal: rollback p99 < {GOAL_P99_S * 1000:.0f} ms: {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
