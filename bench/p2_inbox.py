"""P2: accepted 3-hop escalations per second at a node's inbox, against a bare Flask inbox on the same database.

The node is province 62, made with ``shangliang init`` on PostgreSQL (a schema of its own) and
Redis, its child 6203 pinned with ``peers add``, served by ``shangliang serve --workers 2
--no-worker`` with the per-peer rate limit raised. The baseline is bench/bare_app.py under the
same gunicorn options, inserting into its own table in the same schema. bench/loadgen.py sends each
of N distinct envelopes once (concurrency 8, time limit), node then baseline in each round; the
ratio is the median of the rounds' ratios, the absolute rates the best rounds. Afterwards both
inboxes run in process (Flask test client, same database): SQL statements per message, and for
the node where the time goes, stage by stage.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (BENCH, CITY, PROVINCE, PYTHON, REDIS_URL, Procs, bench_keys, clean_env,  # noqa: E402
                    create_schemas, drop_schemas, exit_on_sigterm, free_port, log, make_nodes, pg_connect,
                    redis_cleanup, redis_client, result_line, schema_url, shangliang, signing_inputs,
                    three_hop_envelope, wait_http)

RATE_ENV = {"SHANGLIANG_FEDERATION_RATE_PER_MINUTE": "10000000", "SHANGLIANG_FEDERATION_BURST": "1000000"}


def write_batch(path: Path, keys, count: int) -> list[bytes]:
    from shangliang.federation import canonical

    bodies = [canonical.dumps(three_hop_envelope(keys)) for _ in range(count)]
    path.write_bytes(b"\n".join(bodies) + b"\n")
    return bodies


def load(port: int, path: Path, concurrency: int, seconds: float) -> dict:
    out = subprocess.run([PYTHON, str(BENCH / "loadgen.py"), "--port", str(port), "--file", str(path),
                          "--concurrency", str(concurrency), "--seconds", str(seconds)],
                         capture_output=True, text=True, timeout=seconds + 60, env=clean_env())
    if out.returncode != 0:
        raise RuntimeError(f"loadgen failed: {out.stderr[-800:]}")
    return json.loads(out.stdout)


class Stages:
    """Wall and CPU time per labelled call; a labelled call inside another one counts for the outer one."""

    def __init__(self) -> None:
        self.depth = 0
        self.wall: dict[str, float] = {}
        self.cpu: dict[str, float] = {}

    def wrap(self, label: str, fn):
        def timed(*args, **kwargs):
            if self.depth:
                return fn(*args, **kwargs)
            self.depth += 1
            wall, cpu = time.perf_counter(), time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                self.depth -= 1
                self.wall[label] = self.wall.get(label, 0.0) + time.perf_counter() - wall
                self.cpu[label] = self.cpu.get(label, 0.0) + time.process_time() - cpu

        return timed


def profile_inbox(node_dir: Path, keys, count: int) -> dict:
    """The node's inbox in this process (Flask test client, same database): statements and time per stage."""
    os.environ.update(RATE_ENV)
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    from shangliang.core.app import create_app
    from shangliang.federation import canonical, inbox

    app = create_app(node_dir)
    engine = app.extensions["shangliang.db"].engine
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2].split()[0].upper()))
    client = app.test_client()
    headers = {"Content-Type": "application/json"}

    def send(bodies):
        for body in bodies:
            response = client.post("/federation/v1/inbox", data=body, headers=headers)
            assert response.status_code == 202, response.get_data(as_text=True)

    send([canonical.dumps(three_hop_envelope(keys)) for _ in range(20)])  # warm up
    bodies = [canonical.dumps(three_hop_envelope(keys)) for _ in range(count)]
    statements.clear()
    wall, cpu = time.perf_counter(), time.process_time()
    send(bodies)
    wall, cpu = (time.perf_counter() - wall) / count * 1e6, (time.process_time() - cpu) / count * 1e6
    by_verb: dict[str, float] = {}
    for statement in statements:
        by_verb[statement] = by_verb.get(statement, 0) + 1
    statement_count = len(statements) / count

    # Stage by stage, by wrapping the calls the inbox makes (this process only; nothing in federation/ changes).
    stages = Stages()
    saved = (inbox.verify, inbox.PinnedPeers, Session.get, Session.execute, Session.commit, Session.close)
    inbox.verify = stages.wrap("verify(): profile, 4 signatures, chain, route", inbox.verify)
    inbox.PinnedPeers = stages.wrap("PinnedPeers: SELECT peers, SELECT their keys (+ pool pre-ping)", inbox.PinnedPeers)
    Session.get = stages.wrap("Session.get: duplicate check; Peer re-read in _inbound_success, "
                              "which autoflushes the INSERT", Session.get)
    Session.execute = stages.wrap("Session.execute: (origin, id) core-hash look-up", Session.execute)
    Session.commit = stages.wrap("COMMIT", Session.commit)
    Session.close = stages.wrap("session close at teardown", Session.close)
    bodies = [canonical.dumps(three_hop_envelope(keys)) for _ in range(count)]
    total_wall, total_cpu = time.perf_counter(), time.process_time()
    try:
        send(bodies)
    finally:
        inbox.verify, inbox.PinnedPeers, Session.get, Session.execute, Session.commit, Session.close = saved
    total_wall, total_cpu = time.perf_counter() - total_wall, time.process_time() - total_cpu
    table = {label: {"wall_us": round(stages.wall[label] / count * 1e6),
                     "cpu_us": round(stages.cpu[label] / count * 1e6)} for label in stages.wall}
    table["the rest: WSGI, Flask, view, rate limiter, body check, ORM objects"] = {
        "wall_us": round((total_wall - sum(stages.wall.values())) / count * 1e6),
        "cpu_us": round((total_cpu - sum(stages.cpu.values())) / count * 1e6)}
    app.extensions["shangliang.db"].engine.dispose()
    return {"messages": count, "per_message_wall_us": round(wall), "per_message_cpu_us": round(cpu),
            "sql_statements_per_message": round(statement_count, 2),
            "statements_by_verb": {k: round(v / count, 2) for k, v in sorted(by_verb.items())},
            "stages_per_message": table}


