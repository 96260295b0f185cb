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
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from cams_tui import paths

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


class ThemeSpec(BaseModel):
    """One theme as written in its TOML file; the fields are those of ``textual.theme.Theme``."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    name: str = Field(description="The theme's name, as shown in the command palette and stored in a profile.")
    primary: str = Field(description="The main colour: borders, focus, highlighted rows (#RRGGBB).")
    secondary: str | None = Field(None, description="A second colour for less prominent accents.")
    accent: str | None = Field(None, description="Draws the eye: key hints in the footer, links.")
    foreground: str | None = Field(None, description="Default text colour.")
    background: str | None = Field(None, description="The screen's background.")
    surface: str | None = Field(None, description="Widgets' background (inputs, tables).")
    panel: str | None = Field(None, description="Panels and the footer, set apart from the surface.")
    boost: str | None = Field(None, description="A colour blended over surfaces for emphasis.")
    success: str | None = Field(None, description="Good outcomes (sent, ok).")
    warning: str | None = Field(None, description="Needs attention (throttled, unknown).")
    error: str | None = Field(None, description="Failures.")
    dark: bool = Field(True, description="Whether this is a dark theme (light text on dark colours).")
    luminosity_spread: float = Field(0.15, ge=0, le=1, description="How far the generated shades spread.")
    text_alpha: float = Field(0.95, ge=0, le=1, description="Opacity of body text.")
    variables: dict[str, str] = Field(
        default_factory=dict, description="Overrides of Textual's design variables, e.g. footer-key-foreground."
    )

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        if not _THEME_NAME.fullmatch(value):
            raise ValueError("must start with a letter and hold only letters, digits, '-' and '_'")
        return value

    @field_validator(*_COLOUR_FIELDS)
    @classmethod
    def _check_colour(cls, value: str | None) -> str | None:
        if value is not None and not _HEX_COLOUR.fullmatch(value.strip()):
            raise ValueError(f"{value!r} is not a hex colour such as #7360F2")
        return value.strip() if value is not None else None

    @field_validator("variables")
    @classmethod
    def _check_variables(cls, value: dict[str, str]) -> dict[str, str]:
        for name, text in value.items():
            if not _VARIABLE_NAME.fullmatch(name):
                raise ValueError(f"variable {name!r}: names are lower-case words joined by '-'")
            if _CSS_BREAKERS & set(text) or not text.strip():
                raise ValueError(f"variable {name!r}: {text!r} is not a single CSS value")
        return value

    def theme_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``textual.theme.Theme``."""
        return self.model_dump()


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


def _describe(error: ValidationError) -> str:
    parts = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"]) or "(top level)"
        message = "unknown key" if item["type"] == "extra_forbidden" else item["msg"]
        parts.append(f"{where}: {message.removeprefix('Value error, ')}")
    return "; ".join(parts)


def parse_theme(text: str, default_name: str) -> ThemeSpec:
    """A theme from TOML text; ``default_name`` (the file's stem) is used when it has no ``name``."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ThemeFileError(f"not valid TOML: {exc}") from None
    data.setdefault("name", default_name)
    try:
        return ThemeSpec.model_validate(data)
    except ValidationError as exc:
        raise ThemeFileError(_describe(exc)) from None


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
            catalog.problems.append(ThemeProblem(source, f"the name {spec.name!r} is already used by {claimed[spec.name]}"))
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
