"""The similar-matters page (/similar): suggestions with their reasons and the office's buttons; and, on a topic's
page, the merged matter it belongs to."""

from __future__ import annotations

from typing import Any

import flask
from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from shangliang.core.context import node_context
from shangliang.core.db import get_session, transaction
from shangliang.core.errors import Conflict, InputError, NotFound
from shangliang.core.topics.services import get_topic
from shangliang.core.i18n import reason
from shangliang.core.web import auth, forms
from shangliang.federation import peers

from . import services
from .models import STATES


def _actor() -> str:
    return f"web:{auth.current_user().username}"


def state_label(state: str) -> str:
    return {"open": _("Waiting for a decision"), "merged": _("Merged"), "separate": _("Kept separate"),
            "dismissed": _("Dismissed")}.get(state, state)


def index():
    state = flask.request.args.get("state", "open")
    if state not in STATES and state != "all":
        state = "open"
    with transaction(_actor()) as session:  # topics raised here since the last look are indexed first
        found = [s.as_dict() for s in services.list_suggestions(session, node_context(),
                                                                  None if state == "all" else state)]
    names = peers.names(get_session(), node_context().id, flask.current_app.config["NODE_NAME"])
    return render_template("similar/index.html", suggestions=found, state=state, states=STATES + ("all",),
                           state_label=state_label, names=names)


def decide(suggestion_id: int):
    form = flask.request.form
    decision = form.get("decision", "")
    note = form.get("note", "")

    def work(session):
        node = node_context()
        if decision == "merge":
            found = services.merge(session, node, suggestion_id, _actor(), form.get("primary") or None,
                                   form.getlist("topics") or None, note)
            return "success", _("Merged into one matter: %(uid)s", uid=found.primary.uid), \
                url_for("topics.show", uid=found.primary.uid)
        services.decide(session, node, suggestion_id, "separate" if decision == "separate" else "dismissed"
                        if decision == "dismiss" else decision, _actor(), note)
        return "success", _("Decided: %(state)s", state=state_label(services.get_suggestion(
            session, suggestion_id).state)), url_for("similar.index")

    try:
        return forms.run_once(_actor(), work)
    except NotFound:
        abort(404)
    except (InputError, Conflict) as exc:
        flash(_("Refused: %(message)s", message=reason(exc)), "error")
        return redirect(url_for("similar.index") + f"#s{suggestion_id}", 303)


def topic_page_helpers() -> dict[str, Any]:
    """What ``similar/_on_topic.html`` uses on a topic's page (an app-wide context processor)."""

    def merged_matter(uid: str) -> dict[str, Any] | None:
        if auth.current_user() is None:
            return None
        session = get_session()
        try:
            return services.merged_matter(session, get_topic(session, uid))
        except NotFound:
            return None

    return {"similar_merged_matter": merged_matter}
