"""One run of the send engine in a process of its own, for the TUI.

The engine commits every batch state to SQLite with ``synchronous=FULL`` and signs and
parses every request: done on the UI's event loop, that would stall key handling at high
rates. In a thread of the TUI's process it would still share the interpreter's lock with
Textual: each of its wake-ups (a permit's moment, an answer) then waits for the UI's work,
requests leave later than the limiter assumes, some reach the server inside one window and
are throttled. So the job's runner (:class:`~cams_tui.engine.run.JobRunner`, the same
lifecycle as the command line's) runs in a child process, with its own event loop, journal
connection and HTTP client, exactly as ``cams-tui resume`` would. Its events come back over
a pipe, are stamped and appended to a thread-safe buffer that the UI drains on a timer; the
controls go the other way. The job's lock is an OS file lock, taken by the child.

What the TUI decides differently from the command line: a failure spike pauses the run
(the operator looks, then resumes or cancels), and a healthy canary that asks for a
confirmation starts the rest paused ("press p").

Nothing here imports Textual: a Textual thread worker calls :meth:`EngineRun.run`, which
waits for the child.
"""

from __future__ import annotations

import multiprocessing
from typing import Any

from cams_tui.engine.events import DoneEvent
from cams_tui.ui.engine_child import child_main, portable_target, start_resource_tracker
from cams_tui.ui.send_target import SendControls

_SPAWN = multiprocessing.get_context("spawn")
"""A fresh interpreter for the child: forking a process that runs Textual's threads could
copy a lock some thread holds."""


class EngineRun(SendControls):
    """Sends one job with the engine in a child process; :meth:`run` blocks the calling
    thread (use a thread worker) until the run ends.

    Events go to :attr:`events` as ``(time, event)`` pairs, preceded by a
    :class:`BatchTally` right after the plan; :meth:`drain` takes them. :meth:`pause`,
    :meth:`resume` and :meth:`cancel` may be called from any thread, even before the
    engine has started."""

    _pipe: Any = None
    """The pipe to the child while it runs (the constructor is SendControls's)."""

    def run(self) -> DoneEvent:
        """Send the job; blocks until the run ends and returns its :class:`DoneEvent`.

        Raises what the engine raised (a :class:`~cams_tui.errors.UserError` such as a job
        another process sends), or ``RuntimeError`` when the child ended without an answer."""
        start_resource_tracker()
        ours, theirs = _SPAWN.Pipe(duplex=True)
        child = _SPAWN.Process(
            target=child_main,
            args=(theirs, portable_target(self.target), self.job_id, self.retry_unknown, self.resend_verified),
            name=f"cams-tui send {self.job_id}",
            # Ended with this process even if it dies without cancelling: the child then sees
            # its pipe close first and stops gracefully (see child_main).
            daemon=True,
        )
        child.start()
        theirs.close()
        with self._lock:
            self._pipe = ours
            early, self._early = self._early, []
            for name in early:
                ours.send(("control", name))
        try:
            while True:
                try:
                    kind, payload = ours.recv()
                except EOFError:
                    child.join()
                    raise RuntimeError(
                        f"the send engine's process ended without an answer (exit code {child.exitcode}); "
                        "the job's batches are as the journal recorded them: look its unknown batches up in Jobs"
                    ) from None
                if kind == "event":
                    self.events.append((self._clock(), payload))
                elif kind == "done":
                    done: DoneEvent = payload
                    return done
                else:
                    raise payload
        finally:
            with self._lock:
                self._pipe = None
            ours.close()
            child.join()

    # ------------------------------------------------------------------ controls

    def _control(self, name: str) -> None:
        with self._lock:
            pipe = self._pipe
            if pipe is None:
                self._early.append(name)
                return
            try:
                pipe.send(("control", name))
            except (OSError, ValueError):
                pass  # the child has ended: there is nothing to control
