"""Snapshots of every compose screen at 80×24 and 120×36, on the seeded demo simulator.

Regenerate with ``uv run pytest tests/ui/test_ui_snapshots.py --snapshot-update`` and look at
the SVGs in ``tests/ui/__snapshots__/`` before committing them.
"""

from __future__ import annotations

import pytest

from cams_tui.ui.campaign_draft import Step
from tests.support.ui_flow import demo_app, paste, pasted_list, settle

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 36), id="120x36")]


async def _template(pilot) -> None:  # noqa: ANN001
    await settle(pilot)
    await pilot.press("down", "enter")
    await settle(pilot)


async def _recipients(pilot) -> None:  # noqa: ANN001
    await _template(pilot)
    await pilot.press("ctrl+n")
    await paste(pilot, pasted_list())


async def _params(pilot) -> None:  # noqa: ANN001
    await _recipients(pilot)
    await pilot.press("ctrl+n", "down", "enter", *"A-1001", "enter")
    await pilot.pause()


async def _options(pilot) -> None:  # noqa: ANN001
    await _params(pilot)
    await pilot.press("ctrl+n", "tab", *"30s", "tab", *"S0001", "tab", "tab", *"1d")
    await pilot.pause()


async def _review(pilot) -> None:  # noqa: ANN001
    await _options(pilot)
    await pilot.app.compose_screen.go_to(Step.REVIEW)
    await pilot.pause()


async def _open_dialog(pilot) -> None:  # noqa: ANN001
    await _template(pilot)
    await pilot.press("ctrl+o", *"campaign.toml")
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize(
    "run_before",
    [
        pytest.param(_template, id="template"),
        pytest.param(_recipients, id="recipients"),
        pytest.param(_params, id="params"),
        pytest.param(_options, id="options"),
        pytest.param(_review, id="review"),
        pytest.param(_open_dialog, id="open-dialog"),
    ],
)
def test_screen(snap_compare, tmp_path, monkeypatch, size, run_before) -> None:  # noqa: ANN001
    app = demo_app(tmp_path, monkeypatch)
    assert snap_compare(app, terminal_size=size, run_before=run_before)
