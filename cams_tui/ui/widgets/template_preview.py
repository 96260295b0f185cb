"""A template rendered as the recipient would see it, variables highlighted."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from textual.content import Content

from cams_tui.templates import render_segments, template_variables
from cams_tui.ui.widgets.text import Static

if TYPE_CHECKING:
    from cams_tui.api.models import TemplateDetail

Parts = list[tuple[str, str] | str]


class TemplatePreview(Static):
    """Header (image and its URL, or text), body with variables highlighted, footer, buttons."""

    HELP = """
## Preview
The template as a recipient sees it. Variables are highlighted: filled in with their value,
or shown as **‹name›** in the warning colour while they have none.
"""

    def show(self, detail: TemplateDetail | None, values: Mapping[str, str], note: str = "") -> None:
        """Render ``detail`` with ``values`` (or ``note`` when there is nothing to show)."""
        if detail is None:
            self.update(Content.styled(note or "No template highlighted.", "italic $text-muted"))
            return
        self.update(render_detail(detail, values))


def render_detail(detail: TemplateDetail, values: Mapping[str, str]) -> Content:
    """The preview of ``detail`` with ``values``, as styled content."""
    parts: Parts = []
    for component in detail.components:
        kind = component.type.upper()
        if kind == "HEADER":
            form = (component.format or "TEXT").upper()
            if form == "TEXT":
                _segments(parts, component.text, values, "bold")
            else:
                parts.append((f"[{form.lower()}] ", "bold"))
                _segments(parts, component.url, values, "underline")
                if component.caption:
                    parts.append("\n")
                    _segments(parts, component.caption, values, "italic")
            parts.append("\n")
        elif kind in ("BODY", "FOOTER"):
            _segments(parts, component.text, values, "" if kind == "BODY" else "$text-muted")
            parts.append("\n")
        elif kind == "BUTTONS":
            for button in component.buttons:
                parts.append(("[ ", "bold"))
                _segments(parts, button.text, values, "bold")
                if button.url:
                    parts.append((" → ", "bold"))
                    _segments(parts, button.url, values, "underline")
                parts.append((" ]\n", "bold"))
    names = template_variables(detail)
    parts.append(("variables: " + (", ".join(names) if names else "none"), "$text-muted"))
    return Content.assemble(*parts)


def _segments(parts: Parts, source: str | None, values: Mapping[str, str], style: str) -> None:
    for segment in render_segments(source, values):
        if segment.variable is None:
            parts.append((segment.text, style))
        else:
            colour = "$warning" if segment.missing else "$accent"
            parts.append((segment.text, f"{style} bold {colour}".strip()))
