"""The footer shows the focused widget's keys, rebuilt once per change and only on a change."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Input
from textual.widgets._footer import FooterKey

from cams_tui.ui.widgets.footer import Footer


class Reloadable(Input):
    BINDINGS = [Binding("ctrl+r", "reload", "Reload")]

    def action_reload(self) -> None:
        """Nothing to reload: the binding is what the footer shows."""


class CountingFooter(Footer):
    rebuilds = 0

    async def recompose(self) -> None:
        self.rebuilds += 1
        await super().recompose()


class FooterApp(App[None]):
    def compose(self) -> ComposeResult:
        yield Reloadable(id="reloadable")
        yield Input(id="plain")
        yield CountingFooter()


def _descriptions(app: App[None]) -> list[str]:
    return [key.description for key in app.query(FooterKey)]


async def test_the_first_frame_has_the_focused_widgets_keys() -> None:
    app = FooterApp()
    async with app.run_test() as pilot:
        await pilot.pause()
        assert app.focused is not None and app.focused.id == "reloadable"
        assert "Reload" in _descriptions(app)


async def test_keys_follow_the_focus() -> None:
    app = FooterApp()
    async with app.run_test() as pilot:
        await pilot.pause()
        app.query_one("#plain").focus()
        await pilot.pause()
        assert "Reload" not in _descriptions(app)
        app.query_one("#reloadable").focus()
        await pilot.pause()
        assert "Reload" in _descriptions(app)


async def test_unchanged_bindings_do_not_rebuild_and_a_burst_rebuilds_once() -> None:
    app = FooterApp()
    async with app.run_test() as pilot:
        await pilot.pause()
        footer = app.query_one(CountingFooter)
        settled = footer.rebuilds
        for _ in range(5):
            app.screen.refresh_bindings()
        await pilot.pause()
        assert footer.rebuilds == settled  # same keys: nothing to rebuild

        app.query_one("#plain").focus()
        for _ in range(5):
            app.screen.refresh_bindings()
        await pilot.pause()
        assert footer.rebuilds == settled + 1


class ManyKeys(Input):
    BINDINGS = [Binding(f"ctrl+{key}", f"noop('{key}')", f"Action {key}") for key in "efghij"]

    def action_noop(self, key: str) -> None:
        """Nothing: the bindings are what the footer shows."""


class NarrowApp(App[None]):
    def compose(self) -> ComposeResult:
        yield ManyKeys()
        yield Footer()


async def test_keys_that_do_not_fit_take_a_second_row_and_give_it_back_when_there_is_room() -> None:
    app = NarrowApp()
    async with app.run_test(size=(60, 10)) as pilot:
        await pilot.pause()
        await pilot.pause()
        footer = app.query_one(Footer)
        assert footer.has_class("-two-rows") and footer.size.height == 2
        assert sorted(_descriptions(app))[:6] == [f"Action {key}" for key in "efghij"]
        for row in footer.query(".footer-row"):
            assert row.outer_size.width <= 60 and sum(key.outer_size.width for key in row.children) <= 60
        await pilot.resize_terminal(200, 10)
        await pilot.pause()
        await pilot.pause()
        assert not footer.has_class("-two-rows") and footer.size.height == 1
        assert sorted(_descriptions(app))[:6] == [f"Action {key}" for key in "efghij"]
