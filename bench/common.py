"""What the benchmarks share: realistic envelopes, node directories made with the real CLI, child processes, cleanup.

Every process a benchmark starts is a ``Procs`` member: its own session (so one ``killpg`` stops it
with its gunicorn workers or Celery beat) and ``PR_SET_PDEATHSIG`` (so it dies with the benchmark
even if the benchmark is killed). PostgreSQL schemas and Redis keys carry the run id, so
``bench/run.py`` can sweep whatever a crashed benchmark left behind.
"""

from __future__ import annotations

import concurrent.futures
import ctypes
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Iterable
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
PYTHON = sys.executable
PG_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql://127.0.0.1:5432/test")
REDIS_URL = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/14")

# The route of every benchmark: township → county → city → province (甘肃省, 金昌市, 金川区 and a township of it).
TOWNSHIP, COUNTY, CITY, PROVINCE = "620302001", "620302", "6203", "62"
ROUTE = (TOWNSHIP, COUNTY, CITY, PROVINCE)
NAMES = {TOWNSHIP: "宁远堡镇政协工作联络组", COUNTY: "金川区政协", CITY: "金昌市政协", PROVINCE: "甘肃省政协"}


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- envelopes ---------------------------------------------------------------------------------------


def topic_body(uid: str, raised_ms: int) -> dict[str, Any]:
    """A ``topic.escalate`` body of realistic size (a township matter that needs the county and above)."""
    return {
        "topic": {
            "uid": uid,
            "title": "跨乡镇农村公路养护责任不清,群众出行不便",
            "description": ("宁远堡镇与双湾镇交界处的农村公路年久失修,雨季积水严重,两镇对养护责任各执一词。"
                            "村民多次通过委员工作站反映,镇级协商会议认为需由区、市统筹交通、财政部门共同研究,"
                            "明确养护主体与资金来源,并建立跨乡镇道路日常管护机制。"),
            "category": "城乡建设",
            "areas": [TOWNSHIP, "620302002"],
            "raised_by": {"kind": "member", "name": "张某某委员"},
            "raised_ms": raised_ms,
            "stage": "collected",
        },
        "reason": "涉及两个乡镇及区级部门职责,超出镇级协商范围,提请上级政协协调",
    }


def bench_keys() -> dict[str, Any]:
    """One in-memory signing key per node of the route (P1, P2: nodes that exist only as keys)."""
    from shangliang.federation.signing import NodeKey

    return {node: NodeKey(f"ed25519:k{node}", os.urandom(32)) for node in ROUTE}


def three_hop_envelope(keys: dict[str, Any], at_ms: int | None = None,
                       kind: str = "topic.escalate") -> dict[str, Any]:
    """A ``topic.escalate`` written by the township and escalated twice: three hops, the last to the province.

    Built with ``envelope.create`` and ``hops.append`` exactly as the outbox does; each relay attests
    the key it verified its predecessor with (``prev_key``). Another ``kind`` (P2's
    ``x-bench.transfer``, bench/transfer_kind.py) gets the same body and hops, and no ``topic``.
    """
    from shangliang.federation import envelope, hops
    from shangliang.federation.ids import now_ms, ulid

    now = at_ms or now_ms()
    uid = f"{TOWNSHIP}:{ulid(now)}"
    env = envelope.create(keys[TOWNSHIP], TOWNSHIP, kind, topic_body(uid, now - 86_400_000),
                          topic=uid if kind == "topic.escalate" else None, created_ms=now)
    env = hops.append(env, keys[TOWNSHIP], TOWNSHIP, COUNTY, "escalate", at_ms=now)

    def attest(node: str) -> dict[str, str]:
        return {"node": node, "id": keys[node].key_id, "public": keys[node].public_b64}

    env = hops.append(env, keys[COUNTY], COUNTY, CITY, "escalate", prev_key=attest(TOWNSHIP),
                      note="跨乡镇事项,提请市政协协调", at_ms=now + 1)
    env = hops.append(env, keys[CITY], CITY, PROVINCE, "escalate", prev_key=attest(COUNTY),
                      note="涉及市级部门职责,提请省政协协调", at_ms=now + 2)
    return env


class MemoryPeers:
    """The province's pinned neighbours, in memory (``verify.Peers``): its child the city."""

    def __init__(self, keys: dict[str, Any]):
        self._key = keys[CITY]

    def relation(self, node: str) -> str | None:
        return "child" if node == CITY else None

    def key(self, node: str, key_id: str, at_ms: int) -> bytes | None:
        return self._key.public if node == CITY and key_id == self._key.key_id else None


