"""Alembic environment of the case store (`env.py`, `versions/`), run by `raredx.store.engine`."""

__all__: list[str] = []
