"""Core Celery tasks: worker heartbeat, notification delivery, the nightly audit-chain check."""

from __future__ import annotations

import datetime as dt
import logging
import socket
import time

from celery import shared_task
from sqlalchemy import select

from . import audit
from .db import get_session, transaction
from .models import Heartbeat, Notification, User
from .plugins import get_plugin_manager

log = logging.getLogger(__name__)


@shared_task(name="shangliang.core.heartbeat")
def heartbeat() -> int:
    """Record that a worker of this node is alive; ``/healthz`` reports it."""
    now = int(time.time() * 1000)
    name = socket.gethostname()
    with transaction() as session:
        row = session.get(Heartbeat, name)
        if row is None:
            session.add(Heartbeat(worker=name, at_ms=now))
        else:
            row.at_ms = now
    return now


@shared_task(name="shangliang.core.deliver_notification")
def deliver_notification(notification_id: int) -> list[str]:
    """Hand a notification to every delivery channel and record which delivered it."""
    session = get_session()
    notification = session.get(Notification, notification_id)
    if notification is None:
        log.warning("notification %s vanished before delivery", notification_id)
        return []
    if notification.recipient_user_id is not None:
        users = session.execute(select(User).where(User.id == notification.recipient_user_id)).scalars().all()
    else:
        users = session.execute(
            select(User).where(User.role == notification.recipient_role, User.active.is_(True))
        ).scalars().all()
    payload = {
        "id": notification.id,
        "recipient_role": notification.recipient_role,
        "recipient_user_id": notification.recipient_user_id,
        "recipients": [{"username": u.username, "display_name": u.display_name} for u in users],
        "subject": notification.subject,
        "body": notification.body,
        "source": notification.source,
        "created_at": notification.created_at.isoformat() if notification.created_at else None,
    }
    channels = [c for c in get_plugin_manager().hook.deliver_notification(notification=payload) if c]
    with transaction(actor="worker") as session:
        notification.channels = ",".join(channels)
        notification.delivered_at = dt.datetime.now(dt.UTC)
    return channels


@shared_task(name="shangliang.core.verify_audit")
def verify_audit() -> dict:
    """Walk the audit chain; tell the admins when it is broken."""
    from .notifications import notify

    report = audit.verify(get_session())
    if not report.ok:
        with transaction(actor="worker") as session:
            notify(session, subject="Audit log check failed", body=report.problem or "", role="admin", source="audit")
    return report.as_dict()
