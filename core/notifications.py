"""Notifications: a row for a role or a user, delivered by a worker through the notification hook."""

from __future__ import annotations

import datetime as dt
import logging

from celery import shared_task
from sqlalchemy.orm import Session

from .db import after_commit, get_session, transaction
from .errors import InputError
from .models import Notification, Role

log = logging.getLogger(__name__)


def notify(session: Session, subject: str, body: str = "", role: str | None = None,
           user_id: int | None = None, source: str = "core") -> Notification:
    """Store a notification; once the transaction commits, a worker delivers it."""
    if (role is None) == (user_id is None):
        raise InputError("a notification goes to a role or to a user, not both and not neither")
    if role is not None and role not in {r.value for r in Role}:
        raise InputError(f"unknown role {role!r}")
    notification = Notification(recipient_role=role, recipient_user_id=user_id, subject=subject[:300],
                                body=body, source=source)
    session.add(notification)
    session.flush()

    after_commit(session, lambda notification_id=notification.id: deliver_notification.delay(notification_id))
    return notification


@shared_task(name="shangliang.core.deliver_notification")
def deliver_notification(notification_id: int) -> list[str]:
    """Hand a notification to every delivery channel and record which delivered it."""
    from .plugins import get_plugin_manager

    session = get_session()
    notification = session.get(Notification, notification_id)
    if notification is None:
        log.warning("notification %s vanished before delivery", notification_id)
        return []
    recipients = get_plugin_manager().hook.notification_recipients(
        role=notification.recipient_role, user_id=notification.recipient_user_id) or []
    payload = {
        "id": notification.id,
        "recipient_role": notification.recipient_role,
        "recipient_user_id": notification.recipient_user_id,
        "recipients": list(recipients),
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
