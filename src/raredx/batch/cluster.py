"""A Dask cluster for raredx: a `LocalCluster` of worker processes on loopback, or an existing
cluster reached through its scheduler's address.

Workers run one task at a time (one thread each: ranking is CPU-bound Python and NumPy); the
client sends groups of cases and gathers small outcomes. A worker that dies (killed, out of
memory) is restarted by Dask and its group sent elsewhere; a group that keeps killing workers
is split and its cases retried one by one, so one poisonous case fails alone.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import CancelledError
from contextlib import contextmanager
from typing import Any, TypeVar

from raredx.errors import RaredxError

__all__ = ["Cluster", "ClusterError", "default_workers", "open_cluster"]

_T = TypeVar("_T")
_QUARANTINE_TRIES = 2
"""Deaths of its worker, alone in quarantine, after which an item is given up."""


class ClusterError(RaredxError):
    """The Dask cluster could not be started or reached, or was lost during the run."""


def default_workers() -> int:
    """Usable cores (at least 1)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


class Cluster:
    """A connected Dask client (and the `LocalCluster` it started, if any)."""

    def __init__(self, client: Any, local: Any, address: str) -> None:
        self.client = client
        self.local = local
        self.address = address

    @property
    def workers(self) -> list[str]:
        """Addresses of the connected workers."""
        info = self.client.scheduler_info(n_workers=-1)
        return sorted(info.get("workers", {}))

    def on_each_worker(self, fn: Callable[..., _T], *args: Any) -> dict[str, _T]:
        """Run `fn(*args)` once on every worker, as a task (in the thread tasks run in)."""
        futures = {
            w: self.client.submit(fn, *args, workers=[w], allow_other_workers=False, pure=False)
            for w in self.workers
        }
        try:
            return {w: f.result() for w, f in futures.items()}
        except (OSError, CancelledError) as exc:
            raise ClusterError(
                f"the Dask cluster failed while starting the workers: {exc}"
            ) from None

    def run(self, fn: Callable[..., _T], *args: Any) -> dict[str, _T]:
        """`fn(*args)` on every worker's event loop (quick calls only); {} when it fails."""
        try:
            result: dict[str, _T] = self.client.run(fn, *args)
        except (OSError, CancelledError, TimeoutError):
            return {}
        return result

    def map(
        self, fn: Callable[..., Any], groups: Sequence[list[_T]], *args: Any
    ) -> Iterator[tuple[list[_T], Any]]:
        """(group, `fn(group, *args)` or the exception it raised), as groups finish.

        A group whose worker died too often (`KilledWorker`: Dask already retried it) goes to
        quarantine: its items are run again one at a time, alone on the quarantine's single
        slot, so a case that merely shared a dying worker succeeds and the one that kills its
        worker is found; after `_QUARANTINE_TRIES` deaths an item comes back with the
        `KilledWorker`. On any exit before the end (interrupt, error), the outstanding tasks
        are cancelled."""
        import distributed
        from distributed.scheduler import KilledWorker

        as_completed: Any = distributed.as_completed
        client = self.client
        pending: dict[Any, list[_T]] = {}
        quarantine: deque[tuple[_T, int]] = deque()
        isolated: dict[Any, tuple[_T, int]] = {}
        for group in groups:
            pending[client.submit(fn, group, *args, pure=False)] = group
        queue = as_completed(list(pending), loop=client.loop)

        def release() -> None:
            if quarantine and not isolated:
                item, tries = quarantine.popleft()
                future = client.submit(fn, [item], *args, pure=False)
                isolated[future] = (item, tries)
                queue.add(future)

        try:
            for future in queue:
                if future in isolated:
                    item, tries = isolated.pop(future)
                    group, alone = [item], True
                else:
                    group, alone, tries = pending.pop(future), False, 0
                try:
                    yield group, future.result()
                except KilledWorker as exc:
                    if alone and tries + 1 >= _QUARANTINE_TRIES:
                        yield group, exc
                    else:
                        quarantine.extend((item, tries + alone) for item in group)
                except CancelledError:
                    raise ClusterError(
                        "lost the Dask scheduler (tasks were cancelled); finished cases are kept"
                    ) from None
                except (OSError, TimeoutError) as exc:
                    raise ClusterError(f"lost the Dask cluster ({exc})") from None
                except Exception as exc:  # the task itself failed: the caller records it
                    yield group, exc
                release()
        finally:
            outstanding = [*pending, *isolated]
            if outstanding:
                with contextlib.suppress(Exception):  # the cluster may already be gone
                    client.cancel(outstanding)


@contextmanager
def open_cluster(
    *, workers: int | None = None, scheduler: str | None = None, timeout: float = 10.0
) -> Iterator[Cluster]:
    """A `LocalCluster` of `workers` processes (default: one per core) on 127.0.0.1, or the
    existing cluster at `scheduler` (e.g. ``tcp://10.0.0.5:8786``); closed on exit (an
    existing cluster is only disconnected from).

    Raises `ClusterError` when the scheduler cannot be reached within `timeout` seconds, has
    no worker, or the local cluster cannot start."""
    import distributed

    Client: Any = distributed.Client
    LocalCluster: Any = distributed.LocalCluster

    if workers is not None and scheduler is not None:
        raise ClusterError("give --workers (a local cluster) or --scheduler, not both")
    if workers is not None and workers < 1:
        raise ClusterError(f"--workers {workers}: at least 1")
    quiet = logging.getLogger("distributed")
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    local: Any = None
    client: Any = None
    try:
        if scheduler is None:
            n = workers or default_workers()
            try:
                local = LocalCluster(
                    n_workers=n,
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address=None,
                    # no dashboard; the scheduler's small HTTP server (health, metrics) on a
                    # free loopback port rather than 8787 (which may be taken)
                    scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                    silence_logs=logging.ERROR,
                    env={"RAREDX_GENOME_WORKERS": "1"},
                )
                client = Client(local, timeout=timeout, set_as_default=False)
                client.wait_for_workers(n, timeout=max(timeout, 60.0))
            except (OSError, TimeoutError, RuntimeError) as exc:
                raise ClusterError(f"cannot start a local Dask cluster ({exc})") from None
            address = str(local.scheduler_address)
        else:
            address = scheduler.strip()
            try:
                client = Client(address, timeout=timeout, set_as_default=False)
            except (OSError, TimeoutError, ValueError, TypeError) as exc:
                raise ClusterError(
                    f"cannot reach the Dask scheduler at {address!r} within {timeout:g} s "
                    f"({type(exc).__name__}: {exc})"
                ) from None
            try:
                client.wait_for_workers(1, timeout=timeout)
            except (OSError, TimeoutError) as exc:
                raise ClusterError(
                    f"the Dask scheduler at {address} has no worker ({exc})"
                ) from None
        yield Cluster(client, local, address)
    finally:
        for thing in (client, local):
            if thing is not None:
                with contextlib.suppress(Exception):  # closing is best effort
                    thing.close()
        quiet.setLevel(level)
