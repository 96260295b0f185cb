"""The compose flow's helpers: a demo app on the seeded simulator, waiting for it, pasting into it."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from cams_tui.ui.app import CamsApp
from cams_tui.ui.launch import create_app


def demo_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CamsApp:
    """A demo app with its own config and data dir, a seeded simulator and no clock."""
    monkeypatch.setenv("CAMS_TUI_CONFIG", str(tmp_path / "config.toml"))
    for name in ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "CAMS_TUI_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    args = argparse.Namespace(demo=True, theme=None, profile=None, endpoint=None, data_dir=str(tmp_path / "data"))
    return create_app(args, show_clock=False, blink=False, simulator_seed=7, simulator_latency_ms=0)


async def settle(pilot) -> None:  # noqa: ANN001
    """Let workers finish and the screen catch up."""
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()



GOOD = [f"+63 917 {100 + i:03d} {2000 + i:04d}" for i in range(47)]
BAD = ["12345", "+63 917 12", "not a number"]


def pasted_list() -> str:
    """50 lines of CSV with a header: 47 good Philippine mobiles and 3 bad lines among them."""
    lines = ["phone,name"]
    for index, number in enumerate(GOOD):
        lines.append(f"{number},Customer {index}")
        if index in (10, 20, 30):
            lines.append(f"{BAD[index // 10 - 1]},Nobody")
    return "\n".join(lines)


def e164(number: str) -> str:
    return "".join(ch for ch in number if ch.isdigit())


async def paste(pilot, text: str) -> None:  # noqa: ANN001
    """What a terminal sends on paste (bracketed paste) to the focused widget."""
    from textual import events

    pilot.app.post_message(events.Paste(text))
    await pilot.pause(0.6)
    await settle(pilot)
