"""Running the app on several worker processes that share the clients evenly.

uvicorn's own `workers` share one listening socket between the processes, and asyncio accepts
up to 100 pending connections each time a worker wakes up: the first worker to wake takes a
burst of keep-alive connections and answers them alone while the others idle (measured: 44 of
50 clients on one of two workers, p99 0.5 s at a third of the machine's capacity). On Linux
this supervisor instead gives each worker its own listening socket on the same port
(SO_REUSEPORT), so the kernel spreads new connections over the workers by hashing each
connection's addresses. The sockets belong to the supervisor: a worker that dies is replaced
on the same socket, and connections waiting in its queue are not lost. Elsewhere (no
balancing SO_REUSEPORT) uvicorn's workers run.
"""

from __future__ import annotations

import multiprocessing
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from multiprocessing.context import SpawnProcess
from types import FrameType

import uvicorn
from uvicorn.config import STARTUP_FAILURE

from raredx.api.app import app_from_environment
from raredx.errors import InputError

__all__ = ["APP_FACTORY", "REUSEPORT_BALANCES", "listening_sockets", "serve_workers"]

APP_FACTORY = "raredx.api.app:app_from_environment"
"""Import string of the factory each worker process builds the app with."""

REUSEPORT_BALANCES = sys.platform.startswith("linux")
"""Whether the kernel spreads connections over sockets sharing a port (Linux; not BSD/macOS)."""

_BACKLOG = 2048
_RESTART_PAUSE_S = 1.0
"""A worker slot is refilled at most once a second (a worker that keeps dying is not spun)."""
_STOP_GRACE_S = 30.0
"""How long stopping workers may take to finish the requests they hold before being killed."""


def _address(host: str, port: int) -> tuple[socket.AddressFamily, tuple[str, int]]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise InputError("cannot listen", [f"{host}: {exc.strerror}"]) from None
    family, _, _, _, address = infos[0]
    return family, (str(address[0]), int(address[1]))


def _check_free(family: socket.AddressFamily, address: tuple[str, int]) -> None:
    """Refuse a port something already listens on, ourselves included: SO_REUSEPORT alone
    would let a second `raredx serve` silently share the port with the first."""
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            raise InputError(
                "cannot listen", [f"{address[0]}:{address[1]}: {exc.strerror}"]
            ) from None


def listening_sockets(host: str, port: int, count: int) -> list[socket.socket]:
    """`count` sockets listening on host:port together (SO_REUSEPORT); raises InputError if
    the address is unknown or the port is taken."""
    family, address = _address(host, port)
    _check_free(family, address)
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.socket(family, socket.SOCK_STREAM)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind(address)
            sock.listen(_BACKLOG)
            sock.set_inheritable(True)
    except OSError as exc:
        for sock in sockets:
            sock.close()
        raise InputError("cannot listen", [f"{address[0]}:{address[1]}: {exc.strerror}"]) from None
    return sockets


def _run_worker(sock: socket.socket, log_level: str) -> None:
    """A worker process: the app built from the environment, served on its own socket. A
    worker that cannot build the app exits with uvicorn's STARTUP_FAILURE code."""
    try:
        application = app_from_environment()
    except Exception as exc:  # any failure here would repeat on every restart
        print(f"raredx worker: cannot start: {exc}", file=sys.stderr)
        sys.exit(STARTUP_FAILURE)
    uvicorn.Server(uvicorn.Config(application, log_level=log_level)).run(sockets=[sock])


def serve_workers(
    sockets: list[socket.socket],
    *,
    log_level: str = "warning",
    log: Callable[[str], None] = print,
) -> int:
    """Serve the app with one worker process per socket of `listening_sockets` until
    SIGINT or SIGTERM; the exit code (0, or 1 when a worker cannot start: the same error would
    stop every restart). The sockets are closed on return."""
    multiprocessing.allow_connection_pickling()  # sockets travel to spawned workers
    spawn = multiprocessing.get_context("spawn")
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}

    def start(sock: socket.socket) -> tuple[SpawnProcess, float]:
        process = spawn.Process(target=_run_worker, args=(sock, log_level), daemon=False)
        process.start()
        return process, time.monotonic()

    slots = [start(sock) for sock in sockets]
    code = 0
    try:
        while not stop.wait(0.5):
            for i, (process, started) in enumerate(slots):
                if process.is_alive():
                    continue
                process.join()
                if process.exitcode == STARTUP_FAILURE:
                    log(f"worker {process.pid} could not start; stopping")
                    stop.set()
                    code = 1
                    break
                if time.monotonic() - started < _RESTART_PAUSE_S:
                    continue
                log(f"worker {process.pid} exited (code {process.exitcode}); starting another")
                slots[i] = start(sockets[i])
    finally:
        for process, _ in slots:
            if process.is_alive():
                process.terminate()
        deadline = time.monotonic() + _STOP_GRACE_S
        for process, _ in slots:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()
        for sock in sockets:
            sock.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return code
