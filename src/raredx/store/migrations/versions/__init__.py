"""Alembic revisions of the case store, oldest first (each file names its `down_revision`)."""

__all__: list[str] = []
