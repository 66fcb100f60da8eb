"""P2: 3-hop transfers and escalations accepted per second at a node's inbox, against a bare Flask inbox.

Two figures, both ÷ the same bare inbox in the same run, on the same PostgreSQL schema:

* ``p2_inbox_ratio`` — the inbox accepting and storing a transfer: ``x-bench.transfer`` envelopes
  (bench/transfer_kind.py: the escalation's hops and body, a kind no feature acts on), so the node
  verifies, checks, decides the transfer is new and stores its ``fed_inbox`` row, nothing else;
* ``p2t_escalation_ratio`` — an accepted escalation including the topic's state and the audit row:
  ``topic.escalate`` envelopes, which the topics feature keeps (the topic, its event, their audit
  rows) and the similar-matters feature indexes, in the inbox's transaction.

The node is province 62, made with ``shangliang init`` on PostgreSQL (a schema of its own) and
Redis, its child 6203 pinned with ``peers add``, served by bench/launch.py as ``shangliang serve
--workers 2 --no-worker`` serves it (the same gunicorn options, the metrics directory) with
bench/transfer_kind.py registered, and the per-peer rate limit raised. The baseline is
bench/bare_app.py under the same gunicorn options, inserting into its own table in the same
schema. bench/loadgen.py sends each of N distinct envelopes once (concurrency 8, time limit):
transfers, escalations, then the baseline in each round; each ratio is the median of the rounds'
ratios, the absolute rates the best rounds. The rows stored are counted against the 202 answers.
Afterwards both kinds run in process (Flask test client, same database): SQL statements per
message and where the time goes, stage by stage; the transfer kind must write no table but the
federation's own. The same for the bare inbox.
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
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
                    create_schemas, drop_schemas, exit_on_sigterm, free_port, load, log, make_nodes, median,
                    pg_connect, redis_cleanup, redis_client, result_line, schema_url, shangliang, signing_inputs,
                    tables_written, three_hop_envelope, wait_http)
from transfer_kind import KIND as TRANSFER  # noqa: E402

RATE_ENV = {"SHANGLIANG_FEDERATION_RATE_PER_MINUTE": "10000000", "SHANGLIANG_FEDERATION_BURST": "1000000"}
ESCALATE = "topic.escalate"
#: The node's two variants and the baseline, in the order each round runs them; the kind each is sent.
SERVERS = {"transfer": TRANSFER, "escalation": ESCALATE, "bare": ESCALATE}
WARM = 100  # envelopes each server variant gets before the rounds


def write_batch(path: Path, keys, count: int, kind: str = ESCALATE) -> list[bytes]:
    from shangliang.federation import canonical

    bodies = [canonical.dumps(three_hop_envelope(keys, kind=kind)) for _ in range(count)]
    path.write_bytes(b"\n".join(bodies) + b"\n")
    return bodies


class Stages:
    """Wall and CPU time, calls and SQL statements per labelled call; a labelled call inside another one counts
    for the outer one, and so do the statements it makes."""

    def __init__(self) -> None:
        self.depth = 0
        self.current: str | None = None
        self.wall: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        self.calls: dict[str, int] = {}

    def wrap(self, label: str, fn):
        def timed(*args, **kwargs):
            if self.depth:
                return fn(*args, **kwargs)
            self.depth += 1
            self.current = label
            wall, cpu = time.perf_counter(), time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                self.depth -= 1
                self.current = None
                self.wall[label] = self.wall.get(label, 0.0) + time.perf_counter() - wall
                self.cpu[label] = self.cpu.get(label, 0.0) + time.process_time() - cpu
                self.calls[label] = self.calls.get(label, 0) + 1

        return timed


def stage_targets(app) -> list[tuple[object, str, str]]:
    """(owner, attribute, label) of the calls the stage table times, whichever of them exist now.

    federation/inbox.py is rewritten from time to time, so nothing is named in advance: what its
    namespace holds from ``federation.verify`` and ``federation.peers`` (functions, and classes that
    are built per message — not dataclasses or exceptions), each plugin's implementation of the hook
    through which the features apply a message, and the session methods that reach the database.
    Each is labelled by what is called.
    """
    from sqlalchemy.orm import Session

    from shangliang.core.plugins import get_plugin_manager
    from shangliang.federation import inbox

    targets: list[tuple[object, str, str]] = []
    for name, value in sorted(vars(inbox).items()):
        origin = getattr(value, "__module__", "") or ""
        if origin not in ("shangliang.federation.verify", "shangliang.federation.peers"):
            continue
        if inspect.isfunction(value):
            targets.append((inbox, name, f"inbox.{name}() [{origin.rsplit('.', 1)[1]}]"))
        elif inspect.isclass(value) and not dataclasses.is_dataclass(value) and not issubclass(value, BaseException):
            targets.append((inbox, name, f"inbox.{name}(…) [{origin.rsplit('.', 1)[1]}]"))
    caller = getattr(get_plugin_manager(app).hook, "federation_message_accepted", None)
    for impl in caller.get_hookimpls() if caller is not None else []:  # each feature's effect, by its plugin
        targets.append((impl, "function", f"federation_message_accepted: {impl.plugin_name}"))
    for name in ("get", "execute", "scalar", "scalars", "flush", "commit", "close"):
        if hasattr(Session, name):
            targets.append((Session, name, f"Session.{name}"))
    return targets


def timed_replacement(stages: Stages, label: str, value):
    """``value`` timed under ``label``: a function wrapped, a class subclassed with its construction timed."""
    if inspect.isclass(value):
        init = stages.wrap(label, value.__init__)
        return type(value.__name__, (value,), {"__init__": lambda self, *a, **k: init(self, *a, **k),
                                               "__module__": value.__module__})
    return stages.wrap(label, value)


def profile_inbox(app, keys, count: int, kind: str) -> dict:
    """The node's inbox in this process (Flask test client, same database): statements and time per stage."""
    from sqlalchemy import event

    from shangliang.federation import canonical

    engine = app.extensions["shangliang.db"].engine
    stages = Stages()
    statements: list[tuple[str, str, list[str]]] = []  # (verb, stage, the tables it writes)

    def on_statement(_conn, _cursor, statement, *_):
        statements.append((statement.split()[0].upper(), stages.current or "the rest", tables_written(statement)))

    event.listen(engine, "before_cursor_execute", on_statement)
    client = app.test_client()
    headers = {"Content-Type": "application/json"}

    def send(bodies):
        for body in bodies:
            response = client.post("/federation/v1/inbox", data=body, headers=headers)
            assert response.status_code == 202, response.get_data(as_text=True)

    def envelopes(n: int) -> list[bytes]:
        return [canonical.dumps(three_hop_envelope(keys, kind=kind)) for _ in range(n)]

    try:
        send(envelopes(20))  # warm up
        bodies = envelopes(count)
        statements.clear()
        wall, cpu = time.perf_counter(), time.process_time()
        send(bodies)
        wall, cpu = (time.perf_counter() - wall) / count * 1e6, (time.process_time() - cpu) / count * 1e6
        by_verb: dict[str, float] = {}
        written: dict[str, float] = {}
        for verb, _stage, tables in statements:
            by_verb[verb] = by_verb.get(verb, 0) + 1
            for write in tables:
                written[write] = written.get(write, 0) + 1
        statement_count = len(statements) / count

        # Stage by stage, by wrapping the calls the inbox makes (this process only; nothing in federation/ changes).
        targets = stage_targets(app)
        # (a method a class inherits is put back by deleting the class's own copy)
        saved = [(owner, name, getattr(owner, name), isinstance(owner, type) and name not in owner.__dict__)
                 for owner, name, _ in targets]
        bodies = envelopes(count)
        statements.clear()
        stage_error = None
        total_wall, total_cpu = time.perf_counter(), time.process_time()
        try:
            for owner, name, label in targets:
                setattr(owner, name, timed_replacement(stages, label, getattr(owner, name)))
            send(bodies)
        except Exception as exc:  # a wrapper that no longer fits the inbox: the figures stand, the table does not
            stage_error = f"{type(exc).__name__}: {str(exc)[:300]}"
        finally:
            for owner, name, value, inherited in saved:
                if inherited:
                    if name in owner.__dict__:
                        delattr(owner, name)
                else:
                    setattr(owner, name, value)
        total_wall, total_cpu = time.perf_counter() - total_wall, time.process_time() - total_cpu
    finally:
        event.remove(engine, "before_cursor_execute", on_statement)
    per_stage_sql: dict[str, int] = {}
    for _verb, stage, _table in statements:
        per_stage_sql[stage] = per_stage_sql.get(stage, 0) + 1
    table: dict[str, dict] = {}
    if not stage_error:
        table = {label: {"calls": round(stages.calls[label] / count, 2),
                         "sql_statements": round(per_stage_sql.get(label, 0) / count, 2),
                         "wall_us": round(stages.wall[label] / count * 1e6),
                         "cpu_us": round(stages.cpu[label] / count * 1e6)} for label in stages.wall}
        table["the rest: WSGI, Flask, view, rate limiter, body check, hook dispatch, ORM objects"] = {
            "sql_statements": round(per_stage_sql.get("the rest", 0) / count, 2),
            "wall_us": round((total_wall - sum(stages.wall.values())) / count * 1e6),
            "cpu_us": round((total_cpu - sum(stages.cpu.values())) / count * 1e6)}
    profile = {"kind": kind, "messages": count, "per_message_wall_us": round(wall), "per_message_cpu_us": round(cpu),
               "sql_statements_per_message": round(statement_count, 2),
               "statements_by_verb": {k: round(v / count, 2) for k, v in sorted(by_verb.items())},
               "writes_by_table": {k: round(v / count, 2) for k, v in sorted(written.items())},
               "stages_per_message": table}
    if stage_error:
        profile["stages_error"] = stage_error
    return profile


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

        log(f"P2: writing {args.rounds} × {args.requests} distinct envelopes per server")
        import bare_app
        from shangliang.federation import canonical

        warm_files = {}
        for server, kind in SERVERS.items():
            warm_files[server] = work / f"warm-{server}.ndjson"
            bodies = write_batch(warm_files[server], keys, WARM, kind)
        sample = canonical.loads(bodies[0])
        ours = signing_inputs(sample)
        theirs = bare_app.signing_inputs(sample, keys[CITY].public)
        assert [m for _, m, _ in ours] == [m for _, m, _ in theirs], "bare app signs other bytes than the node"
        batches = []
        for index in range(args.rounds):
            for server, kind in SERVERS.items():
                path = work / f"round{index}-{server}.ndjson"
                write_batch(path, keys, args.requests, kind)
                batches.append((index, server, path))

        log("P2: starting the node (bench/launch.py web --metrics --plugin transfer_kind, 2 workers, as `shangliang "
            "serve --workers 2 --no-worker`) and the bare app (gunicorn, 2 workers)")
        procs.start("node", [PYTHON, str(BENCH / "launch.py"), "web", str(node_dir), "--port", str(node_port),
                             "--workers", "2", "--metrics", "--plugin", "transfer_kind"],
                    work / "node.log", clean_env(**RATE_ENV))
        procs.start("bare", [PYTHON, str(BENCH / "launch.py"), "bare", "--port", str(bare_port), "--workers", "2",
                             "--conninfo", schema_url(schema), "--pinned", keys[CITY].public_b64],
                    work / "bare.log")
        wait_http(f"http://127.0.0.1:{node_port}/federation/v1/node", 60, procs)
        wait_http(f"http://127.0.0.1:{bare_port}/healthz", 60, procs)
        ports = {"transfer": node_port, "escalation": node_port, "bare": bare_port}
        for server in SERVERS:  # warm up: every worker process loaded, every connection pool filled
            warmed = load(ports[server], warm_files[server], args.concurrency, 20)
            if warmed["statuses"].get("202") != WARM:
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
        # As under `serve`, each worker process wrote its request metrics to the node's metrics/ directory.
        metrics_files = len(list((node_dir / "metrics").glob("*.db")))

        accepted = {s: WARM + sum(r["statuses"].get("202", 0) for r in rounds if r["server"] == s) for s in SERVERS}
        with pg_connect(schema) as conn:
            stored = {
                "transfer": conn.execute("SELECT count(*) FROM fed_inbox WHERE kind = %s", (TRANSFER,)).fetchone()[0],
                "escalation": conn.execute("SELECT count(*) FROM fed_inbox WHERE kind = %s", (ESCALATE,)).fetchone()[0],
                "bare": conn.execute("SELECT count(*) FROM bare_inbox").fetchone()[0],
            }
            topics = conn.execute("SELECT count(*) FROM topics").fetchone()[0]
        if stored != accepted or topics != accepted["escalation"]:
            raise RuntimeError(f"rows stored {stored} (topics {topics}) differ from the 202 answers {accepted}")

        log(f"P2: profiling the inbox in process ({args.profile_messages} messages of each kind)")
        os.environ.update(RATE_ENV)
        import transfer_kind
        from shangliang.core.app import create_app

        app = create_app(node_dir, plugins=[transfer_kind])
        try:
            profiles = {server: profile_inbox(app, keys, args.profile_messages, SERVERS[server])
                        for server in ("transfer", "escalation")}
        finally:
            app.extensions["shangliang.db"].engine.dispose()
        foreign = [w for w in profiles["transfer"]["writes_by_table"] if not w.split()[1].startswith("fed_")]
        if foreign:
            raise RuntimeError(f"the transfer kind wrote more than the federation's tables: {foreign}; "
                               "p2_inbox_ratio would not be the inbox alone")
        bare_in_process = bare_profile(schema, keys[CITY].public_b64, keys, args.profile_messages)
        postgresql = commit_cost(schema)

        best = {s: max(r["accepted_per_s"] for r in rounds if r["server"] == s) for s in SERVERS}
        by_round = {(r["round"], r["server"]): r["accepted_per_s"] for r in rounds}
        # Each round's node ÷ bare (run one after the other), then the median over rounds.
        ratios = {s: [by_round[(i + 1, s)] / by_round[(i + 1, "bare")] for i in range(args.rounds)]
                  for s in ("transfer", "escalation")}
        result_line({
            "p2_inbox_ratio": round(median(ratios["transfer"]), 3),
            "p2t_escalation_ratio": round(median(ratios["escalation"]), 3),
            "round_ratios": {s: [round(r, 3) for r in v] for s, v in ratios.items()},
            "ratio_of_best_rounds": {s: round(best[s] / best["bare"], 3) for s in ("transfer", "escalation")},
            "node_transfers_per_s": best["transfer"],
            "node_escalations_per_s": best["escalation"],
            "bare_accepted_per_s": best["bare"],
            "requests_per_round": args.requests, "concurrency": args.concurrency, "rounds": rounds,
            "rows_stored": {**stored, "topics": topics},
            "node_metrics_files": metrics_files,
            "inbox_profile": profiles["transfer"],
            "escalation_profile": profiles["escalation"],
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
