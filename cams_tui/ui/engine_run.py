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

import asyncio
import dataclasses
import multiprocessing
import multiprocessing.resource_tracker
import os
import pickle
import signal
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cams_tui.api.client import CamsClient, max_query_length
from cams_tui.api.credentials import Credentials
from cams_tui.engine.events import CanaryEvent, DoneEvent, Event, LookupEvent, PlanEvent
from cams_tui.engine.journal import Journal
from cams_tui.engine.limiters.factory import account_key, limiter_factory
from cams_tui.engine.run import JobRunner, RunHooks, RunOptions, placement_for_run
from cams_tui.engine.sender import default_in_flight
from cams_tui.errors import UserError
from cams_tui.listing import DEFAULT_LOOKUP_RATE

if TYPE_CHECKING:
    from cams_tui.api.client import Placement
    from cams_tui.engine.canary import CanaryVerdict
    from cams_tui.engine.journal import Journal
    from cams_tui.engine.limiters.base import Limiter
    from cams_tui.engine.reconcile import ReconcileSettings
    from cams_tui.engine.run import JobRunner


@dataclass(frozen=True)
class SendTarget:
    """Where a job is sent from and to: the account, the rate and the journal's folder."""

    endpoint: str
    credentials: Credentials
    placement: Placement
    rate: float
    """SendChatappMassMessage calls per second (the limiter's ceiling)."""
    data_dir: Path
    """The folder of the journal that holds the job."""
    lookup: ReconcileSettings | None = None
    """How a run looks its own unknown batches up once every batch has an answer
    (``None``: it does not)."""
    limiter: str = "process"
    """Where the account's rate budget is kept: ``process``, ``host`` or ``redis://…``
    (the profile's ``limiter``)."""
    account: str | None = None
    """The account the budget belongs to (the profile's ``account``; ``None``: the
    AccessKey ID)."""

    def limiter_factory(self, operation: str = "SendChatappMassMessage") -> Callable[[float], Limiter]:
        """Builds this target's account limiter for ``operation`` at a given rate (the
        sends: for each stage of a run; ``ListChatappMessage``: the lookups)."""

        account = account_key(self.account, self.credentials.access_key_id).key
        return limiter_factory(self.limiter, account=account, data_dir=self.data_dir, operation=operation)

    def lookup_limiter(self) -> Limiter:
        """The account's ListChatappMessage limiter at this target's lookup rate (close it
        when done: :meth:`Limiter.aclose`)."""
        return self.limiter_factory("ListChatappMessage")(self.lookup_rate)

    @property
    def lookup_rate(self) -> float:
        """ListChatappMessage calls per second (the profile's ``lookup_rate``)."""

        return self.lookup.lookup_rate if self.lookup is not None else DEFAULT_LOOKUP_RATE


@dataclass(frozen=True)
class BatchTally:
    """How many of a job's batches are in each state, read from the journal when a run
    starts (a resumed job has batches settled by earlier runs) and after a lookup."""

    counts: dict[str, int]


SEND_SWITCH_INTERVAL_S = 0.001
"""The interpreter's thread switch interval while a run sends (see :meth:`ThreadRun.run`)."""
_SWITCH_LOCK = threading.Lock()
_RUNS_SENDING = 0
_SWITCH_BEFORE = 0.005

Stamped = tuple[float, "Event | BatchTally"]
"""An event with the wall-clock time it was received."""


