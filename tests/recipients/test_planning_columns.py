"""Column-wise planning gives the same batches, byte for byte, as one item per recipient."""

from __future__ import annotations

import pytest

from cams_tui.api.endpoints import Placement
from cams_tui.api.models import MassMessageOptions
from cams_tui.engine.planning import plan_batches, plan_recipients, sender_item
from cams_tui.recipients import read_recipients_text
from cams_tui.recipients.params import resolve_params

OPTIONS = MassMessageOptions(template_code="TPL", language="en", From="2000001")

def _row(i: int) -> str:
    name = "" if i % 3 == 0 else 'N\u00e1""me ' + str(i) + "\u2028" * (i % 5 == 0)
    order = "" if i % 4 == 0 else "A\\\\" + str(i)
    return f'+63917{i:07d},"{name}",{order}\n'


TEXT = "phone,name,order_id\n" + "".join(_row(i) for i in range(2_345))


def _expected(report, names, globals_, *, placement, max_size, canary):  # type: ignore[no-untyped-def]
    items = [sender_item(row.to, resolve_params(row, names, globals_) or None) for row in report.recipients]
    plan = lambda part: list(  # noqa: E731
        plan_batches(part, OPTIONS, placement=placement, max_query_length=20_000, max_size=max_size)
    )
    head = plan(items[:canary]) if canary else []
    return [b.sender_list for b in head + plan(items[canary:])], len(head)


@pytest.mark.parametrize("placement", [Placement.BODY, Placement.QUERY])
@pytest.mark.parametrize(
    ("names", "globals_"),
    [
        (["name", "order_id", "shop"], {"shop": " Demo Shop ", "name": "Ana"}),
        (["name", "order_id"], {}),
        (["order_id"], {"order_id": "X"}),
        (["shop"], {"shop": "Only global"}),
        ([], {}),
        (["missing"], {}),
    ],
)
@pytest.mark.parametrize(("max_size", "canary"), [(1000, 0), (7, 30), (1000, 5000)])
def test_same_batches_as_per_recipient_items(placement, names, globals_, max_size, canary) -> None:  # type: ignore[no-untyped-def]
    report = read_recipients_text(TEXT)
    assert len(report.recipients) == 2_345
    batches, canary_batches = plan_recipients(
        report.recipients,
        names,
        globals_,
        OPTIONS,
        placement=placement,
        max_query_length=20_000,
        max_size=max_size,
        canary_size=canary,
    )
    expected, expected_canary = _expected(
        report, names, globals_, placement=placement, max_size=max_size, canary=canary
    )
    assert [b.sender_list for b in batches] == expected
    assert canary_batches == expected_canary
    assert sum(b.size for b in batches) == 2_345


def test_progress_counts_up_to_the_total() -> None:
    report = read_recipients_text(TEXT)
    seen: list[tuple[int, int]] = []
    plan_recipients(
        report.recipients, ["name"], {}, OPTIONS, placement=Placement.BODY, max_query_length=20_000,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert seen[-1] == (2_345, 2_345)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)
