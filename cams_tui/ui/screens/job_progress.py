"""A plain progress screen that sends a journaled job: the send monitor's stand-in.

It runs the engine's :class:`~cams_tui.engine.sender.Sender` in a worker and shows its
events: a progress bar, counts, and one log line per request.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Header, Log, ProgressBar

from cams_tui.compose import counted
from cams_tui.ui.widgets.footer import Footer
from cams_tui.ui.widgets.text import Static

if TYPE_CHECKING:
    from cams_tui.engine.events import Event
    from cams_tui.engine.sender import Sender
    from cams_tui.ui.app import CamsApp


class JobProgressScreen(Screen[None]):
    """Sends one job and shows how it goes."""

    CSS_PATH = "job_progress.tcss"
    BINDINGS = [
        Binding("p", "pause", "Pause/resume", id="pause-job"),
        Binding("c", "cancel", "Cancel", id="cancel-job"),
        Binding("escape", "close", "Back", id="close-job"),
    ]

    def __init__(self, job_id: str) -> None:
        super().__init__()
        self.job_id = job_id
        """The journal's id of the job being sent."""
        self.sender: Sender | None = None
        self.finished = False
        """Whether the run has ended."""

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        yield Static(f"Job {self.job_id}: starting…", id="job-title")
        yield ProgressBar(id="job-bar", show_eta=False)
        yield Static("", id="job-counts")
        yield Log(id="job-log", max_lines=2000)
        yield Footer()

    def on_mount(self) -> None:
        self.run_job()

    @work(exclusive=True, group="send-job", exit_on_error=False)
    async def run_job(self) -> None:
        """Send the job with the engine, showing its events."""
        from cams_tui.engine.journal import Journal
        from cams_tui.engine.ratelimit import RateLimiter
        from cams_tui.engine.sender import Sender
        from cams_tui.ui.steps.base import explain

        app = cast("CamsApp", self.app)
        try:
            client = await app.connection.client()
            with Journal(app.data_dir) as journal:
                self.sender = Sender(client, journal, self.job_id, limiter=RateLimiter(app.connection.rate))
                self.sender.subscribe(self._event)
                done = await self.sender.run()
        except Exception as exc:  # noqa: BLE001 - shown on the screen
            self.query_one("#job-title", Static).update(f"Job {self.job_id} could not run: {explain(exc)}")
            self.finished = True
            return
        self.finished = True
        summary = f"Job {self.job_id} {done.state}: {done.ok:,} ok, {done.failed:,} failed, {done.unknown:,} unknown"
        if done.message:
            summary += f" — {done.message}"
        self.query_one("#job-title", Static).update(summary + "  (escape: back)")

    def _event(self, event: Event) -> None:
        from cams_tui.engine.events import BatchEvent, PlanEvent, ProgressEvent

        if isinstance(event, PlanEvent):
            self.query_one("#job-title", Static).update(
                f"Job {self.job_id}: sending {counted(event.recipients, 'recipient')} in "
                f"{counted(event.batches, 'batch', 'batches')}"
            )
            self.query_one(ProgressBar).update(total=max(event.recipients, 1))
        elif isinstance(event, ProgressEvent):
            self.query_one(ProgressBar).update(progress=event.settled)
            self.query_one("#job-counts", Static).update(
                f"ok {event.ok:,}   failed {event.failed:,}   unknown {event.unknown:,}   "
                f"pending {event.pending:,}   {event.calls_per_s:.1f} calls/s"
            )
        elif isinstance(event, BatchEvent):
            self.query_one(Log).write_line(
                f"#{event.index:04d} {event.size:>5} {event.http_status or '---'} {event.code or event.outcome}"
                f"  req {event.request_id or '—'}"
            )

    def action_pause(self) -> None:
        """Pause or resume sending."""
        if self.sender is None or self.finished:
            return
        if self.sender.paused:
            self.sender.resume()
        else:
            self.sender.pause()

    def action_cancel(self) -> None:
        """Stop sending (the job stays resumable)."""
        if self.sender is not None and not self.finished:
            self.sender.cancel()

    def action_close(self) -> None:
        """Back to compose, once the run has ended."""
        if self.finished:
            self.dismiss()
        else:
            self.notify("Sending: cancel with c first.", severity="warning")
