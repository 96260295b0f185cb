"""A demo campaign on disk, as the command line reads it, and the JSON lines it prints."""

from __future__ import annotations

import json
from pathlib import Path

from cams_tui.simulator.demo_data import ORDER_SHIPPED

CAMPAIGN = f"""\
template_code = "{ORDER_SHIPPED}"
language = "en"
from = "{{sender}}"
cust_space_id = "cams-demo-shop"

[params]
name = "Ana"

[recipients]
file = "numbers.csv"
"""
"""The demo campaign file; ``{sender}`` is replaced by the sender id."""


def demo_campaign(folder: Path, count: int = 450, *, sender: str = "2000001", order_id: bool = True) -> Path:
    """Write ``campaign.toml`` and ``numbers.csv`` (``count`` numbers, one bad line, one duplicate) in
    ``folder``; returns the campaign's path."""
    (folder / "campaign.toml").write_text(CAMPAIGN.replace("{sender}", sender), encoding="utf-8")
    lines = ["phone,order_id"]
    lines += [f"+63917{i:07d},{'A' + str(i) if order_id or i % 2 else ''}" for i in range(count)]
    lines += ["not-a-number,x", f"+63917{0:07d},dup"]
    (folder / "numbers.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder / "campaign.toml"


def json_lines(text: str) -> list[dict]:
    """The JSON objects of a ``--json`` output, one a line."""
    return [json.loads(line) for line in text.splitlines() if line.strip()]
