"""A recipient's country and time zones, from the number alone.

Both come from the kept libraries' own data: the region from phonenumbers' metadata and the
zones from its time-zone mapping (``phonenumbers.timezone``, the same data libphonenumber's
``PhoneNumberToTimeZonesMapper`` uses), read with :mod:`zoneinfo` (the ``tzdata`` package
where the system has no zone files). There is no table of offsets here: an offset changes
with daylight saving time, and with the law.

A number whose prefix names one zone gets that zone (a New York number: America/New_York);
a number the mapping places only at the country level gets every zone of its country (a
Russian mobile: sixteen zones), and a delivery window must then hold in all of them, unless
the operator names one zone for the country (``[schedule.zones] RU = "Europe/Moscow"``).

Countries whose numbers all map to one zone (most of them) are answered without parsing
the number: a million Manila numbers cost a dictionary lookup each. In the others, a
number's zones are its longest prefix's in the mapping (at most ``TIMEZONE_LONGEST_PREFIX``,
9 digits) unless its type is not geographical (then its country's): the library answers,
about 50 µs a number, and the answer is kept for the most recent 65,536 prefixes of 9
digits and number lengths (numbering plans tell a number's type by far fewer leading digits
than that), so that lists clustered by exchange parse one number of each.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache

UNKNOWN_ZONE = "Etc/Unknown"
"""What the mapping answers for a number it cannot place."""


def known_zone(name: str) -> bool:
    """Whether ``name`` is an IANA time zone this machine (or tzdata) knows."""
    # For start-up time: phonenumbers' zone tables load only when a window needs them.
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


@cache
def _country_code(digits_head: str) -> int | None:
    # For start-up time: phonenumbers' zone tables load only when a window needs them.
    from phonenumbers.phonenumberutil import COUNTRY_CODE_TO_REGION_CODE

    for length in (1, 2, 3):
        code = int(digits_head[:length])
        if code in COUNTRY_CODE_TO_REGION_CODE:
            return code
    return None


@cache
def _single_region(code: int) -> str | None:
    # For start-up time: phonenumbers' zone tables load only when a window needs them.
    from phonenumbers.phonenumberutil import COUNTRY_CODE_TO_REGION_CODE

    regions = COUNTRY_CODE_TO_REGION_CODE.get(code, ())
    return regions[0] if len(regions) == 1 else None


@cache
def _single_zone(code: int) -> str | None:
    """The one zone of every number of calling code ``code``, or ``None`` when its numbers
    map to more than one (then each number is looked up)."""
    # For start-up time: phonenumbers' zone tables load only when a window needs them.
    from phonenumbers.tzdata import TIMEZONE_DATA

    prefix = str(code)
    zones = {zone for key, value in TIMEZONE_DATA.items() if key.startswith(prefix) for zone in value}
    return next(iter(zones)) if len(zones) == 1 else None


_PREFIX_DIGITS = 9
"""phonenumbers' ``TIMEZONE_LONGEST_PREFIX``: no entry of the mapping is longer."""
_PREFIXES_KEPT = 65_536


class ZoneFinder:
    """The region and the time zones of numbers given as E.164 digits (``639171234567``).

    ``overrides`` maps a region (``US``) to the one zone its numbers are taken to be in."""

    def __init__(self, overrides: Mapping[str, str] | None = None) -> None:
        self.overrides = {region.upper(): zone for region, zone in (overrides or {}).items()}
        self._by_prefix: dict[tuple[str, int], tuple[tuple[str, ...], str | None]] = {}

    def region(self, number: int) -> str | None:
        """The number's region (``PH``), or ``None`` for a number no region claims."""
        digits = str(number)
        code = _country_code(digits[:3])
        if code is None:
            return None
        single = _single_region(code)
        if single is not None:
            return single
        # For start-up time: phonenumbers' zone tables load only when a window needs them.
        import phonenumbers

        try:
            return phonenumbers.region_code_for_number(phonenumbers.parse("+" + digits))
        except phonenumbers.NumberParseException:
            return None

    def zones(self, number: int) -> tuple[tuple[str, ...], str | None]:
        """The number's time zones (``("Asia/Manila",)``) and its region; the zones are
        ``()`` when the mapping cannot place the number."""
        digits = str(number)
        key = (digits[:_PREFIX_DIGITS], len(digits))
        found = self._by_prefix.get(key)
        if found is None:
            found = self._look_up(number)
            if len(self._by_prefix) >= _PREFIXES_KEPT:
                self._by_prefix.clear()  # bounded: a million distinct prefixes must not stay
            self._by_prefix[key] = found
        return found

    def _look_up(self, number: int) -> tuple[tuple[str, ...], str | None]:
        region = self.region(number)
        if region is not None and region in self.overrides:
            return (self.overrides[region],), region
        digits = str(number)
        code = _country_code(digits[:3])
        if code is None:
            return (), region
        single = _single_zone(code)
        if single is not None:
            return ((), region) if single == UNKNOWN_ZONE else ((single,), region)
        # For start-up time: phonenumbers' zone tables load only when a window needs them.
        import phonenumbers
        from phonenumbers import timezone

        try:
            found = timezone.time_zones_for_number(phonenumbers.parse("+" + digits))
        except phonenumbers.NumberParseException:
            return (), region
        zones = tuple(sorted(zone for zone in found if zone != UNKNOWN_ZONE))
        return zones, region
