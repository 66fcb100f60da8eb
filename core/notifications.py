"""Notifications: a row for a role or a user, delivered by a worker through the notification hook."""

from __future__ import annotations

from sqlalchemy.orm import Session

from .db import after_commit
from .errors import InputError
from .models import Notification, Role


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

    def enqueue(notification_id: int = notification.id) -> None:
        from .tasks import deliver_notification

        deliver_notification.delay(notification_id)

    after_commit(session, enqueue)
    return notification
