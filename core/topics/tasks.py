"""Topic tasks: marking overdue topics (督办), every ``[topics] overdue_seconds`` by beat."""

from __future__ import annotations

from celery import shared_task
from flask import current_app

from shangliang.core.db import transaction

from .supervision import mark_overdue

MARK_OVERDUE = "shangliang.topics.mark_overdue"


@shared_task(name=MARK_OVERDUE)
def mark_overdue_task() -> int:
    """Run :func:`supervision.mark_overdue` in a transaction of this node; the number of topics newly marked."""
    with transaction(actor="worker") as session:
        marked = mark_overdue(session, current_app.config)
    return len(marked)
