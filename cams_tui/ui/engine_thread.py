"""One run of the send engine in the calling thread: what the child process of an
:class:`~cams_tui.ui.engine_run.EngineRun` runs.

The job's runner (:class:`~cams_tui.engine.run.JobRunner`, the command line's lifecycle)
gets its own event loop, journal connection and HTTP client; its events are stamped and
appended to a thread-safe buffer; controls may come from any thread, even before it starts.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from collections import Counter
from typing import TYPE_CHECKING

from cams_tui.api.client import CamsClient
from cams_tui.api.endpoints import max_query_length
from cams_tui.engine.events import CanaryEvent, DoneEvent, Event, LookupEvent, PlanEvent
from cams_tui.engine.journal import Journal
from cams_tui.engine.run import JobRunner, RunHooks, RunOptions, placement_for_run
from cams_tui.engine.sender import default_in_flight
from cams_tui.ui.send_target import BatchTally, SendControls

if TYPE_CHECKING:
    from cams_tui.engine.canary import CanaryVerdict


SEND_SWITCH_INTERVAL_S = 0.001
"""The interpreter's thread switch interval while a run sends (see :meth:`ThreadRun.run`)."""
_SWITCH_LOCK = threading.Lock()
_RUNS_SENDING = 0
_SWITCH_BEFORE = 0.005


class ThreadRun(SendControls):
    """Sends one job with the engine, in the calling thread: what the child process of an
    :class:`EngineRun` runs. The same interface as
    :class:`~cams_tui.ui.engine_run.EngineRun`."""

    # Set while the run's event loop runs (the journal, once opened), for the controls and
    # the batch tallies: the constructor is SendControls's.
    _loop: asyncio.AbstractEventLoop | None = None
    _runner: JobRunner | None = None
    _journal: Journal | None = None

    def run(self) -> DoneEvent:
        """Send the job; blocks until the run ends and returns its :class:`DoneEvent`."""
        # When a UI thread renders while the engine sends, and each of the engine's wake-ups
        # (a permit's time, an answer) waits for the GIL until the interpreter switches
        # threads: 5 ms by default. That jitter reads as late departures and slow answers,
        # which the limiter answers by starting later. A 1 ms switch keeps it under the
        # limiter's notice for the whole run (restored after; the last run out restores it).
        with _SWITCH_LOCK:
            global _RUNS_SENDING, _SWITCH_BEFORE
            if _RUNS_SENDING == 0:
                _SWITCH_BEFORE = sys.getswitchinterval()
                sys.setswitchinterval(min(_SWITCH_BEFORE, SEND_SWITCH_INTERVAL_S))
            _RUNS_SENDING += 1
        try:
            # For start-up time: the engine loads when a send starts.
            from cams_tui.engine.sender import freeze_startup_objects

            # As headless does before sending: no full collection walks the UI's objects
            # (a hundred thousand of them) while the engine waits for the GIL.
            freeze_startup_objects()
            return asyncio.run(self._main())
        finally:
            with _SWITCH_LOCK:
                _RUNS_SENDING -= 1
                if _RUNS_SENDING == 0:
                    sys.setswitchinterval(_SWITCH_BEFORE)

    # ------------------------------------------------------------------ controls

    def _control(self, name: str) -> None:
        with self._lock:
            loop = self._loop
            if loop is None:
                self._early.append(name)
                return
        try:
            loop.call_soon_threadsafe(self._apply, name)
        except RuntimeError:
            pass  # the run's loop is closed: it has ended, there is nothing to control

    def _apply(self, name: str) -> None:
        """Apply a control in the engine's loop."""
        runner = self._runner
        if runner is None:
            return
        if name == "pause":
            runner.pause()
        elif name == "resume":
            runner.resume()
        elif name.startswith("local:"):
            runner.use_local(int(name.removeprefix("local:")))
        else:
            runner.cancel()

    # ------------------------------------------------------------------ the run

    async def _main(self) -> DoneEvent:
        target = self.target
        in_flight = default_in_flight(target.rate)
        journal = Journal(target.data_dir)
        self._journal = journal
        hooks = RunHooks(event=self._receive, canary_healthy=self._canary_healthy, spike=self._spike)
        options = RunOptions(
            rate=target.rate,
            retry_unknown=self.retry_unknown,
            resend_verified=self.resend_verified,
            lookup=target.lookup,
            in_flight=in_flight,
            lookup_rate=target.lookup_rate,
        )
        try:
            placement = placement_for_run(
                journal, self.job_id, target.placement, max_query_length(target.endpoint)
            )
            async with CamsClient(
                target.credentials, target.endpoint, placement=placement, max_connections=in_flight
            ) as client:
                runner = JobRunner(
                    client, journal, self.job_id, options, hooks,
                    limiter_factory=target.limiter_factory(),
                    lookup_limiter_factory=target.limiter_factory("ListChatappMessage"),
                )
                self._runner = runner
                with self._lock:
                    self._loop = asyncio.get_running_loop()
                    early, self._early = self._early, []
                for name in early:
                    self._apply(name)
                return (await runner.run()).done
        finally:
            with self._lock:
                self._loop = None
            self._runner = None
            self._journal = None
            journal.close()

    @staticmethod
    def _canary_healthy(verdict: CanaryVerdict, runner: JobRunner) -> None:
        """The canary asks the operator to confirm: the rest starts paused."""
        runner.pause()
        text = f"canary healthy: {verdict.reason}; press p to send the rest"
        runner.hooks.event(CanaryEvent(runner.job_id, "healthy", text))

    @staticmethod
    def _spike(reason: str, runner: JobRunner) -> None:
        """A failure spike pauses the run: the operator decides."""
        runner.pause()
        runner.hooks.event(CanaryEvent(runner.job_id, "spike", f"paused by a failure spike: {reason}"))

    def _receive(self, event: Event) -> None:
        now = self._clock()
        self.events.append((now, event))
        tally = isinstance(event, PlanEvent) or (isinstance(event, LookupEvent) and event.stage == "done")
        if tally and self._journal is not None:
            # Runs in the engine's thread, after the journal's recovery (or a lookup): the
            # batch states the run goes on from.
            counts = Counter(batch.state for batch in self._journal.batches(self.job_id))
            self.events.append((now, BatchTally(dict(counts))))
