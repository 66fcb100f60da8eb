"""P5: topics raised per second through ``POST /api/v1/topics``, against a bare Flask API on the same database.

The node is county 620302, made with ``shangliang init`` on PostgreSQL (a schema of its own) and
Redis, an office user added with ``shangliang users add --role office --password-stdin``, served
by ``shangliang serve --workers 2 --no-worker``. The requests are authenticated as the node's
pages authenticate theirs: the benchmark signs in once on ``/login`` (one scrypt password check)
and every request carries the session cookie and its CSRF token (``X-CSRFToken``), as
docs/api.md describes. HTTP Basic, the other way in, checks the password — a scrypt hash, about
0.1 s of CPU on purpose — on every request; its rate is measured in a short round of its own and
reported beside the figure, not in it. Each request is the JSON ``TopicIn`` takes (a township
matter of realistic size about two townships of the county, raised by a member, named by the
office); the node keeps the topic, its event and their audit rows and answers 201 with the topic
and the routing suggestion.

The baseline is bench/bare_app.py's ``create_api_app`` under the same gunicorn options (through
bench/launch.py): it validates the same JSON with a pydantic model of the same fields and inserts
one row. bench/loadgen.py sends each of N distinct bodies once (concurrency 8, time limit), node
then baseline in each round; the ratio is the median of the rounds' ratios, the absolute rates the
best rounds; the rows stored are counted against the 201 answers. Afterwards the node's API runs
in process (Flask test client, same database, signed in the same way): SQL statements, the tables
written and time per request; the bare API's time per request beside it.
"""

from __future__ import annotations

import argparse
import base64
import json
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (BENCH, COUNTY, PYTHON, REDIS_URL, Procs, clean_env, create_schemas, drop_schemas,  # noqa: E402
                    exit_on_sigterm, free_port, load, log, make_nodes, median, pg_connect, redis_cleanup,
                    redis_client, result_line, schema_url, shangliang, tables_written, topic_body, wait_http)

API = "/api/v1/topics"
USER = "bench-office"
AGENT = "shangliang-bench"  # one User-Agent for the sign-in and the load: Flask-Login's session protection
WARM = 100
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def api_body(index: int) -> dict:
    """What ``TopicIn`` takes: the escalations' township matter (bench/common.py), numbered to be distinct."""
    topic = topic_body("", 0)["topic"]
    return {"title": f"{topic['title']}（{index}）", "description": topic["description"],
            "category": topic["category"], "areas": topic["areas"], "raised_by_kind": topic["raised_by"]["kind"],
            "raised_by_name": topic["raised_by"]["name"]}


def write_batch(path: Path, start: int, count: int) -> None:
    lines = [json.dumps(api_body(start + i), ensure_ascii=False).encode("utf-8") for i in range(count)]
    path.write_bytes(b"\n".join(lines) + b"\n")


def csrf_token(html: str) -> str:
    found = CSRF.search(html)
    if not found:
        raise RuntimeError("no csrf_token in the page")
    return found.group(1) or found.group(2)


def sign_in(port: int, password: str) -> list[str]:
    """Sign in on /login as the pages do; the headers every API request then sends (cookie, CSRF token, agent)."""
    import requests

    base = f"http://127.0.0.1:{port}"
    with requests.Session() as http:
        http.headers["User-Agent"] = AGENT
        page = http.get(f"{base}/login", timeout=10)
        page.raise_for_status()
        answer = http.post(f"{base}/login", data={"csrf_token": csrf_token(page.text), "username": USER,
                                                  "password": password}, allow_redirects=False, timeout=30)
        if answer.status_code != 302:
            raise RuntimeError(f"sign-in answered {answer.status_code}: {answer.text[:300]}")
        home = http.get(f"{base}/", timeout=10)  # a page of the signed-in session: its CSRF token
        home.raise_for_status()
        token = csrf_token(home.text)
        cookie = "; ".join(f"{c.name}={c.value}" for c in http.cookies)
        headers = [f"Cookie: {cookie}", f"X-CSRFToken: {token}", f"User-Agent: {AGENT}"]
        check = http.post(f"{base}{API}", json=api_body(0), headers={"X-CSRFToken": token}, timeout=30)
        if check.status_code != 201:
            raise RuntimeError(f"POST {API} with the session answered {check.status_code}: {check.text[:300]}")
    return headers


