"""Plan pages (/plans): the years' plans, drafting one, and one plan with its items, approval steps, checks,
per-item progress and the forms that apply (add an item while it is a draft, take the next step, publish,
amend once published). Each handler parses the form, calls one service and redirects with a flashed message."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import flask
from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from pydantic import ValidationError
from shangliang.core.context import node_context
from shangliang.core.db import get_session
from shangliang.core.errors import Conflict, InputError, NotFound
from shangliang.core.i18n import reason
from shangliang.core.topics.models import RAISED_BY_KINDS
from shangliang.core.topics.views import day, kind_label, stage_label, when
from shangliang.core.web import auth, forms
from shangliang.core.web.api import describe

from . import services
from .forms import registry
from .models import AMENDMENT_KINDS, DECISIONS, PARTICIPANT_KINDS
from .schemas import PlanAmendmentIn, PlanIn, PlanItemIn, PlanStepIn

# Flask's context-bound proxies are used through their modules (see topics/views.py).

SEPARATORS = re.compile(r"[\n,，、;；]+")
AREA_SEPARATORS = re.compile(r"[\s,，、;；]+")


def status_label(status: str) -> str:
    labels = {"draft": _("Draft"), "in_approval": _("In approval"), "published": _("Published")}
    return labels.get(status, status)


def decision_label(decision: str) -> str:
    labels = {"approved": _("Approved"), "returned": _("Returned")}
    return labels.get(decision, decision)


def participants_label(kind: str) -> str:
    labels = {"departments": _("Departments"), "sectors": _("Sectors"), "members": _("Members")}
    return labels.get(kind, kind)


def implementation_label(stage: str | None) -> str:
    labels = {"implementing": _("Being implemented"), "feedback": _("Implementation reported"),
              "closed": _("Closed with its result")}
    return labels.get(stage, _("Not yet")) if stage else _("Not yet")


def can_write() -> bool:
    return auth.has_role(auth.current_user(), services.WRITERS)


def template_helpers() -> dict[str, Any]:
    """What the plan templates use (a context processor of the pages blueprint)."""
    found = registry(node_context().pm)
    return {"status_label": status_label, "decision_label": decision_label, "participants_label": participants_label,
            "implementation_label": implementation_label, "stage_label": stage_label, "kind_label": kind_label,
            "when": when, "day": day, "can_write": can_write(), "FORMS": found, "DECISIONS": DECISIONS,
            "AMENDMENT_KINDS": AMENDMENT_KINDS, "PARTICIPANT_KINDS": PARTICIPANT_KINDS,
            "RAISED_BY_KINDS": RAISED_BY_KINDS, "node_id": flask.current_app.config["NODE_ID"]}


def _actor() -> str:
    return f"web:{auth.current_user().username}"


def _refusal(exc: Exception) -> str:
    return describe(exc)[0] if isinstance(exc, ValidationError) else reason(exc)


def _blank_none(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def _names(value: str | None) -> list[str]:
    return [part.strip() for part in SEPARATORS.split(value or "") if part.strip()]


# ---------------------------------------------------------------------------------------------
# The years' plans and drafting one


def _index_page(form: Mapping[str, Any] | None = None, status: int = 200):
    plans = [p.as_dict(full=False) for p in services.list_plans(get_session()).items]
    return render_template("plans/index.html", plans=plans, form=form or {},
                           this_year=services._today(node_context()).year), status


def index():
    return _index_page()


def create():
    form = flask.request.form

    def work(session):
        plan = services.create_plan(session, node_context(), data, _actor())
        return "success", _("Plan drafted: %(title)s", title=plan.title), url_for("plans.show", year=plan.year)

    try:
        data = PlanIn.model_validate({"year": form.get("year", ""), "title": form.get("title", "")})
        return forms.run_once(_actor(), work)
    except (InputError, Conflict, ValidationError) as exc:
        flash(_("Not drafted: %(message)s", message=_refusal(exc)), "error")
        return _index_page(form, 400)


# ---------------------------------------------------------------------------------------------
# One plan


def show(year: int):
    session = get_session()
    node = node_context()
    try:
        plan = services.get_plan(session, year)
    except NotFound:
        abort(404)
    data = services.show(session, node, plan)
    progress = {row["item_id"]: row for row in data["progress"]}
    return render_template("plans/show.html", plan=data, progress=progress,
                           candidates=services.candidate_topics(session, node, plan),
                           labels={s["key"]: s["label"] for s in data["approval"]["steps"]})


def _item_input(form: Mapping[str, str], prefix: str = "") -> dict[str, Any]:
    """A plan item from a page form: a topic held here, or a new topic's fields."""
    get = lambda key: form.get(prefix + key, "")
    fields: dict[str, Any] = {
        "form": get("form"), "planned_month": _blank_none(get("planned_month")),
        "planned_date": _blank_none(get("planned_date")), "lead": get("lead"),
        "participants": {kind: _names(get(kind)) for kind in PARTICIPANT_KINDS},
    }
    topic_uid = _blank_none(get("topic_uid"))
    if topic_uid:
        fields["topic_uid"] = topic_uid
    else:
        fields["topic"] = {"title": get("title"), "description": get("description"), "category": get("category"),
                           "areas": [a for a in AREA_SEPARATORS.split(get("areas")) if a],
                           "raised_by_kind": get("raised_by_kind"), "raised_by_name": get("raised_by_name")}
    return fields


