"""The similar-matters JSON API (/api/v1/similar): take the validated request, call one service, answer JSON; the
URL table is in ``blueprint.py``."""

from __future__ import annotations

from shangliang.core.context import node_context
from shangliang.core.db import get_session, transaction
from shangliang.core.web.api import actor, json_response

from . import services
from .schemas import SimilarDecisionIn, SimilarListQuery, SimilarMergeIn, SimilarPath


def list_suggestions(query: SimilarListQuery):
    """List suggestions to group similar topics.

    Suggestions to group topics held here with similar content from different places (children, areas) into one
    matter, with the reasons: each topic, its areas, where it came from, which topic it matched, how similar
    (0–100) and the keywords they share. Open ones by default; the most recently changed first.
    """
    with transaction(actor()) as session:  # topics raised here since the last look are indexed first
        found = services.list_suggestions(session, node_context(), None if query.state == "all" else query.state,
                                          query.limit)
        data = [s.as_dict() for s in found]
    return json_response({"suggestions": data})


def show_suggestion(path: SimilarPath):
    """Show a suggestion."""
    return json_response({"suggestion": services.get_suggestion(get_session(), path.suggestion_id).as_dict()})


def merge(path: SimilarPath, body: SimilarMergeIn):
    """Merge the topics of a suggestion into one matter.

    The primary topic stays as the merged matter held here; every other is linked as merged into it, and topics
    not yet accepted are accepted. When the merged matter's result is recorded, every original is closed with it
    and the result travels back along each original's route. A topic not held here is refused (409), and nothing
    is merged.
    """
    with transaction(actor()) as session:
        found = services.merge(session, node_context(), path.suggestion_id, actor(), body.primary, body.topics,
                               body.note or "")
        data = found.as_dict()
    return json_response({"suggestion": data})


def separate(path: SimilarPath, body: SimilarDecisionIn):
    """Keep the topics separate: they are different matters."""
    return _decide(path, body, "separate")


def dismiss(path: SimilarPath, body: SimilarDecisionIn):
    """Dismiss the suggestion."""
    return _decide(path, body, "dismissed")


def _decide(path: SimilarPath, body: SimilarDecisionIn, decision: str):
    with transaction(actor()) as session:
        found = services.decide(session, node_context(), path.suggestion_id, decision, actor(), body.note or "")
        data = found.as_dict()
    return json_response({"suggestion": data})
