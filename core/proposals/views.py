"""Proposal pages (/proposals): the lists (what the user may see, their own, their unit's, the public list), the
form to submit one, and one proposal with the forms of the steps the user may take — the office's (review,
flags, assignment, reassignment decisions, supervision, publication, closing), the proposer's (confirming,
revising, rating) and an assigned unit's (reply, contacts, reassignment requests). Each handler parses the
form, calls one service and renders the answer; a refusal is flashed, naming the problem, and nothing is
stored."""

from __future__ import annotations

import re
from typing import Any, Callable, Mapping

import flask
from flask import abort, flash, redirect, render_template, url_for
from flask_babel import format_datetime, gettext as _
from pydantic import ValidationError

from shangliang.core.clock import datetime_of
from shangliang.core.context import node_context
from shangliang.core.db import get_session
from shangliang.core.errors import Conflict, InputError, NotFound
from shangliang.core.i18n import reason
from shangliang.core.web import auth, forms
from shangliang.core.web.api import describe

from . import services
from .models import (BODY_KINDS, CLASSIFICATIONS, CONTACT_KINDS, DIMENSIONS, DISPOSALS, PHASES, SATISFACTION,
                     STATUSES)
from .schemas import (ProposalAssignmentIn, ProposalCloseIn, ProposalContactIn, ProposalDecisionIn,
                      ProposalFlagsIn, ProposalIn, ProposalPublicationIn, ProposalRatingIn, ProposalReassignmentIn,
                      ProposalReplyIn, ProposalReviewIn, ProposalRevisionIn, ProposalSupervisionIn,
                      ProposalConsentIn, ProposalForwardIn, ProposalFromTopicIn)

SEPARATORS = re.compile(r"[\n,，、;；]+")


def status_label(status: str) -> str:
    return {"signing": _("Waiting for co-signers"), "submitted": _("Waiting for the filing review"),
            "returned": _("Returned for revision"), "filed": _("Filed"), "not_filed": _("Not filed"),
            "merged": _("Merged"), "assigned": _("Being handled"), "replied": _("Replied"), "rated": _("Rated"),
            "closed": _("Closed"), "forwarded": _("Forwarded to the higher level")}.get(status, status)


def upstream_label(event: str) -> str:
    return {"received": _("Received by the higher level"), "filed": _("Filed"), "not_filed": _("Not filed"),
            "merged": _("Merged"), "returned": _("Returned for revision"), "assigned": _("Handling units assigned"),
            "replied": _("Replied"), "rated": _("Rated"), "unsatisfied": _("Unsatisfied: handled again"),
            "closed": _("Closed")}.get(event, event)


def classification_label(value: str) -> str:
    return {"solved_or_solving": _("Solved or being solved"), "planned": _("Planned to solve"),
            "cannot_now": _("Cannot be solved for now")}.get(value, value)


def level_label(value: str | None) -> str:
    return {"satisfied": _("Satisfied"), "basically": _("Basically satisfied"),
            "unsatisfied": _("Unsatisfied")}.get(value or "", value or "")


def dimension_label(value: str) -> str:
    return {"contact": _("Contact before replying"), "attitude": _("Attitude"), "measures": _("Measures"),
            "pertinence": _("Pertinence"), "leader_attention": _("Leader attention"),
            "result": _("Result")}.get(value, value)


def day(ms: int | None) -> str:
    if ms is None:
        return ""
    moment = datetime_of(ms)
    return format_datetime(moment, "yyyy-MM-dd") if moment else str(ms)


def template_helpers() -> dict[str, Any]:
    """What the proposal templates use (a context processor of the pages blueprint)."""
    user = auth.current_user()
    return {"status_label": status_label, "classification_label": classification_label,
            "level_label": level_label, "dimension_label": dimension_label, "day": day,
            "upstream_label": upstream_label,
            "is_office": auth.has_role(user, services.OFFICE), "is_member": auth.has_role(user, services.MEMBERS),
            "is_unit": auth.has_role(user, services.UNITS),
            "can_submit": auth.has_role(user, services.SUBMITTERS), "STATUSES": STATUSES,
            "BODY_KINDS": BODY_KINDS, "CLASSIFICATIONS": CLASSIFICATIONS, "CONTACT_KINDS": CONTACT_KINDS,
            "PHASES": PHASES, "DIMENSIONS": DIMENSIONS, "SATISFACTION": SATISFACTION, "DISPOSALS": DISPOSALS}


