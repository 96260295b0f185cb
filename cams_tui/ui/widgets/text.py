"""Static and Label that show a string as it is, never as Textual markup.

Much of what the app shows comes from outside it: template names and CAMS's messages, pasted
lines, typed values, file paths. Read as markup, ``[To]`` in a message would vanish and a
stray ``[/]`` in a pasted line would raise ``MarkupError`` and end the app. None of the app's
own strings uses markup (styled text is built as ``Content`` or rich ``Text``), so every
Static and Label of the app comes from here, with markup off.
"""

from __future__ import annotations

from typing import Any

from textual.visual import VisualType
from textual.widgets import Label as TextualLabel
from textual.widgets import Static as TextualStatic


class Static(TextualStatic):
    """Textual's Static; a string is shown as written."""

    def __init__(self, content: VisualType = "", *, markup: bool = False, **options: Any) -> None:
        super().__init__(content, markup=markup, **options)


class Label(TextualLabel):
    """Textual's Label; a string is shown as written."""

    def __init__(self, content: VisualType = "", *, markup: bool = False, **options: Any) -> None:
        super().__init__(content, markup=markup, **options)
