"""What a screen or a pane may use of the app it runs in, typed.

Screens never import the app (``cams_tui.ui.app`` imports them: that would be a cycle);
they reach it through :func:`app_host` or :func:`compose_host`, typed by the protocols here.
Two levels, because the job screens (send monitor, jobs, report, settings) also run on small
test hosts that show one screen for a given target, while the compose flow needs the whole
cams-tui app:

- :class:`AppHost`: the account connection and the compose state, when the app has them.
- :class:`ComposeHost`: the compose state and what the compose flow asks the app to do.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol, cast, runtime_checkable

if TYPE_CHECKING:
    from textual.dom import DOMNode

    from cams_tui.config import RunContext
    from cams_tui.ui.campaign_draft import ComposeState
    from cams_tui.ui.connection import Connection
    from cams_tui.ui.send_target import SendTarget


@runtime_checkable
class AppHost(Protocol):
    """What every screen may use of its app."""

    @property
    def connection(self) -> Connection | None:
        """The account (or the demo) the app sends through; ``None`` on a host that shows
        screens only for a target they are given."""

    @property
    def state(self) -> ComposeState | None:
        """The composition (and the account's templates, once listed); ``None`` on a host
        that does not compose."""


@runtime_checkable
class ComposeHost(AppHost, Protocol):
    """What the compose flow (its screen, its steps, the campaign dialogs and settings) uses of cams-tui."""

    state: ComposeState
    """The send being prepared."""
    campaign_path: Path | None
    """The campaign file last opened or saved, if any."""

    @property
    def connection(self) -> Connection:
        """The account (or the demo) the app sends through."""

    @property
    def data_dir(self) -> Path:
        """Where the journal lives."""

    def suppression(self, default_region: str | None) -> frozenset[str]:
        """The numbers never to send to (the suppression list), normalised with ``default_region``."""

    def start_job(self, job_id: str) -> None:
        """Send a job just written to the journal, on the send monitor."""

    def on_templates_loaded(self) -> None:
        """The account's templates are in the state: choose the one a campaign asked for."""

    def save_campaign(self, path: Path) -> str:
        """Save the composition as a campaign file; the line to show."""

    def open_campaign(self, path: Path) -> str:
        """Load a campaign file into the composition; the line to show."""

    async def action_new_campaign(self) -> None:
        """Start over with an empty composition."""

    async def switch_connection(self, context: RunContext) -> None:
        """Send through another profile from now on."""


def app_host(node: DOMNode) -> AppHost:
    """The app ``node`` runs in, as an :class:`AppHost` (every cams-tui host is one)."""
    return cast("AppHost", node.app)


def compose_host(node: DOMNode) -> ComposeHost:
    """The app ``node`` runs in, as a :class:`ComposeHost`: only for nodes of the compose flow,
    which runs in cams-tui itself."""
    return cast("ComposeHost", node.app)


def compose_host_if_any(node: DOMNode) -> ComposeHost | None:
    """The app as a :class:`ComposeHost` when it is one (cams-tui), else ``None`` (a host
    showing one screen for a target, as tests do)."""
    app = node.app
    return app if isinstance(app, ComposeHost) else None


def compose_state(node: DOMNode) -> ComposeState | None:
    """The app's compose state (the account's templates, once listed), if it has one."""
    return app_host(node).state


def journal_dir(node: DOMNode, target: SendTarget | None) -> Path:
    """The journal a job screen reads: its target's, else that of the app's connection."""
    return target.data_dir if target is not None else host_connection(node).data_dir


def host_connection(node: DOMNode) -> Connection:
    """The app's connection, for a screen given no target of its own (only cams-tui, which
    always has one, opens such screens)."""
    connection = app_host(node).connection
    if connection is None:
        raise RuntimeError(f"{type(node).__name__} needs a target on a host without a connection")
    return connection


def running_demo(node: DOMNode) -> bool:
    """Whether the app sends to the built-in simulator (its hints then say ``--demo``)."""
    connection = app_host(node).connection
    return connection is not None and connection.demo
