"""cams-tui: bulk Viber template messages through Alibaba Cloud CAMS, from a terminal."""

__version__ = "0.1.0"
