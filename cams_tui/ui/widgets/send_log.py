"""The send log: one line per request outcome, bounded, filterable, with a cursor.

A line-API widget (``ScrollView`` + ``render_line``): only the rows on screen are rendered,
so a job's whole history opens at once, and a batch of new lines costs one refresh.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from cams_tui.ui.log_entries import FILTERS, LogEntry, LogFilter

# The lines' model lives in ui/log_entries.py (pure); the names stay importable from here.
__all__ = ["DEFAULT_MAX_ENTRIES", "FILTERS", "LogEntry", "LogFilter", "SendLog"]

DEFAULT_MAX_ENTRIES = 20_000

class SendLog(ScrollView, can_focus=True):
    """Request outcomes, oldest first; the view follows new lines while the cursor is on
    the last one. ``enter`` posts :class:`SendLog.Selected` for the line under the cursor."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "send-log--dim",
        "send-log--ok",
        "send-log--throttled",
        "send-log--not_sent",
        "send-log--failed",
        "send-log--unknown",
        "send-log--fatal",
        "send-log--cursor",
    }
    DEFAULT_CSS = """
    SendLog {
        background: $surface;
        overflow: auto auto;
        & > .send-log--dim { color: $text-muted; }
        & > .send-log--ok { color: $text-success; }
        & > .send-log--throttled { color: $text-warning; }
        & > .send-log--not_sent { color: $text-warning; }
        & > .send-log--failed { color: $text-error; }
        & > .send-log--unknown { color: $text-accent; text-style: bold; }
        & > .send-log--fatal { color: $text-error; text-style: bold reverse; }
        & > .send-log--cursor { background: $block-cursor-blurred-background; }
        &:focus > .send-log--cursor { background: $block-cursor-background; }
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "edge(0)", "First", show=False),
        Binding("end", "edge(1)", "Last", show=False),
        Binding("enter", "select", "Details", id="log-details", tooltip="Show the full answer of this line"),
    ]

    log_filter: reactive[LogFilter] = reactive("all")
    """Which lines show: ``all``, ``problems`` (anything not ok) or ``unknown``."""
    cursor: reactive[int] = reactive(-1, repaint=True)
    """The highlighted row among the shown lines, ``-1`` before there is any."""

    class Selected(Message):
        """A line was chosen with ``enter``."""

        def __init__(self, entry: LogEntry) -> None:
            super().__init__()
            self.entry = entry
            """The chosen line."""

    def __init__(
        self,
        *,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.max_entries = max_entries
        """How many lines are kept; the oldest go first."""
        self._entries: list[LogEntry] = []
        self._shown: list[int] = []  # indices into _entries that pass the filter
        self._follow = True

    # ------------------------------------------------------------------ content

    @property
    def entries(self) -> list[LogEntry]:
        """Every kept line, whatever the filter."""
        return list(self._entries)

    @property
    def shown(self) -> list[LogEntry]:
        """The lines the filter lets through."""
        return [self._entries[i] for i in self._shown]

    @property
    def selected(self) -> LogEntry | None:
        """The line under the cursor."""
        if 0 <= self.cursor < len(self._shown):
            return self._entries[self._shown[self.cursor]]
        return None

    def add_entries(self, entries: Iterable[LogEntry]) -> None:
        """Append lines (one refresh for all of them)."""
        start = len(self._entries)
        self._entries.extend(entries)
        added = len(self._entries) - start
        if not added:
            return
        if len(self._entries) > self.max_entries:
            # Drop a tenth more than needed, so trimming (a rebuild) happens rarely.
            drop = len(self._entries) - self.max_entries + self.max_entries // 10
            kept_cursor = self.selected
            del self._entries[:drop]
            self._rebuild(keep=kept_cursor)
        else:
            log_filter = self.log_filter
            self._shown.extend(i for i in range(start, len(self._entries)) if self._entries[i].matches(log_filter))
        self._resize()
        if self._follow:
            self._to_last()

    def clear(self) -> None:
        """Remove every line."""
        self._entries.clear()
        self._shown.clear()
        self._follow = True
        self.cursor = -1
        self._resize()

    def _rebuild(self, keep: LogEntry | None) -> None:
        log_filter = self.log_filter
        self._shown = [i for i, entry in enumerate(self._entries) if entry.matches(log_filter)]
        if keep is not None:
            rows = [row for row, i in enumerate(self._shown) if self._entries[i] is keep]
            self.cursor = rows[0] if rows else min(self.cursor, len(self._shown) - 1)
        else:
            self.cursor = min(self.cursor, len(self._shown) - 1)

    def _resize(self) -> None:
        # Every line has the same fixed-width layout: the first one gives the width.
        width = sum(len(text) for text, _ in self._entries[0].cells()) if self._entries else 0
        self.virtual_size = Size(width, len(self._shown))
        self.refresh()

    def watch_log_filter(self) -> None:
        self._rebuild(keep=self.selected)
        self._resize()
        if self._follow or self.cursor < 0:
            self._to_last()
        else:
            self.scroll_to_cursor()

    # ------------------------------------------------------------------ cursor

    def _to_last(self) -> None:
        self.cursor = len(self._shown) - 1
        self._follow = True
        # After the refresh: the new virtual size must be laid out before the end is known.
        self.call_after_refresh(self.scroll_end, animate=False, immediate=True, x_axis=False)

    def _move(self, row: int) -> None:
        if not self._shown:
            return
        self.cursor = max(0, min(row, len(self._shown) - 1))
        self._follow = self.cursor == len(self._shown) - 1
        self.scroll_to_cursor()

    def scroll_to_cursor(self) -> None:
        """Scroll so the cursor's row is on screen."""
        if self.cursor < 0:
            return
        top = int(self.scroll_y)
        height = max(self.scrollable_content_region.height, 1)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False, immediate=True)

    def action_cursor(self, delta: int) -> None:
        """Move the cursor by ``delta`` rows."""
        self._move((self.cursor if self.cursor >= 0 else len(self._shown)) + delta)

    def action_page(self, direction: int) -> None:
        """Move the cursor by a screenful."""
        self._move(self.cursor + direction * max(self.scrollable_content_region.height - 1, 1))

    def action_edge(self, last: int) -> None:
        """Move the cursor to the first (0) or last (1) row."""
        self._move(len(self._shown) - 1 if last else 0)

    def action_select(self) -> None:
        """Post :class:`Selected` for the line under the cursor."""
        entry = self.selected
        if entry is not None:
            self.post_message(self.Selected(entry))

    def on_click(self, event: Any) -> None:
        """Put the cursor on the clicked row."""
        self._move(int(self.scroll_y) + event.y)

    # ------------------------------------------------------------------ render

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        row = scroll_y + y
        width = self.size.width
        base = self.rich_style
        if row >= len(self._shown):
            return Strip.blank(width, base)
        entry = self._entries[self._shown[row]]
        cursor_style = self.get_component_rich_style("send-log--cursor") if row == self.cursor else None
        segments = []
        for text, role in entry.cells():
            style = base + self.get_component_rich_style(f"send-log--{role}") if role else base
            if cursor_style is not None:
                style += cursor_style
            segments.append(Segment(text, style))
        fill = base + cursor_style if cursor_style is not None else base
        return Strip(segments).crop_extend(scroll_x, scroll_x + width, fill or Style())
