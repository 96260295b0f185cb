"""Plain helpers the test areas share (no tests and no fixtures here: fixtures live in conftest.py files)."""
