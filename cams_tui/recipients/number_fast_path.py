"""The numbers rule's fast path: phonenumbers' own steps over its metadata, precompiled.

Each step below mirrors a step of phonenumbers.parse / is_valid_number / number_type for
input that is already ASCII digits. The national-prefix step and the possible-length test
are the library's helpers with their patterns compiled once (:class:`Prefixes`; a prefix
with a transform rule still goes to the library's helper); the tests compare them with the
helpers in every region.
"""

from __future__ import annotations

import re

from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, PhoneMetadata, PhoneNumberType, ValidationResult

from cams_tui.recipients.number_library import Accepted, length_words, where_text

try:
    from phonenumbers.phonenumberutil import (
        _maybe_strip_national_prefix_carrier_code as _strip_national_prefix,
    )
    from phonenumbers.phonenumberutil import _test_number_length

    FAST_PATH_AVAILABLE = True
except ImportError:  # a future phonenumbers without these helpers: the plain calls still work
    FAST_PATH_AVAILABLE = False

MAX_NSN = 17  # phonenumbers' _MAX_LENGTH_FOR_NSN
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
        try:
            table = self._by_length[length]
        except KeyError:  # the first number of this length
            table = self._table(length)
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


class CallingCode:
    """Everything the fast path needs about one country calling code."""

    __slots__ = ("cc", "cc_str", "main_md", "prefixes", "regions", "single", "where")

    def __init__(self, cc: int, region_codes: tuple[str, ...]) -> None:
        self.cc = cc
        self.cc_str = str(cc)
        self.main_md = PhoneMetadata.metadata_for_region_or_calling_code(cc, region_codes[0])
        self.prefixes = Prefixes(self.main_md) if self.main_md is not None else None
        self.where = where_text(cc, region_codes[0])
        # (region, typer, leading-digits pattern or None), in the library's order.
        self.regions: list[tuple[str, _Typer | None, re.Pattern[str] | None]] = []
        for region in region_codes:
            md = PhoneMetadata.metadata_for_region_or_calling_code(cc, region)
            if md is None:
                self.regions.append((region, None, None))
                continue
            lead = re.compile(md.leading_digits) if md.leading_digits is not None else None
            self.regions.append((region, _Typer(md), lead))
        # The one region of a calling code that has just one (most of them), or None.
        self.single = self.regions[0] if len(self.regions) == 1 else None

    def why(self, nsn: str) -> str:
        """why_invalid for a number of this calling code that classify() refused."""
        # Only asked of a calling code with metadata (see _fast_international, _fast_national).
        assert self.prefixes is not None
        return length_words(self.prefixes.verdict(len(nsn)), self.where, len(nsn))

    def classify(self, nsn: str) -> Accepted | None:
        """region_code_for_number + is_valid_number + number_type; None when not valid."""
        single = self.single
        if single is not None:
            region, typer, _ = single
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


class Prefixes:
    """parse()'s national-prefix step and the possible-length test of one metadata, precompiled.

    The library recompiles (or looks up) its patterns on every call; here they are compiled
    once, and the length test, which depends on nothing but the length, is kept per length.
    A prefix with a transform rule (AR, BR, JP, the NANP islands…) is left to the library.
    """

    __slots__ = ("_general", "_transform", "_verdicts", "md", "npp")

    def __init__(self, md: PhoneMetadata) -> None:
        self.md = md
        self.npp = _national_prefix_pattern(md)
        general = _desc_pattern(md.general_desc)
        self._general = re.compile(general) if general else None
        self._transform = bool(md.national_prefix_transform_rule)
        self._verdicts: dict[int, int] = {}

    def verdict(self, length: int) -> int:
        """The library's possible-length test (a ValidationResult) of a number of ``length`` digits."""
        found = self._verdicts.get(length)
        if found is None:
            found = self._verdicts[length] = _test_number_length("0" * length, self.md)
        return found

    def raw_strip(self, nsn: str) -> str:
        """_maybe_strip_national_prefix_carrier_code's number, without the carrier code."""
        npp = self.npp
        if npp is None or not nsn:
            return nsn  # the library returns the number unchanged in both cases
        found = npp.match(nsn)
        if found is None:
            return nsn
        if self._transform and (found.re.groups == 0 or found.group(found.re.groups) is not None):
            _, stripped, _ = _strip_national_prefix(nsn, self.md)
            return stripped  # a prefix the transform rule rewrites: the library's own step
        rest = nsn[found.end() :]
        general = self._general
        # The library keeps the number when it fits the general pattern and the rest does not.
        if general is not None and general.fullmatch(nsn) is not None and general.fullmatch(rest) is None:
            return nsn
        return rest

    def strip(self, nsn: str) -> str:
        """parse()'s national-prefix step: strip it only if what remains has a possible length."""
        npp = self.npp
        if npp is None or npp.match(nsn) is None:
            return nsn  # no national prefix: most numbers (checked here to spare a call)
        stripped = self.raw_strip(nsn)
        if stripped is nsn or self.verdict(len(stripped)) in _KEPT_AFTER_STRIP_REJECTED:
            return nsn
        return stripped


class Home:
    """The default region: what parse() uses when a number has no ``+``."""

    __slots__ = ("calling", "cc", "cc_str", "general", "idd", "prefixes", "region")

    def __init__(self, region: str) -> None:
        md = PhoneMetadata.metadata_for_region(region)
        assert md is not None and md.country_code is not None
        self.region = region
        self.prefixes = Prefixes(md)
        self.cc = md.country_code
        self.cc_str = str(md.country_code)
        self.idd = re.compile(md.international_prefix) if md.international_prefix else None
        general = _desc_pattern(md.general_desc)
        self.general = re.compile(general) if general else None
        self.calling = _calling_code(md.country_code)

    def general_match(self, number: str) -> bool:
        """Whether ``number`` fits the region's general number pattern."""
        return self.general is not None and self.general.fullmatch(number) is not None


_CALLING: dict[int, CallingCode] = {}
_BY_HEAD: dict[str, CallingCode | None] = {}


def _calling_code(cc: int) -> CallingCode:
    found = _CALLING.get(cc)
    if found is None:
        found = _CALLING[cc] = CallingCode(cc, COUNTRY_CODE_TO_REGION_CODE[cc])
    return found


def calling_for(head: str) -> CallingCode | None:
    """The calling code that digits starting with ``head`` (3 digits) begin with.

    _extract_country_code takes the shortest of the 1-, 2- and 3-digit prefixes that is a
    calling code, so the first three digits decide it: one lookup per number.
    """
    try:
        return _BY_HEAD[head]
    except KeyError:  # the first number with these three digits
        pass
    found = None
    for size in (1, 2, 3):
        cc = int(head[:size])
        if cc in COUNTRY_CODE_TO_REGION_CODE:
            found = _calling_code(cc)
            break
    _BY_HEAD[head] = found
    return found
