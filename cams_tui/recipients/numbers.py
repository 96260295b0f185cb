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
patterns (one combined pattern per region and number length for the number type, and the
national-prefix step of the library's helper with its patterns compiled once). Any
other shape (an international prefix other than ``00``, odd lengths) goes to the plain
library calls, as does the wording of an ambiguous line. ``Normalizer(region, fast=False)``
uses nothing but the public calls; the tests compare both, results and reasons, over every
region.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

import phonenumbers
from phonenumbers import PhoneNumberType, ValidationResult

from cams_tui.errors import UserError
from cams_tui.recipients.number_cleaning import clean
from cams_tui.recipients.number_fast_path import (
    FAST_PATH_AVAILABLE,
    MAX_NSN,
    Home,
    calling_for,
)
from cams_tui.recipients.number_library import (
    NO_COUNTRY_CODE,
    TOO_LONG,
    TOO_SHORT,
    Accepted,
    Reading,
    library_reading,
    library_result,
    pretty,
)

__all__ = [
    "MOBILE_TYPES",
    "TYPE_NAMES",
    "Accepted",
    "Normalizer",
    "Reading",
    "UnknownRegion",
    "clean",
    "is_region",
    "known_region",
    "library_reading",
    "pretty",
]

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
        self._home = Home(default_region) if default_region else None
        fast = fast and FAST_PATH_AVAILABLE
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
            as_intl = library_result(library_reading("+" + digits, None))
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
            as_national = library_result(library_reading(digits, self.default_region))
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
            return NO_COUNTRY_CODE
        calling = calling_for(digits[:3])
        if calling is None or calling.prefixes is None:
            return NO_COUNTRY_CODE
        nsn = digits[len(calling.cc_str) :]
        if len(nsn) < 2:
            return TOO_SHORT
        nsn = calling.prefixes.strip(nsn)
        if len(nsn) > MAX_NSN:
            return TOO_LONG
        return calling.classify(nsn) or calling.why(nsn)

    def _fast_national(self, digits: str) -> _Fast:
        home = self._home
        assert home is not None
        if not 3 <= len(digits) <= MAX_NSN or (home.idd is not None and home.idd.match(digits)):
            return None  # too odd, or an international prefix such as US 011: the library's
        nsn, prefixes = digits, home.prefixes
        if digits.startswith(home.cc_str):
            # parse() reads "63917…" under PH as +63 917… when the whole string is not a
            # national number but the rest is, or when the whole is too long.
            rest = prefixes.raw_strip(digits[len(home.cc_str) :])
            if (not home.general_match(digits) and home.general_match(rest)) or (
                prefixes.verdict(len(digits)) == ValidationResult.TOO_LONG
            ):
                nsn = rest
                calling = home.calling
                if calling.regions[0][0] != home.region:
                    assert calling.prefixes is not None  # a region's own calling code has metadata
                    prefixes = calling.prefixes
        if len(nsn) < 2:
            return TOO_SHORT
        nsn = prefixes.strip(nsn)
        if len(nsn) > MAX_NSN:
            return TOO_LONG
        return home.calling.classify(nsn) or home.calling.why(nsn)



def _unsure(_digits: str) -> None:
    return None



def is_region(code: str) -> bool:
    """Whether ``code`` is a region phonenumbers knows (``PH``, ``US``…; not ``001``)."""
    return code in phonenumbers.SUPPORTED_REGIONS
