"""``python -m cams_tui``: the same as the ``cams-tui`` command."""

from cams_tui.cli import main

if __name__ == "__main__":  # not when a spawned child process imports it
    raise SystemExit(main())
