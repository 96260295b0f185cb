"""Text from outside the app (names from CAMS, pasted lines, typed values, errors) is shown as
written: never read as Textual markup, where ``[To]`` would vanish and ``[/]`` would crash."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import DataTable, Static

from cams_tui.ui.campaign_draft import Step
from tests.support.ui_flow import demo_app, paste, settle

TRICKY = "Promo [PH] [/] [b]x"


def _cells(table: DataTable) -> list[str]:
    return [str(cell) for row in range(table.row_count) for cell in table.get_row_at(row)]


async def test_a_template_name_with_brackets_is_listed_and_chosen_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cams_tui.api.models import TemplateSummary

    app = demo_app(tmp_path, monkeypatch)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        template = app.compose_screen.pane(Step.TEMPLATE)
        first = app.state.templates[0]
        app.state.templates[0] = TemplateSummary(
            template_code=first.template_code, template_name=TRICKY, language=first.language,
            audit_status=first.audit_status, category="[/]",
        )
        template._fill_table()
        await pilot.pause()
        table = template.query_one("#template-table", DataTable)
        assert any(TRICKY in cell for cell in _cells(table))
        table.focus()
        table.move_cursor(row=0)
        await pilot.press("enter")
        await settle(pilot)
        status = str(template.query_one("#template-status", Static).render())
        assert TRICKY in status
        app.notify(f"name {TRICKY}")  # a toast with it must not crash either
        await pilot.pause()


async def test_a_pasted_line_with_brackets_is_rejected_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = demo_app(tmp_path, monkeypatch)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await app.compose_screen.go_to(Step.RECIPIENTS)
        await paste(pilot, "+639171234567\n[/] [To]\n")
        rejected = app.compose_screen.query_one("#recipients-rejected", DataTable)
        assert "[/] [To]" in _cells(rejected)


async def test_a_typed_value_with_brackets_is_named_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = demo_app(tmp_path, monkeypatch)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await app.compose_screen.go_to(Step.OPTIONS)
        app.compose_screen.query_one("#ttl").focus()
        await pilot.press(*"[/]")
        await pilot.pause()
        assert "'[/]' is not a duration" in str(app.compose_screen.query_one("#ttl-note").render())


def test_every_static_and_label_of_the_app_shows_strings_as_written() -> None:
    """Textual's own Static and Label read strings as markup: the app uses cams_tui.ui.widgets.text's."""
    import re

    ui = Path(__file__).resolve().parents[2] / "cams_tui" / "ui"
    offenders = [
        str(path.relative_to(ui))
        for path in ui.rglob("*.py")
        if path.name != "text.py"
        and re.search(r"^from textual\.widgets import [^\n]*\b(Static|Label)\b", path.read_text(encoding="utf-8"), re.M)
    ]
    assert offenders == []


async def test_textuals_own_toasts_read_plainly_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Toasts are plain text here; Textual's own "press ctrl+q" toast was markup."""
    app = demo_app(tmp_path, monkeypatch)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        app.action_help_quit()  # what ctrl+c does
        await pilot.pause()
        (told,) = [n.message for n in app._notifications if "to quit the app" in n.message]
        assert told == "Press ^q to quit the app"
