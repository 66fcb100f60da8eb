"""``make bench``: run P1, P2, P3 (Redis and embedded), P4 and P5, write bench/results/latest.json, print a table.

Each benchmark is a script of its own (runnable alone, one JSON line on standard output), run here
as a child with a time limit. Everything they start is stopped by them; whatever a killed one left
— PostgreSQL schemas ``bench_<run id>_*``, Redis keys naming the run id in db 14 — is swept here.
Only 127.0.0.1 is contacted. The exit status is 0 when every benchmark ran (a missed goal is a
result, not an error), 1 otherwise; ``--strict`` also fails on a missed goal. With ``--only``, the
figures of the benchmarks not run are kept from the previous file, each marked with the run it
came from, and judged against today's goal (``make bench-national`` is ``--only p4``). P2 gives two
figures, ``p2_inbox_ratio`` and ``p2t_escalation_ratio``; ``--only p2t`` is ``--only p2``.

    python bench/run.py [--only p1,p2,p3,p3e,p4,p5] [--quick] [--strict] [--output FILE]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import time
import uuid
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import BENCH, PG_URL, PYTHON, REDIS_URL, ROOT, clean_env, drop_schemas, log, redis_cleanup  # noqa: E402

RESULTS = BENCH / "results" / "latest.json"

# figure: (goal, "min" when at least the goal is wanted, "max" when at most, what it is)
GOALS = {
    "p1_verify_ratio": (0.85, "min", "verified 3-hop envelopes/s on one core ÷ (fastest raw Ed25519 verify/s ÷ 4)"),
    "p2_inbox_ratio": (0.6, "min", "3-hop transfers accepted and stored/s at a node's inbox (a kind with no effect) "
                       "÷ bare Flask inbox, same database"),
    "p2t_escalation_ratio": (0.35, "min", "3-hop escalations accepted/s at a node's inbox, with the topic's state and "
                             "audit rows ÷ the same bare inbox, same run"),
    "p3_latency_p50_ms_redis": (30, "max", "township → province escalation, 3 automatic transfers, PostgreSQL, Redis"),
    "p3_latency_p99_ms_redis": (100, "max", "the same, 99th percentile"),
    "p3e_latency_p50_ms_embedded": (100, "max", "the same on the embedded defaults (SQLite + embedded broker)"),
    "p4_national_ceiling_ratio": (0.6, "min", "national simulation, stated mix: topics/s ÷ crypto-only topics/s, same run"),
    "p4_national_topics_per_s": (4500, "min", "national simulation, 41,813 nodes, stated mix, all cores (issue 17: "
                                 "≈ 0.6 of the ceiling on this machine)"),
    "p4_national_worst_topics_per_s": (2000, "min", "national simulation, every topic to its province, all cores"),
    "p4_busiest_node_state_kb": (50, "max", "national simulation, stated mix: inbox digests held by the busiest node"),
    "p5_api_ratio": (0.3, "min", "topics raised/s through POST /api/v1/topics (signed-in session) ÷ bare Flask API "
                     "validating the same JSON and inserting one row, same database"),
}
BENCHMARKS = ("p1", "p2", "p3", "p3e", "p4", "p5")
ALIASES = {"p2t": "p2"}  # a figure's prefix → the benchmark that measures it
BENCHMARK_OF = {name: ALIASES.get(name.split("_")[0], name.split("_")[0]) for name in GOALS}
assert set(BENCHMARK_OF.values()) <= set(BENCHMARKS)

LIBRARIES = ("shangliang", "PyNaCl", "cryptography", "Flask", "Werkzeug", "gunicorn", "SQLAlchemy", "psycopg",
             "psycopg-binary", "celery", "kombu", "redis", "requests")


def reachable(url: str, port: int) -> str | None:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or port), timeout=2):
            return None
    except OSError as exc:
        return f"{parts.hostname}:{parts.port or port} unreachable ({exc})"


def run_child(name: str, args: list[str], timeout: float) -> tuple[dict | None, str | None]:
    """Run a benchmark script; its JSON result, or the error that stopped it."""
    log(f"{name}: {' '.join(Path(a).name if a.endswith('.py') else a for a in args)} (limit {timeout:.0f} s)")
    started = time.time()
    process = subprocess.Popen([PYTHON, *args], stdout=subprocess.PIPE, text=True, cwd=str(ROOT), env=clean_env(),
                               start_new_session=True)
    try:
        out, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGTERM)  # the script stops its own children on SIGTERM
        try:
            out, _ = process.communicate(timeout=40)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            out, _ = process.communicate()
        return None, f"time limit of {timeout:.0f} s reached"
    finally:
        log(f"{name}: {time.time() - started:.1f} s")
    if process.returncode != 0:
        return None, f"exit status {process.returncode} (its error is above)"
    lines = [line for line in out.splitlines() if line.startswith("{")]
    if not lines:
        return None, "no result line"
    return json.loads(lines[-1]), None


def machine() -> dict:
    cpu_model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_mb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_mb = int(line.split()[1]) // 1024
    except OSError:
        pass
    versions = {}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    try:
        from cryptography.hazmat.backends.openssl.backend import backend

        versions["OpenSSL (cryptography)"] = backend.openssl_version_text()
    except Exception:
        pass
    info = {
        "cpu_model": cpu_model, "cores": os.cpu_count(), "memory_mb": memory_mb,
        "kernel": platform.release(), "python": f"{platform.python_implementation()} {platform.python_version()}",
        "libraries": versions,
    }
    try:
        from common import pg_connect

        with pg_connect() as conn:
            info["postgresql"] = conn.execute("SHOW server_version").fetchone()[0]
            info["postgresql_synchronous_commit"] = conn.execute("SHOW synchronous_commit").fetchone()[0]
    except Exception as exc:
        info["postgresql"] = f"unavailable: {str(exc).splitlines()[0][:100]}"
    try:
        from common import redis_client

        info["redis"] = redis_client().info("server")["redis_version"]
    except Exception as exc:
        info["redis"] = f"unavailable: {str(exc)[:100]}"
    try:
        def git(*args: str) -> str:
            return subprocess.run(["git", *args], capture_output=True, text=True, cwd=ROOT).stdout

        commit, dirty = git("rev-parse", "--short", "HEAD"), git("status", "--porcelain")
        info["git"] = commit.strip() + (" (with uncommitted changes)" if dirty.strip() else "")
    except OSError:
        pass
    return info


def benchmarks(only: str) -> set[str]:
    """``--only``'s names, aliases (``p2t``) taken as their benchmark; an unknown name is an error."""
    names = {ALIASES.get(n.strip(), n.strip()) for n in only.split(",") if n.strip()}
    unknown = names - set(BENCHMARKS)
    if unknown or not names:
        raise SystemExit(f"--only: unknown benchmark(s) {', '.join(sorted(unknown)) or '(none given)'}; "
                         f"known: {', '.join(BENCHMARKS)} (and {', '.join(ALIASES)})")
    return names


