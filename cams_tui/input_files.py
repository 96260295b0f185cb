"""Files read from outside (campaigns, the config, recipient and opt-out lists): refused by kind
and size before they are read, and read as a snapshot.

- **Kind**: only a regular file is read. A named pipe (FIFO), folder, device (``/dev/zero``,
  ``/dev/urandom``) or socket is refused with a message naming what it is. The file is opened
  non-blocking, so a FIFO nobody writes to is refused at once instead of hanging the open.
- **Size**: each kind of input has a limit (below), checked before reading and reported with
  the file's size and the limit.
- **Snapshot**: the file's identity (device, inode), size and modification time are taken
  when it is opened and checked again when it has been read, with the bytes read. A file
  written, truncated or replaced meanwhile is refused: reading on would plan a job from a
  part of it without a word (a list still being copied, or rewritten by another program).
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

# A campaign or a config is a few lines of TOML; 4 MiB leaves room for long comments and
# many profiles, and refuses a file that is plainly something else.
CAMPAIGN_MAX_BYTES = 4 * 1024 * 1024
CONFIG_MAX_BYTES = 4 * 1024 * 1024
# A recipient or opt-out list: 1 GiB is tens of millions of lines, more than the planner is
# meant to hold in one job (it is measured at a million recipients, tests/benchmarks); a
# bigger file is better split into several jobs.
RECIPIENTS_MAX_BYTES = 1024 * 1024 * 1024
# A template parameter's value: Viber takes a message of at most 1,000 characters, so a
# value longer than that can never be sent.
PARAM_VALUE_MAX_CHARS = 1000


class InputFileError(OSError):
    """An input file that is not read: its kind, size or change while read; the message says
    which and what to do. An ``OSError`` (``strerror`` is the message), as the readers' other
    failures to read a file are."""

    def __init__(self, message: str) -> None:
        super().__init__(errno.EINVAL, message)

    def __str__(self) -> str:
        return str(self.strerror)


def _kind(mode: int) -> str | None:
    """What a file that is not a regular one is, in words (``None``: a regular file)."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):,.1f} MiB" if size >= 1024 * 1024 else f"{size:,} bytes"


@dataclass(frozen=True)
class Snapshot:
    """What a file was when it was opened."""

    device: int
    inode: int
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, status: os.stat_result) -> Snapshot:
        """The snapshot of a ``stat`` result."""
        return cls(status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns)


def open_input(path: Path, max_bytes: int) -> tuple[BinaryIO, Snapshot]:
    """Open ``path`` to read it, refusing a file that is not regular or is over ``max_bytes``.

    Raises ``FileNotFoundError`` and the like as ``open`` does, and :class:`InputFileError`
    for the refusals; both messages are about "it", for the caller to name the file."""
    # Non-blocking: opening a FIFO with no writer would otherwise wait forever. The flag is
    # dropped again for a regular file (it means nothing there, but reads should block).
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0))
    try:
        status = os.fstat(fd)
        kind = _kind(status.st_mode)
        if kind is not None:
            raise InputFileError(f"it is {kind}, not a regular file: give a file")
        if status.st_size > max_bytes:
            advice = ": split it into several lists" if max_bytes >= RECIPIENTS_MAX_BYTES else ""
            raise InputFileError(f"it is {_mib(status.st_size)}, over the limit of {_mib(max_bytes)}{advice}")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb"), Snapshot.of(status)
    except BaseException:
        os.close(fd)
        raise


def check_unchanged(file: BinaryIO, path: Path, what: str, before: Snapshot, bytes_read: int) -> None:
    """Refuse a file that changed since :func:`open_input`: written, truncated, grown,
    or replaced by another file under its name."""
    now = Snapshot.of(os.fstat(file.fileno()))
    try:
        named = Snapshot.of(os.stat(path))
    except OSError:
        named = None
    if now == before and named == before and bytes_read == before.size:
        return
    if named is None or (named.device, named.inode) != (before.device, before.inode):
        change = "was replaced or removed"
    elif now.size != before.size or bytes_read != before.size:
        change = f"changed size ({before.size:,} bytes when opened, {bytes_read:,} read, {now.size:,} now)"
    else:
        change = "was written to"
    raise InputFileError(
        f"{what} {path} {change} while it was read: nothing was planned from it. Wait until "
        "whatever writes it is done (or work on a copy), then try again"
    )


def read_input_text(path: Path, what: str, max_bytes: int) -> str:
    """The whole of a small text file (UTF-8, with or without a byte-order mark), read as a
    snapshot within ``max_bytes``; ``what`` names it if it changes while read."""
    file, before = open_input(path, max_bytes)
    with file:
        data = file.read(max_bytes + 1)
        check_unchanged(file, path, what, before, len(data))
    return data.decode("utf-8-sig")
