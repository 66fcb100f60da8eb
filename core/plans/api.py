"""The plans JSON API (/api/v1/plans): handlers that take the validated request, call one service and answer
JSON. The URL table and the documented answers are in ``blueprint.py``; the shapes in ``schemas.py``."""

from __future__ import annotations

from flask import url_for
from shangliang.core.context import node_context
from shangliang.core.db import get_session, transaction
from shangliang.core.web.api import actor, json_response

from . import services
from .schemas import (
    PlanAmendmentIn,
    PlanIn,
    PlanItemIn,
    PlanItemPath,
    PlanListQuery,
    PlanPath,
    PlanPublishIn,
    PlanStepIn,
)


def _detail(session, year: int) -> dict:
    return services.show(session, node_context(), services.get_plan(session, year))


def list_plans(query: PlanListQuery):
    """List plans.

    This node's annual consultation plans (年度协商计划), the latest year first; a page at a time.
    """
    found = services.list_plans(get_session(), query.year, query.limit, query.cursor)
    return json_response({"plans": [p.as_dict(full=False) for p in found.items], "next_cursor": found.next_cursor})


def list_forms():
    """List consultation forms and approval steps.

    The consultation forms (协商形式) this node offers — the ten of the documents and any a practice adds — and
    the approval steps its plans take, in order.
    """
    return json_response(services.forms_and_steps(node_context()))


def create_plan(body: PlanIn):
    """Draft a plan.

    Draft this node's consultation plan for a year: one plan a year (409 when there is one).
    """
    with transaction(actor()) as session:
        plan = services.create_plan(session, node_context(), body, actor())
        data = services.show(session, node_context(), plan)
    return json_response(data, 201, {"Location": url_for("plans_api.show_plan", year=plan.year)})


def show_plan(path: PlanPath):
    """Show a plan.

    The plan with its items, approval steps (taken and to take), checks (what is short), each item's progress
    (consulted, result, implementation) and the topics consulted that year outside it.
    """
    return json_response(_detail(get_session(), path.year))


def add_item(path: PlanPath, body: PlanItemIn):
    """Add an item.

    Add a topic to a draft plan: a topic held here (`topic_uid`) or one raised from the plan (`topic`), with its
    consultation form, planned month or date, lead and participants.
    """
    with transaction(actor()) as session:
        services.add_item(session, node_context(), path.year, body, actor())
        data = _detail(session, path.year)
    return json_response(data, 201)


def remove_item(path: PlanItemPath):
    """Remove an item.

    Take an item out of a draft plan (its topic stays). The request sends an empty JSON object.
    """
    with transaction(actor()) as session:
        services.remove_item(session, node_context(), path.year, path.item_id, actor())
        data = _detail(session, path.year)
    return json_response(data)


def take_step(path: PlanPath, body: PlanStepIn):
    """Take an approval step.

    Record the plan's next approval step: who approved, the reference, the opinion, the decision. Steps are
    taken strictly in order; `returned` sends the plan back to draft and a new round starts.
    """
    with transaction(actor()) as session:
        services.take_step(session, node_context(), path.year, body, actor())
        data = _detail(session, path.year)
    return json_response(data, 201)


def publish(path: PlanPath, body: PlanPublishIn):
    """Publish a plan.

    Publish the plan after its last approval step, with no blocking check unmet; its topics still `collected`
    move to `determined` (确定议题). A published plan changes only by amendment.
    """
    with transaction(actor()) as session:
        _plan, determined = services.publish(session, node_context(), path.year, actor())
        data = _detail(session, path.year)
    return json_response({"plan": data, "determined": determined})


def amend(path: PlanPath, body: PlanAmendmentIn):
    """Amend a published plan.

    Add an item to a published plan or move one to another month or date, with the reason, who approved the
    change and the document reference (all three required).
    """
    with transaction(actor()) as session:
        services.amend(session, node_context(), path.year, body, actor())
        data = _detail(session, path.year)
    return json_response(data, 201)
