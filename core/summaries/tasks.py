"""Summary tasks: sending this node's summary to its parent, every ``[summaries] send_seconds`` by beat."""

from __future__ import annotations

from celery import shared_task

from shangliang.core.context import node_context
from shangliang.core.db import transaction

from . import services

SEND = "shangliang.summaries.send"


@shared_task(name=SEND)
def send_task() -> str | None:
    """Send this node's summary to its parent (nothing without a paired parent); the message id."""
    with transaction(actor="worker") as session:
        if services.parent_id(session) is None:
            return None
        return services.send(session, node_context())["id"]
