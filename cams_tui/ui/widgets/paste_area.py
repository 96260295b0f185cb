"""The recipients' paste box: a text area for lists an operator edits, a summary for pastes
too large to edit.

A pasted list of hundreds of thousands of lines would make every keystroke in a text area
cost work over all of them; such a paste is handed to the step whole (:class:`LargePaste`)
and the box shows what it holds instead of the lines themselves.
"""

from __future__ import annotations

from textual import events
from textual.message import Message
from textual.widgets import TextArea

LARGE_PASTE_LINES = 5_000
"""A paste (or pasted text) of more lines than this is summarised, not edited."""
LARGE_PASTE_CHARS = 500_000
"""… or of more characters than this."""


def is_large(text: str) -> bool:
    """Whether ``text`` is too large to edit in the box."""
    return len(text) > LARGE_PASTE_CHARS or text.count("\n", 0, LARGE_PASTE_CHARS) >= LARGE_PASTE_LINES


def summary_of(text: str) -> str:
    """What the box shows for a large paste."""
    lines = text.count("\n") + (0 if text.endswith("\n") else 1)
    return (
        f"{lines:,} lines pasted ({len(text.encode()) / 1e6:.1f} MB): too many to edit here.\n"
        "They are the recipients' source; F5 clears them.\n"
        "To edit such a list, save it as a file and import it."
    )


class PasteArea(TextArea):
    """A text area whose large pastes become a :class:`LargePaste` message."""

    class LargePaste(Message):
        """A paste too large to edit: the step takes it as its pasted numbers."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    async def _on_paste(self, event: events.Paste) -> None:
        # Textual runs TextArea's own handler after this one unless the default is prevented.
        if self.read_only or self.disabled:
            return
        if is_large(event.text) or (len(event.text) > 10_000 and is_large(self.text + event.text)):
            event.prevent_default()
            event.stop()
            # What was typed before stays, followed by the paste (as inserting at the end would).
            before = self.text
            joined = before + ("\n" if before and not before.endswith("\n") else "") + event.text
            self.post_message(self.LargePaste(joined))