def topic_page_helpers() -> dict[str, Any]:
    """What ``proposals/_from_topic.html`` uses on a topic's page (an app-wide context processor)."""

    def made(uid: str) -> list[Any]:
        user = auth.current_user()
        if user is None:
            return []
        session = get_session()
        who = services.who_of(user)
        return [p for p in services.from_topic_list(session, uid) if services.can_see(session, p, who)]

    return {"proposals_from_topic": made,
            "proposals_office": lambda: auth.has_role(auth.current_user(), services.OFFICE)}


def _who() -> services.Who:
    return services.who_of(auth.current_user())


def _actor() -> str:
    return f"web:{auth.current_user().username}"


def _refusal(exc: Exception) -> str:
    return describe(exc)[0] if isinstance(exc, ValidationError) else reason(exc)


def _items(value: str) -> list[str]:
    return [item.strip() for item in SEPARATORS.split(value or "") if item.strip()]


# ---------------------------------------------------------------------------------------------
# Lists


def _list(scope: str, title: str):
    args = flask.request.args
    wanted = args.get("status") if args.get("status") in STATUSES else None
    found = services.list_proposals(get_session(), _who(), scope, wanted, limit=200)
    rows = [services.summary(p) for p in found.items]
    return render_template("proposals/index.html", rows=rows, status=wanted, scope=scope, heading=title)


def index():
    return _list("all", _("Proposals"))


def mine():
    return _list("mine", _("My proposals"))


def assigned():
    return _list("assigned", _("Proposals assigned to my unit"))


def public():
    rows = services.public_list(get_session(), node_context().config)
    return render_template("proposals/public.html", rows=rows)


# ---------------------------------------------------------------------------------------------
# Submitting


def new(form: Mapping[str, Any] | None = None, status: int = 200):
    return render_template("proposals/new.html", form=form or {}), status


def submit():
    form = flask.request.form
    fields: dict[str, Any] = {key: form.get(key, "") for key in ("title", "reasons", "suggestions", "category",
                                                                "term", "session")}
    # a member submits their own proposal: the office's fields (a proposer, a body) are not on their form
    office_fields = ("proposer", "body_kind", "body_name") if _who().office else ()
    for key in ("year",) + office_fields:
        if (form.get(key) or "").strip():
            fields[key] = form.get(key).strip()
    fields["cosigners"] = _items(form.get("cosigners", ""))

    def work(session):
        proposal = services.submit(session, node_context(), data, _who(), _actor())
        return "success", _("Proposal submitted: %(title)s", title=proposal.title), url_for(
            "proposals.show", ref=proposal.ref)

    try:
        data = ProposalIn.model_validate(fields)
        return forms.run_once(_actor(), work)
    except (InputError, ValidationError) as exc:
        flash(_("Not submitted: %(message)s", message=_refusal(exc)), "error")
        return new(form, 400)


# ---------------------------------------------------------------------------------------------
# One proposal


def show(ref: str):
    session = get_session()
    who = _who()
    try:
        proposal = services.get_visible(session, ref, who)
    except NotFound:
        abort(404)
    unit = services.unit_of(session, who)
    from . import messages

    return render_template("proposals/show.html", p=proposal.as_dict(),
                           route=services.route_of(proposal, node_context().id),
                           parent=messages.parent_peer(session),
                           is_proposer=services.is_proposer(proposal, who),
                           my_unit=unit.name if unit is not None else None,
                           standards=services.standards(node_context().config))


def _fields(drop: tuple[str, ...] = ()) -> dict[str, Any]:
    return {key: value for key, value in flask.request.form.items()
            if key not in ("action", "once", "csrf_token") + drop and value.strip()}


def _run(ref: str, steps: Mapping[str, Callable[[], tuple[Callable, Any, str]]]):
    """Parse the form's action, run its service in one transaction (once per form), flash and redirect."""
    what = flask.request.form.get("action", "")
    here = url_for("proposals.show", ref=ref)

    def work(session):
        proposal = service(session, node_context(), ref, data, _who(), _actor())
        moved = getattr(proposal, "proposal", proposal)
        return "success", message, url_for("proposals.show", ref=moved.ref)

    try:
        if what not in steps:
            raise InputError(_("unknown action %(action)s", action=what[:40]))
        service, data, message = steps[what]()
        return forms.run_once(_actor(), work)
    except NotFound:
        abort(404)
    except (InputError, Conflict, ValidationError) as exc:
        flash(_("Refused: %(message)s", message=_refusal(exc)), "error")
        return redirect(here, 303)


def _flag(name: str) -> bool | None:
    value = flask.request.form.get(name)
    return None if value in (None, "") else value in ("1", "true", "on", "yes")


