"""Every package keeps its public surface honest: `__all__` sorted, complete and importable."""

from __future__ import annotations

import importlib
import pkgutil
import types

import pytest

import raredx


def _isort_key(member: str) -> tuple[int, str]:
    """The order ruff's RUF022 keeps: CONSTANTS, then Classes, then functions."""
    if member.isupper() or member.strip("_").replace("_", "").isupper():
        return (0, member)
    if member[:1].isupper():
        return (1, member)
    return (2, member)


def _packages() -> list[str]:
    names = ["raredx"]
    for info in pkgutil.walk_packages(raredx.__path__, "raredx."):
        if info.ispkg and not info.name.startswith("raredx.data"):
            names.append(info.name)
    return names


@pytest.mark.parametrize("name", _packages())
def test_all_is_sorted_and_complete(name: str) -> None:
    module = importlib.import_module(name)
    exported = getattr(module, "__all__", None)
    assert exported is not None, f"{name} has no __all__"
    assert list(exported) == sorted(exported, key=_isort_key), f"{name}.__all__ is not sorted"
    for member in exported:
        assert hasattr(module, member), f"{name}.__all__ names missing {member}"
    public = {
        k
        for k, v in vars(module).items()
        if not k.startswith("_")
        and not isinstance(v, types.ModuleType)
        and getattr(v, "__module__", name).startswith(name)
    }
    assert public <= set(exported), f"{name} exports {public - set(exported)} without __all__"
