"""Theme files: TOML documents holding the fields of ``textual.theme.Theme``.

This module only reads and validates them (no Textual here); ``cams_tui.ui.themes`` turns
each :class:`ThemeSpec` into a ``Theme`` and registers it. A theme file that cannot be used
becomes a :class:`ThemeProblem` in the catalog, never an exception: a typo in one user file
must not keep the application from starting.

Built-in themes live in the repository's ``themes/`` folder, shipped in the wheel as the
``cams_tui/themes`` package folder; user themes live in ``themes/`` beside ``config.toml``
and may replace a built-in theme by using its name.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, ClassVar

from cams_tui import paths
from cams_tui.tables import CheckedTable, Field, TableError, boolean, number, optional, text, text_map

DEFAULT_THEME = "cams-dark"
THEME_SUFFIX = ".toml"

_HEX_COLOUR = re.compile(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})")
# Textual puts the name in a CSS class (``-theme-<name>``), so it must be an identifier.
_THEME_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
_VARIABLE_NAME = re.compile(r"[a-z][a-z0-9-]*")
_CSS_BREAKERS = set(";{}\n\r")

_COLOUR_FIELDS = (
    "primary",
    "secondary",
    "accent",
    "foreground",
    "background",
    "surface",
    "panel",
    "boost",
    "success",
    "warning",
    "error",
)


def _theme_name(value: object) -> str:
    if not _THEME_NAME.fullmatch(text(value)):
        raise ValueError("must start with a letter and hold only letters, digits, '-' and '_'")
    return str(value)


def _colour(value: object) -> str:
    colour = text(value).strip()
    if not _HEX_COLOUR.fullmatch(colour):
        raise ValueError(f"{value!r} is not a hex colour such as #7360F2")
    return colour


def _variable(name: str, value: str) -> None:
    if not _VARIABLE_NAME.fullmatch(name):
        raise ValueError("names are lower-case words joined by '-'")
    if _CSS_BREAKERS & set(value) or not value.strip():
        raise ValueError(f"{value!r} is not a single CSS value")


@dataclass(frozen=True)
class ThemeSpec(CheckedTable):
    """One theme as written in its TOML file; the fields are those of ``textual.theme.Theme``."""

    name: str
    """The theme's name, as shown in the command palette and stored in a profile."""
    primary: str
    """The main colour: borders, focus, highlighted rows (#RRGGBB)."""
    secondary: str | None = None
    """A second colour for less prominent accents."""
    accent: str | None = None
    """Draws the eye: key hints in the footer, links."""
    foreground: str | None = None
    """Default text colour."""
    background: str | None = None
    """The screen's background."""
    surface: str | None = None
    """Widgets' background (inputs, tables)."""
    panel: str | None = None
    """Panels and the footer, set apart from the surface."""
    boost: str | None = None
    """A colour blended over surfaces for emphasis."""
    success: str | None = None
    """Good outcomes (sent, ok)."""
    warning: str | None = None
    """Needs attention (throttled, unknown)."""
    error: str | None = None
    """Failures."""
    dark: bool = True
    """Whether this is a dark theme (light text on dark colours)."""
    luminosity_spread: float = 0.15
    """How far the generated shades spread."""
    text_alpha: float = 0.95
    """Opacity of body text."""
    variables: dict[str, str] = field(default_factory=dict)
    """Overrides of Textual's design variables, e.g. footer-key-foreground."""

    FIELDS: ClassVar[tuple[Field, ...]] = (
        Field("name", _theme_name),
        Field("primary", _colour),
        *(Field(name, optional(_colour)) for name in _COLOUR_FIELDS if name != "primary"),
        Field("dark", boolean),
        Field("luminosity_spread", number(ge=0, le=1)),
        Field("text_alpha", number(ge=0, le=1)),
        Field("variables", text_map(_variable)),
    )
    REQUIRED: ClassVar[tuple[str, ...]] = ("name", "primary")

    def theme_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``textual.theme.Theme``."""
        return {field.attribute: getattr(self, field.attribute) for field in self.FIELDS}


@dataclass(frozen=True)
class ThemeProblem:
    """A theme file that was skipped, and why."""

    source: str
    message: str

    def __str__(self) -> str:
        return f"theme {self.source} skipped: {self.message}"


@dataclass
class ThemeCatalog:
    """Usable themes by name (built-in first, then the user's), the file each came from, and problems."""

    themes: dict[str, ThemeSpec] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    problems: list[ThemeProblem] = field(default_factory=list)


class ThemeFileError(ValueError):
    """A theme file that cannot be used; the message names the key or line at fault."""


def parse_theme(text: str, default_name: str) -> ThemeSpec:
    """A theme from TOML text; ``default_name`` (the file's stem) is used when it has no ``name``."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ThemeFileError(f"not valid TOML: {exc}") from None
    data.setdefault("name", default_name)
    try:
        return ThemeSpec.from_table(data)
    except TableError as exc:
        raise ThemeFileError(str(exc)) from None


def load_theme_file(file: Traversable) -> ThemeSpec:
    """Read and validate one theme file."""
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ThemeFileError(f"cannot be read: {exc}") from None
    return parse_theme(text, file.name.removesuffix(THEME_SUFFIX))


def builtin_themes_dir() -> Traversable | None:
    """The shipped themes: ``cams_tui/themes`` in an installed wheel, else the checkout's ``themes/``."""
    packaged = resources.files("cams_tui") / "themes"
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parent.parent / "themes"
    return checkout if checkout.is_dir() else None


def user_themes_dir() -> Path:
    """The user's themes: ``themes/`` beside the config file."""
    return paths.config_dir() / "themes"


def _theme_files(folder: Traversable) -> list[Traversable]:
    return sorted(
        (entry for entry in folder.iterdir() if entry.name.endswith(THEME_SUFFIX) and entry.is_file()),
        key=lambda entry: entry.name,
    )


def _source_name(file: Traversable, label: str) -> str:
    """A real path when there is one; inside a zip, the label and the file's name."""
    return str(file) if isinstance(file, Path) else f"{label}:{file.name}"


def add_themes_from(catalog: ThemeCatalog, folder: Traversable | None, *, label: str) -> None:
    """Add every ``*.toml`` theme in ``folder`` to ``catalog``; record the unusable ones.

    A later folder may replace a theme of an earlier one (a user theme named like a built-in
    one wins); two files of the same folder claiming one name are a problem.
    """
    if folder is None or not folder.is_dir():
        return
    try:
        files = _theme_files(folder)
    except OSError as exc:
        catalog.problems.append(ThemeProblem(str(folder), f"the folder cannot be read: {exc}"))
        return
    claimed: dict[str, str] = {}
    for file in files:
        source = _source_name(file, label)
        try:
            spec = load_theme_file(file)
        except ThemeFileError as exc:
            catalog.problems.append(ThemeProblem(source, str(exc)))
            continue
        if spec.name in claimed:
            taken = f"the name {spec.name!r} is already used by {claimed[spec.name]}"
            catalog.problems.append(ThemeProblem(source, taken))
            continue
        claimed[spec.name] = source
        catalog.themes[spec.name] = spec
        catalog.sources[spec.name] = source


def load_all_themes(user_dir: Path | None = None) -> ThemeCatalog:
    """The built-in themes, then the user's (``user_dir`` or :func:`user_themes_dir`)."""
    catalog = ThemeCatalog()
    add_themes_from(catalog, builtin_themes_dir(), label="built-in")
    add_themes_from(catalog, user_dir if user_dir is not None else user_themes_dir(), label="user")
    return catalog
