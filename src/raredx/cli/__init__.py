"""The `raredx` command line: thin commands over the library's front doors.

Command modules import nothing from here, so each can be used (and tested) on its own.
"""

from __future__ import annotations

__all__ = ["main"]


def main() -> None:
    """Console-script entry point."""
    from raredx.cli.app import app

    app()
