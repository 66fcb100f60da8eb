"""Proposal statistics on the web: the page ``/proposals/statistics`` (charts, tables, ``?format=xlsx``) and the
API ``GET /api/v1/proposals/statistics``. Thin callers of ``statistics.proposal_statistics``; ``register`` adds
both routes to the proposals blueprints (``blueprint.py`` calls it)."""

from __future__ import annotations

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
from .views import classification_label, dimension_label, level_label, status_label

# ---------------------------------------------------------------------------------------------
# Shapes (the OpenAPI document is generated from them)


class ProposalStatisticsQuery(BaseModel):
    year: int | None = Field(None, ge=statistics.FIRST_YEAR, le=statistics.LAST_YEAR,
                             description="the proposals' year (年度, the year of their session); default: this "
                                         "year in the node's time zone")
    term: int | None = Field(None, ge=1, le=999, description="only this term (届)")
    session: int | None = Field(None, ge=1, le=999, description="only this session (次)")


class ProposalStatusCount(BaseModel):
    status: str = Field(description="a proposal's status now")
    count: int


class ProposalReviewCount(BaseModel):
    review: str = Field(description="filed (filed, assigned, replied, rated or closed), not_filed, merged, or "
                                    "pending (not reviewed yet)")
    count: int


class ProposalCategoryCount(BaseModel):
    category: str
    count: int


class ProposalUnitCount(BaseModel):
    unit: str = Field(description="the handling unit's name")
    unit_id: int
    assigned: int = Field(description="its active assignments to the year's proposals")
    lead: int = Field(description="of them, as lead unit (主办)")
    co: int = Field(description="of them, as co-handling unit (会办)")
    replied: int = Field(description="of them, with a reply from the unit (any round)")
    overdue: int = Field(description="of them, overdue now")
    solved_or_solving: int = Field(description="its latest reply classified solved or being solved")
    planned: int = Field(description="its latest reply classified planned")
    cannot_now: int = Field(description="its latest reply classified cannot be solved now")


class ProposalUnitStatistics(BaseModel):
    assigned: int
    lead: int
    co: int
    replied: int
    overdue: int
    solved_or_solving: int
    planned: int
    cannot_now: int
    by_unit: list[ProposalUnitCount] = Field(description="per handling unit, the most assigned first")


class LevelCount(BaseModel):
    level: str = Field(description="satisfied, basically, unsatisfied or not_rated")
    count: int


class DimensionCount(BaseModel):
    dimension: str = Field(description="contact, attitude, measures, pertinence, leader_attention or result")
    levels: list[LevelCount]


class SatisfactionStatistics(BaseModel):
    filed: int = Field(description="filed proposals (each counts once, by its latest rating)")
    rated: int = Field(description="of them, rated at least once")
    overall: list[LevelCount] = Field(description="the latest rating's overall level, and not rated")
    by_dimension: list[DimensionCount]


class ProposalStatistics(BaseModel):
    year: int
    term: int | None
    session: int | None
    total: int = Field(description="the year's proposals (of the term and session, when given)")
    key: int = Field(description="of them, key proposals (重点提案)")
    face_to_face: int = Field(description="of them, handled face to face (面对面办理)")
    by_status: list[ProposalStatusCount] = Field(description="every status in order, zeros too")
    review: list[ProposalReviewCount] = Field(description="filed, not filed, merged, pending")
    by_category: list[ProposalCategoryCount] = Field(description="the most frequent first")
    units: ProposalUnitStatistics
    satisfaction: SatisfactionStatistics


# ---------------------------------------------------------------------------------------------
# Labels in the reader's language


def review_label(review: str) -> str:
    return {"filed": _("Filed"), "not_filed": _("Not filed"), "merged": _("Merged"),
            "pending": _("Not reviewed yet")}.get(review, review)


def satisfaction_label(level: str) -> str:
    return _("Not rated") if level == "not_rated" else level_label(level)


def labels() -> dict[str, Any]:
    return {"status": status_label, "review": review_label, "classification": classification_label,
            "level": satisfaction_label, "dimension": dimension_label}


def headers() -> dict[str, str]:
    return {"by_status": _("By status"), "review": _("Filing review"), "by_category": _("By category"),
            "by_unit": _("By handling unit"), "satisfaction": _("Satisfaction"),
            "by_dimension": _("Satisfaction by dimension"), "status": _("Status"), "code": _("Code"),
            "count": _("Number of proposals"), "total": _("Total"), "key": _("Key proposals"),
            "face_to_face": _("Handled face to face"), "review_result": _("Review"), "category": _("Category"),
            "unit": _("Handling unit"), "assigned": _("Assigned"), "lead": _("As lead unit"),
            "co": _("As co-handling unit"), "replied": _("Replied"), "overdue": _("Overdue"),
            "level": _("Overall"), "filed": _("Filed proposals"), "dimension": _("Dimension")}


