"""Widgets of the cams-tui app."""
