"""Textual's footer, rebuilt only when the keys it shows change, on two rows when one is too short."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.compose import compose
from textual.containers import HorizontalGroup
from textual.events import Resize
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer as TextualFooter
from textual.widgets._footer import FooterLabel


class Footer(TextualFooter):
    """The key bar at the bottom of every screen.

    Textual's footer rebuilds all its keys after the next refresh each time the screen
    publishes a bindings change, and a screen coming up publishes five in a row (focus set,
    stack updated, then again after each refresh that follows a focus change): five rebuilds
    of about 12 ms, the first after the first frame, so that frame has an empty footer. This
    one rebuilds before the next refresh, once for any number of changes, and not at all when
    the keys it would show are those it shows.

    Textual's footer is one row, and keys that do not fit are cut off. When they do not fit,
    this one takes a second row (at 80 columns: the parameters step, the jobs screens).
    """

    DEFAULT_CSS = """
    Footer.-two-rows {
        layout: vertical;
        height: 2;
    }
    Footer .footer-row {
        width: 1fr;
    }
    """

    _rebuild_pending = False
    _shown: tuple[object, ...] | None = None
    _two_rows = False
    _widths: list[int] = []
    """The width of each entry (command palette key aside, margins included), as last laid out."""
    _palette_width = 0
    _split_at = 0
    """How many entries the first row holds (two rows)."""
    _recomposing = False

    def compose(self) -> ComposeResult:
        if self._bindings_ready:
            self._shown = self._key_bar()
        entries = compose(self, super().compose())
        if not self._two_rows:
            yield from entries
            return
        keys = [entry for entry in entries if not entry.has_class("-command-palette")]
        split = self._split_at = self._split(keys)
        yield HorizontalGroup(*keys[:split], classes="footer-row")
        yield HorizontalGroup(*keys[split:], classes="footer-row")
        yield from (entry for entry in entries if entry.has_class("-command-palette"))

    def _split(self, keys: list[Widget]) -> int:
        """Where the second row starts: the first row holds what fits beside the command
        palette's key, a group's label kept with its keys."""
        if len(self._widths) != len(keys):  # not measured yet: half each, corrected once laid out
            split = (len(keys) + 1) // 2
        else:
            room, used, split = self.size.width - self._palette_width, 0, len(keys)
            for index, width in enumerate(self._widths):
                if used + width > room:
                    split = index
                    break
                used += width
        while 0 < split < len(keys) and isinstance(keys[split], FooterLabel):
            split -= 1  # the label's keys go down with it
        return split

    def bindings_changed(self, screen: Screen) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus or not self.is_attached or screen is not self.screen:
            return
        if not self._rebuild_pending:
            self._rebuild_pending = True
            self.call_later(self._rebuild)

    async def _rebuild(self) -> None:
        # Cleared first: a change published while the keys are being rebuilt needs another pass.
        self._rebuild_pending = False
        if self._recomposing:  # a fit is rebuilding: look again once it is drawn
            self._rebuild_pending = True
            self.call_after_refresh(self._rebuild)
            return
        if self.is_attached and self._key_bar() != self._shown:
            await self._recompose()
            self.call_after_refresh(self._fit)

    async def _recompose(self) -> None:
        # One rebuild at a time: a fit (after a refresh) and a bindings change (in the footer's
        # own queue) may both want one.
        self._recomposing = True
        try:
            await self.recompose()
        finally:
            self._recomposing = False

    def on_mount(self) -> None:
        # Textual's own on_mount (subscribing to binding changes) runs too: handlers of every
        # class of the MRO are called.
        self.call_after_refresh(self._fit)

    def on_resize(self, event: Resize) -> None:
        self.call_after_refresh(self._fit)

    async def _fit(self) -> None:
        """One row if every key fits in it, else two."""
        if not self.is_attached:
            return
        entries = [entry for row in self._rows() for entry in row.children] if self._two_rows else list(self.children)
        keys = [entry for entry in entries if not entry.has_class("-command-palette")]
        if self._recomposing or any(entry.outer_size.width == 0 for entry in entries):
            self.call_after_refresh(self._fit)  # being rebuilt, or not laid out yet
            return
        self._palette_width = sum(_width(entry) for entry in self.query(".-command-palette"))
        self._widths = [_width(entry) for entry in keys]
        two_rows = sum(self._widths) + self._palette_width > self.size.width
        if two_rows != self._two_rows or (two_rows and self._split(keys) != self._split_at):
            self._two_rows = two_rows
            self.set_class(two_rows, "-two-rows")
            await self._recompose()

    def _rows(self) -> list[Widget]:
        return [child for child in self.children if child.has_class("footer-row")]

    def _key_bar(self) -> tuple[object, ...]:
        """Everything the footer's keys are drawn from: the active bindings, and whether the
        command palette's key is shown."""
        keys = tuple(
            (
                binding.key,
                self.app.get_key_display(binding),
                binding.action,
                binding.description,
                binding.show,
                binding.group,
                binding.tooltip,
                enabled,
                tooltip,
            )
            for _, binding, enabled, tooltip in self.screen.active_bindings.values()
        )
        return (self.show_command_palette, self.app.ENABLE_COMMAND_PALETTE, keys)


def _width(entry: Widget) -> int:
    """The columns an entry takes in the row: its box and its margins."""
    return entry.outer_size.width + entry.styles.margin.width