def carried_over(path: Path, only: set[str]) -> dict[str, dict]:
    """The figures of benchmarks not run this time, from the previous results file, marked with their run and
    judged against today's goals (a goal may have changed since). A figure whose description differs from
    today's measured something else (``p2_inbox_ratio`` counted escalations before issue 17): not kept."""
    try:
        before = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    kept = {}
    for name, figure in before.get("figures", {}).items():
        if name in GOALS and BENCHMARK_OF[name] not in only and figure.get("value") is not None \
                and figure.get("what", GOALS[name][2]) == GOALS[name][2]:
            origin = figure.get("carried_from") or {"date": before.get("date"), "run_id": before.get("run_id"),
                                                    "git": before.get("machine", {}).get("git")}
            goal, way, what = GOALS[name]
            kept[name] = {**figure, "goal": goal, "goal_is": "at least" if way == "min" else "at most",
                          "result": verdict(name, figure["value"]), "what": what, "carried_from": origin}
    return kept


#: The benchmark behind each of ``latest.json``'s absolute figures, by the figure's name.
ABSOLUTE_OF = {"verify_envelopes_per_s": "p1", "raw_nacl_verify_per_s": "p1", "raw_cryptography_verify_per_s": "p1",
               "p1_baseline": "p1", "node_inbox_transfers_per_s": "p2", "node_inbox_escalations_per_s": "p2",
               "bare_inbox_accepted_per_s": "p2", "node_api_topics_per_s": "p5", "bare_api_topics_per_s": "p5",
               "node_api_basic_topics_per_s": "p5"}


def _absolute_benchmark(name: str) -> str | None:
    if name in ABSOLUTE_OF:
        return ABSOLUTE_OF[name]
    prefix = name.split("_")[0]
    return prefix if prefix in BENCHMARKS else None


