"""Textual's footer, rebuilt only when the keys it shows change."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer as TextualFooter


class Footer(TextualFooter):
    """The key bar at the bottom of every screen.

    Textual's footer rebuilds all its keys after the next refresh each time the screen
    publishes a bindings change, and a screen coming up publishes five in a row (focus set,
    stack updated, then again after each refresh that follows a focus change): five rebuilds
    of about 12 ms, the first after the first frame, so that frame has an empty footer. This
    one rebuilds before the next refresh, once for any number of changes, and not at all when
    the keys it would show are those it shows.
    """

    _rebuild_pending = False
    _shown: tuple[object, ...] | None = None

    def compose(self) -> ComposeResult:
        if self._bindings_ready:
            self._shown = self._key_bar()
        yield from super().compose()

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
        if self.is_attached and self._key_bar() != self._shown:
            await self.recompose()

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