def _change(year: int, work, parse, anchor: str = ""):
    """Parse the form, run the unit of work once; a refusal is flashed and nothing is stored."""
    here = url_for("plans.show", year=year) + anchor
    try:
        parsed = parse()
        return forms.run_once(_actor(), lambda session: work(session, parsed))
    except NotFound as exc:
        if "no plan for" in str(exc):
            abort(404)
        flash(_("Refused: %(message)s", message=reason(exc)), "error")
    except (InputError, Conflict, ValidationError) as exc:
        flash(_("Refused: %(message)s", message=_refusal(exc)), "error")
    return redirect(here, 303)


def add_item(year: int):
    here = url_for("plans.show", year=year)

    def work(session, data):
        item = services.add_item(session, node_context(), year, data, _actor())
        return "success", _("Added to the plan: %(title)s", title=item.topic_title), here + "#items"

    return _change(year, work, lambda: PlanItemIn.model_validate(_item_input(flask.request.form)), "#add")


def remove_item(year: int, item_id: int):
    here = url_for("plans.show", year=year)

    def work(session, _data):
        item = services.remove_item(session, node_context(), year, item_id, _actor())
        return "success", _("Removed from the plan: %(title)s", title=item.topic_title), here + "#items"

    return _change(year, work, lambda: None, "#items")


def take_step(year: int):
    here = url_for("plans.show", year=year)
    form = flask.request.form

    def work(session, data):
        step = services.take_step(session, node_context(), year, data, _actor())
        message = _("Step recorded: %(step)s, %(decision)s.", step=step.step, decision=decision_label(step.decision))
        return "success", message, here + "#approval"

    fields = {key: form.get(key, "") for key in ("step", "approver", "decision", "reference", "opinion", "decided_on")}
    return _change(year, work, lambda: PlanStepIn.model_validate(fields), "#approval")


def publish(year: int):
    here = url_for("plans.show", year=year)

    def work(session, _data):
        _plan, determined = services.publish(session, node_context(), year, _actor())
        return "success", _("Plan published; topics determined: %(n)s.", n=len(determined)), here

    return _change(year, work, lambda: None, "#approval")


def amend(year: int):
    here = url_for("plans.show", year=year)
    form = flask.request.form

    def parse():
        kind = form.get("kind", "")
        fields: dict[str, Any] = {key: form.get(key, "") for key in ("kind", "reason", "approved_by", "reference")}
        if kind == "add":
            fields["item"] = _item_input(form, "item_")
        elif kind == "move":
            fields.update({"item_id": _blank_none(form.get("item_id")),
                           "planned_month": _blank_none(form.get("planned_month")),
                           "planned_date": _blank_none(form.get("planned_date"))})
        return PlanAmendmentIn.model_validate(fields)

    def work(session, data):
        services.amend(session, node_context(), year, data, _actor())
        return "success", _("Amendment recorded."), here + "#amendments"

    return _change(year, work, parse, "#amendments")