def carried_details(path: Path, only: set[str]) -> tuple[dict[str, dict], dict[str, Any]]:
    """The details and absolute figures of benchmarks not run this time, from the previous results file (as
    :func:`carried_over` keeps their figures): each benchmark's details marked ``carried_from`` its run."""
    try:
        before = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}, {}
    origin = {"date": before.get("date"), "run_id": before.get("run_id"), "git": before.get("machine", {}).get("git")}
    details = {name: ({"carried_from": origin} | found) if isinstance(found, dict) else found
               for name, found in before.get("details", {}).items() if name in BENCHMARKS and name not in only}
    absolute = {name: value for name, value in before.get("absolute", {}).items()
                if _absolute_benchmark(name) not in (None, *only)}
    return details, absolute


def verdict(name: str, value: float | None) -> str:
    if value is None:
        return "not run"
    goal, way, _ = GOALS[name]
    return "pass" if (value >= goal if way == "min" else value <= goal) else "miss"


def table(figures: dict) -> str:
    rows = [("figure", "measured", "goal", "result")]
    for name, (goal, way, _what) in GOALS.items():
        figure = figures[name]
        value = figure["value"]
        rows.append((name, "-" if value is None else f"{value:g}", f"{'≥' if way == 'min' else '≤'} {goal:g}",
                     figure["result"] + (f" (kept from {figure['carried_from']['date']})" if "carried_from" in figure
                                         else "")))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(BENCHMARKS),
                        help=f"comma-separated subset of {', '.join(BENCHMARKS)} (p2t: p2)")
    parser.add_argument("--quick", action="store_true", help="smaller counts, for trying the harness")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a goal is missed")
    parser.add_argument("--output", type=Path, default=RESULTS, help=f"default: {RESULTS.relative_to(ROOT)}")
    args = parser.parse_args()
    only = benchmarks(args.only)
    run = uuid.uuid4().hex[:8]
    started = time.time()
    load_before = os.getloadavg()
    redis_problem = reachable(REDIS_URL, 6379)
    pg_problem = reachable(PG_URL, 5432)
    from common import redis_client

    redis_before = set(redis_client().scan_iter()) if not redis_problem else None
    log(f"run {run}: PostgreSQL {PG_URL} ({pg_problem or 'ok'}), Redis {REDIS_URL} ({redis_problem or 'ok'})")

    details: dict[str, dict | None] = {}
    errors: dict[str, str] = {}
    quick = args.quick
    plan = [
        ("p1", None, ["bench/p1_verify.py", *(["--rounds", "2", "--seconds", "0.3"] if quick else [])], 90),
        ("p2", pg_problem or redis_problem,
         ["bench/p2_inbox.py", "--run-id", run, *(["--requests", "300", "--rounds", "1", "--profile-messages", "100"]
                                                  if quick else [])], 300),
        ("p3", pg_problem or redis_problem,
         ["bench/p3_latency.py", "--backend", "redis", "--run-id", run, *(["--samples", "20"] if quick else [])], 150),
        ("p3e", None, ["bench/p3_latency.py", "--backend", "embedded", "--run-id", run,
                       *(["--samples", "20"] if quick else [])], 150),
        ("p4", None, ["bench/national.py", *(["--quick"] if quick else [])], 600),
        ("p5", pg_problem or redis_problem,
         ["bench/p5_api.py", "--run-id", run, *(["--requests", "300", "--rounds", "1", "--basic-requests", "20",
                                                 "--profile-requests", "50"] if quick else [])], 240),
    ]
    try:
        for name, problem, child, limit in plan:
            if name not in only:
                continue
            if problem:
                errors[name] = f"skipped: {problem}"
                log(f"{name}: {errors[name]}")
                continue
            details[name], error = run_child(name, child, limit)
            if error:
                errors[name] = error
    finally:
        if not pg_problem:
            left = drop_schemas(f"bench_{run}_")
            if left:
                log(f"swept schemas a benchmark left behind: {left}")
        if redis_before is not None:
            redis_cleanup(run, redis_before)

    p1, p2, p3, p3e, p4, p5 = (details.get(k) for k in BENCHMARKS)
    values = {
        "p1_verify_ratio": p1 and p1["p1_verify_ratio"],
        "p2_inbox_ratio": p2 and p2["p2_inbox_ratio"],
        "p2t_escalation_ratio": p2 and p2["p2t_escalation_ratio"],
        "p3_latency_p50_ms_redis": p3 and p3["p50_ms"],
        "p3_latency_p99_ms_redis": p3 and p3["p99_ms"],
        "p3e_latency_p50_ms_embedded": p3e and p3e["p50_ms"],
        "p4_national_ceiling_ratio": p4 and p4["p4_national_ceiling_ratio"],
        "p4_national_topics_per_s": p4 and p4["p4_national_topics_per_s"],
        "p4_national_worst_topics_per_s": p4 and p4["p4_national_worst_topics_per_s"],
        "p4_busiest_node_state_kb": p4 and p4["p4_busiest_node_state_kb"],
        "p5_api_ratio": p5 and p5["p5_api_ratio"],
    }
    figures = {name: {"value": value, "goal": GOALS[name][0],
                      "goal_is": "at least" if GOALS[name][1] == "min" else "at most",
                      "result": verdict(name, value), "what": GOALS[name][2]}
               for name, value in values.items()}
    previous = carried_over(args.output, only)
    for name, figure in previous.items():
        figures[name] = figure
    kept_details, absolute = carried_details(args.output, only)
    details = kept_details | details
    if p1:
        absolute.update(verify_envelopes_per_s=p1["verify_per_s"], raw_nacl_verify_per_s=p1["raw_nacl_verify_per_s"],
                        raw_cryptography_verify_per_s=p1["raw_cryptography_verify_per_s"], p1_baseline=p1["baseline"])
    if p2:
        absolute.update(node_inbox_transfers_per_s=p2["node_transfers_per_s"],
                        node_inbox_escalations_per_s=p2["node_escalations_per_s"],
                        bare_inbox_accepted_per_s=p2["bare_accepted_per_s"])
    if p3:
        absolute.update(p3_latency_p90_ms_redis=p3["p90_ms"], p3_samples_redis=p3["samples"])
    if p3e:
        absolute.update(p3e_latency_p99_ms_embedded=p3e["p99_ms"], p3e_samples_embedded=p3e["samples"])
    if p4:
        absolute.update(p4_national_ceiling_topics_per_s=p4["stated_mix"]["ceiling_topics_per_s"],
                        p4_national_worst_ceiling_topics_per_s=p4["worst_case"]["ceiling_topics_per_s"],
                        p4_national_worst_ceiling_ratio=p4["worst_case"]["ceiling_ratio"],
                        p4_average_node_state_kb=p4["stated_mix"]["average_node_state_kb"],
                        p4_worst_busiest_node_state_kb=p4["worst_case"]["busiest_node_state_kb"],
                        p4_load_average_before_after=[p4["load_average_before"], p4["load_average_after"]])
    if p5:
        absolute.update(node_api_topics_per_s=p5["node_created_per_s"], bare_api_topics_per_s=p5["bare_created_per_s"],
                        node_api_basic_topics_per_s=p5["node_basic_created_per_s"])
    document = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "run_id": run,
        "command": "make bench" + (" (python bench/run.py " + " ".join(sys.argv[1:]) + ")" if sys.argv[1:] else ""),
        "duration_s": round(time.time() - started, 1),
        "machine": machine() | {"load_average_before": [round(x, 2) for x in load_before],
                                "load_average_after": [round(x, 2) for x in os.getloadavg()]},
        "figures": figures,
        "absolute": absolute,
        "errors": errors,
        "details": details,
    }
    output = args.output.resolve()
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")

    info = document["machine"]
    print()
    print(f"Shangliang benchmarks, {document['date']}, {document['duration_s']} s")
    print(f"{info['cpu_model']}, {info['cores']} cores, {info['python']}, PyNaCl {info['libraries']['PyNaCl']}, "
          f"cryptography {info['libraries']['cryptography']}, PostgreSQL {info.get('postgresql')}, "
          f"Redis {info.get('redis')}")
    print(f"load average before/after: {info['load_average_before']} / {info['load_average_after']}")
    print()
    print(table(figures))
    if absolute:
        print()
        for key, value in absolute.items():
            print(f"  {key}: {value}")
    for name, error in errors.items():
        print(f"  {name}: {error}")
    print(f"\nwritten: {output}")
    failed = any(not e.startswith("skipped") for e in errors.values())
    missed = any(f["result"] == "miss" for f in figures.values() if "carried_from" not in f)
    sys.exit(1 if failed or (args.strict and missed) else 0)


if __name__ == "__main__":
    main()
