"""One cell of text -> one CAMS number (digits, country code first, no ``+``) or a reason.

The rule (also in the package docstring, which operators' docs quote):

1. The cell is trimmed; an Excel text marker (a leading ``'``, or ``="…"``) is removed;
   full-width and Arabic-Indic digits count as digits; spaces, ``-``, ``.``, ``/`` and
   parentheses inside the number are ignored. Anything else (letters, extensions, ``*``, ``#``,
   Excel's scientific notation ``6.39E+11`` or a trailing ``.0``) is rejected: those digits
   cannot be trusted.
2. ``+CC…`` and ``00CC…`` are international, whatever the default region.
3. Digits alone (the CAMS format ``639171234567``, or a national number) are read two ways:
   *international* (as if written with ``+``) and, when a default region is set, *national*
   in that region (trunk prefix ``0`` or not, and the region's own international prefix such
   as ``011`` for US).

   - only one reading is a valid number → that one;
   - both are valid and give the same number → that number;
   - both are valid and differ → rejected as **ambiguous**, naming both readings
     (``9592162120`` under PH: +95 9 216 2120 in MM, or +63 959 216 2120 in PH);
   - neither → rejected, with the reason of each reading.

   Without a default region, digits that are not a valid international number are rejected;
   a leading ``0`` is reported as "a national number, but no default region is set".

Validity is phonenumbers' ``is_valid_number`` on ``phonenumbers.parse``; the result is
``format_number(…, E164)`` without the ``+``. :class:`Normalizer` gives exactly those
results, and the same reasons, faster: for digit strings of ordinary length it runs the
steps of ``parse``, ``region_code_for_number``, ``number_type`` and
``is_possible_number_with_reason`` over the library's own metadata, with precompiled
patterns (one combined pattern per region and number length for the number type) and the
library's own helpers where a step depends on more than a table (national prefixes). Any
other shape (an international prefix other than ``00``, odd lengths) goes to the plain
library calls, as does the wording of an ambiguous line. ``Normalizer(region, fast=False)``
uses nothing but the public calls; the tests compare both, results and reasons, over every
region.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import phonenumbers
from phonenumbers import (
    COUNTRY_CODE_TO_REGION_CODE,
    NumberParseException,
    PhoneMetadata,
    PhoneNumberFormat,
    PhoneNumberType,
    ValidationResult,
)

from cams_tui.errors import UserError

# (e164 as an int, region code, phonenumbers.PhoneNumberType): a number that will be sent.
# A plain tuple because a million of them are made on a big import.
Accepted = tuple[int, str, int]

MOBILE_TYPES: Final = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})

TYPE_NAMES: Final = {
    PhoneNumberType.FIXED_LINE: "fixed line",
    PhoneNumberType.MOBILE: "mobile",
    PhoneNumberType.FIXED_LINE_OR_MOBILE: "fixed line or mobile",
    PhoneNumberType.TOLL_FREE: "toll free",
    PhoneNumberType.PREMIUM_RATE: "premium rate",
    PhoneNumberType.SHARED_COST: "shared cost",
    PhoneNumberType.VOIP: "VoIP",
    PhoneNumberType.PERSONAL_NUMBER: "personal number",
    PhoneNumberType.PAGER: "pager",
    PhoneNumberType.UAN: "company number (UAN)",
    PhoneNumberType.VOICEMAIL: "voicemail",
    PhoneNumberType.UNKNOWN: "unknown",
}

_SEPARATORS = re.compile(r"[\s\-./()\u2010-\u2015\u2212\u30fc\uff0d]+")
_SCIENTIFIC = re.compile(r"[0-9](?:[.,][0-9]+)?[eE]\+?[0-9]+")
_DECIMAL_ZERO = re.compile(r"\+?[0-9]{5,}[.,]0+")
_LETTER = re.compile(r"[^\W\d_]")
# Full-width digits and plus (typed on CJK keyboards), Arabic-Indic and Eastern Arabic-Indic digits.
_DIGIT_FOLD = str.maketrans(
    {
        **{0xFF10 + i: str(i) for i in range(10)},
        **{0x0660 + i: str(i) for i in range(10)},
        **{0x06F0 + i: str(i) for i in range(10)},
        0xFF0B: "+",
    }
)


def clean(text: str) -> tuple[str, str] | str:
    """Split a cell into ``(prefix, digits)`` with prefix ``"+"`` or ``""``, or return a reason.

    ``00`` is folded into ``+`` here: both mean "international" in the rule.
    """
    s = text.strip()
    if not s:
        return "empty"
    if s.isascii():
        if s.isdigit():
            return ("+", s[2:]) if s.startswith("00") else ("", s)
        if s[0] == "+" and s[1:].isdigit():
            return "+", s[1:]
    else:
        s = s.translate(_DIGIT_FOLD)
    if s[0] == "'":  # Excel's "treat as text" marker
        s = s[1:].strip()
    elif s.startswith('="') and s.endswith('"') and len(s) >= 3:  # Excel formula keeping zeros
        s = s[2:-1].strip()
    if "." in s or "," in s or "e" in s or "E" in s:
        if _SCIENTIFIC.fullmatch(s):
            return (
                f"Excel turned this number into scientific notation ({s}) and lost digits; "
                "format the column as text and export again"
            )
        if _DECIMAL_ZERO.fullmatch(s):
            return (
                f"looks like a number saved as a decimal ({s}); "
                "format the column as text and export again"
            )
    compact = _SEPARATORS.sub("", s)
    if compact.isascii():
        if compact.isdigit():
            return ("+", compact[2:]) if compact.startswith("00") else ("", compact)
        if compact[:1] == "+" and compact[1:].isdigit():
            return "+", compact[1:]
    if not compact or compact == "+":
        return "not a phone number: no digits"
    if _LETTER.search(compact):
        return "not a phone number: it contains letters (extensions and words cannot be sent)"
    odd = next(
        c
        for i, c in enumerate(compact)
        if not (c.isascii() and c.isdigit()) and not (c == "+" and i == 0)
    )
    if odd == "+":
        return "not a phone number: '+' may only come first"
    return f"not a phone number: unexpected character {odd!r}"


# ------------------------------------------------------------------ plain library calls


@dataclass(frozen=True, slots=True)
class Reading:
    """What phonenumbers makes of one reading of a cell: a valid number or why not."""

    number: phonenumbers.PhoneNumber | None
    valid: bool
    error: str | None = None

    @property
    def e164(self) -> str:
        """Digits, country code first (only meaningful when valid)."""
        assert self.number is not None
        return phonenumbers.format_number(self.number, PhoneNumberFormat.E164)[1:]


def library_reading(text: str, region: str | None) -> Reading:
    """``parse`` + ``is_valid_number``: the definition every fast answer must match."""
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException as exc:
        return Reading(None, False, _parse_error(exc))
    except Exception:  # noqa: BLE001 - a library bug on odd input must reject one line, not the import
        return Reading(None, False, "could not be read as a phone number")
    return Reading(number, phonenumbers.is_valid_number(number))


def _parse_error(exc: NumberParseException) -> str:
    # The rule only hands digits to parse(), so "not a number" means too few of them.
    if exc.error_type == NumberParseException.INVALID_COUNTRY_CODE:
        return _NO_COUNTRY_CODE
    if exc.error_type == NumberParseException.TOO_LONG:
        return _TOO_LONG
    return _TOO_SHORT


def _why_invalid(reading: Reading) -> str:
    """Why a parsed number is not valid, in words an operator can act on."""
    if reading.error is not None:
        return reading.error
    number = reading.number
    assert number is not None
    cc = number.country_code
    assert cc is not None  # a parsed number always has one
    return _length_words(
        phonenumbers.is_possible_number_with_reason(number),
        _where(cc, phonenumbers.region_code_for_country_code(cc)),
        len(phonenumbers.national_significant_number(number)),
    )


def _where(cc: int, region: str) -> str:
    return f"+{cc} ({region})" if region not in ("ZZ", "001") else f"+{cc}"


def _length_words(possible: int, where: str, length: int) -> str:
    digits = f"{length} digits without the country code"
    if possible == ValidationResult.TOO_SHORT:
        return f"too short for {where}: {digits}"
    if possible == ValidationResult.TOO_LONG:
        return f"too long for {where}: {digits}"
    if possible == ValidationResult.INVALID_LENGTH:
        return f"wrong length for {where}: {digits}"
    return f"not in any number range of {where}"


_NO_COUNTRY_CODE = "it does not start with a known country code"
_TOO_SHORT = "too short to be a phone number"
_TOO_LONG = "too long to be a phone number"


def pretty(number: phonenumbers.PhoneNumber) -> str:
    """``+95 9 216 2120 (MM)``: how a reading is shown to an operator."""
    region = phonenumbers.region_code_for_number(number) or "?"
    text = phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
    return f"{text} ({region})"


# ------------------------------------------------------------------ the fast path
#
# Each step below mirrors a step of phonenumbers.parse / is_valid_number / number_type for
# input that is already ASCII digits. Where the library does something that depends on more
# than a precomputed table (stripping a national prefix, the length test after it) the
# library's own helper is called, so the behaviour is the library's by construction.

try:
    from phonenumbers.phonenumberutil import (
        _maybe_strip_national_prefix_carrier_code as _strip_national_prefix,
    )
    from phonenumbers.phonenumberutil import _test_number_length

    _FAST_PATH_AVAILABLE = True
except ImportError:  # a future phonenumbers without these helpers: the plain calls still work
    _FAST_PATH_AVAILABLE = False

_MAX_NSN = 17  # phonenumbers' _MAX_LENGTH_FOR_NSN
_KEPT_AFTER_STRIP_REJECTED = (
    ValidationResult.TOO_SHORT,
    ValidationResult.IS_POSSIBLE_LOCAL_ONLY,
    ValidationResult.INVALID_LENGTH,
)
# The order of phonenumbers' _number_type_helper.
_TYPE_ORDER = (
    ("premium_rate", PhoneNumberType.PREMIUM_RATE),
    ("toll_free", PhoneNumberType.TOLL_FREE),
    ("shared_cost", PhoneNumberType.SHARED_COST),
    ("voip", PhoneNumberType.VOIP),
    ("personal_number", PhoneNumberType.PERSONAL_NUMBER),
    ("pager", PhoneNumberType.PAGER),
    ("uan", PhoneNumberType.UAN),
    ("voicemail", PhoneNumberType.VOICEMAIL),
    ("fixed_line", PhoneNumberType.FIXED_LINE),
    ("mobile", PhoneNumberType.MOBILE),
)


def _desc_pattern(desc: object) -> str | None:
    pattern = getattr(desc, "national_number_pattern", None) if desc is not None else None
    return pattern or None


def _admits(desc: object, length: int) -> bool:
    lengths = desc.possible_length  # type: ignore[attr-defined]
    return not lengths or length in lengths


class _Typer:
    """``_number_type_helper`` for one metadata, as one pattern per number length."""

    __slots__ = ("_by_length", "_md", "_mobile", "_same")

    def __init__(self, md: PhoneMetadata) -> None:
        self._md = md
        self._same = bool(md.same_mobile_and_fixed_line_pattern)
        mobile = _desc_pattern(md.mobile)
        self._mobile = (md.mobile, re.compile(mobile)) if mobile else None
        self._by_length: dict[int, tuple[re.Pattern[str], dict[str, int]] | None] = {}

    def _table(self, length: int) -> tuple[re.Pattern[str], dict[str, int]] | None:
        # The general description must fullmatch (a lookahead anchored at the end), then
        # the first type, in the library's order, whose pattern fullmatches: Python's
        # alternation tries the branches in order and fullmatch backtracks into the next
        # one, so the named group that matched is that type. Descriptions whose possible
        # lengths exclude this length are left out, as _is_number_matching_desc skips them.
        md = self._md
        general = _desc_pattern(md.general_desc)
        table = None
        if general is not None and _admits(md.general_desc, length):
            parts: list[str] = []
            names: dict[str, int] = {}
            for attr, kind in _TYPE_ORDER:
                if kind == PhoneNumberType.MOBILE and self._same:
                    continue
                desc = getattr(md, attr)
                pattern = _desc_pattern(desc)
                if pattern is None or not _admits(desc, length):
                    continue
                name = f"t{len(parts)}"
                parts.append(f"(?P<{name}>{pattern})")
                names[name] = kind
            if parts:
                table = (re.compile(f"(?=(?:{general})\\Z)(?:{'|'.join(parts)})"), names)
        self._by_length[length] = table
        return table

    def type_of(self, nsn: str) -> int:
        """The PhoneNumberType of a national significant number in this metadata."""
        length = len(nsn)
        table = self._by_length[length] if length in self._by_length else self._table(length)
        if table is None:
            return PhoneNumberType.UNKNOWN
        match = table[0].fullmatch(nsn)
        if match is None:
            return PhoneNumberType.UNKNOWN
        kind = table[1][match.lastgroup]  # type: ignore[index]
        if kind == PhoneNumberType.FIXED_LINE:
            if self._same:
                return PhoneNumberType.FIXED_LINE_OR_MOBILE
            mobile = self._mobile
            if mobile is not None and _admits(mobile[0], length) and mobile[1].fullmatch(nsn):
                return PhoneNumberType.FIXED_LINE_OR_MOBILE
        return kind


class _Calling:
    """Everything the fast path needs about one country calling code."""

    __slots__ = ("cc", "cc_str", "main_md", "npp", "regions", "where")

    def __init__(self, cc: int, region_codes: tuple[str, ...]) -> None:
        self.cc = cc
        self.cc_str = str(cc)
        self.main_md = PhoneMetadata.metadata_for_region_or_calling_code(cc, region_codes[0])
        self.npp = _national_prefix_pattern(self.main_md)
        self.where = _where(cc, region_codes[0])
        # (region, typer, leading-digits pattern or None), in the library's order.
        self.regions: list[tuple[str, _Typer | None, re.Pattern[str] | None]] = []
        for region in region_codes:
            md = PhoneMetadata.metadata_for_region_or_calling_code(cc, region)
            if md is None:
                self.regions.append((region, None, None))
                continue
            lead = re.compile(md.leading_digits) if md.leading_digits is not None else None
            self.regions.append((region, _Typer(md), lead))

    def why(self, nsn: str) -> str:
        """_why_invalid for a number of this calling code that classify() refused."""
        # Only asked of a calling code with metadata (see _fast_international, _fast_national).
        assert self.main_md is not None
        possible = _test_number_length(nsn, self.main_md)
        return _length_words(possible, self.where, len(nsn))

    def classify(self, nsn: str) -> Accepted | None:
        """region_code_for_number + is_valid_number + number_type; None when not valid."""
        if len(self.regions) == 1:
            region, typer, _ = self.regions[0]
            kind = typer.type_of(nsn) if typer is not None else PhoneNumberType.UNKNOWN
        else:
            for region, typer, lead in self.regions:  # noqa: B007 - the region found is returned below
                if typer is None:
                    continue
                if lead is not None:
                    if lead.match(nsn):
                        kind = typer.type_of(nsn)
                        break
                else:
                    kind = typer.type_of(nsn)
                    if kind != PhoneNumberType.UNKNOWN:
                        break
            else:
                return None
        if kind == PhoneNumberType.UNKNOWN:
            return None
        return int(self.cc_str + nsn), region, kind


def _national_prefix_pattern(md: PhoneMetadata | None) -> re.Pattern[str] | None:
    if md is None or not md.national_prefix_for_parsing:
        return None
    return re.compile(md.national_prefix_for_parsing)


def _raw_strip(nsn: str, md: PhoneMetadata, npp: re.Pattern[str] | None) -> str:
    """The library's national-prefix stripping, skipped when its pattern cannot match."""
    if npp is None or npp.match(nsn) is None:
        return nsn  # the library's helper returns the number unchanged in this case
    _, stripped, _ = _strip_national_prefix(nsn, md)
    return stripped