def signing_inputs(env: dict[str, Any]) -> list[tuple[bytes, bytes, bytes]]:
    """The four (public key, signing input, signature) a receiver checks, in the order ``verify`` checks them."""
    from shangliang.federation import canonical, envelope, hops
    from shangliang.federation.signing import PREFIX, b64u_decode

    hop_list = env["hops"]
    out = []
    for index in range(len(hop_list) - 1, -1, -1):
        hop = hop_list[index]
        public = (b64u_decode(hop_list[index + 1]["prev_key"]["public"], "k", 32) if index + 1 < len(hop_list)
                  else None)
        message = PREFIX + b"hop\x00" + canonical.dumps(hops.unsigned(hop))
        out.append((public, message, b64u_decode(hop["sig"], "s", 64)))
    core = PREFIX + b"envelope\x00" + canonical.dumps(envelope.core_of(env))
    origin_key = b64u_decode(hop_list[1]["prev_key"]["public"], "k", 32)
    out.append((origin_key, core, b64u_decode(env["sig"]["value"], "s", 64)))
    return out


# -- processes ---------------------------------------------------------------------------------------


def _die_with_parent() -> None:
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def exit_on_sigterm() -> None:
    """Turn SIGTERM (bench/run.py's time limit) into SystemExit, so that ``finally`` blocks clean up."""
    signal.signal(signal.SIGTERM, lambda _sig, _frame: sys.exit(143))


def clean_env(**extra: str) -> dict[str, str]:
    """The environment for a child: ours without any SHANGLIANG_* setting, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHANGLIANG_")}
    env.update(extra)
    return env


class Procs:
    """Child processes started by one benchmark; ``stop()`` ends them all, each by its process group."""

    def __init__(self) -> None:
        self.children: list[tuple[str, subprocess.Popen, Any]] = []

    def start(self, name: str, args: list[str], log_path: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
        handle = open(log_path, "ab")
        process = subprocess.Popen(args, stdout=handle, stderr=subprocess.STDOUT, env=env or clean_env(),
                                   cwd=str(ROOT), start_new_session=True, preexec_fn=_die_with_parent)
        self.children.append((name, process, handle))
        return process

    def check_alive(self) -> None:
        for name, process, handle in self.children:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode}; see {handle.name}")

    def dump_logs(self, lines: int = 30) -> None:
        """The end of each child's log on standard error (a benchmark failed; its directory is about to go)."""
        for name, _process, handle in self.children:
            handle.flush()
            text = Path(handle.name).read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
            print(f"----- {name} ({handle.name}) -----", *text, sep="\n", file=sys.stderr)

    def stop(self) -> None:
        for _name, process, _handle in self.children:
            _signal_group(process, signal.SIGTERM)
        deadline = time.time() + 20
        for _name, process, _handle in self.children:
            try:
                process.wait(timeout=max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                pass
        for _name, process, handle in self.children:
            _signal_group(process, signal.SIGKILL)  # stragglers of the group (a Celery beat child, say)
            if process.poll() is None:
                process.wait(timeout=5)
            handle.close()
        self.children.clear()


def _signal_group(process: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(process.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(url: str, timeout: float, procs: Procs | None = None) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        if procs is not None:
            procs.check_alive()
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


def run_parallel(commands: Iterable[list[str]], env: dict[str, str] | None = None, timeout: float = 120) -> list[str]:
    """Run commands at once; their standard outputs, in order; any failure raises with its output."""
    commands = list(commands)

    def one(args: list[str]) -> str:
        result = subprocess.run(args, capture_output=True, text=True, env=env or clean_env(), cwd=str(ROOT),
                                timeout=timeout)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:6])}… failed ({result.returncode}): {result.stderr.strip()[-800:]}")
        return result.stdout

    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, len(commands))) as pool:
        return list(pool.map(one, commands))


def shangliang(*args: str) -> list[str]:
    return [PYTHON, "-m", "shangliang.core", *args]


def load(port: int, path: Path, concurrency: int, seconds: float, url_path: str | None = None,
         headers: Iterable[str] = (), accept: int | None = None) -> dict:
    """bench/loadgen.py in a process of its own: each request of ``path`` once, its JSON report."""
    args = [PYTHON, str(BENCH / "loadgen.py"), "--port", str(port), "--file", str(path),
            "--concurrency", str(concurrency), "--seconds", str(seconds)]
    if url_path:
        args += ["--path", url_path]
    for header in headers:
        args += ["--header", header]
    if accept is not None:
        args += ["--accept", str(accept)]
    out = subprocess.run(args, capture_output=True, text=True, timeout=seconds + 60, env=clean_env())
    if out.returncode != 0:
        raise RuntimeError(f"loadgen failed: {out.stderr[-800:]}")
    return json.loads(out.stdout)


