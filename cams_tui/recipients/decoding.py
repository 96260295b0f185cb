"""Bytes from any source -> lines of text, whatever the encoding, without ever failing.

Encodings, in the order they are recognised:

- a byte-order mark: UTF-8 (Excel's "CSV UTF-8"), UTF-16 LE/BE (Excel's "Unicode text");
- UTF-16 without a mark, recognised by its zero bytes in every other position;
- otherwise UTF-8, where every byte that is not valid UTF-8 is read as Windows-1252
  (the encoding of Excel's plain "CSV" on Western Windows). Valid UTF-8 stays UTF-8, so a
  file that mixes both still reads, and the report says how many bytes needed the fallback.

Lines keep their endings (``\\n``, ``\\r\\n`` or ``\\r``) so the CSV reader sees quoted
newlines as they are. The source is read in chunks; a byte counter feeds the progress bar.
"""

from __future__ import annotations

import codecs
import contextlib
import contextvars
import io
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from cams_tui.input_files import RECIPIENTS_MAX_BYTES, InputFileError, Snapshot, check_unchanged, open_input

Source = str | os.PathLike[str] | bytes | bytearray | memoryview | BinaryIO

_HEAD_SIZE = 1 << 16
_FALLBACK_ERRORS = "cams-tui-cp1252-fallback"
# Bytes read as Windows-1252 during the current read; a context variable so two imports
# running at once (two threads) count their own.
_fallback_bytes: contextvars.ContextVar[list[int]] = contextvars.ContextVar("cams_tui_fallback")


def _cp1252_fallback(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    bad = exc.object[exc.start : exc.end]
    counter = _fallback_bytes.get(None)
    if counter is not None:
        counter[0] += len(bad)
    # The five bytes Windows-1252 leaves undefined become U+FFFD rather than an error.
    return bytes(bad).decode("cp1252", errors="replace"), exc.end


codecs.register_error(_FALLBACK_ERRORS, _cp1252_fallback)


class _CountingReader(io.RawIOBase):
    """The head already read for sniffing, then the rest of the source; counts bytes."""

    def __init__(self, head: bytes, rest: BinaryIO | None) -> None:
        self._head = memoryview(head)
        self._rest = rest
        self.done = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if len(self._head):
            size = min(len(buffer), len(self._head))
            buffer[:size] = self._head[:size]
            self._head = self._head[size:]
        elif self._rest is not None:
            data = self._rest.read(len(buffer))
            size = len(data)
            buffer[:size] = data
        else:
            size = 0
        self.done += size
        return size


@dataclass
class TextSource:
    """Lines of a decoded source, with what is known about it."""

    lines: Iterator[str]
    encoding: str
    total_bytes: int | None
    _reader: _CountingReader | None = None
    _fallback: list[int] = field(default_factory=lambda: [0])
    _text_done: list[int] = field(default_factory=lambda: [0])

    @property
    def done_bytes(self) -> int:
        """Bytes (characters, for text) consumed so far."""
        return self._reader.done if self._reader is not None else self._text_done[0]

    @property
    def fallback_bytes(self) -> int:
        """How many bytes were not UTF-8 and were read as Windows-1252."""
        return self._fallback[0]


def detect_encoding(head: bytes) -> tuple[str, str]:
    """(codec, name shown to the operator) for a file starting with ``head``."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", "UTF-8 with BOM"
    if head.startswith(codecs.BOM_UTF16_LE) or head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16", "UTF-16 with BOM"
    sample = head[:4096]
    pairs = len(sample) // 2
    if pairs >= 2:
        zero_even = sample[0 : pairs * 2 : 2].count(0)
        zero_odd = sample[1 : pairs * 2 : 2].count(0)
        if zero_odd >= 0.4 * pairs and zero_even <= 0.05 * pairs:
            return "utf-16-le", "UTF-16 LE"
        if zero_even >= 0.4 * pairs and zero_odd <= 0.05 * pairs:
            return "utf-16-be", "UTF-16 BE"
    return "utf-8", "UTF-8"


def open_source(source: Source, what: str = "the file") -> TextSource:
    """Decode a path, bytes or binary file object into lines; the caller closes nothing.

    A path is opened and closed here (when the lines are exhausted or garbage collected). It
    must be a regular file within :data:`~cams_tui.input_files.RECIPIENTS_MAX_BYTES`
    (else :class:`~cams_tui.input_files.InputFileError`, an ``OSError``), and is read as a
    snapshot: when its lines run out, a file that changed meanwhile raises that error, naming
    it as ``what`` ("the recipient list").
    """
    owned: BinaryIO | None = None
    snapshot: tuple[Path, str, Snapshot] | None = None
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        owned, before = open_input(path, RECIPIENTS_MAX_BYTES)
        snapshot = (path, what, before)
        stream: BinaryIO = owned
        total: int | None = before.size
    elif isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        stream = io.BytesIO(data)
        total = len(data)
    else:
        stream = source
        total = _remaining_size(stream)
    head = stream.read(_HEAD_SIZE) or b""
    codec, shown = detect_encoding(head)
    if owned is not None and not codec.startswith("utf-16") and b"\x00" in head:
        # No list of numbers holds NUL bytes; a binary or sparse file would otherwise be read
        # whole as one enormous line (a 1 GB sparse file took minutes and gigabytes).
        owned.close()
        raise InputFileError(
            f"{what} holds NUL bytes: it is not a text list of numbers (a binary or sparse file?); "
            "give a .txt, .csv or .tsv file of numbers"
        )
    reader = _CountingReader(head, stream)
    errors = "replace" if codec.startswith("utf-16") else _FALLBACK_ERRORS
    text = io.TextIOWrapper(
        io.BufferedReader(reader, _HEAD_SIZE), encoding=codec, errors=errors, newline=""
    )
    fallback = [0]
    result = TextSource(iter(()), shown, total, reader, fallback)
    result.lines = _lines(text, fallback, owned, reader, snapshot)
    return result


def text_source(text: str) -> TextSource:
    """Lines of text that was pasted rather than read from a file."""
    done = [0]
    result = TextSource(iter(()), "text", len(text), None, [0], done)
    result.lines = _counted(io.StringIO(text, newline=""), done)
    return result


def _lines(
    text: io.TextIOWrapper,
    fallback: list[int],
    owned: BinaryIO | None,
    reader: _CountingReader,
    snapshot: tuple[Path, str, Snapshot] | None,
) -> Iterator[str]:
    token = _fallback_bytes.set(fallback)
    try:
        yield from text
        if owned is not None and snapshot is not None:
            path, what, before = snapshot
            check_unchanged(owned, path, what, before, reader.done)
    finally:
        # Abandoned lines are finalised by the garbage collector, maybe in another context.
        with contextlib.suppress(ValueError):
            _fallback_bytes.reset(token)
        if owned is not None:
            owned.close()


def _counted(text: io.StringIO, done: list[int]) -> Iterator[str]:
    for line in text:
        done[0] += len(line)
        yield line


def _remaining_size(stream: BinaryIO) -> int | None:
    """Bytes left in a seekable stream (for the progress bar); None for a pipe or socket."""
    try:
        if not stream.seekable():
            return None
        here = stream.tell()
        end = stream.seek(0, io.SEEK_END)
        stream.seek(here)
        return end - here
    except (AttributeError, OSError, ValueError):
        return None