def _strip(nsn: str, md: PhoneMetadata, npp: re.Pattern[str] | None) -> str:
    """parse()'s national-prefix step: strip it only if what remains has a possible length."""
    stripped = _raw_strip(nsn, md, npp)
    if stripped is nsn or _test_number_length(stripped, md) in _KEPT_AFTER_STRIP_REJECTED:
        return nsn
    return stripped


class _Home:
    """The default region: what parse() uses when a number has no ``+``."""

    __slots__ = ("calling", "cc", "cc_str", "general", "idd", "md", "npp", "region")

    def __init__(self, region: str) -> None:
        md = PhoneMetadata.metadata_for_region(region)
        assert md is not None and md.country_code is not None
        self.region = region
        self.md = md
        self.cc = md.country_code
        self.cc_str = str(md.country_code)
        self.idd = re.compile(md.international_prefix) if md.international_prefix else None
        self.npp = _national_prefix_pattern(md)
        general = _desc_pattern(md.general_desc)
        self.general = re.compile(general) if general else None
        self.calling = _calling_code(md.country_code)

    def general_match(self, number: str) -> bool:
        return self.general is not None and self.general.fullmatch(number) is not None


_CALLING: dict[int, _Calling] = {}
_BY_HEAD: dict[str, _Calling | None] = {}


