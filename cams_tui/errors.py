"""Errors an operator can fix: printed in plain words, never as a traceback."""

from __future__ import annotations


class UserError(Exception):
    """Bad input or setup (a file, a flag, a profile); the message says what and how to fix it."""
