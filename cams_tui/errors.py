"""Errors an operator can fix: printed in plain words, never as a traceback.

Each carries the exit code the command line ends with (the README's table lists them).
"""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path
from typing import ClassVar


class UserError(Exception):
    """Bad input or setup (a file, a flag, a profile); the message says what and how to fix it."""

    exit_code: ClassVar[int] = 2


class CannotProceed(UserError):
    """The machine keeps us from going on (the journal, the data folder, the disk, a
    permission, a port): the input was fine, nothing more was done. The message says what
    and how to fix it."""

    exit_code: ClassVar[int] = 4


def os_error_reason(exc: OSError) -> str:
    """An OSError in plain words, with what usually fixes it."""
    code = exc.errno
    if code == errno.ENOSPC or code == errno.EDQUOT:
        return "no space left on the device (or the disk quota is used up): free some space"
    if code in (errno.EACCES, errno.EPERM):
        return "permission denied (owned by another user, or a mode without access for you): fix its owner or mode"
    if code == errno.EROFS:
        return "the file system is read-only: use a writable folder"
    if code == errno.ENOTDIR:
        return "a part of the path is a file, not a folder"
    if code == errno.EISDIR:
        return "it is a folder, not a file"
    if code == errno.ENOENT:
        return "it does not exist"
    if code == errno.EIO:
        return "an input/output error from the device"
    if code == errno.EMFILE or code == errno.ENFILE:
        return "too many open files: raise the limit (ulimit -n)"
    return exc.strerror or str(exc)


def sqlite_error_reason(exc: sqlite3.Error) -> str:
    """An SQLite error in plain words, with what usually fixes it."""
    text = str(exc)
    lowered = text.lower()
    if "full" in lowered:
        return "no space left on the device (or the disk quota is used up): free some space"
    if "readonly" in lowered or "read-only" in lowered:
        return "it cannot be written (a read-only file or file system, or owned by another user): fix its owner or mode"
    if "not a database" in lowered or "malformed" in lowered:
        return (
            "it is not a cams-tui journal or is damaged: move it aside (keep it: it may be recoverable with "
            "sqlite3's .recover) and run again, or give another --data-dir"
        )
    if "unable to open" in lowered:
        return "it cannot be opened (a permission, or a folder in its place): check its owner and mode"
    if "disk i/o" in lowered:
        return "an input/output error from the device (or the disk is full)"
    return text


def journal_failure(path: Path | str, exc: BaseException) -> CannotProceed:
    """The error to raise when the journal at ``path`` cannot be used because of ``exc``."""
    if isinstance(exc, sqlite3.Error):
        reason = sqlite_error_reason(exc)
    elif isinstance(exc, OSError):
        reason = os_error_reason(exc)
    else:
        reason = str(exc)
    return CannotProceed(
        f"the journal {path} cannot be used: {reason}. Nothing is sent without being journaled; "
        "a job stays resumable once this is fixed"
    )
