"""Notifications: a row for a role or a user, delivered by a worker through the notification hook."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from celery import shared_task
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session
from shangliang.core.i18n import N_

from .db import after_commit, get_session, transaction
from .errors import InputError, NotFound
from .models import Notification, Role

log = logging.getLogger(__name__)


def notify(session: Session, subject: str, body: str = "", role: str | None = None,
           user_id: int | None = None, source: str = "core") -> Notification:
    """Store a notification; once the transaction commits, a worker delivers it."""
    if (role is None) == (user_id is None):
        raise InputError(N_("a notification goes to a role or to a user, not both and not neither"))
    if role is not None and role not in {r.value for r in Role}:
        raise InputError(N_("unknown role %(role)s", role=repr(role)))
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


# -- the inbox: what was sent to a user or their role --------------------------------------------------------

#: how many notifications the inbox shows at once
INBOX_PAGE = 50


def _addressed_to(user: Any):
    return or_(Notification.recipient_user_id == user.id, Notification.recipient_role == user.role)


def inbox(session: Session, user: Any, unread_only: bool = False, limit: int = INBOX_PAGE) -> list[Notification]:
    """The notifications addressed to ``user`` or to their role, newest first."""
    query = select(Notification).where(_addressed_to(user))
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    return list(session.execute(query.order_by(Notification.id.desc()).limit(limit)).scalars())


def unread_count(session: Session, user: Any) -> int:
    return session.execute(select(func.count()).select_from(Notification)
                           .where(_addressed_to(user), Notification.read_at.is_(None))).scalar_one()


def mark_read(session: Session, user: Any, notification_id: int | None = None) -> int:
    """Mark one notification (or, with None, every one) addressed to ``user`` read; how many were marked.
    A notification that is not addressed to them is ``NotFound``, as if it were not there."""
    now = dt.datetime.now(dt.UTC)
    if notification_id is not None:
        if not isinstance(notification_id, int) or not 0 < notification_id < 2 ** 31:
            raise NotFound(N_("no notification %(notification_id)s in your inbox",
                              notification_id=str(notification_id)[:20]))
        found = session.execute(select(Notification).where(Notification.id == notification_id,
                                                            _addressed_to(user))).scalar_one_or_none()
        if found is None:
            raise NotFound(N_("no notification %(notification_id)s in your inbox", notification_id=notification_id))
        if found.read_at is not None:
            return 0
        found.read_at = now
        return 1
    result = session.execute(update(Notification).where(_addressed_to(user), Notification.read_at.is_(None))
                             .values(read_at=now))
    return result.rowcount or 0
