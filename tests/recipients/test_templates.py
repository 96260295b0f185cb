"""Template variables and previews."""

from cams_tui.api.models import TemplateButton, TemplateComponent, TemplateDetail
from cams_tui.templates import render_preview, render_segments, render_text, template_variables, variables_in


def _detail() -> TemplateDetail:
    return TemplateDetail(
        template_code="TPL",
        components=[
            TemplateComponent(type="HEADER", format="IMAGE", url="https://example.com/$(img).png"),
            TemplateComponent(type="BODY", text="Hi $(name), use code {{ code }} before $(name)'s day."),
            TemplateComponent(
                type="BUTTONS", buttons=[TemplateButton(type="URL", text="Shop", url="https://x.test/?c={{code}}")]
            ),
        ],
        example={"name": "Maria", "extra": "x"},
    )


def test_both_placeholder_syntaxes_are_read_in_order() -> None:
    assert variables_in("a $(one) {{two}} {{ 3 }} $(one)") == ["one", "two", "3"]


def test_template_variables_cover_components_buttons_and_example() -> None:
    assert template_variables(_detail()) == ["img", "name", "code", "extra"]


def test_render_marks_missing_values() -> None:
    segments = list(render_segments("Hi $(name)!", {}))
    assert [s.text for s in segments] == ["Hi ", "‹name›", "!"]
    assert segments[1].missing and segments[1].variable == "name"
    assert render_text("Hi $(name)!", {"name": "Ana"}) == "Hi Ana!"


def test_preview_renders_every_component() -> None:
    preview = render_preview(_detail(), {"name": "Ana", "code": "S24"})
    assert preview.header == "[image]"
    assert preview.header_media_url == "https://example.com/‹img›.png"
    assert preview.body == "Hi Ana, use code S24 before Ana's day."
    assert preview.buttons == [("Shop", "https://x.test/?c=S24")]
    assert preview.missing == ["img", "extra"]