def _request_id() -> int:
    raw = (flask.request.form.get("request_id") or "").strip()
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 9:
        raise InputError(_("which reassignment request? %(value)s is not one", value=raw[:20]), field="request_id")
    return int(raw)


def office_act(ref: str):
    form = flask.request.form
    steps = {
        "review": lambda: (services.review, ProposalReviewIn.model_validate(_fields()), _("Filing review recorded.")),
        "flags": lambda: (services.set_flags, ProposalFlagsIn(key=_flag("key"), face_to_face=_flag("face_to_face")),
                          _("Flags set.")),
        "assign": lambda: (services.assign, ProposalAssignmentIn(lead=form.get("lead", ""),
                                                                 co=_items(form.get("co", "")),
                                                                 deadline=form.get("deadline") or None),
                           _("Handling units assigned.")),
        "decide": lambda: (lambda session, node, r, data, who, actor: services.decide_reassignment(
            session, node, r, _request_id(), data, who, actor),
            ProposalDecisionIn.model_validate(_fields(("request_id",))), _("Reassignment decided.")),
        "supervise": lambda: (services.supervise, ProposalSupervisionIn.model_validate(_fields()),
                              _("Supervision recorded.")),
        "publish": lambda: (services.publish, ProposalPublicationIn(proposal=bool(_flag("proposal")),
                                                                    reply=bool(_flag("reply"))),
                            _("Publication decided.")),
        "close": lambda: (services.close, ProposalCloseIn.model_validate(_fields()), _("Proposal closed.")),
        "contact": lambda: (services.record_contact, ProposalContactIn.model_validate(_fields()),
                            _("Contact recorded.")),
        "revise": lambda: (services.revise, ProposalRevisionIn.model_validate(_fields()),
                           _("Revised and submitted again.")),
    }
    return _run(ref, steps)


def proposer_act(ref: str):
    steps = {
        "confirm": lambda: (lambda session, node, r, data, who, actor: services.confirm(session, node, r, who, actor),
                            None, _("You confirmed as a co-signer.")),
        "revise": lambda: (services.revise, ProposalRevisionIn.model_validate(_fields()),
                           _("Revised and submitted again.")),
        "rate": lambda: (services.rate, ProposalRatingIn.model_validate(_fields()), _("Your rating is recorded.")),
    }
    return _run(ref, steps)


def unit_act(ref: str):
    steps = {
        "reply": lambda: (services.reply, ProposalReplyIn.model_validate(_fields()), _("Reply recorded.")),
        "contact": lambda: (services.record_contact, ProposalContactIn.model_validate(_fields()),
                            _("Contact recorded.")),
        "reassign": lambda: (services.request_reassignment, ProposalReassignmentIn.model_validate(_fields()),
                             _("Reassignment asked for.")),
    }
    return _run(ref, steps)


# ---------------------------------------------------------------------------------------------
# Across levels


def consent(ref: str):
    """The proposer's consent to forwarding (or the office's record of the written consent)."""
    return _run(ref, {"consent": lambda: (services.consent, ProposalConsentIn.model_validate(_fields()),
                                          _("Consent to forwarding recorded."))})


def forward(ref: str):
    """The office forwards the proposal to the parent node."""

    def step(session, node, r, data, who, actor):
        return services.forward(session, node, r, data, who, actor)[0]

    form = flask.request.form
    return _run(ref, {"forward": lambda: (step, ProposalForwardIn(note=form.get("note", ""),
                                                                  areas=_items(form.get("areas", "")) or None),
                                          _("Forwarded to the higher level."))})


def from_topic():
    """A proposal made from a closed topic's result (the button on the topic's page)."""
    form = flask.request.form
    fields = {key: form.get(key).strip() for key in ("topic", "term", "session", "year", "proposer", "body_kind",
                                                     "body_name") if (form.get(key) or "").strip()}

    def work(session):
        proposal = services.from_topic(session, node_context(), data, _who(), _actor())
        return "success", _("Proposal made from the topic: %(title)s", title=proposal.title), url_for(
            "proposals.show", ref=proposal.ref)

    try:
        data = ProposalFromTopicIn.model_validate(fields)
        return forms.run_once(_actor(), work)
    except (InputError, Conflict, ValidationError) as exc:
        flash(_("Not made: %(message)s", message=_refusal(exc)), "error")
        back = flask.request.referrer or url_for("proposals.index")
        return redirect(back if back.startswith(flask.request.host_url) else url_for("proposals.index"), 303)
