"""The one typed way screens reach their app (``ui/app_access.py``) and the one confirm dialog."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from textual.app import App
from textual.widgets import Button

from cams_tui.ui.app_access import AppHost, ComposeHost, compose_state, journal_dir, running_demo
from cams_tui.ui.launch import create_app
from cams_tui.ui.screens.dialogs import ConfirmDialog
from cams_tui.ui.screens.jobs import JobsScreen
from tests.support.ui_host import HostApp


def _demo_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> App[int]:
    monkeypatch.setenv("CAMS_TUI_CONFIG", str(tmp_path / "config.toml"))
    for name in ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "CAMS_TUI_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    args = argparse.Namespace(demo=True, theme=None, profile=None, endpoint=None, data_dir=str(tmp_path / "data"))
    return create_app(args, show_clock=False, blink=False, simulator_seed=7, simulator_latency_ms=0)


def test_cams_tui_is_a_compose_host_and_the_test_host_only_an_app_host(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = _demo_app(tmp_path, monkeypatch)
    assert isinstance(app, ComposeHost) and isinstance(app, AppHost)
    host = HostApp(JobsScreen)
    assert isinstance(host, AppHost) and not isinstance(host, ComposeHost)


async def test_a_screen_reads_the_compose_host_through_the_helpers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = _demo_app(tmp_path, monkeypatch)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert compose_state(screen) is app.state  # type: ignore[attr-defined]
        assert running_demo(screen)
        assert journal_dir(screen, None) == app.data_dir  # type: ignore[attr-defined]


async def test_a_host_without_connection_says_what_a_job_screen_lacks() -> None:
    host = HostApp(JobsScreen)
    async with host.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = host.screen
        assert compose_state(screen) is None and not running_demo(screen)
        with pytest.raises(RuntimeError, match="needs a target"):
            journal_dir(screen, None)


class _Asking(App[None]):
    def __init__(self, dialog: ConfirmDialog) -> None:
        super().__init__()
        self.dialog = dialog
        self.answers: list[bool | None] = []

    def on_mount(self) -> None:
        self.push_screen(self.dialog, self.answers.append)


@pytest.mark.parametrize(("key", "answer"), [("y", True), ("n", False), ("escape", False)])
async def test_confirm_dialog_answers_by_key_with_no_as_the_default(key: str, answer: bool) -> None:
    app = _Asking(ConfirmDialog("Store it?", "It goes in the file.", yes="Store it", no="Cancel", warning=True))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.focused is not None and app.focused.id == "no"
        assert str(app.screen.query_one("#yes", Button).label) == "Store it (y)"
        await pilot.press(key)
        await pilot.pause()
    assert app.answers == [answer]


async def test_confirm_dialog_enter_on_the_focused_button_says_no() -> None:
    app = _Asking(ConfirmDialog("Send again?", "Some may get it twice."))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
    assert app.answers == [False]