def _sheets(stats: dict[str, Any]) -> list[Any]:
    return statistics.sheets(stats, labels(), headers())


def export(stats: dict[str, Any]) -> bytes:
    """The workbook of ``stats`` (also what ``shangliang proposals statistics --xlsx`` writes)."""
    return exports.workbook(_sheets(stats))


def export_name(stats: dict[str, Any], node: NodeContext) -> str:
    return _("%(node)s proposal statistics %(year)s", node=node.name, year=stats["year"])


def charts(stats: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The chart specs of the page (see core/templates/_charts.html)."""
    units = stats["units"]["by_unit"]
    sat = stats["satisfaction"]["overall"]
    return {
        "by_status": {"type": "bar", "title": _("Proposals of %(year)s by status", year=stats["year"]),
                      "label_header": _("Status"), "labels": [status_label(r["status"]) for r in stats["by_status"]],
                      "series": [{"name": _("Number of proposals"), "data": [r["count"] for r in stats["by_status"]]}]},
        "by_unit": {"type": "bar", "title": _("Proposals of %(year)s by handling unit", year=stats["year"]),
                    "label_header": _("Handling unit"), "labels": [u["unit"] for u in units],
                    "series": [{"name": _("As lead unit"), "data": [u["lead"] for u in units]},
                               {"name": _("As co-handling unit"), "data": [u["co"] for u in units]},
                               {"name": _("Replied"), "data": [u["replied"] for u in units]},
                               {"name": _("Overdue"), "data": [u["overdue"] for u in units]}]},
        "satisfaction": {"type": "donut", "title": _("Satisfaction with the proposals of %(year)s",
                                                     year=stats["year"]),
                         "label_header": _("Overall"), "labels": [satisfaction_label(r["level"]) for r in sat],
                         "series": [{"name": _("Number of proposals"), "data": [r["count"] for r in sat]}]},
    }


# ---------------------------------------------------------------------------------------------
# The page and the API


def _for(user: Any, stats: dict[str, Any]) -> dict[str, Any]:
    """What ``user`` sees of ``stats``: a handling unit's user, its own unit's row per unit only."""
    if user is None or user.role != Role.HANDLING_UNIT.value:
        return stats
    unit = unit_of_user(get_session(), user.id)
    return statistics.own_unit_only(stats, unit.id if unit is not None else None)


def _render(stats: dict[str, Any], status: int = 200):
    return render_template("proposals/statistics.html", stats=stats, charts=charts(stats), review_label=review_label,
                           satisfaction_label=satisfaction_label), status


def page():
    node = node_context()
    args = flask.request.args
    try:
        stats = statistics.proposal_statistics(get_session(), node, args.get("year") or None,
                                               args.get("term") or None, args.get("session") or None)
    except InputError as exc:
        flask.flash(_("Cannot count: %(message)s", message=reason(exc)), "error")
        return _render(_for(auth.current_user(), statistics.proposal_statistics(get_session(), node)), 400)
    stats = _for(auth.current_user(), stats)
    if args.get("format") == "xlsx":
        return exports.xlsx_response(_sheets(stats), export_name(stats, node))
    return _render(stats)


def api_statistics(query: ProposalStatisticsQuery):
    """Proposal statistics for a year.

    The proposals of the year (optionally of one term and session) by status, by the filing review, by
    category, key and face-to-face; per handling unit (lead and co assignments, replied, overdue now, the
    latest reply's classification); and the proposers' satisfaction (each filed proposal's latest rating,
    overall and per dimension). The same counts as the page `/proposals/statistics` and
    `shangliang proposals statistics`. A handling unit's user sees its own unit's row per unit only.
    """
    stats = statistics.proposal_statistics(get_session(), node_context(), query.year, query.term, query.session)
    return json_response(_for(flask.g.api_user, stats))


def register(api: Any, pages: flask.Blueprint) -> None:
    """Add the statistics routes to the proposals blueprints (a fixed path wins over ``/<ref>``)."""
    api.get("/statistics", responses={200: ProposalStatistics, **errors(400)})(api_statistics)
    pages.add_url_rule("/statistics", "statistics", auth.login_required(page))
