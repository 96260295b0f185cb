"""Turn theme files into ``textual.theme.Theme`` objects and register them on the app."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.app import App
from textual.color import ColorParseError
from textual.css.errors import DeclarationError, StyleValueError
from textual.css.styles import Styles
from textual.css.tokenizer import TokenError
from textual.theme import Theme

from cams_tui import theming
from cams_tui.config import remember_theme as store
from cams_tui.errors import UserError
from cams_tui.output_files import atomic_text_file
from cams_tui.paths import ensure_private_dir
from cams_tui.theming import ThemeCatalog, ThemeProblem, ThemeSpec


class ThemeBuildError(ValueError):
    """A validated theme file that Textual still cannot use (a colour or a variable's value)."""


def _check_variable(name: str, value: str) -> None:
    """Parse a design variable with Textual's own CSS parser, as the property kind it feeds."""
    declarations = (
        [f"text-style: {value};"] if name.endswith("text-style") or name.endswith("-style")
        else [f"background: {value};", f"color: {value};"]
    )
    for css in declarations:
        try:
            Styles.parse(css, ("theme", name))
        except (DeclarationError, StyleValueError, TokenError):
            continue
        return
    raise ThemeBuildError(f"variables.{name}: {value!r} is not a colour or text style Textual understands")


def build_theme(spec: ThemeSpec) -> Theme:
    """The ``Theme`` of a validated spec; raises :class:`ThemeBuildError` if Textual rejects it."""
    theme = Theme(**spec.theme_kwargs())
    try:
        theme.to_color_system().generate()
    except ColorParseError as exc:
        raise ThemeBuildError(f"a colour Textual cannot use: {exc}") from None
    for name, value in spec.variables.items():
        _check_variable(name, value)
    return theme


def build_themes(catalog: ThemeCatalog) -> tuple[list[Theme], list[ThemeProblem]]:
    """Every usable theme of ``catalog``, and the problems (the catalog's and Textual's)."""
    themes: list[Theme] = []
    problems = list(catalog.problems)
    for name, spec in catalog.themes.items():
        try:
            themes.append(build_theme(spec))
        except ThemeBuildError as exc:
            problems.append(ThemeProblem(catalog.sources.get(name, name), str(exc)))
    return themes, problems


def register_themes(app: App[object], catalog: ThemeCatalog | None = None) -> list[ThemeProblem]:
    """Register the built-in and user themes on ``app``; return the files that were skipped."""
    themes, problems = build_themes(catalog if catalog is not None else theming.load_all_themes())
    for theme in themes:
        app.register_theme(theme)
    return problems


def pick_theme(app: App[object], *wanted: str | None) -> str:
    """The first of ``wanted`` that is registered, else the default theme (or Textual's own)."""
    for name in (*wanted, theming.DEFAULT_THEME):
        if name and name in app.available_themes:
            return name
    return "textual-dark"



def install_themes(app: App[Any], requested: str | None, remembered: str | None) -> list[str]:
    """Register every theme on ``app`` and select ``requested``, else ``remembered``, else the default.

    Returns the warnings to show once the app runs: skipped theme files, or a requested
    theme that does not exist.
    """
    warnings = [str(problem) for problem in register_themes(app)]
    for label, name in (("--theme", requested), ("the profile's theme", remembered)):
        if name and name not in app.available_themes:
            known = ", ".join(sorted(app.available_themes))
            warnings.append(f"{label} {name!r} does not exist; themes: {known}")
    select_theme_before_start(app, pick_theme(app, requested, remembered))
    return warnings


def select_theme_before_start(app: App[object], name: str) -> None:
    """Make ``name`` the theme of an app that is not running yet.

    Setting ``App.theme`` schedules a re-parse of the whole stylesheet, which before the first
    frame is wasted work (about 20 ms): no CSS has been parsed yet, so giving the stylesheet
    the theme's variables, and the app the classes ``App.theme`` would set, is enough.
    """
    if app.is_running:
        app.theme = name
        return
    if name not in app.available_themes:  # set_reactive skips App.theme's own check
        raise ValueError(f"theme {name!r} is not registered")
    app.set_reactive(App.theme, name)
    theme = app.current_theme
    app.update_classes(
        {
            **{cls: False for cls in app.classes if cls.startswith("-theme-")},
            f"-theme-{theme.name}": True,
            "-dark-mode": theme.dark,
            "-light-mode": not theme.dark,
        },
        update=False,
    )
    app.stylesheet.set_variables(app.get_css_variables())
    app._refresh_truecolor_filter(app.ansi_theme)


DEMO_THEME_FILE = "theme.txt"
"""Where the demo keeps its theme: in its own data dir, never in the user's config."""


def demo_theme(demo_dir: Path) -> str | None:
    """The theme last chosen in the demo, if any."""
    try:
        return (demo_dir / DEMO_THEME_FILE).read_text(encoding="utf-8").strip() or None
    except (OSError, UnicodeDecodeError):
        return None


def remember_theme(app: App[Any], profile_name: str, theme: str, *, demo_dir: Path | None = None) -> None:
    """Store ``theme`` in the profile (or, in the demo, beside the demo's journal); a file that
    cannot be written is reported, not raised."""

    try:
        if demo_dir is not None:
            ensure_private_dir(demo_dir)
            with atomic_text_file(demo_dir / DEMO_THEME_FILE) as handle:
                handle.write(theme + "\n")
        else:
            store(profile_name, theme)
    except (UserError, OSError) as exc:
        app.notify(f"The theme was not remembered: {exc}", title="Themes", severity="warning")
