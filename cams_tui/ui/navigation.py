"""What a screen asks of the app to open another screen, so that screens never import each other.

The send monitor, the jobs screens and the report screen open one another through these
methods; :class:`cams_tui.ui.screen_routes.ScreenRoutes` implements them (cams-tui's app and
the tests' host apps mix it in).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, cast

if TYPE_CHECKING:
    from textual.app import App

    from cams_tui.ui.send_target import SendTarget


class Navigator(Protocol):
    """The app, as far as opening the job screens goes."""

    def open_send_monitor(
        self, job_id: str, *, target: SendTarget | None = None, retry_unknown: bool = False, show_clock: bool = False
    ) -> None:
        """Send (or go on sending) a journaled job on a new send monitor."""

    def open_report(self, job_id: str, *, target: SendTarget | None = None, show_clock: bool = False) -> None:
        """The delivery report of a job."""

    async def open_jobs(self, *, target: SendTarget | None = None) -> None:
        """The journal's jobs: back to them when they are open underneath, else a new screen."""


def navigator(app: App[object]) -> Navigator:
    """``app`` as a :class:`Navigator` (every app that shows the job screens is one)."""
    return cast("Navigator", app)
