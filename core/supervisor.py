"""The supervisor process of ``shangliang serve``: keeps the node's Celery worker (and beat) running.

``serve`` forks it from its own process once the app is built and checked, and it forks each worker from
itself (:class:`Forked`), so neither starts an interpreter or imports the app again: a worker is running in
a fraction of a second and shares the serving process's imported code until it writes to it. Where a fork
cannot be watched (no ``os.pidfd_open``: not Linux), the supervisor runs ``python -c`` and the worker as
commands (``argv``), as before. This module imports the standard library only.
"""

from __future__ import annotations

import ctypes
import os
import select
import signal
import subprocess
import sys
import threading
import time
import traceback
from typing import Callable

_PR_SET_PDEATHSIG = 1
_PR_SET_NAME = 15


def _prctl(option: int, value) -> None:
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(option, value)
    except (OSError, AttributeError):
        pass  # not Linux: nothing is tied to the parent, names stay as they are


def _die_with_parent(signum: int = signal.SIGTERM) -> None:
    """In the child: receive ``signum`` (SIGTERM: a clean stop) when the serving process dies, however it dies
    (Linux)."""
    _prctl(_PR_SET_PDEATHSIG, signum)


def can_fork() -> bool:
    """Whether :class:`Forked` works here (Linux: a forked child is watched through its pidfd)."""
    return hasattr(os, "fork") and hasattr(os, "pidfd_open")


class Forked:
    """A child forked from this process that runs ``target()`` and exits with its status (``SystemExit``'s
    code; 1 after an exception, printed): the part of ``subprocess.Popen``'s interface the supervision uses
    (``pid``, ``returncode``, ``poll``, ``wait``, ``terminate``, ``kill``). It dies with the thread that forked
    it (SIGTERM), starts with the default handlers of SIGTERM and SIGINT, and ``name`` is its name in ``ps``
    and ``top`` (15 bytes at most). It is watched through a pidfd, so it is found to have ended even where
    another wait of this process (gunicorn's master reaps every child) collected its status first; its status
    is then unknown (``returncode`` 0)."""

    def __init__(self, target: Callable[[], object], name: str = ""):
        self.returncode: int | None = None
        self._lock = threading.Lock()
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:  # the child: never returns
            status = 1
            try:
                for signum in (signal.SIGTERM, signal.SIGINT):
                    signal.signal(signum, signal.SIG_DFL)
                _die_with_parent()
                if os.getppid() != parent:  # the parent died before the line above
                    os._exit(1)
                if name:
                    _prctl(_PR_SET_NAME, name.encode()[:15])
                target()
                status = 0
            except SystemExit as exc:
                status = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            except BaseException:  # noqa: BLE001  (whatever ends the child is printed, then it exits 1)
                traceback.print_exc()
            finally:
                for stream in (sys.stdout, sys.stderr):
                    try:
                        stream.flush()
                    except Exception:  # noqa: BLE001
                        pass
                os._exit(status)
        self.pid = pid
        self._pidfd = os.pidfd_open(pid)

    def poll(self) -> int | None:
        if self.returncode is None and select.select([self._pidfd], [], [], 0)[0]:
            self._collect()
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            if not select.select([self._pidfd], [], [], timeout)[0]:
                raise subprocess.TimeoutExpired(f"forked process {self.pid}", timeout)
            self._collect()
        return self.returncode

    def _collect(self) -> None:
        """The child has ended (its pidfd is readable): collect its status, once."""
        with self._lock:
            if self.returncode is not None:
                return
            try:
                _, status = os.waitpid(self.pid, 0)
                self.returncode = os.waitstatus_to_exitcode(status)
            except ChildProcessError:  # collected by another wait of this process
                self.returncode = 0

    def __del__(self) -> None:  # not in _collect: another thread may be about to select on it
        pidfd = getattr(self, "_pidfd", None)
        if pidfd is not None:
            os.close(pidfd)

    def send_signal(self, signum: int) -> None:
        if self.returncode is None:
            try:
                signal.pidfd_send_signal(self._pidfd, signum)
            except ProcessLookupError:
                pass

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


def supervise(argv: list[str] | Callable[[], object]) -> None:
    """The supervisor process of ``serve``: run the worker (``argv``, a command, or a function run in a
    forked child) under :class:`WorkerSupervisor` until SIGTERM or SIGINT, then stop it and exit."""
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
    minute. ``stop`` ends the supervision and the worker (SIGTERM, then SIGKILL after ``grace`` seconds).
    The worker is ``argv`` run as a command, or a function run in a child forked from this process."""

    def __init__(self, argv: list[str] | Callable[[], object], first_delay: float = 1.0, max_delay: float = 30.0,
                 grace: float = 15.0):
        self.argv = argv
        self.first_delay = first_delay
        self.max_delay = max_delay
        self.grace = grace
        self.process: subprocess.Popen | Forked | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._watch, name="worker-supervisor", daemon=True)

    def start(self) -> None:
        self._spawn()
        self._thread.start()

    def _spawn(self) -> None:
        with self._lock:
            if not self._stopping.is_set():
                if callable(self.argv):
                    self.process = Forked(self.argv, name="sl-worker")
                else:
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
