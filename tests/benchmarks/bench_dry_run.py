"""Benchmark: 1,000,000 numbers through ``cams-tui send --dry-run``, end to end as a process.

Reference, measured in the same run over the same file: the plain phonenumbers loop of
``bench_intake.py`` (``parse`` + ``is_valid_number`` + ``format_number`` per line), run as a
process of its own that also counts recipients, rejected lines and duplicates. Each round
runs both, alternating; each process's wall time and peak RSS (``wait4``) are its own.
The dry run does everything a send does before its first request except writing the
journal: campaign, intake, parameters, batches and their SenderLists, compressed.

    uv run python tests/benchmarks/bench_dry_run.py [--count 1000000] [--rounds 3]

Goals: dry run median ≤ 0.25 × the reference's median, peak RSS ≤ 300 MB, the same counts.
Exits 1 when one is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_intake import REGION, generate  # noqa: E402

GOAL_RATIO = 0.25
GOAL_MB = 300

REFERENCE = r"""
import json, sys
sys.path.insert(0, sys.argv[3])
from bench_intake import reference
from pathlib import Path
outcomes = reference(Path(sys.argv[1]), sys.argv[2])
seen = set()
rejected = duplicates = 0
for outcome in outcomes:
    if outcome is None:
        rejected += 1
    elif outcome in seen:
        duplicates += 1
    else:
        seen.add(outcome)
print(json.dumps({"recipients": len(seen), "rejected": rejected, "duplicates": duplicates}))
"""

CAMPAIGN = """\
template_code = "TPL"
language = "en"
from = "2000001"

[params]
shop = "Demo Shop"

[recipients]
file = "recipients.csv"
default_region = "{region}"
"""


def _run(args: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Wall seconds, peak RSS in MB (the process's own, from wait4) and stdout."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out_file, tempfile.TemporaryFile() as err_file:
        process = subprocess.Popen(args, stdout=out_file, stderr=err_file, env=env)
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out_file.seek(0)
        err_file.seek(0)
        out, err = out_file.read().decode(), err_file.read().decode()
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(args[:3])} failed ({process.returncode}):\n{err}")
    return elapsed, usage.ru_maxrss / 1024, out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        csv_path = folder / "recipients.csv"
        generate(csv_path, args.count)
        campaign = folder / "campaign.toml"
        campaign.write_text(CAMPAIGN.format(region=REGION), encoding="utf-8")
        env = {
            **os.environ,
            "CAMS_TUI_CONFIG": str(folder / "no-config.toml"),
            "CAMS_TUI_DATA_DIR": str(folder / "data"),
        }
        for name in ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "CAMS_TUI_ENDPOINT"):
            env.pop(name, None)
        dry = [sys.executable, "-m", "cams_tui", "send", str(campaign), "--dry-run", "--json"]
        ref = [sys.executable, "-c", REFERENCE, str(csv_path), REGION, str(Path(__file__).parent)]
        print(f"{args.count:,} rows ({csv_path.stat().st_size / 2**20:.1f} MB), {args.rounds} round(s)")
        figures: dict[str, list[tuple[float, float]]] = {"dry run": [], "reference": []}
        counts: dict[str, dict[str, int]] = {}
        for _ in range(args.rounds):
            seconds, peak, out = _run(dry, env)
            figures["dry run"].append((seconds, peak))
            plan = json.loads(out.strip().splitlines()[-1])
            counts["dry run"] = {k: plan[k] for k in ("recipients", "rejected", "duplicates")}
            seconds, peak, out = _run(ref, env)
            figures["reference"].append((seconds, peak))
            counts["reference"] = json.loads(out.strip().splitlines()[-1])
    medians = {name: statistics.median(s for s, _ in runs) for name, runs in figures.items()}
    peaks = {name: max(p for _, p in runs) for name, runs in figures.items()}
    for name, runs in figures.items():
        each = ", ".join(f"{s:.2f}" for s, _ in runs)
        print(f"{name:9}: median {medians[name]:6.2f} s ({each}); peak RSS {peaks[name]:.0f} MB; {counts[name]}")
    ratio = medians["dry run"] / medians["reference"]
    same = counts["dry run"] == counts["reference"]
    print(f"ratio    : dry run / reference = {ratio:.3f} (goal ≤ {GOAL_RATIO})")
    print(f"counts   : {'identical' if same else 'DIFFERENT'}")
    ok = ratio <= GOAL_RATIO and peaks["dry run"] <= GOAL_MB and same
    print(f"goal     : ≤ {GOAL_RATIO}×, ≤ {GOAL_MB} MB, same counts: " + ("met" if ok else "MISSED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
