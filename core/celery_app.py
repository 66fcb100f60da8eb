"""Celery for a node, in Flask's ``celery_init_app`` pattern: tasks are ``@shared_task`` and run in the app context."""

from __future__ import annotations

from typing import Any

from celery import Celery, Task
from flask import Flask
from shangliang.core.i18n import N_

from . import broker  # noqa: F401  (registers the embedded transport)
from .errors import ConfigError, ServiceUnavailable

EXTENSION = "celery"


def celery_init_app(app: Flask) -> Celery:
    class FlaskTask(Task):
        def __call__(self, *args: object, **kwargs: object) -> object:
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.name, task_cls=FlaskTask)
    queue = app.config["TASK_QUEUE"]
    celery_app.config_from_object(
        {
            "broker_url": app.config["BROKER_URL"],
            "broker_transport_options": {"polling_interval": app.config["BROKER_POLLING_INTERVAL"]},
            "broker_connection_retry_on_startup": True,
            "task_ignore_result": True,
            "task_default_queue": queue,
            "task_default_exchange": queue,
            "task_default_routing_key": queue,
            "task_acks_late": True,
            "worker_prefetch_multiplier": 1,
            "worker_hijack_root_logger": False,
            "beat_max_loop_interval": 1,  # the embedded beat notices a shutdown within a second
            "timezone": app.config["TIMEZONE"],
            "enable_utc": True,
        }
    )
    celery_app.set_default()
    app.extensions[EXTENSION] = celery_app
    # The core's own tasks; each built-in feature's hooks module imports its tasks, so they are known
    # once the plugin manager is built.
    from . import notifications, tasks  # noqa: F401

    return celery_app


def collect_beat_schedule(pm, config) -> dict[str, Any]:
    schedule: dict[str, Any] = {}
    for entries in pm.hook.beat_schedule(config=config):
        for name, entry in (entries or {}).items():
            if name in schedule:
                raise ConfigError(N_("two plugins declare the beat entry %(name)s", name=repr(name)), "plugins.enabled")
            if "task" not in entry or "schedule" not in entry:
                raise ConfigError(N_("beat entry %(name)s needs 'task' and 'schedule'",
                                     name=repr(name)), "plugins.enabled")
            schedule[name] = dict(entry)
    return schedule


def check_broker(celery_app: Celery, timeout: float = 3.0) -> None:
    """Raise :class:`ServiceUnavailable` unless the broker accepts a connection."""
    from .db import redact

    url = celery_app.conf.broker_url
    try:
        with celery_app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=timeout)
            connection.default_channel  # the embedded transport opens its file here
    except Exception as exc:  # kombu raises transport-specific errors
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise ServiceUnavailable(N_("broker"), redact(url), reason, "broker_url") from None
