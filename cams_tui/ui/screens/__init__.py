"""Screens of the cams-tui app."""
