"""P3: latency of an escalation township → county → city → province, each relay forwarding on its own.

Four nodes made with ``shangliang init`` and paired with ``keys show`` / ``peers add``, on
PostgreSQL (a schema each) and Redis (db 14, a queue each) with ``--backend redis``, or on the
embedded defaults (SQLite, embedded broker) with ``--backend embedded``. The county, the city and
the province serve their inbox with gunicorn; every node runs a Celery worker with beat; all are
started by bench/launch.py with bench/autoforward.py registered, so each relay passes an accepted
``topic.escalate`` to its parent in the inbox transaction. The township's "web" is not started:
nothing is sent to it.

One sample: in the township's app (this process), ``outbox.originate`` a new ``topic.escalate``
to the county and commit; t0 is taken in the first after-commit callback, before the one that hands
the row to the township's worker. The sample ends at the province's ``fed_inbox.received_ms`` for
that message (polled). Samples are sequential and spaced out; the first few are warm-up. The
county's and city's ``received_ms`` split each sample into its three transfers.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (BENCH, CITY, COUNTY, PROVINCE, PYTHON, REDIS_URL, ROUTE, TOWNSHIP, Procs,  # noqa: E402
                    create_schemas, drop_schemas, exit_on_sigterm, free_port, log, make_nodes, redis_cleanup,
                    redis_client, result_line, schema_url, topic_body, wait_http)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    rank = p * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


SEGMENTS = ("sender: rest of its transaction, COMMIT, hand-off to its worker",
            "sender's worker: deliver's checks and claim (UPDATE, COMMIT)",
            "HTTP: connect and send",
            "receiver: parse, verify, peer and duplicate checks, forward (outbox row)")


def breakdown(work: Path, engines: dict, results: list) -> dict:
    """Split each sample into four consecutive parts per transfer (they add up to the total); medians in ms.

    Marks: t0 (the township's commit), each sender's outbox row (``created_ms``, written inside the
    receiver's inbox transaction for relays), the trace of each ``deliver`` task and its POST, the
    trace of each inbox request, and the province's ``received_ms``.
    """
    import json

    from sqlalchemy import text

    deliveries: dict[tuple[str, int], dict] = {}
    requests_by_transfer: dict[str, dict] = {}
    for node in ROUTE:
        path = work / f"trace-worker-{node}.jsonl"
        if path.exists():
            for line in path.read_text().splitlines():
                mark = json.loads(line)
                if mark["outbox"] is None:
                    continue
                entry = deliveries.setdefault((node, mark["outbox"]), {})
                if mark["event"] == "deliver_start" and "post_start" not in entry:
                    entry["deliver_start"] = mark["t"]  # the attempt that POSTs is the last to start before it
                elif mark["event"] in ("post_start", "post_end"):
                    entry[mark["event"]] = mark["t"]
        path = work / f"trace-web-{node}.jsonl"
        if path.exists():
            for line in path.read_text().splitlines():
                mark = json.loads(line)
                if mark["transfer"]:
                    requests_by_transfer[mark["transfer"]] = mark
    rows: dict[tuple[str, str], tuple] = {}
    for node in (TOWNSHIP, COUNTY, CITY):
        with engines[node].connect() as conn:
            for row in conn.execute(text("SELECT id, transfer_id, message_id, created_ms FROM fed_outbox")):
                rows[(node, row.message_id)] = row
    senders = (TOWNSHIP, COUNTY, CITY)
    names = ("township→county", "county→city", "city→province")
    series: dict[str, dict[str, list[float]]] = {name: {segment: [] for segment in SEGMENTS} for name in names}
    slowest = []
    for message_id, t0, at_province in sorted(results, key=lambda r: r[1] - r[2])[:3]:
        # The three slowest samples, transfer by transfer: what a tail is made of.
        try:
            parts = {}
            for node, name in zip(senders, names):
                row = rows[(node, message_id)]
                delivery, request = deliveries[(node, row.id)], requests_by_transfer[row.transfer_id]
                parts[name] = {"deliver_start": round(delivery["deliver_start"] - t0, 1),
                               "post_start": round(delivery["post_start"] - t0, 1),
                               "request_start": round(request["start"] - t0, 1),
                               "request_end": round(request["end"] - t0, 1)}
            slowest.append({"total_ms": round(at_province - t0, 1), "marks_after_t0_ms": parts})
        except KeyError:
            continue
    for message_id, t0, at_province in results:
        try:
            marks = []
            for node in senders:
                row = rows[(node, message_id)]
                delivery = deliveries[(node, row.id)]
                request = requests_by_transfer[row.transfer_id]
                marks.append((row, delivery, request))
        except KeyError:
            continue  # a sample without every mark (a trace line lost): leave it out of the breakdown
        for index, (name, (row, delivery, request)) in enumerate(zip(names, marks)):
            began = t0 if index == 0 else row.created_ms
            ended = marks[index + 1][0].created_ms if index + 1 < len(marks) else at_province
            values = (delivery["deliver_start"] - began, delivery["post_start"] - delivery["deliver_start"],
                      request["start"] - delivery["post_start"], ended - request["start"])
            for segment, value in zip(SEGMENTS, values):
                series[name][segment].append(value)
    medians = {name: {segment: round(percentile(values, 0.5), 1) for segment, values in parts.items() if values}
               for name, parts in series.items()}
    return medians, slowest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("redis", "embedded"), required=True)
    parser.add_argument("--run-id", default=uuid.uuid4().hex[:8])
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--spacing", type=float, default=0.2, help="seconds between samples (plus up to 50 ms jitter)")
    parser.add_argument("--timeout", type=float, default=15.0, help="per sample")
    args = parser.parse_args()
    exit_on_sigterm()

    run, backend = args.run_id, args.backend
    prefix = f"bench_{run}_p3{backend[0]}"
    work = Path(tempfile.mkdtemp(prefix=f"shangliang-bench-{run}-p3{backend[0]}-"))
    procs = Procs()
    engines = []
    redis_before = set(redis_client().scan_iter()) if backend == "redis" else None
    try:
        ports = {node: free_port() for node in ROUTE}
        urls = {node: f"http://127.0.0.1:{ports[node]}" for node in ROUTE}
        db_urls = queues = broker = None
        if backend == "redis":
            schemas = {node: f"{prefix}_{node}" for node in ROUTE}
            create_schemas(*schemas.values())
            db_urls = {node: schema_url(schema) for node, schema in schemas.items()}
            queues = {node: f"bench.{run}.p3.{node}" for node in ROUTE}
            broker = REDIS_URL
        log(f"P3 {backend}: init and pair {', '.join(ROUTE)}")
        dirs = make_nodes(work, urls, db_urls, broker, queues)

        log(f"P3 {backend}: starting 3 web apps and 4 workers (with beat), autoforward registered")
        for node in ROUTE:
            if node != TOWNSHIP:
                procs.start(f"web {node}", [PYTHON, str(BENCH / "launch.py"), "web", str(dirs[node]), "--port",
                                            str(ports[node]), "--workers", "1", "--autoforward",
                                            "--trace", str(work / f"trace-web-{node}.jsonl")], work / f"web-{node}.log")
            procs.start(f"worker {node}", [PYTHON, str(BENCH / "launch.py"), "worker", str(dirs[node]), "--beat",
                                           "--concurrency", "2", "--autoforward",
                                           "--trace", str(work / f"trace-worker-{node}.jsonl")],
                        work / f"worker-{node}.log")
        for node in (COUNTY, CITY, PROVINCE):
            wait_http(urls[node] + "/federation/v1/node", 60, procs)

        from sqlalchemy import text

        from shangliang.core.app import create_app
        from shangliang.core.context import node_context
        from shangliang.core.db import after_commit, make_engine, transaction
        from shangliang.federation import outbox
        from shangliang.federation.ids import ulid

        township = create_app(dirs[TOWNSHIP])  # this process is the township's office, writing the decision
        node_db = {node: (db_urls[node] if db_urls else f"sqlite:///{dirs[node] / 'node.db'}") for node in ROUTE}
        readers = {node: make_engine(node_db[node]) for node in ROUTE}
        engines.extend(readers.values())
        query = text("SELECT received_ms FROM fed_inbox WHERE origin = :origin AND message_id = :id")

        def sample(timeout: float) -> tuple[str, float, int] | None:
            stamp: dict[str, float] = {}
            with township.app_context():
                with transaction(actor="bench") as session:
                    after_commit(session, lambda: stamp.setdefault("t0", time.time() * 1000))
                    uid = f"{TOWNSHIP}:{ulid()}"
                    body = topic_body(uid, int(time.time() * 1000))
                    envelope, _row = outbox.originate(session, node_context(), "topic.escalate", body, COUNTY,
                                                      "escalate", topic=uid, note="bench")
            deadline = time.time() + timeout
            with readers[PROVINCE].connect() as conn:
                while time.time() < deadline:
                    received = conn.execute(query, {"origin": TOWNSHIP, "id": envelope["id"]}).scalar()
                    conn.rollback()
                    if received is not None:
                        return envelope["id"], stamp["t0"], received
                    time.sleep(0.02)  # slow polling: it only says when to look; the figure is received_ms
            return None

        log(f"P3 {backend}: warm-up ({args.warmup} escalations)")
        if sample(90) is None:  # the first may wait for the workers to start
            procs.check_alive()
            raise RuntimeError("the first escalation did not reach the province in 90 s (the logs' ends are above)")
        for _ in range(args.warmup - 1):
            sample(args.timeout)
            time.sleep(args.spacing)
        # Warm means every relay's worker has indexed a topic for similar matters (core/similar): its first run
        # loads jieba's dictionary, about half a second in which that worker's other threads (its deliveries)
        # wait for the interpreter lock, once per worker process. The relays index a second after a topic
        # arrives ([similar] arrival_delay_seconds), so the warm-up waits for that first run's row.
        indexed = text("SELECT count(*) FROM similar_indexed")
        deadline = time.time() + 60
        for node in (COUNTY, CITY):
            with readers[node].connect() as conn:
                while not conn.execute(indexed).scalar() and time.time() < deadline:
                    conn.rollback()
                    time.sleep(0.1)

        log(f"P3 {backend}: {args.samples} samples")
        results, lost = [], 0
        for _ in range(args.samples):
            got = sample(args.timeout)
            if got is None:
                lost += 1
                if lost > 5:
                    raise RuntimeError(f"{lost} escalations did not arrive within {args.timeout} s")
            else:
                results.append(got)
            time.sleep(args.spacing + random.uniform(0, 0.05))
        procs.check_alive()

        parts, slowest = breakdown(work, readers, results)
        # A lost sample counts as the time limit: a lower bound, which keeps the percentiles honest.
        latencies = [at_province - t0 for _id, t0, at_province in results] + [args.timeout * 1000] * lost
        summary = {
            "backend": backend,
            "samples": len(latencies), "lost": lost, "warmup": args.warmup, "spacing_s": args.spacing,
            "p50_ms": round(percentile(latencies, 0.5), 1),
            "p90_ms": round(percentile(latencies, 0.9), 1),
            "p99_ms": round(percentile(latencies, 0.99), 1),
            "min_ms": round(min(latencies), 1), "max_ms": round(max(latencies), 1),
            "mean_ms": round(statistics.fmean(latencies), 1),
            "breakdown_p50_ms": parts,
            "slowest_samples": slowest,
            "web_workers_per_node": 1, "worker_concurrency": 2,
        }
        if backend == "embedded":
            summary["broker_polling_interval_s"] = township.config["BROKER_POLLING_INTERVAL"]
        township.extensions["shangliang.db"].engine.dispose()
        log(f"P3 {backend}: p50 {summary['p50_ms']} ms, p99 {summary['p99_ms']} ms over {len(latencies)} samples")
        result_line(summary)
    except BaseException:
        procs.dump_logs()
        raise
    finally:
        procs.stop()
        for engine in engines:
            engine.dispose()
        dropped = drop_schemas(prefix) if backend == "redis" else []
        deleted = redis_cleanup(run, redis_before) if backend == "redis" else 0
        shutil.rmtree(work, ignore_errors=True)
        log(f"P3 {backend}: cleaned up (schemas {dropped}, {deleted} Redis keys, {work})")


if __name__ == "__main__":
    main()
