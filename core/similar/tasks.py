"""Similar-matters tasks: indexing topics raised here since the last look, every ``[similar] index_seconds``."""

from __future__ import annotations

from celery import shared_task

from shangliang.core.context import node_context
from shangliang.core.db import transaction

from .services import index_pending

INDEX_PENDING = "shangliang.similar.index_pending"


@shared_task(name=INDEX_PENDING)
def index_pending_task() -> int:
    """Index (and suggest) the topics held here not yet indexed; how many."""
    with transaction(actor="worker") as session:
        return index_pending(session, node_context(), limit=1000)
