"""Similar-matters tasks: indexing the topics not yet indexed — kicked when the inbox accepts a topic passed here,
and every ``[similar] index_seconds`` for those raised here since the last look."""

from __future__ import annotations

from celery import shared_task
from sqlalchemy.exc import IntegrityError

from shangliang.core.context import node_context
from shangliang.core.db import transaction

from .services import index_pending

INDEX_PENDING = "shangliang.similar.index_pending"


@shared_task(name=INDEX_PENDING)
def index_pending_task() -> int:
    """Index (and suggest) the topics held here not yet indexed; how many."""
    try:
        with transaction(actor="worker") as session:
            return index_pending(session, node_context(), limit=1000)
    except IntegrityError:
        return 0  # another indexer (a listing on SQLite, which locks no rows) indexed them first