def _calling_code(cc: int) -> _Calling:
    found = _CALLING.get(cc)
    if found is None:
        found = _CALLING[cc] = _Calling(cc, COUNTRY_CODE_TO_REGION_CODE[cc])
    return found


def _calling(head: str) -> _Calling | None:
    """The calling code that digits starting with ``head`` (3 digits) begin with.

    _extract_country_code takes the shortest of the 1-, 2- and 3-digit prefixes that is a
    calling code, so the first three digits decide it: one lookup per number.
    """
    if head in _BY_HEAD:
        return _BY_HEAD[head]
    found = None
    for size in (1, 2, 3):
        cc = int(head[:size])
        if cc in COUNTRY_CODE_TO_REGION_CODE:
            found = _calling_code(cc)
            break
    _BY_HEAD[head] = found
    return found


# ------------------------------------------------------------------ the normalizer


# A reading is an Accepted triple, or a str saying why it is not a valid number. The fast
# readings may also answer None: a shape they leave to the library.
_Reading = Accepted | str
_Fast = Accepted | str | None


class UnknownRegion(UserError):
    """A default region libphonenumber has no numbering plan for (``XX``, ``P``, ``1``)."""


def known_region(text: str) -> str:
    """``text`` as a region code libphonenumber knows (any case: ``ph`` is ``PH``); raises
    :class:`UnknownRegion`, naming where a default region can be set."""
    value = text.strip().upper()
    if value not in phonenumbers.SUPPORTED_REGIONS:
        raise UnknownRegion(
            f"default region {text!r} is not a region code with a numbering plan: give one such as PH, SG or MY "
            "(in the campaign's or the profile's default_region, or --default-region)"
        )
    return value


