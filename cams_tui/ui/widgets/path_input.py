"""A path input that completes file and folder names as you type (accept with right arrow)."""

from __future__ import annotations

from pathlib import Path

from textual.suggester import Suggester
from textual.widgets import Input


class PathSuggester(Suggester):
    """Suggests the first file or folder that completes the typed path."""

    def __init__(self, suffixes: tuple[str, ...] = ()) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self._suffixes = suffixes

    async def get_suggestion(self, value: str) -> str | None:
        if not value:
            return None
        typed = Path(value).expanduser()
        folder, stem = (typed, "") if value.endswith("/") else (typed.parent, typed.name)
        try:
            names = sorted(entry.name for entry in folder.iterdir() if not entry.name.startswith("."))
        except OSError:
            return None
        for name in names:
            candidate = folder / name
            if not name.startswith(stem) or name == stem:
                continue
            if self._suffixes and candidate.is_file() and not name.endswith(self._suffixes):
                continue
            completion = name[len(stem) :] + ("/" if candidate.is_dir() else "")
            return value + completion
        return None


class PathInput(Input):
    """An input for a file path, with completion."""

    HELP = """
## Path
Type a file path; the rest of a matching name is suggested in grey: **right arrow** (or
**end**) accepts it, **enter** uses the path. `~` is your home folder.
"""

    def __init__(self, *, suffixes: tuple[str, ...] = (), **kwargs: object) -> None:
        super().__init__(suggester=PathSuggester(suffixes), **kwargs)  # type: ignore[arg-type]
