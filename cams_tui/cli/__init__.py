"""The ``cams-tui`` command: the TUI by default, headless subcommands for scripts.

Exit codes: 0 all ok, 1 some failed, 2 bad input or usage, 3 some unknown,
4 cannot proceed (a fatal answer stopped the job, or the journal, the data folder, the disk,
a permission or a port keeps us from going on), 70 an internal error (a bug), 130 stopped by
a signal (Ctrl-C, SIGTERM, SIGHUP) or by the output going away.

The package, one job a module:

- :mod:`~cams_tui.cli.entry`: ``main``, dispatch, and what went wrong as one line and a code;
- :mod:`~cams_tui.cli.parser` and :mod:`~cams_tui.cli.argument_types`: the command line;
- :mod:`~cams_tui.cli.guards`: escaped output and stop signals while a command runs;
- :mod:`~cams_tui.cli.send`, :mod:`~cams_tui.cli.resume`, :mod:`~cams_tui.cli.reconcile`: the
  sending commands, with :mod:`~cams_tui.cli.job_run` (one job run), :mod:`~cams_tui.cli.prompts`,
  :mod:`~cams_tui.cli.template_checks` and :mod:`~cams_tui.cli.context`;
- :mod:`~cams_tui.cli.jobs`, :mod:`~cams_tui.cli.export`, :mod:`~cams_tui.cli.report`,
  :mod:`~cams_tui.cli.account` (``templates``, ``doctor``): the reading commands;
- :mod:`~cams_tui.cli.output` and :mod:`~cams_tui.cli.plan_wording`: what they print.

Importing the package loads the parser only: each command's module (and the TUI) is
imported by the dispatcher for the command that runs, to keep start-up fast.
"""

from cams_tui.cli.entry import main

__all__ = ["main"]