class Normalizer:
    """Applies the rule of this module for one default region (or none).

    ``normalize(text)`` returns an :data:`Accepted` triple or a reason string. It keeps no
    per-number state, so memory does not grow with the list. ``fast=False`` answers with
    nothing but the library's public calls (the tests compare the two on every region).
    """

    def __init__(self, default_region: str | None, *, fast: bool = True) -> None:
        """Raises :class:`UnknownRegion` for a default region libphonenumber does not know."""
        default_region = known_region(default_region) if default_region else None
        self.default_region = default_region
        self._home = _Home(default_region) if default_region else None
        fast = fast and _FAST_PATH_AVAILABLE
        self._intl: Callable[[str], _Fast] = self._fast_international if fast else _unsure
        self._national: Callable[[str], _Fast] = self._fast_national if fast else _unsure

    # -- public

    def normalize(self, text: str) -> Accepted | str:
        """The number in ``text`` per the module's rule, or why it cannot be sent."""
        cleaned = clean(text)
        if isinstance(cleaned, str):
            return cleaned
        prefix, digits = cleaned
        as_intl = self._intl(digits)
        if as_intl is None:
            as_intl = _library(library_reading("+" + digits, None))
        if as_intl.__class__ is tuple or prefix == "+":
            if prefix == "" and self._home is not None:
                return self._bare_with_region(digits, as_intl)
            return as_intl
        if self._home is None:
            if digits.startswith("0"):
                return (
                    "a national number (it starts with 0) but no default region is set; "
                    "set a default region or write it with + and the country code"
                )
            return f"not valid as +{digits} ({as_intl}); if it is a national number, set a default region"
        return self._bare_with_region(digits, as_intl)

    def readings(self, text: str) -> list[str]:
        """Every valid reading of ``text`` (two for an ambiguous cell): for opt-out lists."""
        cleaned = clean(text)
        if isinstance(cleaned, str):
            return []
        prefix, digits = cleaned
        found = [library_reading("+" + digits, None)]
        if prefix == "" and self.default_region:
            found.append(library_reading(digits, self.default_region))
        return sorted({r.e164 for r in found if r.valid})

    def _bare_with_region(self, digits: str, as_intl: _Reading) -> Accepted | str:
        as_national = self._national(digits)
        if as_national is None:
            as_national = _library(library_reading(digits, self.default_region))
        intl_ok, national_ok = as_intl.__class__ is tuple, as_national.__class__ is tuple
        if intl_ok and national_ok:
            if as_intl[0] == as_national[0]:
                return as_intl
            return self._ambiguous(digits)
        if intl_ok:
            return as_intl
        if national_ok:
            return as_national
        if digits.startswith("0"):
            return as_national  # a national number for sure: its own reason is the one
        return (
            f"not valid as a national number of {self.default_region} ({as_national}) "
            f"nor as +{digits} ({as_intl})"
        )

    def _ambiguous(self, digits: str) -> str:
        intl = library_reading("+" + digits, None)
        national = library_reading(digits, self.default_region)
        assert intl.number is not None and national.number is not None
        return (
            f"ambiguous: {pretty(intl.number)} or {pretty(national.number)}; "
            "write it with + or 00 and the country code"
        )

    # -- fast readings

    def _fast_international(self, digits: str) -> _Fast:
        if not 4 <= len(digits) <= 20:
            return None
        if digits[0] == "0":
            return _NO_COUNTRY_CODE
        calling = _calling(digits[:3])
        if calling is None or calling.main_md is None:
            return _NO_COUNTRY_CODE
        nsn = digits[len(calling.cc_str) :]
        if len(nsn) < 2:
            return _TOO_SHORT
        nsn = _strip(nsn, calling.main_md, calling.npp)
        if len(nsn) > _MAX_NSN:
            return _TOO_LONG
        return calling.classify(nsn) or calling.why(nsn)

    def _fast_national(self, digits: str) -> _Fast:
        home = self._home
        assert home is not None
        if not 3 <= len(digits) <= _MAX_NSN or (home.idd is not None and home.idd.match(digits)):
            return None  # too odd, or an international prefix such as US 011: the library's
        nsn, md, npp = digits, home.md, home.npp
        if digits.startswith(home.cc_str):
            # parse() reads "63917…" under PH as +63 917… when the whole string is not a
            # national number but the rest is, or when the whole is too long.
            rest = _raw_strip(digits[len(home.cc_str) :], home.md, home.npp)
            if (not home.general_match(digits) and home.general_match(rest)) or (
                _test_number_length(digits, home.md) == ValidationResult.TOO_LONG
            ):
                nsn = rest
                calling = home.calling
                if calling.regions[0][0] != home.region:
                    assert calling.main_md is not None  # a region's own calling code has metadata
                    md, npp = calling.main_md, calling.npp
        if len(nsn) < 2:
            return _TOO_SHORT
        nsn = _strip(nsn, md, npp)
        if len(nsn) > _MAX_NSN:
            return _TOO_LONG
        return home.calling.classify(nsn) or home.calling.why(nsn)


def _library(reading: Reading) -> _Reading:
    return _accepted(reading) if reading.valid else _why_invalid(reading)


def _unsure(_digits: str) -> None:
    return None


def _accepted(reading: Reading) -> Accepted:
    number = reading.number
    assert number is not None
    return (
        int(reading.e164),
        phonenumbers.region_code_for_number(number) or "ZZ",
        phonenumbers.number_type(number),
    )


def is_region(code: str) -> bool:
    """Whether ``code`` is a region phonenumbers knows (``PH``, ``US``…; not ``001``)."""
    return code in phonenumbers.SUPPORTED_REGIONS
