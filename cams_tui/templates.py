"""Template variables and previews.

Viber template text in CAMS names its variables ``$(name)``; other channels' documents show
``{{name}}`` and ``{{1}}``. Both are read. When the template carries an ``Example`` map, its
keys are variables too (it lists every variable with a sample value).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cams_tui.api.models import TemplateDetail

APPROVED_STATUSES = frozenset({"pass", "approved", "audit_pass"})
"""Audit statuses of a template that can be sent (ListChatappTemplate's ``AuditStatus``)."""

# $(name) or {{name}} / {{ 1 }}; names are letters, digits, '_', '-' and '.'.
PLACEHOLDER = re.compile(r"\$\(\s*([A-Za-z0-9_.\-]+)\s*\)|\{\{\s*([A-Za-z0-9_.\-]+)\s*\}\}")


def variables_in(text: str | None) -> list[str]:
    """The variables named in ``text``, in order of first appearance."""
    seen: dict[str, None] = {}
    for match in PLACEHOLDER.finditer(text or ""):
        seen.setdefault(match.group(1) or match.group(2), None)
    return list(seen)


def template_variables(detail: TemplateDetail) -> list[str]:
    """Every variable of a template: from its components' text and URLs, then its Example."""
    seen: dict[str, None] = {}
    for component in detail.components:
        for text in (component.text, component.url, component.caption):
            for name in variables_in(text):
                seen.setdefault(name, None)
        for button in component.buttons:
            for text in (button.text, button.url):
                for name in variables_in(text):
                    seen.setdefault(name, None)
    for name in detail.example:
        seen.setdefault(name, None)
    return list(seen)


@dataclass(frozen=True)
class Segment:
    """A run of rendered text: literal, or a variable's value (``variable`` set)."""

    text: str
    variable: str | None = None
    missing: bool = False


def render_segments(text: str | None, values: Mapping[str, str]) -> Iterator[Segment]:
    """Split ``text`` into literal runs and filled-in variables, for highlighting.

    A variable without a value renders as ``‹name›`` and is marked missing.
    """
    text = text or ""
    position = 0
    for match in PLACEHOLDER.finditer(text):
        if match.start() > position:
            yield Segment(text[position : match.start()])
        name = match.group(1) or match.group(2)
        value = values.get(name)
        if value:
            yield Segment(value, variable=name)
        else:
            yield Segment(f"‹{name}›", variable=name, missing=True)
        position = match.end()
    if position < len(text):
        yield Segment(text[position:])


def render_text(text: str | None, values: Mapping[str, str]) -> str:
    """``text`` with its variables filled in (missing ones shown as ``‹name›``)."""
    return "".join(segment.text for segment in render_segments(text, values))


@dataclass(frozen=True)
class Preview:
    """A template rendered for one recipient, component by component."""

    header: str | None
    header_media_url: str | None
    body: str
    footer: str | None
    buttons: list[tuple[str, str | None]]
    missing: list[str]


def render_preview(detail: TemplateDetail, values: Mapping[str, str]) -> Preview:
    """Render every component of ``detail`` with ``values``."""
    header = media = footer = None
    body_parts: list[str] = []
    buttons: list[tuple[str, str | None]] = []
    for component in detail.components:
        kind = component.type.upper()
        if kind == "HEADER":
            if (component.format or "TEXT").upper() == "TEXT":
                header = render_text(component.text, values)
            else:
                media = render_text(component.url, values) or None
                header = f"[{(component.format or 'media').lower()}]"
        elif kind == "BODY":
            body_parts.append(render_text(component.text, values))
        elif kind == "FOOTER":
            footer = render_text(component.text, values)
        elif kind == "BUTTONS":
            buttons.extend((render_text(b.text, values), render_text(b.url, values) or None) for b in component.buttons)
    missing = [name for name in template_variables(detail) if not values.get(name)]
    return Preview(header, media, "\n".join(body_parts), footer, buttons, missing)
