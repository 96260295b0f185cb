"""The settings screen, driven by keyboard only: add, edit, switch profiles, check the connection."""

from __future__ import annotations

import argparse
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.app import App
from textual.widgets import Input, Static

from cams_tui.config import CredentialSource, Profile, Settings, load_settings, save_settings
from cams_tui.simulator import DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, Simulator, SimulatorConfig
from cams_tui.simulator.demo_data import DEMO_CUST_SPACE_ID
from cams_tui.ui.campaign_draft import ComposeState
from cams_tui.ui.connection import Connection
from cams_tui.ui.screens.dialogs import ConfirmDialog
from cams_tui.ui.screens.first_run import FirstRunDialog
from cams_tui.ui.screens.settings import SettingsScreen
from cams_tui.ui.themes import register_themes

SECRET = "typed-Secret-4d2c-never-shown"


class Host(App[None]):
    """A bare app holding the settings screen: an AppHost without a connection or a composition."""

    connection: Connection | None = None
    state: ComposeState | None = None

    def __init__(self, config: Path) -> None:
        super().__init__()
        self.config = config

    def on_mount(self) -> None:
        register_themes(self)
        self.theme = "cams-dark"
        self.push_screen(SettingsScreen(config_path=self.config))


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "cfg" / "config.toml"
    monkeypatch.setenv("CAMS_TUI_CONFIG", str(path))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for name in ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALIBABA_CLOUD_SECURITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    return path


async def _type(pilot, text: str) -> None:  # type: ignore[no-untyped-def]
    await pilot.press(*[("space" if c == " " else c) for c in text])


def _form_error(app: App[None]) -> str:
    return str(app.screen.query_one("#form-error", Static).render())


async def test_add_a_profile_by_keyboard(config: Path) -> None:
    app = Host(config)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.focused is not None and app.focused.id == "name"
        await pilot.press("ctrl+a", "ctrl+k")
        await _type(pilot, "work")
        await pilot.press("tab", "tab")  # region (default kept), endpoint
        await pilot.press("tab", "tab")  # placement, Service ID
        await _type(pilot, "2000001")
        await pilot.press("tab", "tab", "ctrl+a", "ctrl+k")  # CustSpaceId, rate
        await _type(pilot, "5")
        await pilot.press("tab")
        await _type(pilot, "ph")
        await pilot.press("ctrl+s")
        await pilot.pause()
    settings = load_settings(config)
    assert settings.default_profile == "work"
    work = settings.profiles["work"]
    assert (work.from_, work.rate, work.default_region, work.credentials.source) == ("2000001", 5.0, "PH", "env")
    assert stat.S_IMODE(config.stat().st_mode) == 0o600


async def test_a_bad_value_names_the_field_and_writes_nothing(config: Path) -> None:
    app = Host(config)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        app.screen.query_one("#rate", Input).value = "0"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "rate" in _form_error(app) and "greater than 0" in _form_error(app)
        assert app.focused is not None and app.focused.id == "rate"
    assert not config.exists()


async def test_storing_a_secret_asks_first_and_never_shows_it_again(config: Path) -> None:
    app = Host(config)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        screen = app.screen
        screen.query_one("#source").value = "stored"
        await pilot.pause()
        screen.query_one("#key-id", Input).value = "LTAI5tTyped"
        screen.query_one("#key-secret", Input).value = SECRET
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("n")  # refused: nothing written
        await pilot.pause()
        assert not config.exists() and "not stored" in _form_error(app)
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        assert config.exists()
        assert screen.query_one("#key-secret", Input).value == ""  # reloaded: the secret is not shown
        assert "blank keeps it" in screen.query_one("#key-secret", Input).placeholder
        # Saving again with the field blank keeps the stored secret, without asking again.
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, SettingsScreen)
    stored = load_settings(config).profiles["default"].credentials
    assert stored.access_key_secret == SECRET
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    leftovers = [p for p in config.parent.iterdir() if p != config]
    assert leftovers == []