def profile_api(node_dir: Path, password: str, count: int) -> dict:
    """The node's POST /api/v1/topics in this process (Flask test client, same database, signed in on /login):
    SQL statements, the tables written, wall and CPU time per request."""
    from sqlalchemy import event

    from shangliang.core.app import create_app

    app = create_app(node_dir)
    engine = app.extensions["shangliang.db"].engine
    statements: list[str] = []

    def on_statement(_conn, _cursor, statement, *_):
        statements.append(statement)

    client = app.test_client()
    environ = {"HTTP_USER_AGENT": AGENT}
    page = client.get("/login", environ_base=environ)
    answer = client.post("/login", data={"csrf_token": csrf_token(page.get_data(as_text=True)), "username": USER,
                                         "password": password}, environ_base=environ)
    assert answer.status_code == 302, answer.status_code
    token = csrf_token(client.get("/", environ_base=environ).get_data(as_text=True))

    def send(first: int, n: int) -> None:
        for index in range(first, first + n):
            response = client.post(API, json=api_body(index), headers={"X-CSRFToken": token}, environ_base=environ)
            assert response.status_code == 201, response.get_data(as_text=True)[:300]

    send(1, 20)  # warm up
    event.listen(engine, "before_cursor_execute", on_statement)
    try:
        wall, cpu = time.perf_counter(), time.process_time()
        send(21, count)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    finally:
        event.remove(engine, "before_cursor_execute", on_statement)
        engine.dispose()
    by_verb: dict[str, int] = {}
    written: dict[str, int] = {}
    for statement in statements:
        verb = statement.split()[0].upper()
        by_verb[verb] = by_verb.get(verb, 0) + 1
        for write in tables_written(statement):
            written[write] = written.get(write, 0) + 1
    return {"requests": count, "per_request_wall_us": round(wall / count * 1e6),
            "per_request_cpu_us": round(cpu / count * 1e6),
            "sql_statements_per_request": round(len(statements) / count, 2),
            "statements_by_verb": {k: round(v / count, 2) for k, v in sorted(by_verb.items())},
            "writes_by_table": {k: round(v / count, 2) for k, v in sorted(written.items())},
            "rows": count + 20}


