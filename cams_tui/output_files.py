"""Files cams-tui writes for the operator (``export -o``): whole or not at all, private, and
never through a link.

The text goes to a temporary file in the target's folder (mode 0600 from its creation), is
flushed to disk, then renamed over the target, and the folder is synced: a kill or a power
cut mid-write leaves the old file as it was, never half of the new one. A target that is a
symbolic link is refused rather than followed (a link in a shared folder could point at any
file of the user's), as is a folder or a special file.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from cams_tui.errors import UserError


def _refusal(path: Path) -> str | None:
    """Why ``path`` cannot be written to, or ``None``."""
    try:
        status = os.lstat(path)
    except FileNotFoundError:
        status = None
    if status is not None:
        if stat.S_ISLNK(status.st_mode):
            return "is a symbolic link, which cams-tui does not write through: give the file's own path"
        if stat.S_ISDIR(status.st_mode):
            return "is a folder: give a file name in it"
        if not stat.S_ISREG(status.st_mode):
            return "is not a regular file (a device, FIFO or socket): give a file name"
    if not path.parent.is_dir():
        return f"is in a folder that does not exist ({path.parent})"
    return None


@contextlib.contextmanager
def atomic_text_file(path: Path) -> Iterator[TextIO]:
    """A UTF-8 text file (newlines as written) that replaces ``path`` once the block ends
    without an error; on an error the target is untouched and the temporary file removed.
    Raises :class:`~cams_tui.errors.UserError` naming ``path`` when it cannot be written."""
    why = _refusal(path)
    if why is not None:
        raise UserError(f"cannot write {path}: it {why}")
    try:
        fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror}; choose another file") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)  # replaces a name: a link made meanwhile is replaced, not followed
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    _sync_folder(path.parent)


def _sync_folder(folder: Path) -> None:
    """Make the rename durable (best effort: some file systems cannot sync a folder)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
