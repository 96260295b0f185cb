"""The panes of the compose flow, one per step."""
