"""The pages of the 321 proposal method: /practices/baotou-321/ lists the proposals filed and not yet closed
that the user may see, with what each still lacks; /practices/baotou-321/<ref> shows one proposal's
communications, face-to-face meetings and publication against what the method requires."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template
from flask_babel import gettext as _

from shangliang.core.db import get_session
from shangliang.core.errors import NotFound
from shangliang.core.proposals import services as proposals
from shangliang.core.proposals.views import status_label
from shangliang.core.web import auth

from . import services

bp = Blueprint(services.NAME, __name__, url_prefix="/practices/baotou-321", template_folder="templates")


def label(key: str) -> str:
    """What an item is, in the reader's language."""
    return {"before": _("Communication before handling"), "during": _("Communication during handling"),
            "after": _("Communication after handling"), "face_to_face": _("Face-to-face meetings"),
            "publication": _("Publication")}.get(key, key)


def hint(item: dict) -> str:
    """How to record what an item lacks, in the reader's language."""
    settings = services.settings(current_app.config)
    if item["key"] == "before":
        return _("Record a contact with the proposers before handling (phase before).")
    if item["key"] == "during":
        return _("Record a contact with the proposers during handling (phase during).")
    if item["key"] == "after":
        return _("Record a contact with the proposers after handling (phase after).")
    if item["key"] == "face_to_face":
        return _("Record %(count)s more contact(s) of kind %(kinds)s.", count=item["missing"],
                 kinds=" / ".join(settings["meeting_kinds"]))
    if settings["publication_of"] == "reply":
        return _("The office publishes the proposal and its reply.")
    return _("The office publishes the proposal.")


@bp.context_processor
def helpers():
    return {"item_label": label, "item_hint": hint, "status_label": status_label}


def _who() -> proposals.Who:
    return proposals.who_of(auth.current_user())


@bp.route("/")
@auth.login_required
def index():
    found = services.open_proposals(get_session(), _who(), services.settings(current_app.config))
    return render_template("baotou_321/index.html", rows=found)


@bp.route("/<ref>")
@auth.login_required
def show(ref: str):
    try:
        found = services.check_proposal(get_session(), ref, _who(), services.settings(current_app.config))
    except NotFound:
        abort(404)
    return render_template("baotou_321/show.html", report=found)
