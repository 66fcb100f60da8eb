"""``make soak`` (R6, docs/reliability.md): mixed API traffic against one node at half its measured capacity
for ``--seconds`` (default 600), sampling errors, memory and list latency every ``--every`` seconds.

The node is a real ``shangliang serve`` (gunicorn with 2 workers, a Celery worker with beat) on the
embedded defaults, made with ``shangliang init`` in a temporary directory. Clients are signed-in
sessions (the sign-in page, then the API with the session and its CSRF token), each request one of:
raise a topic (30 %), list topics a page at a time following ``next_cursor`` (40 %), show a topic (20 %),
advance a topic one stage (10 %).

First the capacity: as many requests of that mix as 8 clients get through in ``--probe`` seconds.
Then the soak, paced to half that rate. It prints one JSON object: requests, errors (any status
other than the expected ones, or a refused connection), the web and worker memory at each sample
with the slope of a least-squares line (MB per minute, after the first sample), and the median list
latency of each window with at least 20 list requests (first, last, and their ratio).

    python bench/soak.py [--seconds 600] [--probe 20] [--every 30] [--clients 8]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

PASSWORD = "soak-password-1"
MIN_WINDOW = 20  # list requests a window needs for its median to count
NODE = "620302001"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


#: The node runs on the embedded defaults, whatever SHANGLIANG_* settings the caller's shell has.
ENV = {k: v for k, v in os.environ.items() if not k.startswith("SHANGLIANG_")}


def cli(node_dir: Path | None, *args: str, input: str | None = None) -> str:
    where = ["--node", str(node_dir)] if node_dir is not None else []
    done = subprocess.run([sys.executable, "-m", "shangliang.core", *where, *args], input=input,
                          capture_output=True, text=True, timeout=120, env=ENV)
    if done.returncode:
        raise SystemExit(f"shangliang {' '.join(args)} failed: {done.stderr}")
    return done.stdout


def rss_mb(node_dir: Path) -> dict[str, float]:
    """Resident memory of the node's web processes and of its worker processes, in MB."""
    out = {"web": 0.0, "worker": 0.0}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            if str(node_dir) not in command and "celery" not in command and "gunicorn" not in command:
                continue
            status = (entry / "status").read_text()
        except OSError:
            continue
        if str(node_dir) not in command and not _child_of_node(entry, node_dir):
            continue
        rss = int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024 if "VmRSS" in status else 0.0
        out["web" if " serve " in command or "gunicorn" in command else "worker"] += rss
    return {k: round(v, 1) for k, v in out.items()}


def _child_of_node(entry: Path, node_dir: Path) -> bool:
    try:
        parent = re.search(r"PPid:\s+(\d+)", (entry / "status").read_text()).group(1)
        return str(node_dir) in Path(f"/proc/{parent}/cmdline").read_bytes().decode(errors="replace")
    except (OSError, AttributeError):
        return False


def slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope, per minute."""
    if len(points) < 2:
        return 0.0
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return 0.0 if den == 0 else 60 * sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den


class Client:
    def __init__(self, url: str):
        self.url, self.http = url, requests.Session()
        page = self.http.get(url + "/login", timeout=30).text
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        answer = self.http.post(url + "/login", data={"csrf_token": token, "username": "clerk", "password": PASSWORD},
                                allow_redirects=False, timeout=30)
        if answer.status_code != 302:
            raise SystemExit(f"sign-in failed: {answer.status_code}")
        page = self.http.get(url + "/topics", timeout=30).text
        self.csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        self.mine: list[str] = []
        self.cursor: str | None = None

    def one(self, stats: dict) -> None:
        roll = random.random()
        started = time.perf_counter()
        try:
            if roll < 0.3 or not self.mine:
                body = {"title": f"议题 {random.randrange(10 ** 9)}", "category": "城乡建设", "areas": [NODE],
                        "raised_by_kind": "public", "raised_by_name": "村民"}
                answer = self.http.post(self.url + "/api/v1/topics", json=body, headers={"X-CSRFToken": self.csrf},
                                        timeout=60)
                ok = answer.status_code == 201
                if ok:
                    self.mine.append(answer.json()["topic"]["uid"])
                kind = "raise"
            elif roll < 0.7:
                query = {"limit": 20, **({"cursor": self.cursor} if self.cursor else {})}
                answer = self.http.get(self.url + "/api/v1/topics", params=query, timeout=60)
                ok = answer.status_code == 200
                if ok:
                    self.cursor = answer.json()["next_cursor"]
                kind = "list"
            elif roll < 0.9:
                answer = self.http.get(f"{self.url}/api/v1/topics/{random.choice(self.mine)}", timeout=60)
                ok, kind = answer.status_code == 200, "show"
            else:
                uid = random.choice(self.mine)
                stage = self.http.get(f"{self.url}/api/v1/topics/{uid}", timeout=60).json()["stage"]
                order = ["collected", "determined", "researching", "consulting", "implementing", "feedback"]
                following = order[order.index(stage) + 1] if stage in order[:-1] else None
                if following is None:
                    self.mine.remove(uid)
                    return
                answer = self.http.post(f"{self.url}/api/v1/topics/{uid}/actions", json={"action": "advance",
                                        "to_stage": following}, headers={"X-CSRFToken": self.csrf}, timeout=60)
                ok, kind = answer.status_code in (200, 409), "advance"  # 409: another client moved it first
        except requests.RequestException as exc:
            ok, kind = False, f"connection: {type(exc).__name__}"
        elapsed = time.perf_counter() - started
        with stats["lock"]:
            stats["requests"] += 1
            if not ok:
                stats["errors"].append(kind if kind.startswith("connection") else f"{kind} {answer.status_code}")
            if kind == "list":
                stats["list_ms"].append(elapsed * 1000)


def run(clients: list[Client], seconds: float, rate: float | None, stats: dict) -> None:
    stop = time.monotonic() + seconds
    interval = None if rate is None else len(clients) / rate

    def loop(client: Client) -> None:
        next_at = time.monotonic()
        while time.monotonic() < stop:
            client.one(stats)
            if interval is not None:
                next_at += interval
                time.sleep(max(0.0, next_at - time.monotonic()))

    threads = [threading.Thread(target=loop, args=(c,), daemon=True) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def new_stats() -> dict:
    return {"lock": threading.Lock(), "requests": 0, "errors": [], "list_ms": []}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--probe", type=float, default=20)
    parser.add_argument("--every", type=float, default=30)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()

    base = Path(tempfile.mkdtemp(prefix="shangliang-soak-"))
    node_dir, port = base / "node", free_port()
    url = f"http://127.0.0.1:{port}"
    server = None
    try:
        cli(None, "init", str(node_dir), "--id", NODE, "--name", "宁远堡镇", "--url", url)
        cli(node_dir, "users", "add", "clerk", "--role", "office", "--password-stdin", input=PASSWORD + "\n")
        log = open(base / "serve.log", "ab")
        server = subprocess.Popen([sys.executable, "-m", "shangliang.core", "--node", str(node_dir), "serve", "--port",
                                   str(port), "--workers", "2"], stdout=log, stderr=subprocess.STDOUT, env=ENV,
                                  start_new_session=True)
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(url + "/healthz", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("the node did not come up")
            time.sleep(0.3)
        clients = [Client(url) for _ in range(args.clients)]
        load_before = os.getloadavg()

        probe = new_stats()
        run(clients, args.probe, None, probe)
        capacity = probe["requests"] / args.probe
        rate = capacity / 2

        stats, samples, windows = new_stats(), [], []
        started = time.monotonic()
        soaker = threading.Thread(target=run, args=(clients, args.seconds, rate, stats), daemon=True)
        soaker.start()
        last_list = 0
        while soaker.is_alive():
            soaker.join(timeout=args.every)
            at = time.monotonic() - started
            memory = rss_mb(node_dir)
            with stats["lock"]:
                window = stats["list_ms"][last_list:]
                last_list = len(stats["list_ms"])
                done, errors = stats["requests"], len(stats["errors"])
            samples.append({"at_s": round(at, 1), **memory, "requests": done, "errors": errors})
            if len(window) >= MIN_WINDOW:  # the last, partial window holds a handful of requests: no median
                windows.append(round(statistics.median(window), 1))
            print(json.dumps(samples[-1]), file=sys.stderr, flush=True)
        steady = [(s["at_s"], s["worker"]) for s in samples[1:]]
        web = [(s["at_s"], s["web"]) for s in samples[1:]]
        result = {
            "seconds": args.seconds, "clients": args.clients,
            "capacity_per_s": round(capacity, 1), "rate_per_s": round(rate, 1),
            "requests": stats["requests"], "achieved_per_s": round(stats["requests"] / args.seconds, 1),
            "errors": len(stats["errors"]), "error_kinds": sorted(set(stats["errors"]))[:10],
            "worker_mb_first_last": [samples[0]["worker"], samples[-1]["worker"]] if samples else None,
            "worker_mb_per_min": round(slope(steady), 3),
            "web_mb_first_last": [samples[0]["web"], samples[-1]["web"]] if samples else None,
            "web_mb_per_min": round(slope(web), 3),
            "list_p50_ms_by_window": windows,
            "list_p50_last_over_first": round(windows[-1] / windows[0], 2) if len(windows) > 1 else None,
            "load_before": [round(x, 2) for x in load_before], "load_after": [round(x, 2) for x in os.getloadavg()],
        }
        print(json.dumps(result, ensure_ascii=False))
        if result["errors"]:
            sys.exit(1)
    finally:
        if server is not None and server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
