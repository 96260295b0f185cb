"""The send monitor: sends one journaled job and shows, live, what CAMS answers.

The engine runs in a child process (:class:`~cams_tui.ui.engine_run.EngineRun`, waited
for by a thread worker); its events pile up in a buffer that this screen drains every
:data:`FLUSH_S` seconds, so ten (or a thousand) events a second cost the UI one refresh per
drain: the log gets its lines in one bulk append, the counters are redrawn once.

After a run: the delivery funnel (ListChatappMessage for the job's GroupMessageIds),
refreshable with ``d``; after a fatal error, a dialog saying what happened and what to do,
and ``r`` resumes the job here.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Header
from textual.worker import Worker, WorkerState

from cams_tui.api.errors import CamsError
from cams_tui.delivery import Funnel
from cams_tui.demo import command
from cams_tui.engine.events import BatchEvent, ProgressEvent, RateEvent
from cams_tui.errors import UserError
from cams_tui.ui.app_access import compose_state, host_connection, running_demo
from cams_tui.ui.engine_run import EngineRun
from cams_tui.ui.job_services import (
    fetch_funnel,
    load_job_log,
    read_attempts,
    read_job,
    resolve_target,
    template_name,
)
from cams_tui.ui.navigation import navigator
from cams_tui.ui.screens.dialogs import ConfirmDialog
from cams_tui.ui.screens.send_dialogs import (
    EntryDialog,
    FatalDialog,
    LocalLimiterDialog,
    TypedCountDialog,
)
from cams_tui.ui.send_state import SendState
from cams_tui.ui.send_target import BatchTally, SendTarget, Stamped
from cams_tui.ui.widgets.counters import SendCounters
from cams_tui.ui.widgets.footer import Footer
from cams_tui.ui.widgets.funnel import DeliveryFunnel
from cams_tui.ui.widgets.send_log import FILTERS, SendLog
from cams_tui.ui.widgets.text import Static
from cams_tui.wording import counted

if TYPE_CHECKING:
    from cams_tui.engine.journal import JobRecord

FLUSH_S = 0.1
"""How often buffered engine events reach the widgets."""
_ROUTINE = (BatchEvent, BatchTally, ProgressEvent, RateEvent)
"""Events that can wait for the next redraw while sending (the others, a pause, a stop,
the end, a canary's verdict, are shown at the next tick)."""
SENDING_FLUSH_S = 0.5
"""… while a run sends: each redraw holds the GIL for tens of milliseconds, time the
engine's thread waits for at each of its wake-ups (a permit, an answer); two a second keep
the counters live and cost the send next to nothing."""


class SendMonitorScreen(Screen[None]):
    """Sends one job and shows every answer, the counters, and the delivery funnel."""

    CSS_PATH = "send_monitor.tcss"
    BINDINGS = [
        Binding("p", "pause", "Pause", id="send-pause", tooltip="Start no new request until resumed"),
        Binding("p", "unpause", "Resume", id="send-unpause", tooltip="Start requests again"),
        Binding("c", "cancel_send", "Cancel", id="send-cancel", tooltip="Stop sending; the job stays resumable"),
        Binding("r", "resume_job", "Resume job", id="send-resume-job", tooltip="Send what is left of the job"),
        Binding("l", "go_local", "Go on alone", id="send-local",
                tooltip="The shared limiter cannot be reached: go on alone at rate / N"),
        Binding("f", "cycle_filter", "Filter", id="send-filter", tooltip="Show all lines, problems, or unknown"),
        Binding("d", "refresh_funnel", "Delivery", id="send-funnel", tooltip="Fetch the delivery funnel again"),
        Binding("j", "show_jobs", "Jobs", id="send-jobs", tooltip="The journal's jobs"),
        Binding("escape", "close", "Back", id="send-close", tooltip="Leave this screen once the send has ended"),
    ]

    def __init__(
        self,
        job_id: str,
        *,
        target: SendTarget | None = None,
        retry_unknown: bool = False,
        autostart: bool = True,
        show_clock: bool = False,
    ) -> None:
        """``target`` defaults to the app's connection; ``autostart=False`` shows the job
        without sending it (events may then be given to :meth:`feed`)."""
        super().__init__()
        self.job_id = job_id
        """The journal's id of the job."""
        self.target = target
        """Where the job is sent (resolved from the app on first send when ``None``)."""
        self.state = SendState(job_id)
        """What the screen knows of the send."""
        self.run: EngineRun | None = None
        """The engine's current run, if any."""
        self.job: JobRecord | None = None
        """The job as the journal held it when the screen opened."""
        self._retry_unknown = retry_unknown
        self._autostart = autostart
        self._show_clock = show_clock
        self._fed: deque[Stamped] = deque()
        self._flushed_at = 0.0
        self._quit_after_run = False
        self._quit_return_code = 0
        self._fatal_shown: object = None

    def compose(self) -> ComposeResult:
        yield Header(show_clock=self._show_clock, icon="✉")
        yield Static(f"Job {self.job_id}", id="monitor-title")
        yield SendCounters(id="monitor-counters")
        log = SendLog(id="monitor-log")
        log.border_title = "Log (all)"
        yield log
        funnel = DeliveryFunnel(id="monitor-funnel")
        funnel.border_title = "Delivery"
        yield funnel
        yield Footer()

    async def on_mount(self) -> None:
        self.set_interval(FLUSH_S, self.flush_events)
        self.query_one(SendLog).focus()
        self.query_one(SendCounters).show(self.state)
        self._show_title()
        if self._autostart:
            self.start_run(retry_unknown=self._retry_unknown)

    # ------------------------------------------------------------------ the run

    @property
    def sending(self) -> bool:
        """Whether a run is under way."""
        return self.run is not None

    @work(group="send-start", exclusive=True, exit_on_error=False)
    async def start_run(self, *, retry_unknown: bool = False) -> None:
        """Send what is left of the job (``retry_unknown``: its unknown batches too)."""
        if self.run is not None:
            return
        try:
            if self.target is None:
                self.target = await resolve_target(host_connection(self))
            job, _ = await asyncio.to_thread(read_job, self.target.data_dir, self.job_id)
            self.job = job
        except Exception as exc:  # noqa: BLE001 - shown to the operator
            self._failed_to_start(exc)
            return
        self._show_title()
        placement = job.sent_placement(self.target.placement)
        if placement is not self.target.placement:
            self.notify(
                f"Job {self.job_id} was planned for {placement.value} placement: sent that way "
                f"(the profile says {self.target.placement.value}).",
                timeout=10,
            )
        log = self.query_one(SendLog)
        if not log.entries:
            # A resumed job keeps its history: the earlier runs' lines come first.
            try:
                _, earlier = await asyncio.to_thread(load_job_log, self.target.data_dir, self.job_id)
            except Exception:  # noqa: BLE001 - the history is a nicety; the send goes on
                earlier = []
            log.add_entries(earlier)
        self.state.start_run()
        self.run = EngineRun(self.target, self.job_id, retry_unknown=retry_unknown)
        self.set_class(False, "-finished")
        self.run_worker(self.run.run, name=f"send {self.job_id}", group="send", thread=True, exit_on_error=False)
        self.refresh_bindings()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The engine's thread ended: take its last events, or report why it failed."""
        if event.worker.group != "send" or event.state not in (
            WorkerState.SUCCESS,
            WorkerState.ERROR,
            WorkerState.CANCELLED,
        ):
            return
        self.flush_events(now=True)
        self.run = None
        if event.state is WorkerState.ERROR and self.state.running:
            self._failed_to_start(event.worker.error)
        self.refresh_bindings()
        if self._quit_after_run:
            self.app.exit(return_code=self._quit_return_code)

    def _failed_to_start(self, error: BaseException | None) -> None:
        self.state.phase = "failed-to-start"
        reason = str(error) if isinstance(error, UserError) else f"{type(error).__name__}: {error}"
        self._show_title()
        self.notify(f"Job {self.job_id} could not be sent: {reason}", severity="error", timeout=10)
        self.refresh_bindings()

    def feed(self, stamped: Iterable[Stamped]) -> None:
        """Show events that did not come from this screen's own run (a replay)."""
        self._fed.extend(stamped)

    def flush_events(self, *, now: bool = False) -> None:
        """Move buffered events to the widgets: one log append and one redraw for all
        (while a run sends, at most every ``SENDING_FLUSH_S`` unless ``now``)."""
        run = self.run
        recent = run is not None and not now and time.monotonic() - self._flushed_at < SENDING_FLUSH_S
        if recent and not self._fed and all(isinstance(item[1], _ROUTINE) for item in list(run.events)):  # type: ignore[union-attr]
            return
        self._flushed_at = time.monotonic()
        drained: list[Stamped] = list(self._fed)
        self._fed.clear()
        if self.run is not None:
            drained.extend(self.run.drain())
        if not drained:
            return
        was_running = self.state.running
        lines = self.state.apply(drained)
        self.query_one(SendLog).add_entries(lines)
        self.query_one(SendCounters).show(self.state)
        self._show_title()
        if was_running and not self.state.running:
            self._run_ended()
        self.refresh_bindings()

    def _run_ended(self) -> None:
        done = self.state.done
        self.set_class(True, "-finished")
        if done is None:
            return
        if self._quit_after_run:
            return
        if done.state == "stopped" and self._fatal_shown is not done:
            self._fatal_shown = done

            demo = running_demo(self)
            self.app.push_screen(FatalDialog(done, demo=demo), self._after_fatal)
        elif done.state == "done":
            verified = (
                f", {done.not_sent_verified:,} verified not sent (S in Jobs sends them)"
                if done.not_sent_verified
                else ""
            )
            if done.unknown:
                verified += "; L in Jobs looks the unknown up"
            self.notify(
                f"Job {done.job_id} done: {done.ok:,} ok, {done.failed:,} failed, {done.unknown:,} unknown{verified}.",
                severity="warning" if done.failed or done.unknown or done.not_sent_verified else "information",
            )
        if done.ok:
            self.action_refresh_funnel()

    def _after_fatal(self, resume: bool | None) -> None:
        if resume:
            self.action_resume_job()

    def _show_title(self) -> None:
        job = self.job
        what = f"Job {self.job_id}"
        if job is not None:
            name = template_name(compose_state(self), job.options.template_code, job.options.language)
            what += f" · {name} {job.options.language} · {counted(job.recipients, 'recipient')}"
        phase = self.state.phase_text()
        canary = f" · {self.state.canary}" if self.state.canary else ""
        lookup = f" · {self.state.lookup}" if self.state.lookup else ""
        scheduled = f" · {self.state.scheduled}" if self.state.scheduled else ""
        # The state first, the canary's and the lookup's with it: at 80 columns the end of
        # the line (the job's name, known already) is what gets cut.
        self.query_one("#monitor-title", Static).update(f"{phase}{scheduled}{canary}{lookup} · {what}")
        self.set_class(self.state.phase == "paused", "-paused")

    # ------------------------------------------------------------------ actions

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        running = self.run is not None and self.state.running
        if action == "pause":
            return running and self.state.phase != "paused"
        if action == "unpause":
            return running and self.state.phase == "paused"
        if action == "cancel_send":
            return True if running else None
        if action == "resume_job":
            done = self.state.done
            return (self.run is None and done is not None and done.pending > 0) or None
        if action == "go_local":
            # Only while the shared limiter is unavailable, and once per run.
            return bool(running and self.state.limiter_unavailable and self.state.local_senders is None)
        if action == "refresh_funnel":
            return True if self.state.done is not None and self.state.recipients["ok"] else None
        return True

    def action_pause(self) -> None:
        """Start no new request until resumed (requests in flight finish)."""
        if self.run is not None:
            self.run.pause()

    def action_unpause(self) -> None:
        """Start requests again after a pause."""
        if self.run is not None:
            self.run.resume()

    def action_cancel_send(self) -> None:
        """Ask, then stop sending; pressed while stopping, give up on requests in flight."""
        run = self.run
        if run is None:
            return
        if self.state.phase == "stopping":
            run.cancel()
            self.notify("Stopping now: requests still in flight are marked unknown.", severity="warning")
            return

        # Whoever reaches for cancel has seen something wrong: nothing new starts while they read.
        was_paused = self._hold()

        def answered(yes: bool | None) -> None:
            if self.run is not run:
                return
            if yes:
                run.cancel()
            elif not was_paused:
                run.resume()

        waiting = self.state.phase == "scheduled"
        self.app.push_screen(
            ConfirmDialog(
                "Cancel the send?",
                (
                    "It has not started: nothing is sent. "
                    if waiting
                    else "Paused while you decide: no new request starts; requests in flight finish. "
                    "Cancel waits for them (up to 10 s); Keep sending goes on where it paused. "
                )
                + f"The job stays resumable: r here, Jobs (F2), or `{self._command('resume')}`.",
                yes="Cancel the send",
                no="Keep sending",
                warning=True,
            ),
            answered,
        )

    def action_go_local(self) -> None:
        """Ask N, then go on with a limiter of this process alone at rate / N."""
        run = self.run
        if run is None or not self.state.limiter_unavailable:
            return

        def answered(senders: int | None) -> None:
            if senders is not None and self.run is run:
                run.use_local(senders)

        rate = self.state.ceiling or run.target.rate
        self.app.push_screen(LocalLimiterDialog(self.state.limiter_unavailable, rate), answered)

    def _hold(self) -> bool:
        """Pause the run at once (a dialog is about to ask); return whether it was paused already."""
        was_paused = self.state.phase == "paused"
        if self.run is not None and not was_paused:
            self.run.pause()
        return was_paused

    def _command(self, verb: str) -> str:
        """``cams-tui VERB JOB_ID`` as the operator types it (``--demo`` for a demo job)."""

        return command(f"{verb} {self.job_id}", demo=running_demo(self))

    def action_resume_job(self) -> None:
        """Send what is left of the job (after a cancel or a fatal error), once its count
        is typed, as a headless resume asks."""
        if self.run is not None:
            return

        done = self.state.done
        pending = done.pending if done is not None else self.state.pending
        if not pending:
            self.start_run()
            return

        def answered(yes: bool | None) -> None:
            if yes and self.run is None:
                self.start_run()

        self.app.push_screen(
            TypedCountDialog(
                f"Resume job {self.job_id}?",
                f"{pending:,} recipients are still to send ({self.state.recipients['ok']:,} already ok).",
                pending,
                yes="Resume",
            ),
            answered,
        )

    def action_cycle_filter(self) -> None:
        """Show all lines, then only problems, then only unknown outcomes."""
        log = self.query_one(SendLog)
        log.log_filter = FILTERS[(FILTERS.index(log.log_filter) + 1) % len(FILTERS)]
        log.border_title = f"Log ({log.log_filter})"

    async def action_show_jobs(self) -> None:
        """Show the journal's jobs (back to them when the send was opened from there)."""
        await navigator(self.app).open_jobs(target=self.target)

    def action_close(self) -> None:
        """Leave, once the send has ended."""
        if self.run is not None:
            self.notify("Still sending: cancel (c) first, or pause (p).", severity="warning")
            return
        self.dismiss(None)

    async def on_send_log_selected(self, event: SendLog.Selected) -> None:
        """Show the full answer of the chosen line, with its batch's attempts."""

        attempts: list[dict[str, Any]] = []
        if self.target is not None:
            try:
                attempts = await asyncio.to_thread(read_attempts, self.target.data_dir, self.job_id, event.entry.index)
            except Exception:  # noqa: BLE001 - the line itself is still worth showing
                attempts = []
        self.app.push_screen(EntryDialog(event.entry, attempts))

    # ------------------------------------------------------------------ quitting

    def confirm_quit(self) -> bool:
        """Called by the app on quit: while sending, ask first and return ``True``."""
        run = self.run
        if run is None:
            return False
        if self._quit_after_run:
            run.cancel()  # asked twice: stop at once, in-flight requests become unknown
            return True

        was_paused = self._hold()

        def answered(yes: bool | None) -> None:
            if not yes:
                if self.run is run and not was_paused:
                    run.resume()
                return
            self.stop_and_quit()

        self.app.push_screen(
            ConfirmDialog(
                "Quit while sending?",
                "Paused while you decide. Quitting stops the send: requests in flight are waited for, "
                "then cams-tui quits. The job stays "
                f"resumable from Jobs (F2) or with `{self._command('resume')}`.",
                yes="Stop and quit",
                no="Keep sending",
                warning=True,
            ),
            answered,
        )
        return True

    def stop_and_quit(self, return_code: int = 0) -> None:
        """Stop the send gracefully (requests in flight are waited for, then become unknown),
        then quit the app with ``return_code``; quit at once when nothing is sending."""
        self._quit_return_code = return_code
        if self.run is None:
            self.app.exit(return_code=return_code)
            return
        self._quit_after_run = True
        self.run.cancel()
        self.notify("Stopping the send, then quitting…")

    def on_unmount(self) -> None:
        # Leaving with a run still going (the app is closing): stop it at once, so the
        # engine's thread ends; in-flight requests become unknown, the job stays resumable.
        if self.run is not None:
            self.run.cancel()
            self.run.cancel()

    # ------------------------------------------------------------------ delivery

    @work(group="funnel", exclusive=True, exit_on_error=False)
    async def action_refresh_funnel(self) -> None:
        """Fetch the delivery funnel of the job's accepted batches from ListChatappMessage."""

        widget = self.query_one(DeliveryFunnel)
        target = self.target
        if target is None:
            return
        widget.note = "Fetching delivery status from ListChatappMessage…"

        def show(funnel: Funnel) -> None:
            widget.funnel = funnel

        try:
            await fetch_funnel(target, self.job_id, show)
        except CamsError as exc:
            widget.note = f"Could not fetch delivery status: {exc}" + (f" — {exc.advice}" if exc.advice else "")
            return
        widget.note = "Refresh with d: statuses move Sent → Delivered → Read over minutes."
