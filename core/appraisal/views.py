"""Appraisal pages (/appraisal): the appraisals of this node and the form that creates one; one appraisal with its
subjects, groups, visits, ratings, report and rectifications, and the office's forms for each step; the
rectifications page, where a handling unit's contact user files its unit's reports. Each handler parses the form,
calls one service and redirects with a flashed message; a refused form flashes the reason (nothing stored)."""

from __future__ import annotations

import re
from typing import Any

import flask
from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from shangliang.core.context import node_context
from shangliang.core.db import get_session
from shangliang.core.errors import Conflict, InputError, NotFound
from shangliang.core.i18n import reason
from shangliang.core.i18n import N_
from shangliang.core.topics.supervision import due_date
from shangliang.core.web import auth, forms

from . import services
from .models import KINDS, RATINGS, REPORT_KINDS

SEPARATORS = re.compile(r"[\s,，、;；]+")


def kind_label(kind: str) -> str:
    return {"departments": _("Government departments"), "key_topics": _("Implementation of key topics")}.get(kind, kind)


def rating_label(rating: str) -> str:
    return {"satisfied": _("Satisfied"), "basically_satisfied": _("Basically satisfied"),
            "unsatisfied": _("Unsatisfied")}.get(rating, rating)


def status_label(status: str) -> str:
    return {"open": _("Open"), "reported": _("Reported"), "proposed": _("Awaiting confirmation"),
            "confirmed": _("Confirmed"), "dismissed": _("Dismissed"), "assigned": _("Assigned"),
            "reporting": _("Rectifying"), "final_reported": _("Final rectification report awaits review"),
            "accepted": _("Accepted by the office"), "pending": _("Pending"), "returned": _("Returned"),
            "progress": _("Progress report on rectification"), "final": _("Final rectification report")}.get(status, status)


def is_office() -> bool:
    return auth.has_role(auth.current_user(), services.WRITERS)


def due_day(due_ms: int) -> str:
    return due_date(node_context().config, due_ms).isoformat()


def template_helpers() -> dict[str, Any]:
    return {"due_day": due_day, "appraisal_kind_label": kind_label, "rating_label": rating_label, "status_label": status_label,
            "is_office": is_office(), "APPRAISAL_KINDS": KINDS, "RATINGS": RATINGS, "REPORT_KINDS": REPORT_KINDS}


def _actor() -> str:
    return f"web:{auth.current_user().username}"


def _names(value: str | None) -> list[str]:
    return [part for part in SEPARATORS.split(value or "") if part]


def _int(value: Any, field: str) -> int:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        raise InputError(N_("%(field)s must be a number", field=field), field=field) from None


def _ints(value: str | None, field: str) -> list[int]:
    return [_int(v, field) for v in _names(value)]


def index():
    session = get_session()
    return render_template("appraisal/index.html", appraisals=[services.summary(a)
                                                               for a in services.list_appraisals(session)])


def create():
    form = flask.request.form

    def work(session):
        year = _int(form.get("year"), "year")
        appraisal = services.create_appraisal(session, node_context(), year, form.get("kind", ""),
                                              form.get("title", ""), _actor())
        return "success", _("Appraisal created: %(title)s", title=appraisal.title), \
            url_for("appraisal.show", appraisal_id=appraisal.id)

    try:
        return forms.run_once(_actor(), work)
    except (InputError, Conflict) as exc:
        flash(_("Not created: %(message)s", message=reason(exc)), "error")
        return redirect(url_for("appraisal.index"), 303)


def show(appraisal_id: int):
    session = get_session()
    try:
        appraisal = services.get_appraisal(session, appraisal_id)
    except NotFound:
        abort(404)
    user = auth.current_user()
    data = services.detail(appraisal, ratings=is_office(), unit_id=services.unit_scope(session, user))
    candidates = services.candidate_subjects(session, node_context(), appraisal.year) if is_office() else []
    return render_template("appraisal/show.html", a=data, candidates=candidates)