_WRITES = re.compile(r'\b(INSERT\s+INTO|(?<!FOR\s)(?<!DO\s)UPDATE|DELETE\s+FROM)\s+"?([A-Za-z_][\w.]*)"?', re.I)


def tables_written(statement: str) -> list[str]:
    """``INSERT table``, ``UPDATE table``, ``DELETE table`` for every write in a SQL statement, a CTE's too
    (``WITH … INSERT INTO``); not ``ON CONFLICT DO UPDATE`` or ``FOR UPDATE``."""
    return [f"{verb.split()[0].upper()} {table.split('.')[-1]}" for verb, table in _WRITES.findall(statement)
            if table.upper() != "SET"]


def median(values: Iterable[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


# -- nodes -------------------------------------------------------------------------------------------


def make_nodes(base: Path, nodes: dict[str, str], database_urls: dict[str, str] | None = None,
               broker_url: str | None = None, queues: dict[str, str] | None = None) -> dict[str, Path]:
    """``shangliang init`` each node (id → public URL); pair neighbours both ways with ``keys show`` / ``peers add``."""
    dirs = {node: base / f"node-{node}" for node in nodes}
    commands = []
    for node, url in nodes.items():
        args = ["init", str(dirs[node]), "--id", node, "--name", NAMES[node], "--url", url]
        if database_urls:
            args += ["--database-url", database_urls[node]]
        if broker_url:
            args += ["--broker-url", broker_url]
        commands.append(shangliang(*args))
    run_parallel(commands)
    if queues:
        for node, queue in queues.items():
            path = dirs[node] / "node.toml"
            path.write_text(f'task_queue = "{queue}"\n' + path.read_text(encoding="utf-8"), encoding="utf-8")
    lines = dict(zip(nodes, (out.strip() for out in run_parallel(shangliang("--node", str(dirs[n]), "keys", "show")
                                                                  for n in nodes))))
    from shangliang.core import divisions

    pairs = [(child, parent) for child in nodes for parent in nodes if divisions.parent_of(child) == parent]
    # Two `peers add` on one SQLite database at once would only wait on each other: one round per side.
    run_parallel(shangliang("--node", str(dirs[parent]), "peers", "add", *lines[child].split())
                 for child, parent in pairs)
    run_parallel(shangliang("--node", str(dirs[child]), "peers", "add", *lines[parent].split())
                 for child, parent in pairs)
    return dirs


# -- PostgreSQL and Redis ----------------------------------------------------------------------------


def schema_url(schema: str) -> str:
    separator = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{separator}options={quote(f'-csearch_path={schema}')}"


def pg_connect(schema: str | None = None):
    import psycopg

    url = schema_url(schema) if schema else PG_URL
    return psycopg.connect(url, autocommit=True)


def create_schemas(*schemas: str) -> None:
    with pg_connect() as conn:
        for schema in schemas:
            conn.execute(f'CREATE SCHEMA "{schema}"')


def drop_schemas(prefix: str) -> list[str]:
    """Drop every schema whose name starts with ``prefix`` (this run's); the names dropped."""
    with pg_connect() as conn:
        names = [r[0] for r in conn.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE %s",
                                            (prefix.replace("_", r"\_") + "%",))]
        for name in names:
            conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
    return names


def redis_client():
    import redis

    return redis.Redis.from_url(REDIS_URL)


def redis_cleanup(run_id: str, before: set[bytes] | None = None) -> int:
    """Delete this run's queues and bindings, and Celery's control keys that appeared during the run."""
    client = redis_client()
    doomed = set(client.scan_iter(match=f"*{run_id}*"))
    if before is not None:
        for key in client.scan_iter():
            text = key.decode("utf-8", "replace")
            if key not in before and (text.startswith("_kombu.") or text.startswith("unacked") or "pidbox" in text):
                doomed.add(key)
    if doomed:
        client.delete(*doomed)
    client.close()
    return len(doomed)


def result_line(data: dict[str, Any]) -> None:
    """A benchmark's result: one JSON line on standard output (progress goes to standard error)."""
    print(json.dumps(data, ensure_ascii=False), flush=True)
