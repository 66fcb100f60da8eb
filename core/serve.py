"""Running a node: gunicorn for the web app, Celery worker and beat, and their supervision by ``serve``."""

from __future__ import annotations

import functools
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

from flask import Flask
from gunicorn.app.base import BaseApplication

from . import logs, migrate
from .supervisor import Forked, WorkerSupervisor, _die_with_parent, can_fork, supervise  # noqa: F401  (serve's own names)
from .celery_app import EXTENSION as CELERY, check_broker
from .config import is_embedded_broker


def _preflight(app: Flask) -> None:
    """Refuse to start unless the database is reachable and migrated (the core's tables and each enabled plugin's)
    and the broker answers."""
    migrate.require_current(app.config["DATABASE_URL"], plugins=app.config["PLUGINS_ENABLED"])
    check_broker(app.extensions[CELERY])


class NodeApplication(BaseApplication):
    """gunicorn application that builds the WSGI app with ``factory`` in each worker process."""

    def __init__(self, factory: Callable[[], object], options: dict):
        self.factory = factory
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        return self.factory()


def gunicorn_options(host: str, port: int, workers: int, name: str, log_format: str = "text",
                     node_id: str = "") -> dict:
    """How a node runs under gunicorn: threaded workers, logs to standard output; with ``log_format = "json"``
    gunicorn's own lines in JSON (core/logs.py) and no access log (the app logs each request itself)."""
    if log_format == "json":
        return {**gunicorn_options(host, port, workers, name), "accesslog": None,
                "logconfig_dict": logs.dict_config(node_id)}
    return {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "gthread",
        "threads": 4,
        "timeout": 60,
        "graceful_timeout": 10,
        "accesslog": "-",
        "errorlog": "-",
        "loglevel": "info",
        "proc_name": name,
    }


#: Where gunicorn's workers keep their request metrics for /metrics to sum (prometheus-client's multiprocess
#: mode, core/admin/metrics.py); emptied at every start, so the counts are those since ``serve`` started.
METRICS_DIRECTORY = "metrics"


def prepare_metrics_directory(ctx) -> None:
    """Empty the node directory's ``metrics/`` and name it in ``PROMETHEUS_MULTIPROC_DIR``, for this process and
    the gunicorn workers it forks; before the app is built, since prometheus-client reads it once, on import.
    A directory the environment names already is left to whoever named it."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return
    from . import config as node_config

    node_dir = node_config.resolve_node_dir(ctx.find_root().params.get("node"))
    if node_dir is None or not (node_dir / node_config.NODE_FILE).is_file():
        return  # the app will say what is wrong
    directory = node_dir / METRICS_DIRECTORY
    directory.mkdir(mode=0o700, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)


def _create_app(node_dir: str):
    from .app import create_app

    return create_app(node_dir)


def serve_node(app: Flask, host: str, port: int | None, workers: int, with_worker: bool | None) -> None:
    _preflight(app)
    config = app.config
    url = urlsplit(config["PUBLIC_URL"])
    port = port or url.port or (443 if url.scheme == "https" else 80)
    if with_worker is None:
        with_worker = is_embedded_broker(config["BROKER_URL"])
    node_dir = config["NODE_DIR"]
    master = os.getpid()
    supervisor = None
    if with_worker:
        # The supervisor is a process of its own: gunicorn's master reaps any child that exits (waitpid(-1)),
        # so a worker started from here would be reaped before its supervisor could read how it ended. Both
        # are forked (core/supervisor.py), with the app's code already imported; the app's pooled database
        # connections are closed first, so that no child shares one (each builds an app of its own).
        if can_fork():
            app.extensions["shangliang.db"].engine.dispose()
            supervisor = Forked(functools.partial(supervise, functools.partial(_worker_main, node_dir)),
                                name="sl-supervisor")
        else:
            worker = [sys.executable, "-m", "shangliang.core", "--node", node_dir, "worker", "--beat",
                      "--concurrency", "2"]
            supervisor = subprocess.Popen([sys.executable, "-c", "import sys; from shangliang.core.supervisor "
                                           "import supervise; supervise(sys.argv[1:])", *worker],
                                          preexec_fn=_die_with_parent)
    options = gunicorn_options(host, port, workers, f"shangliang-{config['NODE_ID']}", config["LOG_FORMAT"],
                               config["NODE_ID"])
    serving = (f"serving {config['NODE_LEVEL']} node {config['NODE_ID']} ({config['NODE_NAME']}) at "
               f"http://{host}:{port}/" + (" with a worker and beat" if with_worker else ""))
    if config["LOG_FORMAT"] == "json":
        logging.getLogger("shangliang.serve").info(serving)
    else:
        print(serving, flush=True)
    try:
        NodeApplication(functools.partial(_create_app, node_dir), options).run()
    finally:
        # gunicorn's worker processes leave through this frame too; only the master stops the worker.
        if supervisor is not None and os.getpid() == master:
            supervisor.terminate()  # it stops the worker (SIGTERM, then SIGKILL after 15 s) and exits
            try:
                supervisor.wait(timeout=20)
            except subprocess.TimeoutExpired:
                supervisor.kill()


def _worker_main(node_dir: str) -> None:
    """The worker ``serve`` runs, in a process forked from it: ``worker --beat --concurrency 2``."""
    run_worker(_create_app(node_dir), beat=True, concurrency=2, loglevel="INFO")


def run_worker(app: Flask, beat: bool, concurrency: int, loglevel: str) -> None:
    _preflight(app)
    config = app.config
    argv = ["worker", f"--loglevel={loglevel}", "--pool=threads", f"--concurrency={concurrency}",
            f"--queues={config['TASK_QUEUE']}", f"--hostname={config['NODE_ID']}@%h", "--without-gossip",
            "--without-mingle"]
    if beat:
        argv += ["--beat", f"--schedule={_schedule_file(app)}"]
        from celery import signals

        # The beat runs in a child process of the worker's; were the worker killed, the beat would live on
        # and keep sending the schedule's tasks beside the beat of the worker started in its place.
        signals.beat_embedded_init.connect(functools.partial(_beat_dies_with_worker, os.getpid()), weak=False)
    app.extensions[CELERY].worker_main(_quiet(app) + argv)


def _beat_dies_with_worker(worker: int, **_: object) -> None:
    """In the embedded beat's process: SIGKILL when the worker that started it dies (Linux). Not SIGTERM: billiard's
    handler answers it by raising SystemExit wherever the beat is, and raised inside a garbage-collection callback
    it is printed as "Exception ignored" and the beat goes on (seen: a beat left sending the schedule for minutes
    after its worker had gone). The beat keeps nothing a kill could lose but its schedule file's last few runs."""
    _die_with_parent(signal.SIGKILL)
    if os.getppid() != worker:  # it died before the line above
        os._exit(0)


def run_beat(app: Flask, loglevel: str) -> None:
    _preflight(app)
    app.extensions[CELERY].start(_quiet(app) + ["beat", f"--loglevel={loglevel}", f"--schedule={_schedule_file(app)}"])


def _quiet(app: Flask) -> list[str]:
    """Celery's start-up banner is printed, not logged: left out when the node logs JSON."""
    return ["--quiet"] if app.config["LOG_FORMAT"] == "json" else []


def _schedule_file(app: Flask) -> str:
    return str(Path(app.config["NODE_DIR"]) / "celerybeat-schedule")
