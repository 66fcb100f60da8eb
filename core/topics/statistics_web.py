"""Topic statistics on the web: the page ``/topics/statistics`` (charts, tables, ``?format=xlsx``) and the API
``GET /api/v1/topics/statistics``. Thin callers of ``statistics.topic_statistics``; ``register`` adds both
routes to the topics blueprints (``blueprint.py`` calls it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import flask
from flask import render_template
from flask_babel import gettext as _
from pydantic import BaseModel, Field
from shangliang.core import exports
from shangliang.core.context import NodeContext, node_context
from shangliang.core.db import get_session
from shangliang.core.errors import InputError
from shangliang.core.i18n import reason
from shangliang.core.models import Role
from shangliang.core.units.services import unit_of_user
from shangliang.core.web import auth
from shangliang.core.web.api import errors, json_response

from . import statistics
from .views import assignment_state_label, stage_label

# ---------------------------------------------------------------------------------------------
# Shapes (the OpenAPI document is generated from them)


class StatisticsQuery(BaseModel):
    year: int | None = Field(None, ge=statistics.FIRST_YEAR, le=statistics.LAST_YEAR,
                             description="the year the topics were raised in, in the node's time zone "
                                         "(default: this year)")


class StageCount(BaseModel):
    stage: str = Field(description="a stage of the six steps, or closed")
    count: int


class AreaCount(BaseModel):
    area: str = Field(description="a division code")
    name: str | None = Field(None, description="the committee's name, where the area is a node this node knows")
    count: int


class StateCount(BaseModel):
    state: str = Field(description="an assignment's state: assigned, reporting, final_reported or accepted")
    count: int


class UnitCount(BaseModel):
    unit: str = Field(description="the handling unit's name")
    unit_id: int
    assigned: int = Field(description="assignments made to the unit in the year")
    accepted: int = Field(description="of them, with the final report accepted")
    overdue: int = Field(description="of them, overdue now (not accepted, past the deadline or marked)")
    on_time: int = Field(description="of them, accepted with the final report filed by the deadline")
    on_time_share: float | None = Field(description="on_time / (accepted + overdue), 0 to 1; null when both are 0")


class CompletionCount(BaseModel):
    completion: str = Field(description="complete (every assigned unit's final report accepted), incomplete "
                                        "(some not), no_units (no unit assigned on this node)")
    count: int


class ResultStatistics(BaseModel):
    total: int = Field(description="results recorded (topics fed back and closed) in the year")
    by_completion: list[CompletionCount]


class ImplementationStatistics(BaseModel):
    year: int
    assignments: int = Field(description="assignments made in the year (whenever the topic was raised)")
    overdue: int = Field(description="of them, overdue now")
    on_time: int = Field(description="of them, accepted with the final report filed by the deadline")
    by_state: list[StateCount] = Field(description="every state in order, zeros too")
    by_unit: list[UnitCount] = Field(description="per handling unit assigned in the year, the most assigned first")
    results: ResultStatistics


class MonthCount(BaseModel):
    month: int = Field(description="1 to 12")
    raised: int = Field(description="topics raised in the month")
    by_stage: dict[str, int] = Field(description="of them, by their stage now (every stage, zeros too)")
    closed: int = Field(description="topics closed in the month, whenever raised")
    overdue: int = Field(description="topics marked overdue in the month by supervision")


class TopicStatistics(BaseModel):
    year: int
    total: int = Field(description="topics raised in the year")
    overdue: int = Field(description="of them, overdue now")
    by_stage: list[StageCount] = Field(description="every stage in order, zeros too")
    by_area: list[AreaCount] = Field(description="per division code a topic concerns (a topic with two areas "
                                                 "counts for each), the most frequent first")
    by_month: list[MonthCount] = Field(description="each month of the year: topics raised by stage now, closed, "
                                                   "marked overdue")
    implementation: ImplementationStatistics = Field(description="implementation of results (办理实施): the "
                                                     "assignments made in the year, the results recorded in it")


# ---------------------------------------------------------------------------------------------
# Labels in the reader's language


def area_label(node: NodeContext) -> Callable[[dict], str]:
    """An area of ``by_area`` as people read it: the committee's name beside the code where this node knows it."""
    return lambda row: f"{row['area']} {row['name']}" if row.get("name") else row["area"]


def headers() -> dict[str, str]:
    return {"by_stage": _("By stage"), "by_area": _("By area"), "stage": _("Stage"), "area": _("Area"),
            "code": _("Code"), "count": _("Number of topics"), "total": _("Total"),
            "by_state": _("Assignments by state"), "by_unit": _("By handling unit"),
            "results": _("Results by implementation"), "state": _("State"), "assignments": _("Number of assignments"),
            "unit": _("Handling unit"), "assigned": _("Assigned"), "accepted": _("Final report accepted"), "overdue": _("Overdue"),
            "on_time": _("Accepted on time"), "on_time_share": _("On-time share"),
            "completion": _("Implementation"), "results_count": _("Number of results")}


def completion_label(completion: str) -> str:
    return {"complete": _("Implementation complete"), "incomplete": _("Implementation not complete"),
            "no_units": _("No unit assigned here")}.get(completion, completion)


def _sheets(stats: dict[str, Any], node: NodeContext) -> list[Any]:
    return statistics.sheets(stats, stage_label, area_label(node), headers(), assignment_state_label,
                             completion_label)


def export(stats: dict[str, Any], node: NodeContext) -> bytes:
    """The workbook of ``stats`` (also what ``shangliang topics statistics --xlsx`` writes)."""
    return exports.workbook(_sheets(stats, node))


