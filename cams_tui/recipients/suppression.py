"""The opt-out list: numbers never to send to, whatever list they come in.

It lives as ``suppression.txt`` in the data dir (one number per line, any format the
intake reads) and can be extended per send with ``--suppress FILE``. It is applied while
a list is read (:attr:`IntakeOptions.suppressed`), so a suppressed number is never part
of a job. An ambiguous entry (see :mod:`.numbers`) suppresses both of its readings: when
in doubt, do not send.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterable
from pathlib import Path

from cams_tui.recipients.decoding import open_source
from cams_tui.recipients.numbers import Normalizer
from cams_tui.recipients.reading import records, sniff, take_sample

SUPPRESSION_FILE = "suppression.txt"
"""The opt-out list's file name in the data dir."""


def load_suppression(
    paths: Iterable[str | os.PathLike[str]],
    default_region: str | None = None,
    *,
    missing_ok: bool = False,
) -> frozenset[str]:
    """Normalized numbers (digits, country code first) of every readable entry of ``paths``.

    Entries that are not numbers are skipped (nothing can be sent to them anyway).
    ``missing_ok`` skips files that do not exist (the data dir's list is optional);
    otherwise an unreadable file raises ``OSError`` naming it.
    """
    normalizer = Normalizer(default_region)
    numbers: set[str] = set()
    for path in paths:
        path = Path(path)
        if missing_ok and not path.exists():
            continue
        try:
            source = open_source(path)
        except OSError as exc:
            raise OSError(f"cannot read the opt-out list {path}: {exc.strerror or exc}") from exc
        sample = take_sample(source.lines)
        layout = sniff(sample, frozenset())
        for record in records(itertools.chain(sample, source.lines), layout):
            if record is None or record[3] is not None:
                continue
            result = normalizer.normalize(record[1])
            if isinstance(result, str):
                if result.startswith("ambiguous"):
                    numbers.update(normalizer.readings(record[1]))
                continue
            numbers.add(str(result[0]))
    return frozenset(numbers)
