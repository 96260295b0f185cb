"""config.toml files as people write them by hand."""

from __future__ import annotations

COMMENTED_CONFIG = """\
# My cams-tui setup: edited by hand, please keep my notes.
default_profile = "work"   # the one I use most

[profiles.work]
region = 'ap-southeast-1'   # single quotes on purpose
# rate = 5  (was too slow)
rate = 10.0
theme = "cams-dark"

# The staging account.
[profiles.staging]
region = "ap-southeast-1"
endpoint = "https://cams.example.test"   # a test gateway

[profiles.staging.credentials]
source = "env"
"""
"""A config with comments, odd quoting and two profiles: what a rewrite must leave alone."""
