"""Quitting when the terminal is gone (a closed terminal window, SSH link or tmux session).

The kernel then sends the app SIGHUP and SIGCONT. SIGHUP stops the send and quits the app
(see ``CamsApp.stop_for_signal``). SIGCONT is meant for a process resumed after Ctrl+Z:
Textual's handler restarts its application mode, and on a hung-up terminal that leaves its
output queue without a writer, so the event loop blocks for good on the next screen update,
the app never quits and even SIGTERM goes unheard. :func:`ignore_continue_after_hangup` keeps
that handler from running once the terminal has hung up.

Should the app still not end (something else blocked its shutdown), :func:`end_process_after`
ends the process. The send is safe either way: the engine's child process records every
batch in the journal, and stops gracefully when its pipe to the app closes.
"""

from __future__ import annotations

import os
import signal
import sys
import termios
import threading
from typing import Any

QUIT_GRACE_S = 20.0
"""How long a signalled app gets to quit on its own: a cancel waits up to 10 s for the
requests in flight, then the app restores the terminal and exits."""


def terminal_answers(fd: int) -> bool:
    """Whether the terminal on ``fd`` is still there (a hung-up one fails with EIO)."""
    try:
        termios.tcgetattr(fd)
    except (termios.error, OSError, ValueError):
        return False
    return True


def ignore_continue_after_hangup() -> None:
    """Wrap the SIGCONT handler in place (Textual's) so that it runs only while the
    terminal answers. Call from the main thread once the app's driver is set up."""
    previous: Any = signal.getsignal(signal.SIGCONT)
    if not callable(previous) or sys.__stdout__ is None:
        return
    try:
        fd = sys.__stdout__.fileno()
    except (OSError, ValueError):
        return

    def on_continue(signum: int, frame: Any) -> None:
        if terminal_answers(fd):
            previous(signum, frame)

    signal.signal(signal.SIGCONT, on_continue)


def end_process_after(seconds: float, return_code: int) -> threading.Event:
    """Start a daemon thread that ends the process with ``return_code`` after ``seconds``;
    setting the returned event (the app has ended on its own) calls it off."""

    called_off = threading.Event()

    def backstop() -> None:
        if not called_off.wait(seconds):
            # os._exit: the main thread may be blocked for good; no Python clean-up can run.
            os._exit(return_code)

    threading.Thread(target=backstop, name="cams-tui quit backstop", daemon=True).start()
    return called_off
