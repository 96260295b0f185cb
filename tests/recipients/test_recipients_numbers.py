"""The numbers rule, and the fast path's identity with plain phonenumbers calls."""

from __future__ import annotations

import random

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneMetadata, PhoneNumberFormat, PhoneNumberType
from phonenumbers.phonenumberutil import _maybe_strip_national_prefix_carrier_code, _test_number_length

from cams_tui.recipients.number_cleaning import full_clean
from cams_tui.recipients.number_fast_path import Prefixes
from cams_tui.recipients.numbers import Normalizer, clean, library_reading

PH, NONE = Normalizer("PH"), Normalizer(None)


def accepted(result: object) -> str:
    assert isinstance(result, tuple), result
    return str(result[0])


@pytest.mark.parametrize(
    ("text", "region", "expected"),
    [
        ("+63 917 123 4567", None, "639171234567"),
        ("+639171234567", "US", "639171234567"),
        ("0063 917 123 4567", None, "639171234567"),
        ("00 41 78 927 2696", "PH", "41789272696"),
        ("639171234567", None, "639171234567"),  # the CAMS format itself
        ("639171234567", "PH", "639171234567"),  # both readings agree
        ("09171234567", "PH", "639171234567"),
        ("9171234567", "PH", "639171234567"),  # leading zero lost by a spreadsheet
        ("(0917) 123-4567", "PH", "639171234567"),
        ("0917.123.4567", "PH", "639171234567"),
        ("'09171234567", "PH", "639171234567"),  # Excel text marker
        ('="09171234567"', "PH", "639171234567"),  # Excel formula keeping the zero
        ("＋６３ ９１７ １２３ ４５６７", None, "639171234567"),  # full-width
        ("+44 (0) 20 7946 0958", None, "442079460958"),  # trunk 0 after the country code
        ("4155552671", "US", "14155552671"),
        ("011 49 170 1234567", "US", "491701234567"),  # US international prefix
        ("+1 415 555 2671", "PH", "14155552671"),
    ],
)
def test_accepted_forms(text: str, region: str | None, expected: str) -> None:
    assert accepted(Normalizer(region).normalize(text)) == expected


def test_the_ambiguity_trap_is_never_resolved_silently() -> None:
    # 9592162120: Myanmar's +95 9 216 2120, or under PH the mobile 0959 216 2120.
    assert accepted(NONE.normalize("9592162120")) == "9592162120"
    reason = PH.normalize("9592162120")
    assert reason == (
        "ambiguous: +95 9 216 2120 (MM) or +63 959 216 2120 (PH); "
        "write it with + or 00 and the country code"
    )
    # Written unambiguously, each reading goes through.
    assert accepted(PH.normalize("+95 9 216 2120")) == "9592162120"
    assert accepted(PH.normalize("0959 216 2120")) == "639592162120"
    assert accepted(PH.normalize("0095 9 216 2120")) == "9592162120"
    assert Normalizer("PH").readings("9592162120") == ["639592162120", "9592162120"]


@pytest.mark.parametrize(
    ("text", "region", "reason_part"),
    [
        ("", None, "empty"),
        ("hello", "PH", "contains letters"),
        ("+63 917 123 4567 ext 2", "PH", "contains letters"),
        ("6.39171E+11", "PH", "scientific notation"),
        ("639171234567.0", "PH", "decimal"),
        ("0917*123", "PH", "unexpected character '*'"),
        ("63+917", "PH", "'+' may only come first"),
        ("09171234567", None, "no default region is set"),
        ("9171234567", None, "set a default region"),
        ("12", "PH", "too short"),
        ("+999 123456", None, "does not start with a known country code"),
        ("+0917 123 4567", None, "does not start with a known country code"),
        ("+44 7700 900123", None, "not in any number range of +44 (GB)"),
        ("+63 91", None, "too short for +63 (PH)"),
        ("+63 917 123 4567 8901234567", None, "too long to be a phone number"),
    ],
)
def test_rejections_say_why(text: str, region: str | None, reason_part: str) -> None:
    reason = Normalizer(region).normalize(text)
    assert isinstance(reason, str)
    assert reason_part in reason


