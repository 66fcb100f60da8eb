"""The workbench's rules: what waits for a user (gathered from every feature's ``workbench_items``, see
``core/work.py``) and their inbox.

The inbox holds the notifications addressed to the user or to their role (``core/notifications.py``). A
notification to a role is the role's shared post: whoever of the role marks it read marks it read for all of
them (the office's in-tray, not a personal copy).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shangliang.core.errors import InputError
from shangliang.core.i18n import N_
from shangliang.core.models import Notification
from shangliang.core.notifications import inbox, mark_read, unread_count
from shangliang.core.users.models import User
from shangliang.core.work import WorkItem, collect

__all__ = ["WorkItem", "collect", "inbox", "unread_count", "mark_read", "as_dict", "user_named"]


def user_named(session: Session, username: str) -> Any:
    """The active user ``username`` (a command's ``--as``); a named error when there is none."""
    user = session.execute(select(User).where(User.username == str(username).strip())).scalar_one_or_none()
    if user is None or not user.active:
        raise InputError(N_("no active user %(username)s on this node", username=repr(str(username)[:80])), field="as")
    return user


def as_dict(n: Notification) -> dict[str, Any]:
    return {"id": n.id, "subject": n.subject, "body": n.body, "source": n.source,
            "to": "you" if n.recipient_user_id is not None else n.recipient_role,
            "created_at": n.created_at.isoformat() if n.created_at else None,
            "read": n.read_at is not None}
