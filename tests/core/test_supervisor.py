"""``core/supervisor.py``'s ``Forked``: the child that ``serve`` forks for the worker's supervisor and the worker."""

import os
import signal
import subprocess
import sys
import time

import pytest

from shangliang.core.supervisor import Forked, can_fork

pytestmark = pytest.mark.skipif(not can_fork(), reason="Forked needs os.fork and os.pidfd_open (Linux)")


def test_the_status_is_systemexits_code_or_1_after_an_exception():
    assert Forked(lambda: sys.exit(3)).wait(timeout=10) == 3
    assert Forked(lambda: None).wait(timeout=10) == 0
    assert Forked(lambda: 1 / 0).wait(timeout=10) == 1


def test_wait_times_out_then_terminate_ends_it_by_sigterm_even_where_the_parent_ignored_it():
    previous = signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        child = Forked(lambda: time.sleep(60))
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert child.poll() is None
    with pytest.raises(subprocess.TimeoutExpired):
        child.wait(timeout=0.2)
    child.terminate()
    assert child.wait(timeout=10) == -signal.SIGTERM
    assert child.poll() == -signal.SIGTERM
    child.kill()  # once it has ended: nothing happens


def test_an_end_collected_by_another_wait_is_still_seen():
    # gunicorn's master reaps every child with waitpid(-1): the child's end is still seen, its status unknown
    child = Forked(lambda: sys.exit(7))
    pid, _status = os.waitpid(child.pid, 0)
    assert pid == child.pid
    assert child.wait(timeout=10) == 0


def test_the_child_is_named_for_ps():
    child = Forked(lambda: time.sleep(60), name="sl-test-child")
    try:
        deadline = time.monotonic() + 10
        while open(f"/proc/{child.pid}/comm").read().strip() != "sl-test-child":
            assert time.monotonic() < deadline, "the child was not named"
            time.sleep(0.05)
    finally:
        child.kill()
        assert child.wait(timeout=10) == -signal.SIGKILL
