"""The search page: read the form, call the search service, render the hits (or the form again with the reason
beside the field)."""

from __future__ import annotations

import flask
from flask import render_template
from flask_babel import gettext as _

from shangliang.core.context import node_context
from shangliang.core.db import get_session
from shangliang.core.errors import InputError
from shangliang.core.i18n import reason
from shangliang.core.opinions.models import STATUSES as OPINION_STATUSES
from shangliang.core.proposals.models import STATUSES as PROPOSAL_STATUSES
from shangliang.core.topics.models import STAGES as TOPIC_STAGES
from shangliang.core.web import auth

from . import services
from .present import kind_label, present, stage_label

FIELDS = ("q", "kind", "stage", "area", "category", "year")


def refusal(exc: InputError) -> str:
    """A refusal of the search form in the reader's language, by the field it names."""
    messages = {
        "q": _("Give the words to look for: at most 100 characters and 8 words, no control characters."),
        "kind": _("Choose a type from the list."),
        "stage": _("No type searched has this stage or status: choose one from the list."),
        "area": _("An area is a division code of 2, 4, 6, 9 or 12 digits."),
        "category": _("A category has at most 100 characters."),
        "year": _("A year is from 1949 to 9999, such as 2027."),
        "cursor": _("This link to more results no longer holds: search again."),
    }
    return messages.get(getattr(exc, "field", None) or "", reason(exc))


def _stages() -> list[tuple[str, list[tuple[str, str]]]]:
    """The stage filter's choices, grouped by kind."""
    return [(kind_label(kind), [(s, stage_label(kind, s)) for s in stages])
            for kind, stages in (("topic", TOPIC_STAGES), ("proposal", PROPOSAL_STATUSES),
                                 ("opinion", OPINION_STATUSES))]


def search_page():
    args = flask.request.args
    typed = {name: args.get(name, "").strip() for name in FIELDS}
    session = get_session()
    hits, next_cursor, error = None, None, None
    status = 200
    if any(typed.values()) or "q" in args:
        try:
            query = services.parse(typed["q"], typed["kind"], typed["stage"], typed["area"], typed["category"],
                                   typed["year"])
            found = services.search(session, node_context(), auth.current_user(), query,
                                    services.DEFAULT_LIMIT, args.get("cursor") or None)
            hits, next_cursor = [present(h) for h in found.hits], found.next_cursor
        except InputError as exc:
            error, status = exc, 400
    return render_template("search/search.html", typed=typed, hits=hits, next_cursor=next_cursor,
                           error=refusal(error) if error else None, error_field=getattr(error, "field", None) if error else None,
                           kinds=[(k, kind_label(k)) for k in services.KINDS], stages=_stages(),
                           categories=services.categories(session, node_context(), auth.current_user()), segments=services.segments), status
