"""Start a bench node's web app (gunicorn) or Celery worker with extra plugin objects, or a bare baseline app.

``shangliang serve`` and ``shangliang worker`` load only entry-point plugins; the benchmarks need
``bench/autoforward.py`` (P3) or ``bench/transfer_kind.py`` (P2) registered without installing
them, so this launcher builds the app with ``create_app(node_dir, plugins=[...])`` and otherwise
runs what those commands run: the gunicorn options of ``core/serve.py`` (gthread, 4 threads,
access log) and the worker arguments of ``run_worker`` (thread pool, the node's queue, beat
embedded). ``--metrics`` also does what ``serve`` does before it builds the app: the node's
``metrics/`` directory emptied and named in ``PROMETHEUS_MULTIPROC_DIR`` (each request's metrics
are then written there); P2 uses it, so its node differs from ``shangliang serve --no-worker`` only
by the extra kind. The baselines (bench/bare_app.py) run under the same gunicorn options.

    python bench/launch.py web NODE_DIR --port P [--workers N] [--plugin autoforward|transfer_kind]... [--metrics]
    python bench/launch.py worker NODE_DIR [--concurrency N] [--beat] [--autoforward]
    python bench/launch.py bare --port P --conninfo URL --pinned BASE64URL [--workers N]
    python bench/launch.py bare-api --port P --conninfo URL [--workers N]

(``--autoforward`` is ``--plugin autoforward``.)

``--trace FILE`` (P3) appends one JSON line per inbox request (start, end, transfer id) or per
delivery (task start, POST start and end, task end, outbox id): wall-clock marks that split the
latency into its parts. It wraps the WSGI app and ``requests.post`` in this process only.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from pathlib import Path

from shangliang.core.serve import NodeApplication, gunicorn_options  # what `serve` runs

sys.path.insert(0, str(Path(__file__).resolve().parent))


class TraceInbox:
    """WSGI middleware: when each inbox request started and ended (teardown included), and its transfer id."""

    def __init__(self, app, path: str):
        self.app = app
        self.out = open(path, "a", buffering=1)

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") != "/federation/v1/inbox":
            return self.app(environ, start_response)
        start = time.time() * 1000
        result = self.app(environ, start_response)
        try:
            body = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        end = time.time() * 1000
        try:
            transfer = json.loads(body).get("transfer")
        except ValueError:
            transfer = None
        self.out.write(json.dumps({"event": "request", "transfer": transfer, "start": start, "end": end}) + "\n")
        return [body]


def trace_deliveries(path: str) -> None:
    """Marks around each ``deliver`` task and the POST it makes (Celery signals, a wrapper on ``requests.post``)."""
    import requests
    from celery.signals import task_postrun, task_prerun

    out = open(path, "a", buffering=1)
    local = threading.local()

    def mark(event: str, **extra) -> None:
        out.write(json.dumps({"event": event, "outbox": getattr(local, "outbox", None), "t": time.time() * 1000,
                              **extra}) + "\n")

    @task_prerun.connect(weak=False)
    def _start(task_id=None, task=None, args=None, **_):
        if task is not None and task.name == "shangliang.federation.deliver":
            local.outbox = args[0] if args else None
            mark("deliver_start")

    @task_postrun.connect(weak=False)
    def _end(task_id=None, task=None, retval=None, **_):
        if task is not None and task.name == "shangliang.federation.deliver":
            mark("deliver_end", outcome=str(retval))
            local.outbox = None

    post = requests.post

    def traced_post(*args, **kwargs):
        mark("post_start")
        try:
            return post(*args, **kwargs)
        finally:
            mark("post_end")

    requests.post = traced_post


PLUGINS = ("autoforward", "transfer_kind")  # bench/<name>.py
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"  # core/admin/metrics.py's MULTIPROC_ENV


def plugins(args) -> list:
    import importlib

    names = list(getattr(args, "plugin", None) or [])
    if args.autoforward and "autoforward" not in names:
        names.append("autoforward")
    return [importlib.import_module(name) for name in names]


def metrics_directory(node_dir: str) -> None:
    """What ``serve`` does first (``core/serve.py``, ``prepare_metrics_directory``): an empty ``metrics/`` in the
    node directory, named in ``PROMETHEUS_MULTIPROC_DIR`` before the app imports prometheus-client."""
    import os

    from shangliang.core.serve import METRICS_DIRECTORY  # (core/admin/metrics.py would import prometheus-client)

    if os.environ.get(MULTIPROC_ENV):
        return
    directory = Path(node_dir) / METRICS_DIRECTORY
    directory.mkdir(mode=0o700, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()
    os.environ[MULTIPROC_ENV] = str(directory)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    web = sub.add_parser("web")
    web.add_argument("node_dir")
    web.add_argument("--port", type=int, required=True)
    web.add_argument("--workers", type=int, default=2)
    web.add_argument("--autoforward", action="store_true")
    web.add_argument("--plugin", action="append", choices=PLUGINS, help="a bench plugin to register (repeatable)")
    web.add_argument("--metrics", action="store_true", help="the metrics directory, as serve makes it")
    web.add_argument("--trace")
    worker = sub.add_parser("worker")
    worker.add_argument("node_dir")
    worker.add_argument("--concurrency", type=int, default=2)
    worker.add_argument("--beat", action="store_true")
    worker.add_argument("--autoforward", action="store_true")
    worker.add_argument("--trace")
    bare = sub.add_parser("bare")
    bare.add_argument("--port", type=int, required=True)
    bare.add_argument("--workers", type=int, default=2)
    bare.add_argument("--conninfo", required=True)
    bare.add_argument("--pinned", required=True)
    bare_api = sub.add_parser("bare-api")
    bare_api.add_argument("--port", type=int, required=True)
    bare_api.add_argument("--workers", type=int, default=2)
    bare_api.add_argument("--conninfo", required=True)
    args = parser.parse_args()

    if args.what == "web":
        if args.metrics:
            metrics_directory(args.node_dir)
        from shangliang.core.app import create_app

        extra = plugins(args)

        def factory():
            app = create_app(args.node_dir, plugins=extra)
            if args.trace:
                app.wsgi_app = TraceInbox(app.wsgi_app, args.trace)
            return app

        NodeApplication(factory, gunicorn_options("127.0.0.1", args.port, args.workers,
                                                  f"bench-web-{Path(args.node_dir).name}")).run()
    elif args.what == "worker":
        from shangliang.core.app import create_app

        app = create_app(args.node_dir, plugins=plugins(args))
        if args.trace:
            trace_deliveries(args.trace)
        config = app.config
        argv = ["worker", "--loglevel=INFO", "--pool=threads", f"--concurrency={args.concurrency}",
                f"--queues={config['TASK_QUEUE']}", f"--hostname={config['NODE_ID']}@%h", "--without-gossip",
                "--without-mingle"]
        if args.beat:
            argv += ["--beat", f"--schedule={Path(config['NODE_DIR']) / 'celerybeat-schedule'}"]
        app.extensions["celery"].worker_main(argv)
    elif args.what == "bare":
        import bare_app

        NodeApplication(lambda: bare_app.create_app(args.conninfo, args.pinned),
                        gunicorn_options("127.0.0.1", args.port, args.workers, "bench-bare")).run()
    else:
        import bare_app

        NodeApplication(lambda: bare_app.create_api_app(args.conninfo),
                        gunicorn_options("127.0.0.1", args.port, args.workers, "bench-bare-api")).run()


if __name__ == "__main__":
    main()
