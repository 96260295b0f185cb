"""How the app opens the job screens (the :class:`~cams_tui.ui.navigation.Navigator` methods)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from textual.app import App
from textual.screen import Screen

if TYPE_CHECKING:
    from cams_tui.ui.send_target import SendTarget


ReturnT = TypeVar("ReturnT")


class ScreenRoutes(App[ReturnT]):
    """Opens the send monitor, the jobs and the report screens for the screens themselves.

    The screens are imported when first opened, for start-up time: they bring the engine
    and the journal, which the first frame does not need.
    """

    def open_send_monitor(
        self, job_id: str, *, target: SendTarget | None = None, retry_unknown: bool = False, show_clock: bool = False
    ) -> None:
        """Send (or go on sending) a journaled job: on the job's own monitor when one that
        has ended is in the stack (the screens above it close), else on a new one. A second
        monitor of the job would stay underneath with the state it ended in, and offer to
        resume recipients sent since."""
        from cams_tui.ui.screens.send_monitor import SendMonitorScreen  # for start-up time

        stack = self.screen_stack
        ended = next(
            (
                screen
                for screen in stack
                if isinstance(screen, SendMonitorScreen) and screen.job_id == job_id and not screen.sending
            ),
            None,
        )
        # A send on a screen above must not be closed for it (leaving the monitor stops it).
        if ended is None or any(getattr(screen, "sending", False) for screen in stack[stack.index(ended) :]):
            self.push_screen(
                SendMonitorScreen(job_id, target=target, retry_unknown=retry_unknown, show_clock=show_clock)
            )
            return
        while self.screen is not ended:
            self.pop_screen()
        ended.target = target  # None: the app's connection now, as a new monitor would use
        ended.start_run(retry_unknown=retry_unknown)

    def open_report(self, job_id: str, *, target: SendTarget | None = None, show_clock: bool = False) -> None:
        """The delivery report of a job."""
        from cams_tui.ui.screens.report import ReportScreen  # for start-up time

        self.push_screen(ReportScreen(job_id, target=target, show_clock=show_clock))

    async def open_jobs(self, *, target: SendTarget | None = None) -> None:
        """The journal's jobs: back to them when they are open underneath, else a new screen."""
        from cams_tui.ui.screens.jobs import JobsScreen  # for start-up time

        await self.show_once(JobsScreen, lambda: JobsScreen(target=target))

    async def show_once(self, kind: type[Screen[Any]], make: Callable[[], Screen[Any]]) -> None:
        """Show the screen of ``kind``: back to it when it is already in the stack (the
        screens above it close), else a new one from ``make``. Screens never pile up, so
        one esc per screen leads back to compose."""
        if isinstance(self.screen, kind):
            return
        stack = self.screen_stack
        found = next((screen for screen in stack if isinstance(screen, kind)), None)
        above = stack[stack.index(found) + 1 :] if found is not None else []
        # A send on a screen above must not be closed for it (leaving the monitor stops it).
        if found is None or any(getattr(screen, "sending", False) for screen in above):
            self.push_screen(make())
            return
        while self.screen is not found:
            await self.pop_screen()
