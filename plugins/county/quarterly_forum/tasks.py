"""The Celery tasks of 季协商座谈会: the quarter's reminder to the office, and the warning when the quarter
has no forum."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import flask
from celery import shared_task

from shangliang.core.db import transaction
from shangliang.core.notifications import notify

from . import services

TASK = f"shangliang.plugins.{services.NAME}.remind"
WARN = f"shangliang.plugins.{services.NAME}.warn"


def _node_today() -> dt.date:
    return dt.datetime.now(ZoneInfo(flask.current_app.config["TIMEZONE"])).date()


@shared_task(name=TASK)
def remind(today: str | None = None) -> int | None:
    """Tell the office that this quarter's forum needs a topic and research beforehand; the notification's id."""
    settings = flask.current_app.config["PLUGIN_SETTINGS"].get(services.NAME)
    if settings is None:  # queued on a node that no longer enables the plugin
        return None
    day = dt.date.fromisoformat(today) if today else _node_today()
    subject, body = services.reminder_text(day, settings["research_lead_days"])
    with transaction(actor="worker") as session:
        notification = notify(session, subject=subject, body=body, role="office", source=services.NAME)
    return notification.id


@shared_task(name=WARN)
def warn(today: str | None = None) -> int | None:
    """Warn the office when no forum activity (not cancelled) starts in this quarter; the notification's id,
    or None when there is one (or the plugin is no longer enabled)."""
    config = flask.current_app.config
    settings = config["PLUGIN_SETTINGS"].get(services.NAME)
    if settings is None:
        return None
    day = dt.date.fromisoformat(today) if today else _node_today()
    with transaction(actor="worker") as session:
        if services.forums_in_quarter(session, day, config):
            return None
        subject, body = services.warning_text(day, settings["research_lead_days"])
        notification = notify(session, subject=subject, body=body, role="office", source=services.NAME)
        return notification.id
