"""Errors raredx raises for bad input: each carries every problem found, not just the first."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["InputError", "KnowledgeBaseError", "RaredxError"]


class RaredxError(Exception):
    """Base of every error raredx raises on purpose; the CLI prints it without a traceback."""


class InputError(RaredxError, ValueError):
    """User input that cannot be used. `problems` lists every offending item, one line each."""

    def __init__(self, message: str, problems: Sequence[str] = ()) -> None:
        self.problems: tuple[str, ...] = tuple(problems)
        detail = "".join(f"\n  - {p}" for p in self.problems)
        super().__init__(f"{message}{detail}")
        self.message = message


class KnowledgeBaseError(RaredxError):
    """A knowledge-base release that is missing, malformed or of an unknown version."""