def test_number_type_distinguishes_mobiles() -> None:
    assert PH.normalize("02 8123 4567")[2] == PhoneNumberType.FIXED_LINE  # type: ignore[index]
    assert PH.normalize("0917 123 4567")[2] == PhoneNumberType.MOBILE  # type: ignore[index]


def test_clean_splits_prefix_from_digits() -> None:
    assert clean(" +63 (917) 123-4567 ") == ("+", "639171234567")
    assert clean("0041 78") == ("+", "4178")
    assert clean("0917") == ("", "0917")
    assert isinstance(clean("   "), str)


# ---------------------------------------------------------------- fast path == library


def _library(text: str, region: str | None) -> tuple[int, str, int] | str:
    """The rule written with nothing but public phonenumbers calls."""
    return Normalizer(region, fast=False).normalize(text)


def _variants(region: str, rng: random.Random) -> list[str]:
    """Numbers near every kind of valid number of a region, in every shape the rule reads."""
    cc = str(phonenumbers.country_code_for_region(region))
    out: list[str] = []
    for kind in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE, PhoneNumberType.TOLL_FREE,
                 PhoneNumberType.VOIP, PhoneNumberType.UAN, PhoneNumberType.PREMIUM_RATE):
        example = phonenumbers.example_number_for_type(region, kind)
        if example is None:
            continue
        nsn = phonenumbers.national_significant_number(example)
        keep = rng.randint(max(len(nsn) - 6, 0), len(nsn))
        nsn = nsn[:keep] + "".join(rng.choice("0123456789") for _ in range(len(nsn) - keep))
        if rng.random() < 0.2:
            nsn = nsn[:-1] if rng.random() < 0.5 else nsn + rng.choice("0123456789")
        national = phonenumbers.format_number(
            phonenumbers.parse("+" + cc + nsn), PhoneNumberFormat.NATIONAL
        )
        out += [nsn, national, cc + nsn, "+" + cc + nsn, "00" + cc + nsn, "0" + nsn, cc + "0" + nsn]
    out += ["".join(rng.choice("0123456789") for _ in range(rng.randint(1, 18))) for _ in range(4)]
    return out


def test_fast_path_matches_the_library_in_every_region() -> None:
    rng = random.Random(7)
    compared = 0
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        fast_home, fast_none = Normalizer(region), NONE
        for text in _variants(region, rng):
            assert fast_home.normalize(text) == _library(text, region), (text, region)
            assert fast_none.normalize(text) == _library(text, None), (text, None)
            compared += 2
    assert compared > 15_000


REGIONS = sorted(phonenumbers.SUPPORTED_REGIONS)


@settings(max_examples=300, deadline=None)
@given(
    digits=st.text("0123456789", min_size=1, max_size=19),
    prefix=st.sampled_from(["", "+", "00", "0"]),
    region=st.sampled_from([None, *REGIONS]),
)
def test_fast_path_matches_the_library_on_any_digits(
    digits: str, prefix: str, region: str | None
) -> None:
    text = prefix + digits
    assert Normalizer(region).normalize(text) == _library(text, region)


def test_library_reading_never_raises() -> None:
    assert not library_reading("+", None).valid
    assert not library_reading("x" * 300, "PH").valid


def test_precompiled_prefix_step_matches_the_library_in_every_region() -> None:
    rng = random.Random(11)
    compared = 0
    for region in REGIONS:
        md = PhoneMetadata.metadata_for_region(region)
        assert md is not None
        prefixes = Prefixes(md)
        heads = ["", "0", "1", "8", "9", "00", "01", "05", "15", "55", "80", "549", "1340"]
        for _ in range(60):
            nsn = rng.choice(heads) + "".join(rng.choice("0123456789") for _ in range(rng.randint(0, 14)))
            assert prefixes.raw_strip(nsn) == _maybe_strip_national_prefix_carrier_code(nsn, md)[1], (nsn, region)
            assert prefixes.verdict(len(nsn)) == _test_number_length(nsn, md), (nsn, region)
            compared += 1
    assert compared > 10_000


@settings(max_examples=500, deadline=None)
@given(st.text("0123456789 +-().,/eE'=\"\t", min_size=1, max_size=18))
def test_quick_cleaning_matches_every_step_spelled_out(text: str) -> None:
    if text.strip():
        assert clean(text) == full_clean(text.strip())
