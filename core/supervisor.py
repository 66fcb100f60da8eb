"""The supervisor process of ``shangliang serve``: keeps the node's Celery worker (and beat) running.

It imports the standard library only, so that starting it costs a bare interpreter, not a second import of
the app (``serve`` starts it with ``python -c``).
"""

from __future__ import annotations

import ctypes
import signal
import subprocess
import threading
import time


def _die_with_parent() -> None:
    """In the child: receive SIGTERM when the serving process dies, however it dies (Linux)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def supervise(argv: list[str]) -> None:
    """The supervisor process of ``serve``: run ``argv`` (the worker) under :class:`WorkerSupervisor` until
    SIGTERM or SIGINT, then stop it and exit."""
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    supervisor = WorkerSupervisor(argv)
    supervisor.start()
    while not stop.wait(0.5):
        pass
    supervisor.stop()


class WorkerSupervisor:
    """Keeps ``serve``'s Celery worker (and beat) running: a worker that exits while the node serves (killed,
    or crashed when its broker connection broke) is started again after a delay that doubles from
    ``first_delay`` to ``max_delay`` seconds and falls back to ``first_delay`` once a worker has run for a
    minute. ``stop`` ends the supervision and the worker (SIGTERM, then SIGKILL after ``grace`` seconds)."""

    def __init__(self, argv: list[str], first_delay: float = 1.0, max_delay: float = 30.0, grace: float = 15.0):
        self.argv = argv
        self.first_delay = first_delay
        self.max_delay = max_delay
        self.grace = grace
        self.process: subprocess.Popen | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._watch, name="worker-supervisor", daemon=True)

    def start(self) -> None:
        self._spawn()
        self._thread.start()

    def _spawn(self) -> None:
        with self._lock:
            if not self._stopping.is_set():
                self.process = subprocess.Popen(self.argv, preexec_fn=_die_with_parent)

    def _watch(self) -> None:
        delay = self.first_delay
        while not self._stopping.is_set():
            process = self.process
            started = time.monotonic()
            status = process.wait() if process is not None else None
            if self._stopping.is_set():
                return
            if time.monotonic() - started > 60:
                delay = self.first_delay
            print(f"the worker exited with status {status}; starting it again in {delay:g} s", flush=True)
            if self._stopping.wait(delay):
                return
            delay = min(delay * 2, self.max_delay)
            self._spawn()

    def stop(self) -> None:
        with self._lock:
            self._stopping.set()
            process = self.process
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=self.grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