class ThreadRun:
    """Sends one job with the engine, in the calling thread: what the child process of an
    :class:`EngineRun` runs. The same interface as :class:`EngineRun`."""

    def __init__(
        self,
        target: SendTarget,
        job_id: str,
        *,
        retry_unknown: bool = False,
        resend_verified: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.target = target
        self.job_id = job_id
        self.retry_unknown = retry_unknown
        self.resend_verified = resend_verified
        self.events: deque[Stamped] = deque()
        """Stamped events not yet drained (appended by the engine's thread)."""
        self._clock = clock
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: JobRunner | None = None
        self._journal: Journal | None = None
        self._early: list[str] = []

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

    def drain(self) -> list[Stamped]:
        """Take every buffered event, oldest first."""
        taken: list[Stamped] = []
        events = self.events
        while events:
            taken.append(events.popleft())
        return taken

    # ------------------------------------------------------------------ controls

    def pause(self) -> None:
        """Start no new request until :meth:`resume`."""
        self._control("pause")

    def resume(self) -> None:
        """Start requests again."""
        self._control("resume")

    def cancel(self) -> None:
        """Stop (requests in flight are waited for); a second call stops at once."""
        self._control("cancel")

    def use_local(self, senders: int) -> None:
        """Go on with a limiter of this process alone at ``rate / senders`` for the rest of
        the run (:meth:`JobRunner.use_local`): for when the shared limiter is unavailable."""
        if senders < 1:
            raise ValueError("senders must be at least 1")
        self._control(f"local:{senders}")

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


_SPAWN = multiprocessing.get_context("spawn")
"""A fresh interpreter for the child: forking a process that runs Textual's threads could
copy a lock some thread holds."""


class EngineRun:
    """Sends one job with the engine in a child process; :meth:`run` blocks the calling
    thread (use a thread worker) until the run ends.

    Events go to :attr:`events` as ``(time, event)`` pairs, preceded by a
    :class:`BatchTally` right after the plan; :meth:`drain` takes them. :meth:`pause`,
    :meth:`resume` and :meth:`cancel` may be called from any thread, even before the
    engine has started."""

    def __init__(
        self,
        target: SendTarget,
        job_id: str,
        *,
        retry_unknown: bool = False,
        resend_verified: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.target = target
        self.job_id = job_id
        self.retry_unknown = retry_unknown
        self.resend_verified = resend_verified
        self.events: deque[Stamped] = deque()
        """Stamped events not yet drained (appended by the thread that waits in :meth:`run`)."""
        self._clock = clock
        self._lock = threading.Lock()
        self._pipe: Any = None
        self._early: list[str] = []

    def run(self) -> DoneEvent:
        """Send the job; blocks until the run ends and returns its :class:`DoneEvent`.

        Raises what the engine raised (a :class:`~cams_tui.errors.UserError` such as a job
        another process sends), or ``RuntimeError`` when the child ended without an answer."""
        _start_resource_tracker()
        ours, theirs = _SPAWN.Pipe(duplex=True)
        child = _SPAWN.Process(
            target=_child_main,
            args=(theirs, _portable(self.target), self.job_id, self.retry_unknown, self.resend_verified),
            name=f"cams-tui send {self.job_id}",
            # Ended with this process even if it dies without cancelling: the child then sees
            # its pipe close first and stops gracefully (see _child_main).
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

    def drain(self) -> list[Stamped]:
        """Take every buffered event, oldest first."""
        taken: list[Stamped] = []
        events = self.events
        while events:
            taken.append(events.popleft())
        return taken

    # ------------------------------------------------------------------ controls

    def pause(self) -> None:
        """Start no new request until :meth:`resume`."""
        self._control("pause")

    def resume(self) -> None:
        """Start requests again."""
        self._control("resume")

    def cancel(self) -> None:
        """Stop (requests in flight are waited for); a second call stops at once."""
        self._control("cancel")

    def use_local(self, senders: int) -> None:
        """Go on with a limiter of this process alone at ``rate / senders`` for the rest of
        the run (:meth:`JobRunner.use_local`): for when the shared limiter is unavailable."""
        if senders < 1:
            raise ValueError("senders must be at least 1")
        self._control(f"local:{senders}")

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


def _start_resource_tracker() -> None:
    """Start multiprocessing's resource tracker (every spawned child needs it) with a real
    stderr: Textual replaces ``sys.stderr`` with a capture whose ``fileno()`` is -1, which
    the tracker would hand to the OS as a descriptor to keep."""
    with _SWITCH_LOCK:
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


def _portable(target: SendTarget) -> tuple[dict[str, Any], tuple[str, str, str | None]]:
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


def _child_main(
    pipe: Any,
    portable: tuple[dict[str, Any], tuple[str, str, str | None]],
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
