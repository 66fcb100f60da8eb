"""Activity pages (/activities): the list with the form to plan one, and one activity with its invitations,
replies and attendance, materials, research, opinions (the online window's form for members and the
public), moderation, consensus, minutes and closing. Each handler parses the form, calls one service and
renders the answer; a refusal is flashed, naming the problem, and nothing is stored."""

from __future__ import annotations

import re
from typing import Any, Mapping

import flask
from flask import abort, flash, redirect, render_template, url_for
from flask_babel import format_datetime, gettext as _
from pydantic import ValidationError

from shangliang.core.clock import datetime_of
from shangliang.core.context import node_context
from shangliang.core.db import get_session
from shangliang.core.errors import Conflict, InputError, NotFound
from shangliang.core.i18n import reason
from shangliang.core.plans import forms as consultation_forms
from shangliang.core.web import auth, forms
from shangliang.core.web.api import describe
from shangliang.core.topics.views import send_attachment

from . import federation, services
from .models import INVITEE_KINDS, STATUSES
from .schemas import ActivityActionIn, ActivityIn

# Flask's context-bound proxies are used through their modules (see core/topics/views.py).

SEPARATORS = re.compile(r"[\n,，、;；]+")
OPTIONAL = ("into", "member_no", "node_id", "opens", "name", "reason", "note")


def status_label(status: str) -> str:
    return {"planned": _("In preparation"), "open": _("Under way"), "closed": _("Closed"),
            "cancelled": _("Cancelled")}.get(status, status)


def reply_label(reply: str | None) -> str:
    return {"pending": _("No reply yet"), "attend": _("Will attend"), "decline": _("Declines"),
            "leave": _("Asks for leave")}.get(reply or "", reply or "")


def invitee_label(kind: str) -> str:
    return {"member": _("Member"), "department": _("Department"), "public": _("The public"),
            "node": _("Another node")}.get(kind, kind)


def opinion_label(kind: str) -> str:
    return {"speech": _("Speech"), "written": _("Written opinion"), "online": _("Online opinion")}.get(kind, kind)


def form_label(key: str) -> str:
    found = consultation_forms.registry(node_context().pm)
    return str(found[key].label) if key in found else key


def when(ms: int | None) -> str:
    if ms is None:
        return ""
    moment = datetime_of(ms)
    return format_datetime(moment, "yyyy-MM-dd HH:mm") if moment else str(ms)


def day(ms: int | None) -> str:
    if ms is None:
        return ""
    moment = datetime_of(ms)
    return format_datetime(moment, "yyyy-MM-dd") if moment else str(ms)


def can_write() -> bool:
    return auth.has_role(auth.current_user(), services.WRITERS)


def can_post_online() -> bool:
    return auth.has_role(auth.current_user(), services.ONLINE_ROLES)


def state_label(state: str | None) -> str:
    return {"invited": _("Invited"), "join_sent": _("Join sent, not confirmed yet"), "joined": _("Joined"),
            "informed": _("Informed")}.get(state or "", state or "")


def delivery_label(status: str | None) -> str:
    return {"pending": _("on its way"), "sent": _("delivered"), "dead": _("not delivered")}.get(status or "",
                                                                                                 status or "")


def template_helpers() -> dict[str, Any]:
    """What the activity templates use (a context processor of the pages blueprint)."""
    return {"status_label": status_label, "reply_label": reply_label, "invitee_label": invitee_label,
            "opinion_label": opinion_label, "form_label": form_label, "state_label": state_label,
            "delivery_label": delivery_label, "when": when, "day": day,
            "can_write": can_write(), "can_post_online": can_post_online(), "STATUSES": STATUSES,
            "INVITEE_KINDS": INVITEE_KINDS,
            "consultation_forms": list(consultation_forms.registry(node_context().pm).values())}


def user_of(user: Any) -> dict[str, Any]:
    """What the services need of a signed-in user."""
    return {"username": user.username, "display_name": user.display_name, "role": user.role,
            "member_id": user.member_id}


def _actor() -> str:
    return f"web:{auth.current_user().username}"


def _refusal(exc: Exception) -> str:
    return describe(exc)[0] if isinstance(exc, ValidationError) else reason(exc)


def _items(value: str) -> list[str]:
    return [item.strip() for item in SEPARATORS.split(value or "") if item.strip()]


# ---------------------------------------------------------------------------------------------
# The list and planning an activity


def _index_page(form: Mapping[str, Any] | None = None, status: int = 200):
    args = flask.request.args
    wanted = args.get("status") if args.get("status") in STATUSES else None
    rows = [a.as_dict(full=False) for a in services.list_activities(get_session(), wanted).items]
    return render_template("activities/index.html", rows=rows, status=wanted, form=form or {}), status


def index():
    return _index_page()


def create():
    form = flask.request.form
    fields: dict[str, Any] = {key: form.get(key, "") for key in ("form", "title", "description", "starts", "ends",
                                                                "place", "organiser")}
    fields["topics"] = _items(form.get("topics", ""))

    def work(session):
        activity = services.create(session, node_context(), data, _actor())
        return "success", _("Activity planned: %(title)s", title=activity.title), url_for("activities.show",
                                                                                           uid=activity.uid)

    try:
        data = ActivityIn.model_validate(fields)
        return forms.run_once(_actor(), work)
    except (InputError, ValidationError) as exc:
        flash(_("Not planned: %(message)s", message=_refusal(exc)), "error")
        return _index_page(form, 400)


