"""The search JSON API (/api/v1/search): take the validated query, call the search service, answer JSON; the URL
table is in ``blueprint.py``."""

from __future__ import annotations

from shangliang.core.context import node_context
from shangliang.core.db import get_session
from shangliang.core.web.api import api_user, json_response

from . import services
from .present import present
from .schemas import SearchQuery


def search(query: SearchQuery):
    """Search topics, proposals and reports.

    Every topic, proposal and social-opinion report the asking user may see (as their lists show them) whose
    title or text holds every word of `q` as written — two-character Chinese words as well as longer ones —
    and that passes the filters; the most recently changed first, `limit` at a time. Each hit with a snippet,
    where the words occur, and names instead of codes.
    """
    checked = services.parse(query.q, query.kind, query.stage, query.area, query.category, query.year)
    found = services.search(get_session(), node_context(), api_user(), checked, query.limit, query.cursor)
    return json_response({"hits": [present(h) for h in found.hits], "next_cursor": found.next_cursor})
