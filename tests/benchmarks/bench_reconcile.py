"""What reconciling a crash's unknown batches costs: lookups per batch and time added.

A kill during a full-rate send leaves a few batches unknown. Here 5 batches of 1,000: four
accepted whose answers were lost (``drop``), one committed ``sending`` that never left. The
simulator runs with 250 ms latency and the mass send's 10 calls/s; lookups run at the default
5 calls/s. Grace is 0 so that nothing waits (a resume right after a crash may also wait up to
the grace period, once, for a batch not listed yet).

Reference, in the same run: sending those 5 batches again (what a blind ``--retry-unknown``
costs in time, and what it risks in duplicates). Prints medians of ``--repeats`` runs.
Goals: one lookup per batch found, ``samples`` for the batch not found (no control lookup:
no batch of this job was answered ok); reconciling takes at most 2× the lookups' pacing plus
one latency.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from cams_tui.engine.journal import Journal  # noqa: E402
from cams_tui.engine.ratelimit import RateLimiter  # noqa: E402
from cams_tui.engine.reconcile import DEFAULT_LOOKUP_RATE, DEFAULT_SAMPLES, ReconcileSettings, Reconciler  # noqa: E402
from cams_tui.engine.sender import Sender  # noqa: E402
from cams_tui.simulator import Faults, Simulator, SimulatorConfig  # noqa: E402
from tests.support.engine import client, items, make_job  # noqa: E402

BATCHES = 5
BATCH_SIZE = 1000
LATENCY_MS = 250


async def one_round(
    url: str, simulator: Simulator, folder: Path, first: int
) -> tuple[float, float, int, int, int]:
    """(reference s, reconcile s, lookups, batches found, batches verified not sent).

    Each round's numbers start at ``first``: numbers sent by an earlier round are invisible
    to this round's journal and would read as this job's (the residual risk of the design)."""
    count = BATCHES * BATCH_SIZE
    with Journal(folder) as journal:
        job_id = make_job(journal, url, count, BATCH_SIZE, items(count, first))
        journal.mark_sending(job_id, BATCHES - 1)  # committed, never left
        simulator.faults = Faults(drop=1.0)
        async with client(url) as cams:
            await Sender(cams, journal, job_id, limiter=RateLimiter(10)).run()
        simulator.faults = Faults()
        # The reference: a fresh job of the same size sent whole.
        reference_job = make_job(journal, url, count, BATCH_SIZE, items(count, first + count))
        async with client(url) as cams:
            started = time.perf_counter()
            await Sender(cams, journal, reference_job, limiter=RateLimiter(10)).run()
            reference = time.perf_counter() - started
        settings = ReconcileSettings(grace_s=0.0)
        async with client(url) as cams:
            started = time.perf_counter()
            report = await Reconciler(cams, journal, job_id, settings).run()
            elapsed = time.perf_counter() - started
    return reference, elapsed, report.lookups, report.count("ok"), report.count("not_sent_verified")


async def main(repeats: int) -> int:
    simulator = Simulator(SimulatorConfig(rate=10, latency_ms=LATENCY_MS, seed=1))
    rounds = []
    async with simulator.serve(port=0) as url:
        for round_ in range(repeats):
            with tempfile.TemporaryDirectory() as folder:
                rounds.append(await one_round(url, simulator, Path(folder), round_ * 4 * BATCHES * BATCH_SIZE))
    reference = statistics.median(r[0] for r in rounds)
    elapsed = statistics.median(r[1] for r in rounds)
    lookups = statistics.median(r[2] for r in rounds)
    found = statistics.median(r[3] for r in rounds)
    verified = statistics.median(r[4] for r in rounds)
    print(f"unknown batches: {BATCHES} of {BATCH_SIZE:,} ({found:g} found accepted, {verified:g} verified not sent)")
    print(f"lookups: {lookups:g} in all, {lookups / BATCHES:.2f} per unknown batch "
          f"(found: 1 each; not found: {DEFAULT_SAMPLES} samples, + 1 control when the job has an ok batch)")
    print(f"reconcile: median {elapsed:.2f} s at {DEFAULT_LOOKUP_RATE:g} lookups/s, {LATENCY_MS} ms latency")
    print(f"reference, resending them blind: median {reference:.2f} s; ratio {elapsed / reference:.2f}")
    budget = 2 * lookups / DEFAULT_LOOKUP_RATE + LATENCY_MS / 1000
    ok = found == BATCHES - 1 and verified == 1 and lookups == (BATCHES - 1) + DEFAULT_SAMPLES and elapsed <= budget
    print("goal met" if ok else f"goal missed (budget {budget:.2f} s)")
    return 0 if ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    sys.exit(asyncio.run(main(parser.parse_args().repeats)))
