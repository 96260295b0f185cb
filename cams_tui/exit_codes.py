"""The ``cams-tui`` command's exit codes, for every front end and command.

0 all ok, 1 some failed, 2 bad input or usage, 3 some unknown, 4 cannot proceed (a fatal
answer stopped the job, or the journal, the data folder, the disk, a permission or a port keeps
us from going on), 70 an internal error (a bug), 130 stopped by a signal (Ctrl-C, SIGTERM,
SIGHUP) or by the output going away.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_UNKNOWN = 3
EXIT_FATAL = 4
EXIT_CANNOT_PROCEED = EXIT_FATAL
EXIT_INTERNAL = 70  # sysexits' EX_SOFTWARE: a bug, never an answer or an input
EXIT_INTERRUPTED = 130