async def test_switching_the_source_away_from_stored_drops_the_secret(config: Path) -> None:
    save_settings(
        Settings(profiles={"w": Profile(credentials=CredentialSource(source="stored", access_key_id="LTAI", access_key_secret=SECRET))}),
        config,
    )
    app = Host(config)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        app.screen.query_one("#source").value = "aliyun"
        await pilot.pause()
        app.screen.query_one("#aliyun-profile", Input).value = "prod"
        await pilot.press("ctrl+s")
        await pilot.pause()
    assert SECRET not in config.read_text(encoding="utf-8")
    assert load_settings(config).profiles["w"].credentials.aliyun_profile == "prod"


async def test_pick_rename_and_use_a_profile(config: Path) -> None:
    tuned = Profile(rate=3, lookup_rate=50, reconcile_grace_s=30, canary_threshold=0.5)  # the last three: not in the form
    save_settings(Settings(default_profile="a", profiles={"a": Profile(), "b": tuned}), config)
    app = Host(config)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        app.screen.query_one("#profiles").focus()
        await pilot.press("down", "enter")  # choose "b"
        await pilot.pause()
        assert app.screen.query_one("#rate", Input).value == "3"
        await pilot.press("ctrl+a", "ctrl+k")
        await _type(pilot, "bee")
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.press("ctrl+r")  # use it: it becomes the default
        await pilot.pause()
    settings = load_settings(config)
    assert set(settings.profiles) == {"a", "bee"} and settings.default_profile == "bee"
    bee = settings.profiles["bee"]
    assert (bee.rate, bee.lookup_rate, bee.reconcile_grace_s, bee.canary_threshold) == (3, 50, 30, 0.5)


@pytest.fixture
def simulator() -> Iterator[str]:
    with Simulator(SimulatorConfig(latency_ms=0)).run_in_thread(port=0) as url:
        yield url


async def test_check_connection_shows_each_doctor_result(config: Path, simulator: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", DEMO_ACCESS_KEY_ID)
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", DEMO_ACCESS_KEY_SECRET)
    app = Host(config)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        app.screen.query_one("#endpoint", Input).value = simulator
        app.screen.query_one("#cust-space", Input).value = DEMO_CUST_SPACE_ID
        await pilot.press("ctrl+t")
        await app.screen.workers.wait_for_complete()
        await pilot.pause()
        lines = [str(s.render()) for s in app.screen.query("#checks .check")]
        summary = str(app.screen.query_one("#checks .check-summary", Static).render())
    names = [line.split()[1] for line in lines]
    assert names[:3] == ["credentials", "CustSpaceId", "endpoint"] and "signature" in names
    assert "placement" in names and "permission" in names
    assert all(line.startswith("✓") for line in lines), lines
    assert summary == "All checks passed."
    assert DEMO_ACCESS_KEY_SECRET not in "".join(lines)


async def test_check_connection_without_credentials_says_where_to_put_them(config: Path) -> None:
    app = Host(config)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+t")
        await app.screen.workers.wait_for_complete()
        await pilot.pause()
        lines = [str(s.render()) for s in app.screen.query("#checks .check")]
    assert len(lines) == 1 and lines[0].startswith("✗ credentials")
    assert "ALIBABA_CLOUD_ACCESS_KEY_ID" in lines[0]


async def test_first_run_offers_demo_or_set_up(config: Path, tmp_path: Path) -> None:
    from cams_tui.ui.launch import create_app

    args = argparse.Namespace(demo=False, profile=None, endpoint=None, data_dir=str(tmp_path / "data"), theme="nope")
    app = create_app(args, show_clock=False, blink=False)
    app.offer_first_run = True
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, FirstRunDialog)
        assert any("'nope' does not exist" in w for w in app.theme_warnings)
        await pilot.press("s")
        await pilot.pause()
        assert isinstance(app.screen, SettingsScreen)
        assert app.focused is not None and app.focused.id == "name"
        await pilot.press("escape")
        await pilot.pause()
        config_before = config.read_bytes() if config.exists() else None
        app.theme = "cams-light"  # e.g. from the command palette
        await pilot.pause()
    # The demo never writes the user's config: its theme lives with the demo's journal.
    assert (config.read_bytes() if config.exists() else None) == config_before
    assert "demo" not in load_settings(config).profiles
    assert (tmp_path / "data" / "demo" / "theme.txt").read_text(encoding="utf-8").strip() == "cams-light"


