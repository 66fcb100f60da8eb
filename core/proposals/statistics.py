"""Proposal statistics for a year (提案统计): by status, category, handling unit and satisfaction.

The counting rule, in one place for the page, the API, the command and the .xlsx export:

- a proposal counts in year Y when its ``year`` (the year of the session it was submitted to, 年度) is Y;
  ``term`` (届) and ``session`` (次) narrow it further when given;
- *by status*: its status now; all ten statuses listed in order, zeros too;
- *review*: filed (立案: filed, assigned, replied, rated or closed now), not filed, merged, and pending
  (not reviewed yet: signing, submitted or returned);
- *by category*: its category; the most frequent first, then by name;
- *key* (重点提案) and *face-to-face* (面对面办理): how many are marked so;
- *per unit*: the active assignments (a part moved to another unit counts for the new unit only): as lead
  (主办) and as co-handling unit (会办); *replied*: of them, those whose unit has replied to the proposal (in
  any round); *overdue now*: marked overdue by supervision, or past the deadline while the proposal waits
  for replies (``assigned``) and the unit has not replied in its current round (the marking's own rule,
  without waiting for its next run); *by classification*: the unit's latest reply to each proposal. The
  most assigned first, then by name. Totals over all units are the same sums;
- *satisfaction*: for every filed proposal, its latest rating (the highest round, then the last given):
  overall satisfied, basically satisfied, unsatisfied, or not rated (no rating yet); and the same per
  dimension (联系沟通 … 办理结果).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any
from zoneinfo import ZoneInfo

from shangliang.core.context import NodeContext
from shangliang.core.errors import InputError
from shangliang.core.i18n import N_
from shangliang.core.units.models import HandlingUnit
from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import (
    CLASSIFICATIONS,
    DIMENSIONS,
    FILED_STATUSES,
    SATISFACTION,
    STATUSES,
    Proposal,
    ProposalAssignment,
    ProposalRating,
    ProposalReply,
)

#: The years one may ask about (as topic statistics).
FIRST_YEAR, LAST_YEAR = 1970, 2999
#: A review's outcome as the statistics count it.
REVIEW = ("filed", "not_filed", "merged", "pending")
#: Satisfaction levels counted, with the proposals not rated yet.
LEVELS = (*SATISFACTION, "not_rated")


def current_year(node: NodeContext) -> int:
    zone = ZoneInfo(node.config.get("TIMEZONE") or "Asia/Shanghai")
    return dt.datetime.fromtimestamp(node.now_ms() / 1000, zone).year


def _whole(value: Any, field: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            value = int(str(value).strip())
        except ValueError:
            raise InputError(N_("%(field)s must be a whole number, not %(value)s", field=field,
                                value=repr(str(value)[:20])), field=field) from None
    if not low <= value <= high:
        raise InputError(N_("%(field)s must be between %(low)s and %(high)s", field=field, low=low,
                            high=high), field=field)
    return value


def check_year(year: Any) -> int:
    return _whole(year, "year", FIRST_YEAR, LAST_YEAR)


def _review(status: str) -> str:
    if status in FILED_STATUSES:
        return "filed"
    if status in ("not_filed", "merged"):
        return status
    return "pending"


def proposal_statistics(session: Session, node: NodeContext, year: Any = None, term: Any = None,
                        session_no: Any = None) -> dict[str, Any]:
    """The proposals of ``year`` (default: this year on the node's clock), optionally of one term and session,
    counted by the rule of this module's docstring."""
    year = current_year(node) if year is None or year == "" else check_year(year)
    term = None if term is None or term == "" else _whole(term, "term", 1, 999)
    session_no = None if session_no is None or session_no == "" else _whole(session_no, "session", 1, 999)
    query = select(Proposal.id, Proposal.status, Proposal.category, Proposal.key, Proposal.face_to_face,
                   Proposal.round).where(Proposal.year == year)
    if term is not None:
        query = query.where(Proposal.term == term)
    if session_no is not None:
        query = query.where(Proposal.session_no == session_no)
    proposals = {row.id: row for row in session.execute(query).all()}
    ids = list(proposals) or [-1]
    statuses = Counter(p.status for p in proposals.values())
    reviews = Counter(_review(p.status) for p in proposals.values())
    categories = Counter(p.category for p in proposals.values())
    by_status = [{"status": s, "count": statuses.get(s, 0)} for s in STATUSES]
    by_status += [{"status": s, "count": n} for s, n in sorted(statuses.items()) if s not in STATUSES]
    return {
        "year": year,
        "term": term,
        "session": session_no,
        "total": len(proposals),
        "key": sum(bool(p.key) for p in proposals.values()),
        "face_to_face": sum(bool(p.face_to_face) for p in proposals.values()),
        "by_status": by_status,
        "review": [{"review": r, "count": reviews.get(r, 0)} for r in REVIEW],
        "by_category": [{"category": c, "count": n}
                        for c, n in sorted(categories.items(), key=lambda kv: (-kv[1], kv[0]))],
        "units": _units(session, node, proposals, ids),
        "satisfaction": _satisfaction(session, proposals, ids),
    }


def _units(session: Session, node: NodeContext, proposals: dict[int, Any], ids: list[int]) -> dict[str, Any]:
    now = node.now_ms()
    replies: dict[tuple[int, int], list[Any]] = {}
    for reply in session.execute(select(ProposalReply.proposal_id, ProposalReply.unit_id, ProposalReply.round,
                                        ProposalReply.classification, ProposalReply.id)
                                 .where(ProposalReply.proposal_id.in_(ids))
                                 .order_by(ProposalReply.round, ProposalReply.id)).all():
        replies.setdefault((reply.proposal_id, reply.unit_id), []).append(reply)
    rows = session.execute(
        select(ProposalAssignment.proposal_id, ProposalAssignment.unit_id, ProposalAssignment.role,
               ProposalAssignment.deadline_ms, ProposalAssignment.overdue, HandlingUnit.name)
        .join(HandlingUnit, ProposalAssignment.unit_id == HandlingUnit.id)
        .where(ProposalAssignment.proposal_id.in_(ids), ProposalAssignment.active.is_(True))).all()
    units: dict[int, dict[str, Any]] = {}
    for row in rows:
        p = proposals[row.proposal_id]
        given = replies.get((row.proposal_id, row.unit_id), [])
        this_round = any(r.round == p.round for r in given)
        late = bool(row.overdue) or (p.status == "assigned" and row.deadline_ms < now and not this_round)
        unit = units.setdefault(row.unit_id, {"unit": row.name, "unit_id": row.unit_id, "assigned": 0, "lead": 0,
                                              "co": 0, "replied": 0, "overdue": 0,
                                              **{c: 0 for c in CLASSIFICATIONS}})
        unit["assigned"] += 1
        unit["lead" if row.role == "lead" else "co"] += 1
        unit["replied"] += bool(given)
        unit["overdue"] += late
        if given:
            unit[given[-1].classification] = unit.get(given[-1].classification, 0) + 1
    ordered = sorted(units.values(), key=lambda u: (-u["assigned"], u["unit"], u["unit_id"]))
    totals = {k: sum(u[k] for u in ordered) for k in ("assigned", "lead", "co", "replied", "overdue",
                                                       *CLASSIFICATIONS)}
    return {**totals, "by_unit": ordered}


def _satisfaction(session: Session, proposals: dict[int, Any], ids: list[int]) -> dict[str, Any]:
    latest: dict[int, Any] = {}
    for rating in session.execute(select(ProposalRating).where(ProposalRating.proposal_id.in_(ids))
                                  .order_by(ProposalRating.round, ProposalRating.id)).scalars():
        latest[rating.proposal_id] = rating
    filed = [pid for pid, p in proposals.items() if p.status in FILED_STATUSES]

    def count(part: str) -> list[dict[str, Any]]:
        levels = Counter(getattr(latest[pid], part) if pid in latest else "not_rated" for pid in filed)
        known = [{"level": lv, "count": levels.get(lv, 0)} for lv in LEVELS]
        return known + [{"level": lv, "count": n} for lv, n in sorted(levels.items()) if lv not in LEVELS]

    return {"filed": len(filed), "rated": sum(pid in latest for pid in filed), "overall": count("overall"),
            "by_dimension": [{"dimension": d, "levels": count(d)} for d in DIMENSIONS]}


def own_unit_only(stats: dict[str, Any], unit_id: int | None) -> dict[str, Any]:
    """``stats`` as a handling unit's user sees them: the per-unit rows of its own unit only (none without a
    unit); the totals stay the node's (they name no unit)."""
    units = stats["units"]
    mine = [u for u in units["by_unit"] if unit_id is not None and u["unit_id"] == unit_id]
    return {**stats, "units": {**units, "by_unit": mine}}


def sheets(stats: dict[str, Any], labels: dict[str, Any], headers: dict[str, str]) -> list[Any]:
    """The export of ``stats`` as sheets (by status, review, category, per unit, satisfaction overall and per
    dimension); ``labels`` (status, review, classification, level, dimension → text) and ``headers`` come
    from the caller, in the reader's language."""
    from shangliang.core.exports import Sheet

    units = stats["units"]
    sat = stats["satisfaction"]
    level_cols = [labels["level"](lv) for lv in LEVELS]
    unit_cols = ["assigned", "lead", "co", "replied", "overdue", *CLASSIFICATIONS]
    unit_headers = [headers["unit"], headers["assigned"], headers["lead"], headers["co"], headers["replied"],
                    headers["overdue"], *[labels["classification"](c) for c in CLASSIFICATIONS]]
    return [
        Sheet(headers["by_status"], [headers["status"], headers["code"], headers["count"]],
              [[labels["status"](r["status"]), r["status"], r["count"]] for r in stats["by_status"]]
              + [[headers["total"], "", stats["total"]], [headers["key"], "", stats["key"]],
                 [headers["face_to_face"], "", stats["face_to_face"]]]),
        Sheet(headers["review"], [headers["review_result"], headers["code"], headers["count"]],
              [[labels["review"](r["review"]), r["review"], r["count"]] for r in stats["review"]]),
        Sheet(headers["by_category"], [headers["category"], headers["count"]],
              [[r["category"], r["count"]] for r in stats["by_category"]]),
        Sheet(headers["by_unit"], unit_headers,
              [[u["unit"], *[u[k] for k in unit_cols]] for u in units["by_unit"]]
              + [[headers["total"], *[units[k] for k in unit_cols]]]),
        Sheet(headers["satisfaction"], [headers["level"], headers["code"], headers["count"]],
              [[labels["level"](r["level"]), r["level"], r["count"]] for r in sat["overall"]]
              + [[headers["filed"], "", sat["filed"]]]),
        Sheet(headers["by_dimension"], [headers["dimension"], *level_cols],
              [[labels["dimension"](d["dimension"]), *[r["count"] for r in d["levels"][:len(LEVELS)]]]
               for d in sat["by_dimension"]]),
    ]
