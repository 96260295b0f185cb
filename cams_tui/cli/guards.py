"""What stays in place while a command runs: its output's control characters escaped, and
SIGTERM and SIGHUP stopping it as Ctrl-C does."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
from collections.abc import Iterator

from cams_tui.untrusted import EscapingStream


@contextlib.contextmanager
def escaped_output(args: argparse.Namespace) -> Iterator[None]:
    """While a headless command runs, what it prints has its control characters escaped: a
    template name, an input line, an error message from CAMS may hold ``ESC ] 0 ; … BEL`` or
    ``ESC [ 2 J``, which a terminal would obey. JSON output gets ``\u001b``-style escapes,
    so it stays JSON that reads back the same."""

    json_out = bool(getattr(args, "json", False)) or getattr(args, "format", None) == "jsonl"
    saved = sys.stdout, sys.stderr
    sys.stdout = EscapingStream(saved[0], json_style=json_out)
    sys.stderr = EscapingStream(saved[1])
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved


@contextlib.contextmanager
def stop_signals_interrupt() -> Iterator[None]:
    """While a headless command runs, SIGTERM and SIGHUP stop it as Ctrl-C does (exit 130,
    "interrupted") instead of killing it mid-write: a send installs its own graceful
    handlers on top (requests in flight answered or unknown)."""

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    stops = (signal.SIGTERM, signal.SIGHUP)
    saved = {signum: signal.getsignal(signum) for signum in stops}
    for signum in stops:
        signal.signal(signum, _interrupt)
    try:
        yield
    finally:
        for signum, handler in saved.items():
            if handler is not None:
                signal.signal(signum, handler)


def _interrupt(signum: int, frame: object) -> None:
    """A stop signal, raised where the command is as Ctrl-C would be."""
    raise KeyboardInterrupt
