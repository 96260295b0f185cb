"""F1: the keys of the screen on show, grouped, before those of the focused widget.

Textual's own help panel lists the focused widget's keys first (an input's cursor keys),
which at 80×24 pushes the app's keys below the fold. This dialog reads the bindings in
force and groups them by where they come from: this screen (and the step on show), then
everywhere, then the focused field; the step's or widget's own help text comes last.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen, Screen
from textual.widget import Widget
from textual.widgets import Markdown

from cams_tui.ui.widgets.text import Label, Static


def help_groups(screen: Screen, focused: Widget | None) -> list[tuple[str, list[tuple[str, str]]]]:
    """``(group title, [(key, what it does)])`` for the keys in force on ``screen``: this
    screen (its step pane included), everywhere (the app's), this field (the focused widget's)."""
    app = screen.app
    here: list[tuple[str, str]] = []
    everywhere: list[tuple[str, str]] = []
    field: list[tuple[str, str]] = []
    seen: set[tuple[str, str]] = set()
    for active in screen.active_bindings.values():
        binding = active.binding
        if not active.enabled or binding.system or not binding.description:
            continue
        shown = app.get_key_display(binding)
        what = binding.tooltip or binding.description
        entry = (shown, what if what == binding.description else f"{binding.description}: {what}")
        if (shown, binding.description) in seen:
            continue
        seen.add((shown, binding.description))
        node = active.node
        if node is app or binding.action in ("app.focus_next", "app.focus_previous", "focus_next", "focus_previous"):
            everywhere.append(entry)
        elif isinstance(node, Screen) or type(node).__name__.endswith("Step"):
            here.append(entry)
        else:
            field.append(entry)
    if not any("palette" in what.lower() for _, what in everywhere):
        everywhere.append(("ctrl+p", "Command palette: every action by name, themes"))
    groups = [("This screen", here), ("Everywhere", everywhere), ("This field", field)]
    return [(title, entries) for title, entries in groups if entries]


def _help_text(screen: Screen, focused: Widget | None) -> str:
    """The HELP of the step on show, else of the focused widget (markdown), or ""."""
    node: Widget | None = focused
    while node is not None:
        text = getattr(type(node), "HELP", None)
        if text and type(node).__module__.startswith("cams_tui"):
            return text
        node = node.parent if isinstance(node.parent, Widget) else None
    return ""


class HelpScreen(ModalScreen[None]):
    """The keys that work here, grouped; esc or F1 closes it."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Vertical {
        width: 90%; max-width: 100; height: 90%;
        border: round $primary; background: $surface; padding: 0 1;
    }
    HelpScreen .title { text-style: bold; }
    HelpScreen VerticalScroll { height: 1fr; }
    HelpScreen Markdown { margin: 0; padding: 0; }
    """
    BINDINGS = [
        Binding("escape", "close", "Close", id="help-close"),
        Binding("f1", "close", "Close", show=False),
    ]

    def __init__(self, under: Screen, focused: Widget | None) -> None:
        super().__init__()
        self._groups = help_groups(under, focused)
        self._text = _help_text(under, focused)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Keys (esc closes)", classes="title")
            with VerticalScroll():
                parts: list[tuple[str, str] | str] = []
                for title, entries in self._groups:
                    parts.append((f"{title}\n", "bold $accent"))
                    width = max(len(key) for key, _ in entries)
                    for key, what in entries:
                        parts += [(f"  {key:<{width}}  ", "bold"), f"{what}\n"]
                    parts.append("\n")
                yield Static(Content.assemble(*parts), id="help-keys")
                if self._text:
                    yield Markdown(self._text.strip(), id="help-text")

    def action_close(self) -> None:
        """Close the help."""
        self.dismiss(None)
