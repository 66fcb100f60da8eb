"""Where a node's processes log, set in one place (:func:`configure_logging`, called by the app factory in the web
workers, the Celery worker and beat, and every command). ``log_format = "text"`` (the default) leaves logging as
gunicorn and Celery set it up; ``"json"`` writes one JSON object a line to standard error (python-json-logger):
``time``, ``level``, ``logger``, ``message``, ``node``, and what the event adds — for a request (logger
``shangliang.request``) ``request_id``, ``method``, ``path``, ``status``, ``duration_ms``, ``remote_addr``; for
a federation delivery or an inbox message ``event``, ``message_id``, ``peer``, ``outcome``."""

from __future__ import annotations

import logging
import logging.config
import re
import time
import uuid
from typing import Any, Mapping

import flask

REQUEST_LOGGER = "shangliang.request"
#: A request id the client (or a proxy) sent is kept when it looks like one; any other is replaced.
REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")

log = logging.getLogger(REQUEST_LOGGER)


class RequestId(logging.Filter):
    """Adds the current request's id to every record logged while it is handled (``request_id``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id") and flask.has_request_context():
            request_id = flask.g.get("request_id")
            if request_id:
                record.request_id = request_id
        return True


def dict_config(node_id: str, level: str = "INFO") -> dict[str, Any]:
    """The ``logging.config.dictConfig`` of a node logging JSON: the root logger and gunicorn's error log to one
    JSON handler on standard error; gunicorn's access log off (the app logs each request itself, with more)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestId}},
        "formatters": {"json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(levelname)s %(name)s %(message)s",
            "rename_fields": {"levelname": "level", "name": "logger"},
            "static_fields": {"node": node_id},
            "timestamp": "time",
            "json_ensure_ascii": False,
        }},
        "handlers": {"json": {"class": "logging.StreamHandler", "stream": "ext://sys.stderr", "formatter": "json",
                              "filters": ["request_id"]}},
        "root": {"level": level, "handlers": ["json"]},
        "loggers": {
            "gunicorn.error": {"level": level, "handlers": ["json"], "propagate": False},
            "gunicorn.access": {"handlers": [], "propagate": False},
        },
    }


def configure_logging(config: Mapping[str, Any]) -> None:
    """Set up this process's logging for the node's ``log_format`` (nothing to do for ``text``)."""
    if config.get("LOG_FORMAT") != "json":
        return
    logging.config.dictConfig(dict_config(config["NODE_ID"]))
    logging.captureWarnings(True)  # a warning (Celery's about running as root…) as a line of py.warnings
    from celery import signals

    # Celery sets up its own handlers unless a receiver of setup_logging answers for it.
    if not signals.setup_logging.receivers:
        signals.setup_logging.connect(_leave_celery_logging, weak=False)


def _leave_celery_logging(**kwargs: Any) -> None:
    """Celery's worker and beat log through the handlers :func:`configure_logging` set up."""


def init_app(app: flask.Flask) -> None:
    """Log every request, once answered, as one line of ``shangliang.request`` (with ``log_format = "json"``;
    gunicorn's access log does it otherwise)."""
    configure_logging(app.config)
    if app.config.get("LOG_FORMAT") != "json":
        return
    app.before_request(_start)
    app.after_request(_answered)


def _start() -> None:
    sent = flask.request.headers.get(REQUEST_ID_HEADER, "")
    flask.g.request_id = sent if _REQUEST_ID.fullmatch(sent) else uuid.uuid4().hex
    flask.g.request_started = time.perf_counter()


def _answered(response: flask.Response) -> flask.Response:
    request = flask.request
    started = flask.g.get("request_started")
    request_id = flask.g.get("request_id") or uuid.uuid4().hex
    response.headers[REQUEST_ID_HEADER] = request_id
    duration_ms = round((time.perf_counter() - started) * 1000, 3) if started is not None else None
    log.info("%s %s %s", request.method, request.path, response.status_code,
             extra={"request_id": request_id, "method": request.method, "path": request.path,
                    "status": response.status_code, "duration_ms": duration_ms,
                    "remote_addr": request.remote_addr})
    return response
