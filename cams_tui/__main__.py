"""``python -m cams_tui``: the same as the ``cams-tui`` command."""

from cams_tui.cli import main

raise SystemExit(main())
