"""Step 1 of the numbers rule: one cell's text cleaned to a prefix and digits, or rejected."""

from __future__ import annotations

import re

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
        # The usual separators of a written number, removed by hand (faster than the steps
        # of full_clean). What is left is digits only when the cell held nothing else: no
        # ".", "," or "e" of Excel's damage, no text marker (' or ="); else full_clean.
        quick = s.replace(" ", "").replace("-", "").replace("(", "").replace(")", "")
        if quick.isdigit():
            return ("+", quick[2:]) if quick.startswith("00") else ("", quick)
        if quick[:1] == "+" and quick[1:].isdigit():
            return "+", quick[1:]
    return full_clean(s)


def full_clean(s: str) -> tuple[str, str] | str:
    """:func:`clean` of a trimmed, non-empty cell, every step spelled out."""
    if not s.isascii():
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
            return f"looks like a number saved as a decimal ({s}); format the column as text and export again"
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
    odd = next(c for i, c in enumerate(compact) if not (c.isascii() and c.isdigit()) and not (c == "+" and i == 0))
    if odd == "+":
        return "not a phone number: '+' may only come first"
    return f"not a phone number: unexpected character {odd!r}"
