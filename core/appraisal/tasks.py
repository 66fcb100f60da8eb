"""Appraisal tasks: marking rectifications past their deadline (督办), every ``[appraisal] overdue_seconds`` by beat."""

from __future__ import annotations

from celery import shared_task
from shangliang.core.context import node_context
from shangliang.core.db import transaction

from .services import mark_overdue

MARK_OVERDUE = "shangliang.appraisal.mark_overdue"


@shared_task(name=MARK_OVERDUE)
def mark_overdue_task() -> int:
    """Run :func:`services.mark_overdue` in a transaction of this node; the number of rectifications newly marked."""
    with transaction(actor="worker") as session:
        marked = mark_overdue(session, node_context())
    return len(marked)
