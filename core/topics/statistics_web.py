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
from shangliang.core.web import auth
from shangliang.core.web.api import errors, json_response

from . import statistics
from .views import stage_label

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
    count: int


class TopicStatistics(BaseModel):
    year: int
    total: int = Field(description="topics raised in the year")
    overdue: int = Field(description="of them, overdue now")
    by_stage: list[StageCount] = Field(description="every stage in order, zeros too")
    by_area: list[AreaCount] = Field(description="per division code a topic concerns (a topic with two areas "
                                                 "counts for each), the most frequent first")


# ---------------------------------------------------------------------------------------------
# Labels in the reader's language


def area_label(node: NodeContext) -> Callable[[str], str]:
    return lambda code: f"{code} {node.name}" if code == node.id else code


def headers() -> dict[str, str]:
    return {"by_stage": _("By stage"), "by_area": _("By area"), "stage": _("Stage"), "area": _("Area"),
            "code": _("Code"), "count": _("Number of topics"), "total": _("Total")}


def export(stats: dict[str, Any], node: NodeContext) -> bytes:
    """The workbook of ``stats`` (also what ``shangliang topics statistics --xlsx`` writes)."""
    return exports.workbook(statistics.sheets(stats, stage_label, area_label(node), headers()))


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
                    "label_header": _("Area"), "labels": [label(r["area"]) for r in stats["by_area"]],
                    "series": [{"name": _("Number of topics"), "data": [r["count"] for r in stats["by_area"]]}]},
    }


# ---------------------------------------------------------------------------------------------
# The page and the API


def page():
    node = node_context()
    args = flask.request.args
    try:
        stats = statistics.topic_statistics(get_session(), node, args.get("year") or None)
    except InputError as exc:
        flask.flash(_("Cannot count: %(message)s", message=str(exc)), "error")
        stats = statistics.topic_statistics(get_session(), node)
        return render_template("topics/statistics.html", stats=stats, charts=charts(stats, node)), 400
    if args.get("format") == "xlsx":
        return exports.xlsx_response(statistics.sheets(stats, stage_label, area_label(node), headers()),
                                     export_name(stats, node))
    return render_template("topics/statistics.html", stats=stats, charts=charts(stats, node))


def api_statistics(query: StatisticsQuery):
    """Topic statistics for a year.

    The topics raised in the year (in the node's time zone), counted by their stage now and by every area
    they concern. The same counts as the page `/topics/statistics` and `shangliang topics statistics`.
    """
    return json_response(statistics.topic_statistics(get_session(), node_context(), query.year))


def register(api: Any, pages: flask.Blueprint) -> None:
    """Add the statistics routes to the topics blueprints (before ``/<uid>``; a fixed path wins anyway)."""
    api.get("/statistics", responses={200: TopicStatistics, **errors(400)})(api_statistics)
    pages.add_url_rule("/statistics", "statistics", auth.login_required(page))
