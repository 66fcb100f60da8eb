"""Social-opinion report pages (/opinions): the list, the form to write one, one report with the office's forms
(edit, decide), the issues of the periodical (and the form that compiles one), and the statistics page with its
.xlsx download of adoption statistics. Each handler parses the form, calls one service and renders the answer;
a refusal is flashed, naming the problem, and nothing is stored."""

from __future__ import annotations

from typing import Any, Mapping

import flask
from flask import abort, flash, redirect, render_template, url_for
from flask_babel import format_datetime, gettext as _
from pydantic import ValidationError

from shangliang.core import exports
from shangliang.core.clock import datetime_of
from shangliang.core.context import NodeContext, node_context
from shangliang.core.db import get_session
from shangliang.core.errors import Conflict, InputError, NotFound
from shangliang.core.i18n import reason
from shangliang.core.web import auth, forms
from shangliang.core.web.api import describe

from . import services, statistics
from .models import AUTHOR_KINDS, BODY_AUTHOR_KINDS, DECISIONS, REPORT_TO, STATUSES
from .schemas import OpinionDecisionIn, OpinionEditIn, OpinionIn, OpinionIssueIn


def status_label(status: str) -> str:
    return {"pending": _("Waiting for a decision"), "decided": _("Decided"),
            "not_used": _("Not used")}.get(status, status)


def decision_label(kind: str) -> str:
    return {"used": _("Used (adopted by the committee)"), "forwarded": _("Forwarded to the higher level"),
            "reported": _("Sent to the party committee or government"), "not_used": _("Not used"),
            "adopted": _("Adopted"), "instruction": _("Leader's instruction"),
            "edited": _("Edited by the office")}.get(kind, kind)


def author_label(kind: str) -> str:
    return {"member": _("Member"), "sector": _("Sector"), "special_committee": _("Special committee"),
            "station": _("Grassroots or work station"), "party_group": _("Party group")}.get(kind, kind)


def report_to_label(kind: str | None) -> str:
    return {"party_committee": _("Party committee"), "government": _("Government")}.get(kind or "", kind or "")


def level_label(level: str) -> str:
    return {"province": _("Province"), "city": _("City"), "county": _("County"), "township": _("Township"),
            "village": _("Village")}.get(level, level)


def day(ms: int | None) -> str:
    if ms is None:
        return ""
    moment = datetime_of(ms)
    return format_datetime(moment, "yyyy-MM-dd") if moment else str(ms)


def template_helpers() -> dict[str, Any]:
    user = auth.current_user()
    return {"status_label": status_label, "decision_label": decision_label, "author_label": author_label,
            "report_to_label": report_to_label, "level_label": level_label, "day": day,
            "is_office": auth.has_role(user, services.OFFICE), "can_write": auth.has_role(user, services.WRITERS),
            "STATUSES": STATUSES, "DECISIONS": DECISIONS, "AUTHOR_KINDS": AUTHOR_KINDS,
            "BODY_AUTHOR_KINDS": BODY_AUTHOR_KINDS, "REPORT_TO": REPORT_TO}


def _who() -> services.Who:
    return services.who_of(auth.current_user())


def _actor() -> str:
    return f"web:{auth.current_user().username}"


def _refusal(exc: Exception) -> str:
    return describe(exc)[0] if isinstance(exc, ValidationError) else reason(exc)


def _fields(form: Mapping[str, str], keys: tuple[str, ...]) -> dict[str, Any]:
    return {key: form.get(key).strip() for key in keys if (form.get(key) or "").strip()}


# ---------------------------------------------------------------------------------------------
# The list and writing


def index():
    args = flask.request.args
    status = args.get("status") if args.get("status") in STATUSES else None
    mine = args.get("mine") == "1"
    year = args.get("year", "")
    year = int(year) if year.isascii() and year.isdigit() and 1949 <= int(year) <= 9999 else None
    found = services.list_opinions(get_session(), _who(), status, year, limit=200, mine=mine)
    return render_template("opinions/index.html", rows=[services.summary(o) for o in found.items], status=status,
                           year=year, mine=mine)


def new(form: Mapping[str, Any] | None = None, status: int = 200):
    return render_template("opinions/new.html", form=form or {}), status


def write():
    form = flask.request.form
    keys = ("title", "sentiment", "analysis", "suggestion", "category", "year")
    if _who().office:  # a member writes their own report: the office's fields are not on their form
        keys += ("author_kind", "author_name", "member_no", "author_node")
    fields = _fields(form, keys)

    def work(session):
        o = services.write(session, node_context(), data, _who(), _actor())
        return "success", _("Report written: %(title)s", title=o.title), url_for("opinions.show", ref=o.ref)

    try:
        data = OpinionIn.model_validate(fields)
        return forms.run_once(_actor(), work)
    except (InputError, ValidationError) as exc:
        flash(_("Not written: %(message)s", message=_refusal(exc)), "error")
        return new(form, 400)


# ---------------------------------------------------------------------------------------------
# One report