async def test_use_this_profile_changes_only_default_profile_and_says_so(config: Path) -> None:
    from tests.support.configs import COMMENTED_CONFIG

    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(COMMENTED_CONFIG, encoding="utf-8")
    app = Host(config)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        app.screen._show_profile("staging")  # noqa: SLF001 - the profile chosen in the list
        await pilot.pause()
        await pilot.press("ctrl+r")
        await pilot.pause(0.3)
        told = [n.message for n in app._notifications]
    assert config.read_text(encoding="utf-8") == COMMENTED_CONFIG.replace(
        'default_profile = "work"', 'default_profile = "staging"'
    )
    assert any("default_profile" in message and "staging" in message for message in told), told


async def test_limiter_and_account_are_edited_checked_and_a_redis_password_is_never_shown(config: Path) -> None:
    password = "redis-Pw-9f1e-never-shown"
    app = Host(config)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert screen.query_one("#limiter", Input).value == "host"
        screen.query_one("#limiter", Input).value = "redis://cache:6379/zero"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "limiter" in _form_error(app) and "database number" in _form_error(app)
        assert app.focused is not None and app.focused.id == "limiter"
        assert not config.exists()
        screen.query_one("#limiter", Input).value = f"redis://:{password}@cache:6379/2"
        screen.query_one("#account", Input).value = "shop-main"
        await pilot.press("ctrl+s")
        await pilot.pause()
        # Reloaded: the URL without its password.
        assert screen.query_one("#limiter", Input).value == "redis://cache:6379/2"
        assert password not in " ".join(str(w.render()) for w in screen.query(Static))
        # Saving again with the URL as shown keeps the password.
        await pilot.press("ctrl+s")
        await pilot.pause()
        kept = load_settings(config).profiles["default"]
        assert (kept.limiter, kept.account) == (f"redis://:{password}@cache:6379/2", "shop-main")
        # Another URL replaces it (the password then comes from CAMS_TUI_REDIS_PASSWORD).
        screen.query_one("#limiter", Input).value = "redis://cache2:6379/0"
        screen.query_one("#account", Input).value = ""
        await pilot.press("ctrl+s")
        await pilot.pause()
    changed = load_settings(config).profiles["default"]
    assert (changed.limiter, changed.account) == ("redis://cache2:6379/0", None)



async def test_each_form_button_does_its_action_when_clicked(config: Path) -> None:
    """Save, Use, Check and New work by mouse as their keys do."""
    save_settings(Settings(default_profile="a", profiles={"a": Profile()}), config)
    app = Host(config)
    async with app.run_test(size=(120, 60)) as pilot:  # tall enough for the buttons under the form
        await pilot.pause()
        await pilot.click("#new")
        await pilot.pause()
        assert app.screen.query_one("#name", Input).value == ""
        app.screen.query_one("#name", Input).value = "clicked"
        await pilot.click("#save")
        await pilot.pause()
        assert "clicked" in load_settings(config).profiles
        await pilot.click("#use")
        await pilot.pause()
        assert load_settings(config).default_profile == "clicked"
        await pilot.click("#check")
        await app.screen.workers.wait_for_complete()
        await pilot.pause()
        lines = [str(s.render()) for s in app.screen.query("#checks .check")]
    assert len(lines) == 1 and lines[0].startswith("✗ credentials")
