"""``make demo`` stops every node it started on any signal, however often it arrives: a process group's
SIGTERM reaches the demo once per member, and a person may press Ctrl-C twice.

The five nodes are made beforehand by the demo's own set-up (``demo._set_up``: init, users add, members
import, keys show, peers add) with each command run in this process instead of as a subprocess (some
thirty interpreter start-ups saved); the demo process then reuses them, as its second run does, and
starts, serves and stops them itself. ``make demo DEMO_ARGS=--once`` in CI runs the set-up as
subprocesses.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import pytest
import requests
from click.testing import CliRunner

from shangliang.core import demo as demo_module
from shangliang.core.cli import cli

from ..nodes import Node, free_port

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(bool(os.environ.get("SHANGLIANG_TEST_DATABASE_URL") or os.environ.get("SHANGLIANG_TEST_BROKER_URL")),
                       reason="the demo runs on the embedded defaults whatever the servers: tested in the embedded run"),
]


def free_ports(count: int) -> int:
    """A first port P with P…P+count-1 free now."""
    for _ in range(50):
        first = free_port()  # in this run's range, below the ephemeral ports (tests/nodes.py)
        if all(_free(first + i) for i in range(count)):
            for _ in range(count - 1):
                free_port()  # not handed out again
            return first
    pytest.skip("no run of free ports")


def _free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def serving(port: int) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code in (200, 503)
    except requests.RequestException:
        return False


def survivors(directory) -> list[str]:
    """Processes still running from the demo's node directories."""
    found = subprocess.run(["pgrep", "-af", str(directory)], capture_output=True, text=True).stdout
    return [line for line in found.splitlines() if "pgrep" not in line]


def _run_in_process(node, *args: str, input: str | None = None, echo: bool = True, quiet: bool = False) -> str:
    """``demo._run`` with the command run in this process (the same argv, the same failure)."""
    if node is None:
        result = CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)
        if result.exit_code:
            raise demo_module.StepFailed(f"shangliang {' '.join(args)} failed: {result.output.strip()}")
        return result.stdout
    try:
        return Node(node.dir).run(*args, input=input)
    except AssertionError as exc:
        raise demo_module.StepFailed(str(exc)) from None


def test_a_repeated_signal_to_the_demos_group_stops_every_node(tmp_path, monkeypatch):
    signum = signal.SIGTERM  # SIGINT (Ctrl-C) takes the same handler
    port = free_ports(5)
    directory = tmp_path / "demo"
    made = demo_module._nodes(directory, port)
    with monkeypatch.context() as patched:
        patched.setattr(demo_module, "_run", _run_in_process)
        demo_module._set_up(made)
    # The set-up paired every parent and child (and the demo will reuse these nodes as they are).
    county = Node(directory / "620302")
    assert set(county.peers()) == {"6203", "620302001", "620302002"}
    assert set(Node(directory / "62").peers()) == {"6203"}
    demo = subprocess.Popen([sys.executable, "-m", "shangliang.core", "demo", "--dir", str(directory), "--port",
                             str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        while not all(serving(port + i) for i in range(5)):
            assert demo.poll() is None, demo.stdout.read().decode()[-3000:]
            assert time.monotonic() < deadline, "the demo's nodes did not come up"
            time.sleep(0.5)
        for _ in range(3):  # as a shell's kill of the job, or Ctrl-C pressed again and again
            os.killpg(demo.pid, signum)
            time.sleep(0.05)
        output = demo.communicate(timeout=90)[0].decode()
    finally:
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGKILL)
    assert "reusing the demo nodes" in output, output[-3000:]
    assert "Traceback" not in output and "Aborted" not in output, output[-3000:]
    assert not any(serving(port + i) for i in range(5))
    assert survivors(directory) == []


def test_serving_watches_the_served_nodes_and_not_the_offline_village(tmp_path):
    """After the scenario the demo serves until a node stops; the village (bundle files only) has no process,
    which once ended the serving loop at once with an AttributeError ("Aborted!")."""
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        served = demo_module.DemoNode("620302001", "镇", "township", tmp_path / "t", "http://127.0.0.1:9/", sleeper)
        village = demo_module.DemoNode("620302001201", "村", "village", tmp_path / "v", "", None)
        assert demo_module._all_serving([served, village])
        sleeper.terminate()
        sleeper.wait(timeout=30)
        assert not demo_module._all_serving([served, village])
    finally:
        if sleeper.poll() is None:
            sleeper.kill()