def export_name(stats: dict[str, Any], node: NodeContext) -> str:
    return _("%(node)s topic statistics %(year)s", node=node.name, year=stats["year"])


def charts(stats: dict[str, Any], node: NodeContext) -> dict[str, dict[str, Any]]:
    """The chart specs of the page (see core/templates/_charts.html)."""
    label = area_label(node)
    return {
        "by_stage": {"type": "bar", "title": _("Topics raised in %(year)s by stage", year=stats["year"]),
                     "label_header": _("Stage"), "labels": [stage_label(r["stage"]) for r in stats["by_stage"]],
                     "series": [{"name": _("Number of topics"), "data": [r["count"] for r in stats["by_stage"]]}]},
        "by_area": {"type": "donut", "title": _("Topics raised in %(year)s by area", year=stats["year"]),
                    "label_header": _("Area"), "labels": [label(r) for r in stats["by_area"]],
                    "series": [{"name": _("Number of topics"), "data": [r["count"] for r in stats["by_area"]]}]},
        "by_month": month_chart(stats),
        **implementation_charts(stats["implementation"]),
    }


def month_chart(stats: dict[str, Any]) -> dict[str, Any]:
    """Topics over the year: raised each month, stacked by their stage now (the stages that occur), with the
    topics closed and marked overdue each month as lines."""
    months = stats.get("by_month") or []
    stages = [s for s in statistics.STAGES if any(m["by_stage"].get(s) for m in months)]
    series = [{"name": stage_label(s), "data": [m["by_stage"].get(s, 0) for m in months]} for s in stages]
    if not series:
        series = [{"name": _("Raised"), "data": [m["raised"] for m in months]}]
    series += [{"name": _("Closed"), "kind": "line", "data": [m["closed"] for m in months]},
               {"name": _("Marked overdue"), "kind": "line", "data": [m["overdue"] for m in months]}]
    return {"type": "bar", "stack": True, "title": _("Topics in %(year)s by month: raised by stage, closed, overdue",
                                                     year=stats["year"]),
            "label_header": _("Month"), "labels": [_("Month %(m)s", m=m["month"]) for m in months], "series": series}


def implementation_charts(impl: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The implementation part's charts: a donut by state, a bar per unit, a donut of results by completion."""
    units = impl["by_unit"]
    return {
        "by_state": {"type": "donut", "title": _("Assignments made in %(year)s by state", year=impl["year"]),
                     "label_header": _("State"), "labels": [assignment_state_label(r["state"]) for r in impl["by_state"]],
                     "series": [{"name": _("Number of assignments"), "data": [r["count"] for r in impl["by_state"]]}]},
        "by_unit": {"type": "bar", "title": _("Assignments made in %(year)s by handling unit", year=impl["year"]),
                    "label_header": _("Handling unit"), "labels": [u["unit"] for u in units],
                    "series": [{"name": _("Assigned"), "data": [u["assigned"] for u in units]},
                               {"name": _("Final report accepted"), "data": [u["accepted"] for u in units]},
                               {"name": _("Overdue"), "data": [u["overdue"] for u in units]}]},
        "results": {"type": "donut", "title": _("Results recorded in %(year)s by implementation", year=impl["year"]),
                    "label_header": _("Implementation"),
                    "labels": [completion_label(r["completion"]) for r in impl["results"]["by_completion"]],
                    "series": [{"name": _("Number of results"),
                                "data": [r["count"] for r in impl["results"]["by_completion"]]}]},
    }


# ---------------------------------------------------------------------------------------------
# The page and the API


def _for(user: Any, stats: dict[str, Any]) -> dict[str, Any]:
    """What ``user`` sees of ``stats``: a handling unit's user, its own unit's row per unit only (as the
    implementation pages show it only its own unit's part)."""
    if user is None or user.role != Role.HANDLING_UNIT.value:
        return stats
    unit = unit_of_user(get_session(), user.id)
    return statistics.own_unit_only(stats, unit.id if unit is not None else None)



def page():
    node = node_context()
    args = flask.request.args
    try:
        stats = _for(auth.current_user(), statistics.topic_statistics(get_session(), node, args.get("year") or None))
    except InputError as exc:
        flask.flash(_("Cannot count: %(message)s", message=reason(exc)), "error")
        stats = _for(auth.current_user(), statistics.topic_statistics(get_session(), node))
        return render_template("topics/statistics.html", stats=stats, charts=charts(stats, node)), 400
    if args.get("format") == "xlsx":
        return exports.xlsx_response(_sheets(stats, node), export_name(stats, node))
    return render_template("topics/statistics.html", stats=stats, charts=charts(stats, node))


def api_statistics(query: StatisticsQuery):
    """Topic statistics for a year.

    The topics raised in the year (in the node's time zone), counted by their stage now and by every area
    they concern; and the implementation of results (`implementation`): the assignments made in the year by
    state, overdue now and per handling unit, and the results recorded in the year by whether their
    implementation is complete. The same counts as the page `/topics/statistics` and
    `shangliang topics statistics`. A handling unit's user sees its own unit's row per unit only.
    """
    return json_response(_for(flask.g.api_user, statistics.topic_statistics(get_session(), node_context(),
                                                                            query.year)))


def register(api: Any, pages: flask.Blueprint) -> None:
    """Add the statistics routes to the topics blueprints (before ``/<uid>``; a fixed path wins anyway)."""
    api.get("/statistics", responses={200: TopicStatistics, **errors(400)})(api_statistics)
    pages.add_url_rule("/statistics", "statistics", auth.login_required(page))
