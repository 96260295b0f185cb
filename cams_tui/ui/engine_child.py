"""The child process of an :class:`~cams_tui.ui.engine_run.EngineRun`: how it starts, what
crosses its pipe (the target, events, controls, the result or the error), and its signals."""

from __future__ import annotations

import dataclasses
import multiprocessing.resource_tracker
import os
import pickle
import signal
import sys
import threading
from typing import Any

from cams_tui.api.credentials import Credentials
from cams_tui.engine.events import Event
from cams_tui.errors import UserError
from cams_tui.ui.engine_thread import ThreadRun
from cams_tui.ui.send_target import SendTarget

PortableTarget = tuple[dict[str, Any], tuple[str, str, str | None]]
"""A :class:`SendTarget` as it crosses the pipe: its fields, and its credentials' parts."""

_STDERR_LOCK = threading.Lock()


def start_resource_tracker() -> None:
    """Start multiprocessing's resource tracker (every spawned child needs it) with a real
    stderr: Textual replaces ``sys.stderr`` with a capture whose ``fileno()`` is -1, which
    the tracker would hand to the OS as a descriptor to keep."""
    with _STDERR_LOCK:
        shown = sys.stderr
        try:
            shown.fileno()
            usable = shown.fileno() >= 0
        except (AttributeError, OSError, ValueError):
            usable = False
        if not usable and sys.__stderr__ is not None:
            sys.stderr = sys.__stderr__
        try:
            multiprocessing.resource_tracker.ensure_running()
        finally:
            sys.stderr = shown


def portable_target(target: SendTarget) -> PortableTarget:
    """The target as the child receives it: credentials refuse to be pickled (so that they
    never land in a file or a log by accident), so their parts travel separately over the
    child's pipe and are rebuilt there."""
    fields = {f.name: getattr(target, f.name) for f in dataclasses.fields(target) if f.name != "credentials"}
    credentials = target.credentials
    return fields, (credentials.access_key_id, credentials.reveal_secret(), credentials.security_token)


class _ForwardingRun(ThreadRun):
    """A :class:`ThreadRun` whose events go over the pipe to the parent."""

    def __init__(self, pipe: Any, target: SendTarget, job_id: str, retry_unknown: bool, resend_verified: bool) -> None:
        super().__init__(target, job_id, retry_unknown=retry_unknown, resend_verified=resend_verified)
        self._pipe = pipe
        self._send_lock = threading.Lock()

    def _receive(self, event: Event) -> None:
        super()._receive(event)
        for _, item in self.drain():
            self.send("event", item)

    def send(self, kind: str, payload: object) -> None:
        with self._send_lock:
            self._pipe.send((kind, payload))


def child_main(
    pipe: Any,
    portable: PortableTarget,
    job_id: str,
    retry_unknown: bool,
    resend_verified: bool,
) -> None:
    """The child process: run the job, forward its events, take the parent's controls."""
    # The parent decides when to stop: a Ctrl+C or a stop signal (a closed terminal's
    # SIGHUP reaches the whole process group) reaches the TUI, which cancels the run
    # through the pipe; a SIGTERM to this process alone stops it gracefully.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    # The terminal belongs to the TUI: nothing printed here may land on its screen (what
    # goes wrong reaches the parent as an exception).
    with open(os.devnull, "w", encoding="utf-8") as nowhere:
        os.dup2(nowhere.fileno(), 1)
        os.dup2(nowhere.fileno(), 2)
    fields, (key_id, secret, token) = portable
    target = SendTarget(credentials=Credentials(key_id, secret, token), **fields)
    run = _ForwardingRun(pipe, target, job_id, retry_unknown, resend_verified)
    signal.signal(signal.SIGTERM, lambda *_: run.cancel())

    def controls() -> None:
        while True:
            try:
                _, name = pipe.recv()
            except (EOFError, OSError):
                run.cancel()  # the parent is gone: stop gracefully, the journal keeps the rest
                return
            run._control(name)

    threading.Thread(target=controls, name="controls", daemon=True).start()
    try:
        done = run.run()
    except BaseException as exc:  # noqa: BLE001 - handed to the parent, which raises it
        run.send("error", _portable_error(exc))
    else:
        run.send("done", done)


def _portable_error(exc: BaseException) -> BaseException:
    """``exc`` as it can cross the pipe: itself when it pickles, else its words (a user's
    error stays one)."""
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:  # noqa: BLE001 - any failure to round-trip means "send the words"
        if isinstance(exc, UserError):
            return UserError(str(exc))
        return RuntimeError(f"{type(exc).__name__}: {exc}")
