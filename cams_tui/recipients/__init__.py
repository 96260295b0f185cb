"""Recipient lists: pasted text or files -> CAMS numbers, deduplicated, with a full account.

CAMS wants each ``To`` as digits with the country code and no ``+`` (``639171234567``).
This package turns whatever an operator has into exactly that, and says what happened to
every entry: recipient, duplicate (the first occurrence wins), suppressed (opt-out list)
or rejected with a reason.

**Sources.** Pasted text with any separators (newlines, ``,`` ``;`` tabs ``|``; spaces
inside a number are fine), ``.txt``, ``.csv``/``.tsv`` with or without a header
(delimiter sniffed among ``,`` ``;`` tab ``|``; quoted fields), in UTF-8 with or without
BOM, UTF-16 with BOM (or recognisable without), and Windows-1252 for bytes that are not
UTF-8. Nothing in a file makes the import fail. See :mod:`.reading` for how the phone
column and the parameter columns are found, :mod:`.decoding` for encodings.

**The numbers rule** (details in :mod:`.numbers`):

- ``+CC…`` and ``00CC…`` are international.
- Bare digits are read both as international (the CAMS format ``639171234567``) and, when
  a default region is set, as a national number of that region (``09171234567``,
  ``9171234567`` under PH). One valid reading → that number; both valid and equal → that
  number; **both valid and different → rejected as ambiguous**, naming both readings:
  ``9592162120`` under PH is ``+95 9 216 2120 (MM)`` or ``+63 959 216 2120 (PH)``; the
  operator writes it with ``+`` or ``00``. Neither → rejected with both reasons.
- Validity is phonenumbers' ``is_valid_number``; the result is its E.164 without ``+``.
- Valid numbers that are not mobiles are flagged, or rejected when
  ``reject_non_mobile`` is set (Viber needs a mobile).

**Parameters.** With a header row, every column but the number is a per-recipient
template parameter named by its header; values are trimmed and a control character
rejects the entry. :func:`check_params` matches them with a template's variables.

Usage::

    opts = IntakeOptions(default_region="PH", suppressed=load_suppression([path]))
    report = read_recipients("list.csv", opts, progress=lambda done, total: ...)
    report.summary()  # {"recipients": …, "rejected": …, "duplicates": …, "suppressed": …}
    params = check_params(report, template_variables, global_params)
    if not params.ok:
        for problem in params.problems(): ...
    for batch in report.recipients.batches(1000):
        sender_list = [(row.to, resolve_params(row, template_variables, global_params))
                       for row in batch]
"""

from cams_tui.recipients.intake import (
    Duplicate,
    IntakeOptions,
    IntakeReport,
    NonMobile,
    Progress,
    RecipientRow,
    RecipientStore,
    Rejected,
    Suppressed,
    read_recipients,
    read_recipients_text,
)
from cams_tui.recipients.params import MissingParam, ParamsReport, check_params, resolve_params
from cams_tui.recipients.suppression import SUPPRESSION_FILE, load_suppression

__all__ = [
    "SUPPRESSION_FILE",
    "Duplicate",
    "IntakeOptions",
    "IntakeReport",
    "MissingParam",
    "NonMobile",
    "ParamsReport",
    "Progress",
    "RecipientRow",
    "RecipientStore",
    "Rejected",
    "Suppressed",
    "check_params",
    "load_suppression",
    "read_recipients",
    "read_recipients_text",
    "resolve_params",
]