# The office's steps on an appraisal: the form's ``action`` names one, each calls one service.
def _office_step(action: str, appraisal_id: int, form) -> str:
    node = node_context()

    def subject(session):
        services.add_subject(session, node, appraisal_id, form.get("unit") or None, form.get("topic") or None,
                             form.get("note"), _actor())
        return _("Subject added.")

    def decide(session):
        services.decide_subject(session, node, appraisal_id, _int(form.get("subject"), "subject"),
                                form.get("decision", ""), form.get("note"), _actor())
        return _("Decision recorded.")

    def group(session):
        services.add_group(session, node, appraisal_id, form.get("name", ""), form.get("leader", ""),
                           _names(form.get("members")), _ints(form.get("subjects"), "subjects"), _actor())
        return _("Group formed.")

    def visit(session):
        services.record_visit(session, node, appraisal_id, _int(form.get("group"), "group"),
                              _int(form.get("subject"), "subject"), form.get("date", ""), form.get("place", ""),
                              form.get("findings", ""), _actor())
        return _("Visit recorded.")

    def rate(session):
        services.rate(session, node, appraisal_id, _int(form.get("subject"), "subject"), form.get("member", ""),
                      form.get("rating", ""), form.get("comment"), _actor())
        return _("Rating entered.")

    def report(session):
        services.send_report(session, node, appraisal_id, form.get("body", ""), form.get("sent_on"),
                             _names(form.get("recipients")), _actor())
        return _("Report recorded as sent.")

    def rectify(session):
        days = form.get("working_days", "").strip()
        services.assign_rectification(session, node, appraisal_id, _int(form.get("subject"), "subject"),
                                      form.get("unit") or None, form.get("requirements", ""),
                                      _int(days, "working_days") if days else None, form.get("due") or None,
                                      _actor())
        return _("Rectification assigned.")

    def review(session):
        services.review_rectification_report(session, node, _int(form.get("rectification"), "rectification"),
                                             _int(form.get("report"), "report"), form.get("decision", ""),
                                             form.get("comment"), _actor())
        return _("Review recorded.")

    steps = {"subject": subject, "decide": decide, "group": group, "visit": visit, "rate": rate, "report": report,
             "rectify": rectify, "review": review}
    if action not in steps:
        raise InputError(N_("unknown action %(action)s", action=repr(action[:40])), field="action")
    return steps[action]


def office_act(appraisal_id: int):
    form = flask.request.form
    target = url_for("appraisal.show", appraisal_id=appraisal_id)
    try:
        services.get_appraisal(get_session(), appraisal_id)
    except NotFound:
        abort(404)
    get_session().rollback()
    try:
        step = _office_step(form.get("action", ""), appraisal_id, form)

        def work(session):
            return "success", step(session), target

        return forms.run_once(_actor(), work)
    except (InputError, Conflict, NotFound) as exc:
        flash(_("Refused: %(message)s", message=reason(exc)), "error")
        return redirect(target, 303)


def rectifications():
    session = get_session()
    scope = services.unit_scope(session, auth.current_user())
    rows = [] if scope is False else services.list_rectifications(session, scope)
    return render_template("appraisal/rectifications.html",
                           rows=[services.rectification_dict(r) for r in rows],
                           is_unit=auth.has_role(auth.current_user(), services.UNITS))


def unit_report(rectification_id: int):
    form = flask.request.form
    user = auth.current_user()

    def work(session):
        services.file_rectification_report(session, node_context(), rectification_id, user.id,
                                           form.get("kind", ""), form.get("body", ""), _actor())
        return "success", _("Report filed."), url_for("appraisal.rectifications")

    try:
        return forms.run_once(_actor(), work)
    except NotFound:
        abort(404)
    except (InputError, Conflict) as exc:
        flash(_("Not filed: %(message)s", message=reason(exc)), "error")
        return redirect(url_for("appraisal.rectifications"), 303)