def show(ref: str):
    session = get_session()
    try:
        o = services.get_opinion(session, ref)
    except NotFound:
        abort(404)
    from . import messages

    return render_template("opinions/show.html", o=o.as_dict(), parent=messages.parent_peer(session))


def _run(ref: str, service, data, message: str):
    here = url_for("opinions.show", ref=ref)

    def work(session):
        service(session, node_context(), ref, data, _who(), _actor())
        return "success", message, here

    try:
        return forms.run_once(_actor(), work)
    except NotFound:
        abort(404)
    except (InputError, Conflict, ValidationError) as exc:
        flash(_("Refused: %(message)s", message=_refusal(exc)), "error")
        return redirect(here, 303)


def edit(ref: str):
    try:
        data = OpinionEditIn.model_validate(_fields(flask.request.form, ("title", "sentiment", "analysis",
                                                                          "suggestion", "category")))
    except ValidationError as exc:
        flash(_("Refused: %(message)s", message=_refusal(exc)), "error")
        return redirect(url_for("opinions.show", ref=ref), 303)
    return _run(ref, services.edit, data, _("Report edited."))


def decide(ref: str):
    try:
        data = OpinionDecisionIn.model_validate(_fields(flask.request.form, ("decision", "body", "body_kind",
                                                                              "leader", "text", "date")))
    except ValidationError as exc:
        flash(_("Refused: %(message)s", message=_refusal(exc)), "error")
        return redirect(url_for("opinions.show", ref=ref), 303)

    def step(session, node, r, d, who, actor):
        return services.decide(session, node, r, d, who, actor)[0]

    return _run(ref, step, data, _("Decision recorded: %(decision)s", decision=decision_label(data.decision)))


# ---------------------------------------------------------------------------------------------
# Issues of the periodical


def issues(status: int = 200):
    found = services.list_issues(get_session())
    pending = services.list_opinions(get_session(), _who(), None, None, limit=200).items
    candidates = [services.summary(o) for o in pending if o.issue_id is None and o.status != "not_used"]
    return render_template("opinions/issues.html", issues=[i.as_dict() for i in found],
                           candidates=candidates), status


def compile_issue():
    form = flask.request.form
    fields: dict[str, Any] = _fields(form, ("year", "number", "title"))
    fields["opinions"] = [v for v in form.getlist("opinions") if v.strip()]

    def work(session):
        issue = services.compile_issue(session, node_context(), data, _who(), _actor())
        return "success", _("Issue compiled: %(label)s", label=f"{issue.year}年第{issue.number}期"), url_for(
            "opinions.issues")

    try:
        data = OpinionIssueIn.model_validate(fields)
        return forms.run_once(_actor(), work)
    except (InputError, Conflict, ValidationError) as exc:
        flash(_("Not compiled: %(message)s", message=_refusal(exc)), "error")
        return issues(400)


# ---------------------------------------------------------------------------------------------
# Statistics


def headers() -> dict[str, str]:
    return {"totals": _("Totals"), "by_member": _("By member"), "by_node": _("By node"), "by_level": _("By level"),
            "by_year": _("By year"), "year": _("Year"), "written": _("Written"), "used": _("Used"),
            "forwarded": _("Forwarded"), "reported": _("Sent to party committee or government"),
            "not_used": _("Not used"), "adopted": _("Adopted"), "instructions": _("Leaders' instructions"),
            "name": _("Member"), "member_no": _("Member number"), "home": _("Home committee"),
            "adopted_at": _("Adopted at"), "node": _("Node"), "level": _("Level")}


def export(stats: dict[str, Any]) -> bytes:
    """The adoption statistics workbook (also what ``shangliang opinions statistics --xlsx`` writes)."""
    return exports.workbook(statistics.sheets(stats, level_label, headers()))


def export_name(stats: dict[str, Any], node: NodeContext) -> str:
    return _("%(node)s social-opinion adoption statistics %(year)s", node=node.name, year=stats["year"])


def statistics_page():
    node = node_context()
    status = 200
    try:
        stats = statistics.opinion_statistics(get_session(), node, flask.request.args.get("year") or None)
    except InputError as exc:
        flash(_("Cannot count: %(message)s", message=reason(exc)), "error")
        stats, status = statistics.opinion_statistics(get_session(), node), 400
    if status == 200 and flask.request.args.get("format") == "xlsx":
        return exports.xlsx_response(statistics.sheets(stats, level_label, headers()), export_name(stats, node))
    return render_template("opinions/statistics.html", stats=stats, headers=headers(), charts=charts(stats),
                           counts=statistics.COUNTS), status


def charts(stats: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The chart specs of the page (core/templates/_charts.html): adoptions and instructions per level."""
    rows = stats["by_level"]
    return {"by_level": {"type": "bar", "title": _("Adoptions and instructions of %(year)s by level",
                                                    year=stats["year"]),
                         "label_header": _("Level"), "labels": [level_label(r["level"]) for r in rows],
                         "series": [{"name": _("Adopted"), "data": [r["adopted"] for r in rows]},
                                    {"name": _("Leaders' instructions"), "data": [r["instructions"] for r in rows]}]}}