# ---------------------------------------------------------------------------------------------
# One activity


def show(uid: str):
    session = get_session()
    try:
        activity = services.get_activity(session, uid)
    except NotFound:
        abort(404)
    data = services.show(node_context(), activity)
    opinions = {o["id"]: o for o in data["opinions"]}
    return render_template("activities/show.html", activity=data, opinions=opinions,
                           participation=services.participation(activity))


def act(uid: str):
    form = flask.request.form
    fields: dict[str, Any] = {key: value for key, value in form.items()
                              if key not in ("present", "once", "csrf_token")
                              and not (key in OPTIONAL and not value.strip())}
    if "present" in form:
        fields["present"] = _items(form.get("present", ""))
    here = url_for("activities.show", uid=uid)

    def work(session):
        outcome = services.act(session, node_context(), uid, action, _actor())
        return "success", _done(action.action, outcome), here

    try:
        action = ActivityActionIn.model_validate(fields).root
        return forms.run_once(_actor(), work)
    except NotFound:
        abort(404)
    except (InputError, Conflict, ValidationError) as exc:
        flash(_("Refused: %(message)s", message=_refusal(exc)), "error")
        return redirect(here, 303)


def _done(action: str, outcome: services.Outcome) -> str:
    return {
        "invite": lambda: _("Invited."),
        "invite_level": lambda: _("The invitation is sent to the higher level."), "reply": lambda: _("Reply recorded."),
        "attend": lambda: _("Attendance taken."), "research": lambda: _("Research recorded."),
        "opinion": lambda: _("Opinion recorded."), "open_window": lambda: _("The online window is open."),
        "close_window": lambda: _("The online window is closed."), "moderate": lambda: _("Moderation recorded."),
        "consensus": lambda: _("Consensus recorded."), "minutes": lambda: _("Minutes approved and published."),
        "close": lambda: _("Activity closed; its topics record the consultation."),
        "cancel": lambda: _("Activity cancelled."),
    }[action]()


def post_opinion(uid: str):
    here = url_for("activities.show", uid=uid) + "#opinions"

    def work(session):
        services.post_online(session, node_context(), uid, flask.request.form.get("text", ""),
                             user_of(auth.current_user()), _actor())
        return "success", _("Your opinion is posted."), here

    try:
        return forms.run_once(_actor(), work)
    except NotFound:
        abort(404)
    except (InputError, Conflict) as exc:
        flash(_("Refused: %(message)s", message=reason(exc)), "error")
        return redirect(here, 303)


def add_material(uid: str):
    upload = flask.request.files.get("file")
    here = url_for("activities.show", uid=uid) + "#materials"

    def work(session):
        (added,) = services.add_materials(session, node_context(), uid, [(upload.filename, content)], _actor())
        return "success", _("Material added: %(name)s.", name=added.name), here

    try:
        if upload is None or not upload.filename:
            raise InputError(_("choose a file"))
        content = services.read_upload(upload.stream.read, upload.content_length or None, flask.current_app.config)
        return forms.run_once(_actor(), work)
    except NotFound:
        abort(404)
    except (InputError, Conflict) as exc:
        flash(_("Refused: %(message)s", message=reason(exc)), "error")
        return redirect(here, 303)


def material(uid: str, sha256: str):
    try:
        found, path = services.material_file(get_session(), node_context(), uid, sha256)
    except (NotFound, InputError):
        abort(404)
    return send_material(found, path)


#: A material's bytes as a download under its name (pages and the API alike): as a topic's attachment is sent.
send_material = send_attachment


# ---------------------------------------------------------------------------------------------
# Lower nodes' activities this level was invited to or joined


def _remote_page(form: Mapping[str, Any] | None = None, status: int = 200):
    rows = federation.remote_list(get_session(), node_context())
    return render_template("activities/remote.html", rows=rows, form=form or {}), status


def remote():
    return _remote_page()


def remote_act():
    form = flask.request.form
    uid = (form.get("uid") or "").strip()
    what = form.get("action")
    here = url_for("activities.remote") + (f"#a-{uid}" if uid else "")

    def work(session):
        node = node_context()
        if what == "join":
            people = ([{"name": n, "kind": "member"} for n in _items(form.get("members", ""))]
                      + [{"name": n, "kind": "department"} for n in _items(form.get("departments", ""))])
            federation.join(session, node, uid, form.get("mode") or "accept", people, form.get("note", ""), _actor())
            return "success", _("Sent to %(host)s: this level joins with %(count)s participants.",
                                host=federation.host_of(uid), count=len(people)), here
        if what == "send_opinions":
            federation.send_opinions(session, node, uid, [{"speaker": form.get("speaker", ""),
                                                           "text": form.get("text", ""),
                                                           "kind": form.get("kind") or "written"}], _actor())
            return "success", _("The opinion is sent to %(host)s.", host=federation.host_of(uid)), here
        raise InputError(_("unknown action"))

    try:
        return forms.run_once(_actor(), work)
    except (InputError, Conflict, NotFound) as exc:
        flash(_("Refused: %(message)s", message=reason(exc)), "error")
        return redirect(here, 303)
