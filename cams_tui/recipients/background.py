"""The intake in a process of its own, for a front end that must keep answering meanwhile.

Reading a million numbers is CPU work that holds Python's GIL: in a thread of the TUI it
would share one core with the UI and slow both. :func:`read_in_process` runs the very same
:func:`~cams_tui.recipients.read_recipients` (or ``read_recipients_text``) in a child
process, forwards its progress, and hands the result back compactly: the numbers and line
numbers as raw arrays, each parameter column as one string, so that rebuilding the report
here takes a few short steps instead of unpickling a million objects at once.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from cams_tui.recipients.intake import (
    Duplicate,
    IntakeOptions,
    IntakeReport,
    NonMobile,
    Progress,
    RecipientStore,
    Rejected,
    Suppressed,
    read_recipients,
    read_recipients_text,
)
from cams_tui.recipients.numbers import Normalizer

# Cells never hold a NUL: the intake rejects parameters with control characters.
_SEPARATOR = "\x00"
_PROGRESS_EVERY_S = 0.1
_LISTS = {"rejected": Rejected, "duplicates": Duplicate, "suppressed": Suppressed, "non_mobile": NonMobile}
# Listed entries rebuilt at a time (short steps: other threads get the GIL in between).
_CHUNK = 5_000


class IntakeCancelled(Exception):
    """The read was cancelled before it finished."""


def child_main() -> None:
    """The child process: a request on stdin, the report's parts on (what was) stdout."""
    out_fd = os.dup(1)
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # a stray print cannot break the frames
    # Started ahead of need (see prestart): load what every read needs while nobody waits.

    Normalizer("PH").normalize("+639171234567")
    requests = Connection(0, writable=False)
    try:
        file, text, options = requests.recv()
    except EOFError:
        return  # a spare child whose parent ended without needing it
    _child(Connection(out_fd, readable=False), file, text, options)


def _child(conn: Connection, file: str | None, text: str | None, options: IntakeOptions) -> None:
    """The child's work: read, then send the report in parts."""

    last = [0.0]

    def progress(done: int, total: int | None) -> None:
        now = time.monotonic()
        if now - last[0] >= _PROGRESS_EVERY_S:
            last[0] = now
            conn.send(("progress", done, total))

    try:
        if file is not None:
            report = read_recipients(Path(file), options, progress)
        else:
            report = read_recipients_text(text or "", options, progress)
    except OSError as exc:
        conn.send(("oserror", str(exc)))
        return
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which shows it
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
        return
    store = report.recipients
    small = {
        name: getattr(report, name)
        for name in report.__dataclass_fields__
        if name not in ("recipients", *_LISTS)
    }
    conn.send(("report", small, store.param_names, len(store)))
    conn.send_bytes(store.numbers.tobytes())
    conn.send_bytes(store.lines.tobytes())
    for name in store.param_names:
        conn.send_bytes(_SEPARATOR.join(store.columns[name]).encode("utf-8", "surrogatepass"))
    for name in _LISTS:
        items = getattr(report, name)
        conn.send_bytes(pickle.dumps([tuple(getattr(item, f) for f in item.__slots__) for item in items]))
    conn.close()


_spare: tuple[subprocess.Popen[bytes], Connection, Connection] | None = None
_spare_lock = threading.Lock()


def _start() -> tuple[subprocess.Popen[bytes], Connection, Connection]:
    """A child waiting for its request: the process, its request and its answer ends."""
    # A fresh interpreter of our own, not multiprocessing: no fork of a process with threads,
    # and nothing that depends on the UI's captured stdout and stderr.
    process = subprocess.Popen(
        [sys.executable, "-c", "from cams_tui.recipients.background import child_main; child_main()"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        close_fds=True,
    )
    assert process.stdin is not None and process.stdout is not None
    request = Connection(os.dup(process.stdin.fileno()), readable=False)
    answers = Connection(os.dup(process.stdout.fileno()), writable=False)
    process.stdin.close()
    process.stdout.close()
    return process, request, answers


def prestart() -> None:
    """Start a child ahead of the next read, so that it has loaded its modules by then
    (a fresh interpreter takes a good part of a second). Blocking for a few milliseconds."""
    global _spare
    with _spare_lock:
        if _spare is None or _spare[0].poll() is not None:
            _spare = _start()


def _take_spare() -> tuple[subprocess.Popen[bytes], Connection, Connection] | None:
    global _spare
    with _spare_lock:
        spare, _spare = _spare, None
    if spare is not None and spare[0].poll() is None:
        return spare
    return None


def read_in_process(
    file: str | Path | None,
    text: str | None,
    options: IntakeOptions,
    *,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | threading.Event | None = None,
) -> IntakeReport:
    """The intake of ``file`` (or of pasted ``text``) read in a child process; blocks the
    calling thread (not the GIL) until it is done. Raises ``OSError`` as
    :func:`read_recipients` would, :class:`IntakeCancelled` when ``cancelled()`` turns true."""
    is_cancelled = cancelled.is_set if isinstance(cancelled, threading.Event) else (cancelled or (lambda: False))
    process, request, parent = _take_spare() or _start()
    try:
        request.send((None if file is None else str(file), text, options))
        request.close()
        while True:
            while not parent.poll(0.05):
                if is_cancelled():
                    raise IntakeCancelled
                if process.poll() is not None and not parent.poll(0):
                    raise RuntimeError(f"the intake process ended without a report (exit {process.returncode})")
            try:
                message = parent.recv()
            except EOFError:
                raise RuntimeError(f"the intake process ended without a report (exit {process.wait()})") from None
            kind = message[0]
            if kind == "progress":
                if progress is not None:
                    progress(message[1], message[2])
            elif kind == "oserror":
                raise OSError(message[1])
            elif kind == "error":
                raise RuntimeError(message[1])
            else:
                return _receive(parent, *message[1:])
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        parent.close()
        if not request.closed:
            request.close()


def _receive(conn: Connection, small: dict[str, Any], names: tuple[str, ...], count: int) -> IntakeReport:
    store = RecipientStore(names)
    store.numbers.frombytes(conn.recv_bytes())
    store.lines.frombytes(conn.recv_bytes())
    for name in names:
        data = conn.recv_bytes().decode("utf-8", "surrogatepass")
        store.columns[name] = data.split(_SEPARATOR) if count else []
    lists: dict[str, Any] = {}  # Any: unpacked into IntakeReport's keyword fields
    for name, kind in _LISTS.items():
        rows = pickle.loads(conn.recv_bytes())
        items: list[Any] = []
        for start in range(0, len(rows), _CHUNK):
            items.extend(kind(*row) for row in rows[start : start + _CHUNK])
        lists[name] = items
    if len(store.numbers) != count or any(len(store.columns[n]) != count for n in names):
        raise RuntimeError("the intake process's report came back incomplete")
    return IntakeReport(store, **lists, **small)
