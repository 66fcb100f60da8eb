"""The CPU a node takes to start: ``shangliang serve`` until ``/healthz`` answers and its worker is ready.

Three ways, each ``--rounds`` times on the embedded defaults (one node made with ``shangliang init``):

- ``serve --no-worker``: the web app alone (gunicorn's master and one worker);
- ``worker --beat``: the Celery worker and beat as a command of their own, until it logs ``ready``; this
  is what ``serve`` ran as a second command before it forked the worker (core/supervisor.py), so the
  first two together are what a node with its worker took then;
- ``serve --with-worker``: the web app and the worker that ``serve`` forks, until both are ready.

The CPU is that of every process of the run (user + system, ``RUSAGE_CHILDREN`` once all are waited
for), from start to stop (SIGTERM, then waited for); the median of the rounds is printed, and the
figures as one JSON line. Not part of ``make bench``'s figures; docs/deployment.md quotes it.

    python bench/node_start.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, clean_env, free_port, median, shangliang  # noqa: E402


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def one_run(node_dir: Path, args: list[str], port: int | None, timeout: float = 60) -> float:
    """Start ``args``; wait until the node answers on ``port`` (if given) and the log says the worker is ready
    (if it runs one); stop it; the CPU of all its processes, in seconds."""
    log_path = node_dir / f"start-{time.monotonic_ns()}.log"
    wants_worker = "worker" in args or "--with-worker" in args
    before = _children_cpu()
    with open(log_path, "wb") as log:
        process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=clean_env(), cwd=str(ROOT),
                                   start_new_session=True)
        try:
            deadline = time.monotonic() + timeout
            while True:
                ready = (port is None or _answers(f"http://127.0.0.1:{port}/healthz")) and \
                    (not wants_worker or b" ready." in log_path.read_bytes())
                if ready:
                    break
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{' '.join(args[3:])} did not start:\n"
                                       + log_path.read_text(errors="replace")[-2000:])
                time.sleep(0.05)
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
    time.sleep(0.5)  # the supervisor and worker are waited for by serve before it exits; let stragglers go
    return _children_cpu() - before


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-node-start-") as base:
        node_dir = Path(base) / "node"
        subprocess.run(shangliang("init", str(node_dir), "--id", "620302", "--name", "金川区政协", "--url",
                                  "http://127.0.0.1:5999"), check=True, capture_output=True, env=clean_env(),
                       cwd=str(ROOT))
        ways = {
            "serve_no_worker": lambda port: shangliang("--node", str(node_dir), "serve", "--workers", "1",
                                                       "--port", str(port), "--no-worker"),
            "worker_command": lambda port: shangliang("--node", str(node_dir), "worker", "--beat",
                                                      "--concurrency", "2"),
            "serve_with_forked_worker": lambda port: shangliang("--node", str(node_dir), "serve", "--workers", "1",
                                                                "--port", str(port), "--with-worker"),
        }
        results: dict[str, list[float]] = {name: [] for name in ways}
        for _ in range(options.rounds):
            for name, make_args in ways.items():
                port = free_port()
                results[name].append(one_run(node_dir, make_args(port), None if name == "worker_command" else port))
    figures = {name: round(median(values), 3) for name, values in results.items()}
    figures["serve_and_worker_command"] = round(figures["serve_no_worker"] + figures["worker_command"], 3)
    for name, values in results.items():
        print(f"{name:28} median {median(values):.3f} s CPU  (rounds: {', '.join(f'{v:.2f}' for v in values)})",
              file=sys.stderr)
    print(f"{'serve_and_worker_command':28} {figures['serve_and_worker_command']:.3f} s CPU (the two above)",
          file=sys.stderr)
    print(json.dumps({"node_start_cpu_seconds": figures, "rounds": options.rounds,
                      "load_average": os.getloadavg()}))


if __name__ == "__main__":
    main()