def bare_profile(schema: str, count: int) -> dict:
    """The bare API in this process, for comparison: wall and CPU time per request."""
    import bare_app

    client = bare_app.create_api_app(schema_url(schema)).test_client()
    for index in range(20):
        client.post(API, json=api_body(index))
    bodies = [api_body(index) for index in range(count)]
    wall, cpu = time.perf_counter(), time.process_time()
    for body in bodies:
        assert client.post(API, json=body).status_code == 201
    return {"per_request_wall_us": round((time.perf_counter() - wall) / count * 1e6),
            "per_request_cpu_us": round((time.process_time() - cpu) / count * 1e6), "sql_statements_per_request": 1}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run-id", default=uuid.uuid4().hex[:8])
    parser.add_argument("--requests", type=int, default=1000, help="per round and server")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20.0, help="time limit per round and server")
    parser.add_argument("--basic-requests", type=int, default=100,
                        help="requests of the HTTP Basic round (reported beside the figure; 0: none)")
    parser.add_argument("--profile-requests", type=int, default=200)
    args = parser.parse_args()
    exit_on_sigterm()

    run = args.run_id
    schema = f"bench_{run}_p5"
    work = Path(tempfile.mkdtemp(prefix=f"shangliang-bench-{run}-p5-"))
    procs = Procs()
    redis_before = set(redis_client().scan_iter())
    try:
        create_schemas(schema)
        node_port, bare_port = free_port(), free_port()
        log(f"P5: init county node {COUNTY} on schema {schema}, an office user")
        dirs = make_nodes(work, {COUNTY: f"http://127.0.0.1:{node_port}"}, {COUNTY: schema_url(schema)},
                          REDIS_URL, {COUNTY: f"bench.{run}.p5"})
        node_dir = dirs[COUNTY]
        password = secrets.token_urlsafe(18)
        subprocess.run(shangliang("--node", str(node_dir), "users", "add", USER, "--role", "office",
                                  "--password-stdin"), input=password + "\n", text=True, check=True,
                       capture_output=True, env=clean_env())

        log(f"P5: writing {args.rounds} × {args.requests} distinct topics per server")
        files = {server: work / f"warm-{server}.ndjson" for server in ("node", "bare")}
        next_index = 1
        for path in files.values():
            write_batch(path, next_index, WARM)
            next_index += WARM
        batches = []
        for index in range(args.rounds):
            for server in ("node", "bare"):
                path = work / f"round{index}-{server}.ndjson"
                write_batch(path, next_index, args.requests)
                next_index += args.requests
                batches.append((index, server, path))
        basic_file = work / "basic.ndjson"
        write_batch(basic_file, next_index, args.basic_requests)
        next_index += args.basic_requests

        log("P5: starting the node (shangliang serve --workers 2 --no-worker) and the bare API (gunicorn, 2 workers)")
        procs.start("node", shangliang("--node", str(node_dir), "serve", "--workers", "2", "--no-worker"),
                    work / "node.log")
        procs.start("bare", [PYTHON, str(BENCH / "launch.py"), "bare-api", "--port", str(bare_port), "--workers", "2",
                             "--conninfo", schema_url(schema)], work / "bare.log")
        wait_http(f"http://127.0.0.1:{node_port}/federation/v1/node", 60, procs)
        wait_http(f"http://127.0.0.1:{bare_port}/healthz", 60, procs)
        headers = {"node": sign_in(node_port, password), "bare": []}
        ports = {"node": node_port, "bare": bare_port}
        for server in ("node", "bare"):  # warm up: every worker process loaded, every connection pool filled
            warmed = load(ports[server], files[server], args.concurrency, 30, API, headers[server], 201)
            if warmed["statuses"].get("201") != WARM:
                raise RuntimeError(f"{server} warm-up: {warmed} (the end of its log is above)")

        rounds = []
        for index, server, path in batches:
            outcome = load(ports[server], path, args.concurrency, args.seconds, API, headers[server], 201)
            outcome.update(round=index + 1, server=server)
            rounds.append(outcome)
            log(f"P5 round {index + 1} {server}: {outcome['accepted_per_s']:.0f} created/s "
                f"({outcome['statuses']}, {outcome['elapsed_s']} s, p50 {outcome['latency_ms']['p50']} ms)")
            if set(outcome["statuses"]) != {"201"}:
                raise RuntimeError(f"{server} answered {outcome['statuses']}; the end of its log is above")
        basic = None
        if args.basic_requests:
            credentials = base64.b64encode(f"{USER}:{password}".encode()).decode("ascii")
            basic = load(node_port, basic_file, args.concurrency, args.seconds, API,
                         [f"Authorization: Basic {credentials}", f"User-Agent: {AGENT}"], 201)
            log(f"P5 HTTP Basic: {basic['accepted_per_s']:.1f} created/s ({basic['statuses']}, {basic['elapsed_s']} s, "
                f"p50 {basic['latency_ms']['p50']} ms)")
            if set(basic["statuses"]) != {"201"}:
                raise RuntimeError(f"node answered {basic['statuses']} with HTTP Basic; the end of its log is above")
        procs.check_alive()
        procs.stop()

        created = {s: WARM + sum(r["statuses"].get("201", 0) for r in rounds if r["server"] == s)
                   for s in ("node", "bare")}
        created["node"] += 1 + (basic["statuses"].get("201", 0) if basic else 0)  # sign_in's check, the Basic round
        with pg_connect(schema) as conn:
            stored = {"node": conn.execute("SELECT count(*) FROM topics").fetchone()[0],
                      "bare": conn.execute("SELECT count(*) FROM bare_topics").fetchone()[0]}
        if stored != created:
            raise RuntimeError(f"rows stored {stored} differ from the 201 answers {created}")

        log(f"P5: the API in process ({args.profile_requests} requests)")
        profile = profile_api(node_dir, password, args.profile_requests)
        bare_in_process = bare_profile(schema, args.profile_requests)

        best = {s: max(r["accepted_per_s"] for r in rounds if r["server"] == s) for s in ("node", "bare")}
        ratios = [node["accepted_per_s"] / bare["accepted_per_s"] for node, bare in zip(rounds[0::2], rounds[1::2])]
        result_line({
            "p5_api_ratio": round(median(ratios), 3),
            "round_ratios": [round(r, 3) for r in ratios],
            "ratio_of_best_rounds": round(best["node"] / best["bare"], 3),
            "node_created_per_s": best["node"],
            "bare_created_per_s": best["bare"],
            "node_basic_created_per_s": basic and basic["accepted_per_s"],
            "authentication": "session cookie and X-CSRFToken after one sign-in on /login",
            "requests_per_round": args.requests, "concurrency": args.concurrency, "rounds": rounds,
            "basic_round": basic,
            "rows_stored": stored,
            "api_profile": profile,
            "bare_profile": bare_in_process,
        })
    except BaseException:
        procs.dump_logs()
        raise
    finally:
        procs.stop()
        dropped = drop_schemas(f"bench_{run}_p5")
        keys_deleted = redis_cleanup(run, redis_before)
        shutil.rmtree(work, ignore_errors=True)
        log(f"P5: cleaned up (schemas {dropped}, {keys_deleted} Redis keys, {work})")


if __name__ == "__main__":
    main()
