"""Keeping Python's cyclic garbage collector from pausing the UI.

A full collection walks every container the process holds, and every item of each: the
app's own hundred thousand objects (widgets, styles, caches) and, once a big list is
imported, the report's columns, lists of a million strings each. On the UI thread such a
walk took 100–350 ms, long after the import (it comes whenever enough new objects
accumulate, typically during the next paste or send). Objects moved out of the collector's
sight (:func:`gc.freeze`) are still freed when their last reference goes; only a reference
cycle among them would outlive its use, which is why the young generations are collected
first.
"""

from __future__ import annotations

import gc

LARGE_REPORT = 100_000
"""Recipients from which a report's columns are worth taking out of the collector's sight."""


def freeze_startup() -> None:
    """Collect everything once, then take what survives (the app's modules, classes,
    screens) out of the collector's sight: later collections walk only what came after."""
    gc.collect()
    gc.freeze()


def freeze_survivors() -> None:
    """Take every object alive now out of the collector's sight, after collecting the
    young generations (a few milliseconds, not a walk of everything)."""
    gc.collect(1)
    gc.freeze()
