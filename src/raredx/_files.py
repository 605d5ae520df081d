"""Atomic writes (readers see the old file or folder or the new one, never half of either),
exclusive folder locks and bounded reads."""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import IO, Any, Literal, overload

from raredx.errors import InputError

__all__ = ["atomic_directory", "atomic_file", "exclusive_lock", "read_bounded"]


@overload
def atomic_file(
    path: Path, *, binary: Literal[False] = False, durable: bool = True
) -> AbstractContextManager[IO[str]]: ...
@overload
def atomic_file(
    path: Path, *, binary: Literal[True], durable: bool = True
) -> AbstractContextManager[IO[bytes]]: ...


def atomic_file(
    path: Path, *, binary: bool = False, durable: bool = True
) -> AbstractContextManager[IO[Any]]:
    """A context manager writing `path` atomically (text unless `binary`). `durable=False`
    skips the fsync: still never half-written, but a power cut may lose the latest version
    (for results that can be recomputed, written by the thousand)."""
    return _atomic_file(path, binary, durable)


@contextmanager
def _atomic_file(path: Path, binary: bool, durable: bool) -> Iterator[IO[Any]]:
    """Yield a handle on a temporary file beside `path`; on success it is flushed, synced (if
    `durable`) and renamed over `path`; on any error it is removed and `path` is untouched."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        mode = "wb" if binary else "w"
        encoding = None if binary else "utf-8"
        with os.fdopen(fd, mode, encoding=encoding, newline=None if binary else "") as fh:
            yield fh
            fh.flush()
            if durable:
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def atomic_directory(target: Path) -> Iterator[Path]:
    """Yield an empty temporary folder beside `target`; on success it replaces `target` (an
    existing folder is swapped out, then deleted); on any error it is removed."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        yield tmp
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=target.parent))
            target.rename(old / target.name)
            tmp.rename(target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


@contextmanager
def exclusive_lock(path: Path, busy: str) -> Iterator[None]:
    """Hold an exclusive advisory lock on the file `path` (created if missing) for the block;
    raises InputError(`busy`) at once when another process holds it. The kernel drops the
    lock when its holder dies, so a killed process never leaves a stale lock behind."""
    with path.open("a") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise InputError(busy) from None
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def read_bounded(path: str | Path, limit: int, what: str) -> bytes:
    """At most `limit` + 1 bytes of the file (so the caller can tell it is too big);
    InputError (naming `what` the file should be) for a folder, a missing or unreadable file."""
    from raredx.errors import InputError

    p = Path(path)
    try:
        if p.is_dir():
            raise InputError(f"{p} is a directory, not {what}")
        with p.open("rb") as handle:
            return handle.read(limit + 1)
    except FileNotFoundError:
        raise InputError(f"{p}: no such file") from None
    except OSError as exc:
        raise InputError(f"{p}: cannot read", [exc.strerror or str(exc)]) from None
