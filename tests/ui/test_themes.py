"""Theme files: every shipped one builds a Textual theme; broken user themes are reported and skipped."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from textual.app import App
from textual.theme import Theme

from cams_tui import theming
from cams_tui.theming import ThemeCatalog, ThemeFileError, add_themes_from, load_all_themes, parse_theme
from cams_tui.ui.themes import build_theme, build_themes, pick_theme, register_themes, select_theme_before_start

REPO = Path(__file__).resolve().parents[2]
SHIPPED = sorted((REPO / "themes").glob("*.toml"))


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_shipped_file_builds_a_textual_theme(path: Path) -> None:
    spec = theming.load_theme_file(path)
    theme = build_theme(spec)
    assert isinstance(theme, Theme)
    assert theme.name == path.stem  # file name and theme name agree, so users can find it
    assert theme.to_color_system().generate()["primary"]


def test_the_four_required_themes_are_shipped() -> None:
    specs = {p.stem: theming.load_theme_file(p) for p in SHIPPED}
    assert {"cams-dark", "cams-light", "cams-high-contrast", "cams-viber"} <= specs.keys()
    assert specs["cams-dark"].dark and not specs["cams-light"].dark
    assert specs["cams-viber"].primary.upper() == "#7360F2"
    contrast = specs["cams-high-contrast"]
    assert (contrast.background, contrast.foreground) == ("#000000", "#FFFFFF")
    assert theming.DEFAULT_THEME in specs


def test_builtin_folder_is_found_from_a_checkout() -> None:
    folder = theming.builtin_themes_dir()
    assert folder is not None
    assert sorted(entry.name for entry in folder.iterdir() if entry.name.endswith(".toml")) == [p.name for p in SHIPPED]


async def test_every_theme_applies_to_a_running_app() -> None:
    app: App[None] = App()
    async with app.run_test(size=(40, 10)) as pilot:
        assert register_themes(app, load_all_themes(user_dir=Path("/nonexistent"))) == []
        for path in SHIPPED:
            app.theme = path.stem
            await pilot.pause()
            assert app.current_theme.name == path.stem


@pytest.mark.parametrize("name", ["cams-light", "cams-high-contrast"])
async def test_a_theme_chosen_before_start_is_in_full_effect_without_a_reparse(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from textual.css.stylesheet import Stylesheet

    reparses: list[object] = []
    original = Stylesheet.reparse
    monkeypatch.setattr(Stylesheet, "reparse", lambda self: (reparses.append(self), original(self))[1])
    app: App[None] = App()
    register_themes(app, load_all_themes(user_dir=Path("/nonexistent")))
    select_theme_before_start(app, name)
    async with app.run_test(size=(40, 10)) as pilot:
        await pilot.pause()
        assert reparses == []
        chosen_before = (dict(app.stylesheet._variables), app.screen.styles.background, set(app.classes))
        app.theme = "cams-dark"
        await pilot.pause()
        app.theme = name  # the ordinary way, while running
        await pilot.pause()
        assert (dict(app.stylesheet._variables), app.screen.styles.background, set(app.classes)) == chosen_before
        assert app.current_theme.dark is (name != "cams-light")
        assert f"-theme-{name}" in app.classes


# ---------------------------------------------------------------- user themes


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


GOOD = 'primary = "#112233"\nbackground = "#000000"\n'


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('primary = "#112233"\nbackgruond = "#000000"\n', "backgruond: unknown key"),
        ('primary = "purple-ish"\n', "primary: 'purple-ish' is not a hex colour"),
        ('background = "#000000"\n', "primary: required"),
        ("primary = \n", "not valid TOML"),
        ('name = "has space"\nprimary = "#112233"\n', "name: must start with a letter"),
        ('primary = "#112233"\nluminosity_spread = 3\n', "luminosity_spread"),
        ('primary = "#112233"\n[variables]\nfooter-key-foreground = "red; x"\n', "not a single CSS value"),
    ],
)
def test_broken_user_theme_is_reported_and_skipped(tmp_path: Path, text: str, fragment: str) -> None:
    user = tmp_path / "themes"
    broken = _write(user, "broken.toml", text)
    _write(user, "mine.toml", GOOD)
    catalog = load_all_themes(user_dir=user)
    assert "broken" not in catalog.themes and "has space" not in catalog.themes
    assert "mine" in catalog.themes and "cams-dark" in catalog.themes
    assert len(catalog.problems) == 1
    problem = catalog.problems[0]
    assert problem.source == str(broken)
    assert fragment in problem.message
    assert str(broken) in str(problem) and "skipped" in str(problem)


def test_variable_textual_cannot_parse_is_reported_at_build(tmp_path: Path) -> None:
    user = tmp_path / "themes"
    _write(user, "odd.toml", 'primary = "#112233"\n[variables]\nfooter-key-foreground = "not-a-colour"\n')
    _write(user, "styled.toml", 'primary = "#112233"\n[variables]\nblock-cursor-text-style = "bold reverse"\n')
    themes, problems = build_themes(load_all_themes(user_dir=user))
    names = {theme.name for theme in themes}
    assert "styled" in names and "odd" not in names
    assert [p.source for p in problems] == [str(user / "odd.toml")]
    assert "variables.footer-key-foreground" in problems[0].message


def test_user_theme_may_replace_a_builtin_one(tmp_path: Path) -> None:
    user = tmp_path / "themes"
    _write(user, "my-dark.toml", 'name = "cams-dark"\nprimary = "#ABCDEF"\n')
    catalog = load_all_themes(user_dir=user)
    assert catalog.themes["cams-dark"].primary == "#ABCDEF"
    assert catalog.sources["cams-dark"] == str(user / "my-dark.toml")
    assert catalog.problems == []


def test_two_user_files_claiming_one_name_are_reported(tmp_path: Path) -> None:
    user = tmp_path / "themes"
    _write(user, "a.toml", 'name = "twin"\nprimary = "#111111"\n')
    _write(user, "b.toml", 'name = "twin"\nprimary = "#222222"\n')
    _write(user, "notes.txt", "not a theme")
    catalog = load_all_themes(user_dir=user)
    assert catalog.themes["twin"].primary == "#111111"
    assert len(catalog.problems) == 1 and "already used by" in catalog.problems[0].message


def test_unreadable_user_file_is_reported(tmp_path: Path) -> None:
    user = tmp_path / "themes"
    _write(user, "latin1.toml", "").write_bytes(b'primary = "#112233"\n# caf\xe9\n')
    catalog = ThemeCatalog()
    add_themes_from(catalog, user, label="user")
    assert catalog.themes == {} and "cannot be read" in catalog.problems[0].message


def test_missing_user_folder_is_fine(tmp_path: Path) -> None:
    catalog = load_all_themes(user_dir=tmp_path / "absent")
    assert catalog.problems == [] and len(catalog.themes) == len(SHIPPED)


def test_user_folder_defaults_to_the_config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAMS_TUI_CONFIG", str(tmp_path / "config.toml"))
    assert theming.user_themes_dir() == tmp_path / "themes"
    _write(tmp_path / "themes", "mine.toml", GOOD)
    assert "mine" in load_all_themes().themes


def test_parse_uses_the_file_stem_when_unnamed() -> None:
    assert parse_theme(GOOD, "stem").name == "stem"
    with pytest.raises(ThemeFileError):
        parse_theme("[", "x")


async def test_register_themes_reports_broken_and_registers_good(tmp_path: Path) -> None:
    user = tmp_path / "themes"
    _write(user, "mine.toml", GOOD)
    _write(user, "broken.toml", "primary = 1\n")
    app: App[None] = App()
    async with app.run_test(size=(40, 10)) as pilot:
        problems = register_themes(app, load_all_themes(user_dir=user))
        assert [p.source for p in problems] == [str(user / "broken.toml")]
        assert {"mine", "cams-viber"} <= app.available_themes.keys()
        assert pick_theme(app, None, "nope", "mine") == "mine"
        assert pick_theme(app, "nope") == theming.DEFAULT_THEME
        app.theme = "mine"
        await pilot.pause()
        assert app.current_theme.primary == "#112233"


# ---------------------------------------------------------------- shipped inside the wheel


@pytest.mark.skipif(shutil.which("uv") is None, reason="building the wheel needs uv")
def test_wheel_ships_the_themes_and_finds_them_inside_the_zip(tmp_path: Path) -> None:
    built = subprocess.run(
        ["uv", "build", "--wheel", "--offline", "-q", "-o", str(tmp_path)],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    assert built.returncode == 0, built.stderr
    wheel = next(tmp_path.glob("cams_tui-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        shipped = sorted(n for n in archive.namelist() if n.startswith("cams_tui/themes/"))
    assert shipped == [f"cams_tui/themes/{p.name}" for p in SHIPPED]

    # Import the package from the wheel itself (zipimport): the themes must come from inside it.
    probe = (
        "import cams_tui, cams_tui.theming as t;"
        "assert '.whl' in cams_tui.__file__, cams_tui.__file__;"
        "c = t.load_all_themes();"
        "print(sorted(c.themes), t.builtin_themes_dir(), c.problems)"
    )
    env = {**os.environ, "PYTHONPATH": str(wheel), "CAMS_TUI_CONFIG": str(tmp_path / "cfg" / "config.toml")}
    run = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, env=env, timeout=60
    )
    assert run.returncode == 0, run.stderr
    assert str(sorted(p.stem for p in SHIPPED)) in run.stdout
    assert ".whl" in run.stdout and "[]" in run.stdout