def bare_profile(schema: str, pinned_b64: str, keys, count: int) -> dict:
    """The bare app in this process, for comparison: wall and CPU time per message."""
    import bare_app
    from shangliang.federation import canonical

    app = bare_app.create_app(schema_url(schema), pinned_b64)
    client = app.test_client()
    headers = {"Content-Type": "application/json"}
    for body in [canonical.dumps(three_hop_envelope(keys)) for _ in range(20)]:
        client.post("/federation/v1/inbox", data=body, headers=headers)
    bodies = [canonical.dumps(three_hop_envelope(keys)) for _ in range(count)]
    wall, cpu = time.perf_counter(), time.process_time()
    for body in bodies:
        assert client.post("/federation/v1/inbox", data=body, headers=headers).status_code == 202
    return {"per_message_wall_us": round((time.perf_counter() - wall) / count * 1e6),
            "per_message_cpu_us": round((time.process_time() - cpu) / count * 1e6), "sql_statements_per_message": 1}


def commit_cost(schema: str, count: int = 200) -> dict:
    """What one durable single-row COMMIT costs on this PostgreSQL (its WAL flush), and a SELECT 1."""
    with pg_connect(schema) as conn:
        conn.execute("CREATE TABLE bench_commit (x integer)")
        timings = {}
        for label, statement in (("insert_commit_us", "INSERT INTO bench_commit VALUES (1)"),
                                 ("select_1_us", "SELECT 1")):
            samples = []
            for _ in range(count):
                began = time.perf_counter()
                conn.execute(statement)
                samples.append(time.perf_counter() - began)
            samples.sort()
            timings[label] = round(samples[count // 2] * 1e6)
        conn.execute("DROP TABLE bench_commit")
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run-id", default=uuid.uuid4().hex[:8])
    parser.add_argument("--requests", type=int, default=1000, help="per round and server")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20.0, help="time limit per round and server")
    parser.add_argument("--profile-messages", type=int, default=300)
    args = parser.parse_args()
    exit_on_sigterm()

    run = args.run_id
    schema = f"bench_{run}_p2"
    work = Path(tempfile.mkdtemp(prefix=f"shangliang-bench-{run}-p2-"))
    procs = Procs()
    redis_before = set(redis_client().scan_iter())
    try:
        create_schemas(schema)
        node_port, bare_port = free_port(), free_port()
        keys = bench_keys()
        log(f"P2: init province node {PROVINCE} on schema {schema}")
        dirs = make_nodes(work, {PROVINCE: f"http://127.0.0.1:{node_port}"}, {PROVINCE: schema_url(schema)},
                          REDIS_URL, {PROVINCE: f"bench.{run}.p2"})
        node_dir = dirs[PROVINCE]
        city_line = f"{keys[CITY].key_id}:{keys[CITY].public_b64}"
        subprocess.run(shangliang("--node", str(node_dir), "peers", "add", CITY, "http://127.0.0.1:9", city_line),
                       check=True, capture_output=True, env=clean_env())

        log(f"P2: writing {args.rounds} × {args.requests} distinct envelopes")
        warm = work / "warm.ndjson"
        bodies = write_batch(warm, keys, 200)
        import bare_app
        from shangliang.federation import canonical

        sample = canonical.loads(bodies[0])
        ours = signing_inputs(sample)
        theirs = bare_app.signing_inputs(sample, keys[CITY].public)
        assert [m for _, m, _ in ours] == [m for _, m, _ in theirs], "bare app signs other bytes than the node"
        batches = []
        for index in range(args.rounds):
            for server in ("node", "bare"):
                path = work / f"round{index}-{server}.ndjson"
                write_batch(path, keys, args.requests)
                batches.append((index, server, path))

        log("P2: starting the node (shangliang serve --workers 2 --no-worker) and the bare app (gunicorn, 2 workers)")
        procs.start("node", shangliang("--node", str(node_dir), "serve", "--workers", "2", "--no-worker"),
                    work / "node.log", clean_env(**RATE_ENV))
        procs.start("bare", [PYTHON, str(BENCH / "launch.py"), "bare", "--port", str(bare_port), "--workers", "2",
                             "--conninfo", schema_url(schema), "--pinned", keys[CITY].public_b64],
                    work / "bare.log")
        wait_http(f"http://127.0.0.1:{node_port}/federation/v1/node", 60, procs)
        wait_http(f"http://127.0.0.1:{bare_port}/healthz", 60, procs)
        ports = {"node": node_port, "bare": bare_port}
        for server in ("node", "bare"):  # warm up: every worker process loaded, every connection pool filled
            half = work / f"warm-{server}.ndjson"
            lines = bodies[:100] if server == "node" else bodies[100:]
            half.write_bytes(b"\n".join(lines) + b"\n")
            warmed = load(ports[server], half, args.concurrency, 20)
            if warmed["statuses"].get("202") != 100:
                raise RuntimeError(f"{server} warm-up: {warmed} (the end of its log is above)")

        rounds = []
        for index, server, path in batches:
            outcome = load(ports[server], path, args.concurrency, args.seconds)
            outcome.update(round=index + 1, server=server)
            rounds.append(outcome)
            log(f"P2 round {index + 1} {server}: {outcome['accepted_per_s']:.0f} accepted/s "
                f"({outcome['statuses']}, {outcome['elapsed_s']} s, p50 {outcome['latency_ms']['p50']} ms)")
            if set(outcome["statuses"]) != {"202"}:
                raise RuntimeError(f"{server} answered {outcome['statuses']}; the end of its log is above")
        procs.check_alive()
        procs.stop()

        with pg_connect(schema) as conn:
            stored_node = conn.execute("SELECT count(*) FROM fed_inbox").fetchone()[0]
            stored_bare = conn.execute("SELECT count(*) FROM bare_inbox").fetchone()[0]
        sent = {s: 100 + sum(r["statuses"].get("202", 0) for r in rounds if r["server"] == s) for s in ("node", "bare")}
        if (stored_node, stored_bare) != (sent["node"], sent["bare"]):
            raise RuntimeError(f"rows stored {stored_node}/{stored_bare} differ from 202s {sent}")

        log(f"P2: profiling the inbox in process ({args.profile_messages} messages)")
        profile = profile_inbox(node_dir, keys, args.profile_messages)
        bare_in_process = bare_profile(schema, keys[CITY].public_b64, keys, args.profile_messages)
        postgresql = commit_cost(schema)

        best = {s: max(r["accepted_per_s"] for r in rounds if r["server"] == s) for s in ("node", "bare")}
        # Each round's node ÷ bare (run one after the other), then the median over rounds.
        ratios = sorted(node["accepted_per_s"] / bare["accepted_per_s"]
                        for node, bare in zip(rounds[0::2], rounds[1::2]))
        middle = len(ratios) // 2
        ratio = ratios[middle] if len(ratios) % 2 else (ratios[middle - 1] + ratios[middle]) / 2
        result_line({
            "p2_inbox_ratio": round(ratio, 3),
            "ratio_of_best_rounds": round(best["node"] / best["bare"], 3),
            "node_accepted_per_s": best["node"],
            "bare_accepted_per_s": best["bare"],
            "requests_per_round": args.requests, "concurrency": args.concurrency, "rounds": rounds,
            "rows_stored": {"node": stored_node, "bare": stored_bare},
            "inbox_profile": profile,
            "bare_profile": bare_in_process,
            "postgresql_p50": postgresql,
        })
    except BaseException:
        procs.dump_logs()
        raise
    finally:
        procs.stop()
        dropped = drop_schemas(f"bench_{run}_p2")
        keys_deleted = redis_cleanup(run, redis_before)
        shutil.rmtree(work, ignore_errors=True)
        log(f"P2: cleaned up (schemas {dropped}, {keys_deleted} Redis keys, {work})")


if __name__ == "__main__":
    main()
