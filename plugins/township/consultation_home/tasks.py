"""The Celery tasks of 协商民主之家: the quarter's reminder to the office, and the warning in its last month."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import flask
from celery import shared_task

from shangliang.core.db import transaction
from shangliang.core.notifications import notify

from . import services

TASK = f"shangliang.plugins.{services.NAME}.quarterly_reminder"


def _node_today() -> dt.date:
    return dt.datetime.now(ZoneInfo(flask.current_app.config["TIMEZONE"])).date()


@shared_task(name=TASK)
def quarterly_reminder(today: str | None = None) -> int | None:
    """Tell the office which homes must hold this quarter's consultation; the notification's id, or None."""
    homes = services.settings(flask.current_app.config).get("homes") or []
    if not homes:
        return None
    day = dt.date.fromisoformat(today) if today else _node_today()
    subject, body = services.reminder_text(homes, day)
    with transaction(actor="worker") as session:
        notification = notify(session, subject=subject, body=body, role="office", source=services.NAME)
    return notification.id


WARN = f"shangliang.plugins.{services.NAME}.quarter_warning"


@shared_task(name=WARN)
def quarter_warning(today: str | None = None) -> int | None:
    """Warn the office of every home with no consultation (not cancelled) in this quarter; the notification's
    id, or None when every home has one (or none is configured)."""
    config = flask.current_app.config
    if not services.settings(config).get("homes"):
        return None
    day = dt.date.fromisoformat(today) if today else _node_today()
    with transaction(actor="worker") as session:
        missing = services.homes_without(session, config, day)
        if not missing:
            return None
        subject, body = services.warning_text(missing, day)
        notification = notify(session, subject=subject, body=body, role="office", source=services.NAME)
        return notification.id
