"""Benchmark: 1,000,000 numbers in mixed formats through the whole recipient intake.

Reference, measured in the same run over the same file: a plain loop that reads the CSV
and calls ``phonenumbers.parse`` + ``is_valid_number`` + ``format_number`` per line
(two readings for bare digits, as the numbers rule asks). The intake does more (layout
sniffing, parameters, dedupe, per-country counts, number types), and must give identical
numbers: the script checks every line.

    uv run python tests/benchmarks/bench_intake.py [--count 1000000] [--runs 3]

Goal: intake median ≤ 0.3 × reference median, peak RSS ≤ 300 MB.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat

from cams_tui.recipients import IntakeOptions, read_recipients

REGION = "PH"
# (country code, national mobile prefixes, national significant length, trunk prefix, share)
COUNTRIES = [
    ("63", ["917", "918", "919", "920", "927", "939", "945", "956", "966", "995"], 10, "0", 0.60),
    ("95", ["96", "965", "969", "979"], 10, "0", 0.04),
    ("1", ["212", "415", "646", "718", "305"], 10, "1", 0.05),
    ("44", ["74", "75", "77", "78", "79"], 10, "0", 0.04),
    ("49", ["151", "160", "170", "171", "176"], 11, "0", 0.03),
    ("91", ["98", "97", "96", "93", "88"], 10, "0", 0.04),
    ("62", ["812", "813", "821", "852", "878"], 11, "0", 0.04),
    ("84", ["90", "91", "93", "96", "98"], 9, "0", 0.03),
    ("66", ["81", "86", "89", "92", "95"], 9, "0", 0.03),
    ("65", ["81", "87", "91", "93", "96"], 8, "", 0.02),
    ("971", ["50", "52", "55", "56", "58"], 9, "0", 0.03),
    ("41", ["76", "77", "78", "79"], 9, "0", 0.02),
    ("61", ["40", "41", "42", "43", "45"], 9, "0", 0.02),
    ("81", ["70", "80", "90"], 10, "0", 0.01),
]
JUNK = ["n/a", "none", "call me", "#N/A", "tbd", "-", "6.39171E+11", "ext 12", "0", "12345"]


def _grouped(digits: str) -> str:
    return " ".join(digits[i : i + 3] for i in range(0, len(digits), 3))


def make_number(rng: random.Random) -> str:
    """One cell as operators write them: many formats, some invalid, some junk."""
    roll = rng.random()
    if roll < 0.01:
        return rng.choice(JUNK)
    pick = rng.random()
    for cc, prefixes, length, trunk, share in COUNTRIES:
        pick -= share
        if pick <= 0:
            break
    prefix = rng.choice(prefixes)
    if cc == "1":  # a NANP exchange starts with 2-9
        prefix += rng.choice("23456789")
    nsn = prefix + "".join(rng.choice("0123456789") for _ in range(length - len(prefix)))
    if roll < 0.04:  # a digit lost or added: mostly invalid
        nsn = nsn[:-1] if rng.random() < 0.5 else nsn + rng.choice("0123456789")
    form = rng.random()
    if cc == "63":
        if form < 0.25:
            return "0" + nsn if rng.random() < 0.5 else f"0{nsn[:3]} {nsn[3:6]} {nsn[6:]}"
        if form < 0.40:
            return f"+63 {nsn[:3]} {nsn[3:6]} {nsn[6:]}"
        if form < 0.60:
            return "63" + nsn
        if form < 0.70:
            return nsn
        if form < 0.80:
            return "+63" + nsn
        if form < 0.90:
            return f"(0{nsn[:3]}) {nsn[3:6]}-{nsn[6:]}"
        return "0063" + nsn
    if form < 0.4:
        return f"+{cc} {_grouped(nsn)}"
    if form < 0.6:
        return f"+{cc}{nsn}"
    if form < 0.8:
        return f"00{cc}{nsn}"
    return cc + nsn


def generate(path: Path, count: int, seed: int = 20240611) -> None:
    """A CSV (phone,name) of ``count`` rows; about 1% repeat an earlier number."""
    rng = random.Random(seed)
    recent: list[str] = []
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["phone", "name"])
        for i in range(count):
            if recent and rng.random() < 0.01:
                cell = rng.choice(recent)
            else:
                cell = make_number(rng)
                if len(recent) < 5000:
                    recent.append(cell)
                else:
                    recent[rng.randrange(5000)] = cell
            writer.writerow([cell, f"Customer {i}"])


def _reading(text: str, region: str | None) -> str | None:
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)[1:]


def reference(path: Path, region: str) -> list[str | None]:
    """The plain loop: one outcome per data line (the number, or None when not sent)."""
    outcomes: list[str | None] = []
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        next(reader)
        for row in reader:
            text = row[0].strip()
            if text.startswith("+"):
                outcomes.append(_reading(text, None))
            elif text.startswith("00"):
                outcomes.append(_reading("+" + text[2:], None))
            else:
                as_intl = _reading("+" + text, None)
                as_national = _reading(text, region)
                if as_intl and as_national and as_intl != as_national:
                    outcomes.append(None)  # ambiguous: rejected
                else:
                    outcomes.append(as_intl or as_national)
    return outcomes


def intake(path: Path):  # type: ignore[no-untyped-def]
    return read_recipients(path, IntakeOptions(default_region=REGION, max_listed=10**7))


def check_identity(path: Path, outcomes: list[str | None]) -> str:
    """Compare every line of the intake with the reference; return a one-line verdict."""
    report = intake(path)
    expected_numbers: list[str] = []
    expected_lines: list[int] = []
    rejected_lines: set[int] = set()
    seen: set[str] = set()
    duplicates = 0
    for index, outcome in enumerate(outcomes):
        line = index + 2  # line 1 is the header
        if outcome is None:
            rejected_lines.add(line)
        elif outcome in seen:
            duplicates += 1
        else:
            seen.add(outcome)
            expected_numbers.append(outcome)
            expected_lines.append(line)
    got_numbers = [str(n) for n in report.recipients.numbers]
    problems = []
    if got_numbers != expected_numbers:
        diff = next(
            (i for i, (a, b) in enumerate(zip(got_numbers, expected_numbers)) if a != b),
            min(len(got_numbers), len(expected_numbers)),
        )
        problems.append(f"numbers differ from index {diff}")
    if list(report.recipients.lines) != expected_lines:
        problems.append("line numbers differ")
    if {r.line for r in report.rejected} != rejected_lines:
        problems.append("rejected lines differ")
    if report.duplicate_count != duplicates:
        problems.append(f"duplicates {report.duplicate_count} != {duplicates}")
    verdict = "IDENTICAL" if not problems else "DIFFERENT: " + "; ".join(problems)
    return (
        f"{verdict} ({len(expected_numbers)} recipients, {len(rejected_lines)} rejected, "
        f"{duplicates} duplicates over {len(outcomes)} lines)"
    )


def _peak_rss_mb() -> float:
    """This process's peak resident set size.

    /proc's VmHWM starts afresh at exec; ru_maxrss may carry the parent's peak over it.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(path: Path, traced: bool) -> None:
    """Run one intake in a fresh process and print its memory figures as JSON."""
    baseline = _peak_rss_mb()
    if traced:
        tracemalloc.start()
    started = time.perf_counter()
    report = intake(path)
    elapsed = time.perf_counter() - started
    figures = {
        "seconds": elapsed,
        "recipients": len(report.recipients),
        "rss_before_mb": baseline,
        "peak_rss_mb": _peak_rss_mb(),
    }
    if traced:
        figures["tracemalloc_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
    print(json.dumps(figures))


def _in_child(path: Path, traced: bool) -> dict[str, float]:
    args = [sys.executable, __file__, "--child", str(path)] + (["--traced"] if traced else [])
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", type=Path)
    parser.add_argument("--traced", action="store_true")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.traced)
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "recipients.csv"
        started = time.perf_counter()
        generate(path, args.count)
        size_mb = path.stat().st_size / 2**20
        print(f"generated {args.count:,} rows ({size_mb:.1f} MB) in {time.perf_counter() - started:.1f} s")
        # Memory first, in fresh processes, while this one is still small.
        memory = _in_child(path, traced=False)
        traced = _in_child(path, traced=True)
        intake(path)  # warm up: metadata loading and pattern compilation are one-off costs
        # Wall-clock and CPU time both: on a shared machine the CPU time is the steadier one.
        ref_wall, ref_cpu, intake_wall, intake_cpu = [], [], [], []
        outcomes: list[str | None] = []
        for run in range(args.runs):
            wall, cpu = time.perf_counter(), time.process_time()
            outcomes = reference(path, REGION)
            ref_wall.append(time.perf_counter() - wall)
            ref_cpu.append(time.process_time() - cpu)
            wall, cpu = time.perf_counter(), time.process_time()
            intake(path)
            intake_wall.append(time.perf_counter() - wall)
            intake_cpu.append(time.process_time() - cpu)
            print(
                f"run {run + 1}: reference {ref_wall[-1]:.2f} s wall / {ref_cpu[-1]:.2f} s CPU, "
                f"intake {intake_wall[-1]:.2f} s wall / {intake_cpu[-1]:.2f} s CPU"
            )
        print("identity:", check_identity(path, outcomes))
    for label, ref_times, intake_times in (
        ("wall", ref_wall, intake_wall),
        ("CPU", ref_cpu, intake_cpu),
    ):
        ref, fast = statistics.median(ref_times), statistics.median(intake_times)
        print(
            f"{label:>4}: reference median {ref:.2f} s ({ref / args.count * 1e6:.2f} µs/line), "
            f"intake median {fast:.2f} s ({fast / args.count * 1e6:.2f} µs/line), "
            f"ratio {fast / ref:.3f} (goal ≤ 0.3)"
        )
    print(
        f"intake alone in a fresh process: peak RSS {memory['peak_rss_mb']:.0f} MB "
        f"(interpreter and imports {memory['rss_before_mb']:.0f} MB), "
        f"tracemalloc peak {traced['tracemalloc_peak_mb']:.0f} MB  (goal ≤ 300 MB)"
    )


if __name__ == "__main__":
    main()
