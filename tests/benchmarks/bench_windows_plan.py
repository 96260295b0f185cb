"""Benchmark: planning a job with a delivery window and a language column, against the same
list planned without them.

Two lists: Philippine numbers (one zone for the whole country: no number is parsed) and
North American numbers (zones per area code: each number is looked up in phonenumbers'
time-zone mapping). Each recipient has a ``language`` cell (en or ru, alternating).

    uv run python tests/benchmarks/bench_windows_plan.py [--count 200000]
"""

from __future__ import annotations

import argparse
import time

from cams_tui.api.endpoints import Placement
from cams_tui.api.models import MassMessageOptions
from cams_tui.engine.grouping import LanguageChoice, Targeting
from cams_tui.engine.new_job import plan_job
from cams_tui.recipients.zones import ZoneFinder
from cams_tui.schedule import DeliveryWindow


class _Intake:
    def __init__(self, numbers: list[int]) -> None:
        from cams_tui.recipients.intake import RecipientStore

        store = RecipientStore(["language", "name"])
        store.numbers.extend(numbers)
        store.lines.extend(range(2, len(numbers) + 2))
        store.columns["language"] = ["en" if i % 2 else "ru" for i in range(len(numbers))]
        store.columns["name"] = [f"N{i}" for i in range(len(numbers))]
        self.recipients = store
        self.rejected: list[object] = []
        self.rejected_count = self.duplicate_count = self.suppressed_count = 0


def _time(intake: _Intake, targeting: Targeting | None) -> tuple[float, str]:
    options = MassMessageOptions(template_code="T", language="en", From="2000001")
    started = time.perf_counter()
    plan = plan_job(
        intake, names=["name"], global_params={}, options=options, placement=Placement.BODY,
        max_query_length=60_000, targeting=targeting,
    )
    elapsed = time.perf_counter() - started
    return elapsed, f"{len(plan.batches)} batches, {plan.recipients:,} planned, {len(plan.rejects):,} rejected"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=200_000)
    count = parser.parse_args().count
    now = time.time()
    lists = {
        "PH": [639170000000 + i for i in range(count)],
        # Area codes 201-899 with exchange 2xx; the synthetic numbers no zone is known for are
        # rejected, as the intake would have rejected most of them.
        "US/CA": [1_000_000_0000 + (201 + i % 700) * 10_000_000 + 2_000_000 + i % 1_000_000 for i in range(count)],
    }
    for name, numbers in lists.items():
        intake = _Intake(numbers)
        plain, plain_batches = _time(intake, None)
        targeting = Targeting(
            languages=LanguageChoice("en", frozenset({"en", "ru"})),
            window=DeliveryWindow(540, 1200),
            zones=ZoneFinder(),
            now=now,
        )
        grouped, grouped_batches = _time(intake, targeting)
        print(
            f"{name}: {count:,} recipients: plain {plain:.2f} s ({plain_batches}), with window and "
            f"languages {grouped:.2f} s ({grouped_batches}): {grouped / count * 1e6:.2f} µs/recipient"
        )


if __name__ == "__main__":
    main()
