"""The plain phonenumbers calls that define the numbers rule, and how their answers are worded."""

from __future__ import annotations

from dataclasses import dataclass

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, ValidationResult

# (e164 as an int, region code, phonenumbers.PhoneNumberType): a number that will be sent.
# A plain tuple because a million of them are made on a big import.
Accepted = tuple[int, str, int]


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
        return NO_COUNTRY_CODE
    if exc.error_type == NumberParseException.TOO_LONG:
        return TOO_LONG
    return TOO_SHORT


def why_invalid(reading: Reading) -> str:
    """Why a parsed number is not valid, in words an operator can act on."""
    if reading.error is not None:
        return reading.error
    number = reading.number
    assert number is not None
    cc = number.country_code
    assert cc is not None  # a parsed number always has one
    return length_words(
        phonenumbers.is_possible_number_with_reason(number),
        where_text(cc, phonenumbers.region_code_for_country_code(cc)),
        len(phonenumbers.national_significant_number(number)),
    )


def where_text(cc: int, region: str) -> str:
    """``+63 (PH)``: a calling code as a reason names it (no region for non-geographic ones)."""
    return f"+{cc} ({region})" if region not in ("ZZ", "001") else f"+{cc}"


def length_words(possible: int, where: str, length: int) -> str:
    """Why a number of ``length`` digits is not valid in ``where``, from the possible-length test."""
    digits = f"{length} digits without the country code"
    if possible == ValidationResult.TOO_SHORT:
        return f"too short for {where}: {digits}"
    if possible == ValidationResult.TOO_LONG:
        return f"too long for {where}: {digits}"
    if possible == ValidationResult.INVALID_LENGTH:
        return f"wrong length for {where}: {digits}"
    return f"not in any number range of {where}"


NO_COUNTRY_CODE = "it does not start with a known country code"
TOO_SHORT = "too short to be a phone number"
TOO_LONG = "too long to be a phone number"


def pretty(number: phonenumbers.PhoneNumber) -> str:
    """``+95 9 216 2120 (MM)``: how a reading is shown to an operator."""
    region = phonenumbers.region_code_for_number(number) or "?"
    text = phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
    return f"{text} ({region})"


def library_result(reading: Reading) -> Accepted | str:
    """A reading as the normalizer answers: the accepted number, or why it is not valid."""
    return _accepted(reading) if reading.valid else why_invalid(reading)


def _accepted(reading: Reading) -> Accepted:
    number = reading.number
    assert number is not None
    return (
        int(reading.e164),
        phonenumbers.region_code_for_number(number) or "ZZ",
        phonenumbers.number_type(number),
    )
