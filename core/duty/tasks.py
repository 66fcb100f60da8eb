"""Duty tasks: the reminder to members falling behind in the year's assessment, every ``[duty]
reminder_seconds`` by beat."""

from __future__ import annotations

from celery import shared_task

from shangliang.core.context import node_context
from shangliang.core.db import transaction

from .services import remind

REMIND = "shangliang.duty.remind"


@shared_task(name=REMIND)
def remind_task() -> int:
    """Run :func:`services.remind` for this year in a transaction of this node; the number of members reminded."""
    with transaction(actor="worker") as session:
        done = remind(session, node_context())
    return len(done["reminded"])
