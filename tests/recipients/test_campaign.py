"""Campaign files: validation messages name the field and the allowed range; TOML round-trips."""

from pathlib import Path

import pytest

from cams_tui.campaign import CampaignError, load_campaign, parse_campaign, save_campaign

MINIMAL = {"template_code": "TPL_PROMO", "language": "en", "from": "2000001"}


def _error(**changes: object) -> str:
    data = {**MINIMAL, **changes}
    with pytest.raises(CampaignError) as caught:
        parse_campaign(data)
    return str(caught.value)


def test_minimal_campaign_is_valid() -> None:
    campaign = parse_campaign(MINIMAL)
    options = campaign.message_options()
    assert options.to_params() == {
        "ChannelType": "viber",
        "TemplateCode": "TPL_PROMO",
        "Language": "en",
        "From": "2000001",
    }


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"ttl": 29}, "ttl: ttl must be between 30 and 1,209,600 seconds"),
        ({"ttl": 1_209_601}, "got 1,209,601"),
        ({"fallback": {"duration": 59}}, "fallback.duration: fallback.duration must be between 60 and 43,200"),
        ({"fallback": {"rule": "always"}}, "fallback.rule: Input should be 'undelivered' or 'sentFailed'"),
        ({"label": "pormotion"}, "label: Input should be 'promotion' or 'transaction'"),
        ({"from": "Demo Shop"}, "from: from must be the numeric Viber Service ID"),
        ({"recipients": {"default_region": "PHL"}}, "recipients.default_region: default_region must be a two-letter"),
        ({"colour": "red"}, "colour: is not a campaign field"),
    ],
)
def test_errors_name_the_field_and_the_range(changes: dict, expected: str) -> None:
    assert expected in _error(**changes)


def test_missing_required_fields_are_all_listed() -> None:
    with pytest.raises(CampaignError) as caught:
        parse_campaign({})
    text = str(caught.value)
    for field in ("template_code", "language", "from"):
        assert f"{field}: is required" in text


def test_round_trip_through_toml(tmp_path: Path) -> None:
    campaign = parse_campaign(
        {
            **MINIMAL,
            "label": "promotion",
            "ttl": 3600,
            "tag": "spring",
            "task_id": "t-1",
            "fallback": {"id": "S00001", "content": "Code: SPRING24", "rule": "sentFailed", "duration": 120},
            "params": {"code": "SPRING24", "count": 3},
            "recipients": {"file": "numbers.csv", "default_region": "ph"},
        }
    )
    path = save_campaign(campaign, tmp_path / "c.toml")
    loaded = load_campaign(path)
    assert loaded == campaign
    assert loaded.params == {"code": "SPRING24", "count": "3"}
    assert loaded.recipients.default_region == "PH"
    assert loaded.recipients_path(path) == tmp_path / "numbers.csv"
    options = loaded.message_options().to_params()
    assert options["FallBackRule"] == "sentFailed" and options["FallBackDuration"] == "120"


def test_unreadable_files_give_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CampaignError, match="no such file"):
        load_campaign(tmp_path / "absent.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("template_code = \n", encoding="utf-8")
    with pytest.raises(CampaignError, match="not valid TOML"):
        load_campaign(bad)


async def test_a_saved_campaign_and_its_pasted_numbers_are_private(tmp_path, monkeypatch) -> None:
    """The numbers sidecar and the campaign hold phone numbers: 0600, as exports and the journal."""
    import stat

    from tests.support.ui_flow import demo_app, settle

    app = demo_app(tmp_path, monkeypatch)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("enter")  # the first template
        await settle(pilot)
        app.state.pasted = "+63 917 100 2000\n+63 917 100 2001\n"
        assert app.save_campaign(tmp_path / "out" / "c.toml") == ""
    for name in ("c.toml", "c.numbers.txt"):
        assert stat.S_IMODE((tmp_path / "out" / name).stat().st_mode) == 0o600, name
