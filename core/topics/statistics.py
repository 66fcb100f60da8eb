"""Topic statistics for a year (议题统计): how many topics were raised, by stage and by area.

The counting rule, in one place for the page, the API, the command and the .xlsx export:

- a topic counts in year Y when it was *raised* in Y, in the node's ``TIMEZONE`` (00:00 on 1 January to
  00:00 on 1 January of Y+1, the same bounds as a plan's year);
- every topic this node knows counts once, whichever node holds it now (a topic raised here and delegated
  down still counts here: it was raised here);
- *by stage*: its stage now; every stage is listed, in the order of the six steps and the close, zeros too;
- *by area*: once for every division code it concerns (a topic about two towns counts for each), so the
  area counts may add up to more than the total; the most frequent first, then by code.

*By month* (``by_month``, the chart of topics over the year): for each month of Y, the topics *raised* in it
by their stage now (as *by stage*, month by month), the topics *closed* in it (whenever raised), and the
topics *marked overdue* in it by supervision (its ``overdue`` event; a topic marked twice in a month counts
once).

Implementation of results (办理实施), ``implementation_statistics``, counted by its own rule:

- an *assignment* (a handling unit's part in a topic's implementation) counts in year Y when it was *made*
  in Y (``assigned_ms``, the same bounds), whenever its topic was raised: a unit's year is the work it was
  given that year;
- *by state*: its state now (assigned, reporting, final_reported, accepted), all four listed, zeros too;
- *overdue now*: not accepted, and either marked overdue by supervision or past its deadline while its topic
  is still open (the marking's own rule, without waiting for its next run);
- *per unit*: assigned, accepted, overdue now, accepted on time (the accepted final report was *filed* by
  the deadline) and the on-time share: on time / (accepted + overdue now), the assignments whose outcome is
  known; ``None`` when there are none; the most assigned first, then by name;
- *results*: topics whose result was recorded (fed back and closed) in Y on this node, by whether their
  implementation is complete: every assigned unit's final report accepted (``complete``), some unit's not
  (``incomplete``), or no unit assigned on this node (``no_units``: implemented without units, or a result
  received from the node that held it).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from typing import Any
from zoneinfo import ZoneInfo

from shangliang.core.context import NodeContext
from shangliang.core.errors import InputError
from shangliang.core.i18n import N_
from shangliang.core.units.models import HandlingUnit
from shangliang.federation import peers
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .models import ASSIGNMENT_STATES, STAGES, Assignment, Report, Topic

#: The years one may ask about.
FIRST_YEAR, LAST_YEAR = 1970, 2999


def year_bounds(node: NodeContext, year: int) -> tuple[int, int]:
    """Milliseconds of the start of ``year`` and of the next, in the node's time zone."""
    zone = ZoneInfo(node.config.get("TIMEZONE") or "Asia/Shanghai")
    start = dt.datetime(year, 1, 1, tzinfo=zone)
    end = dt.datetime(year + 1, 1, 1, tzinfo=zone)
    return int(start.timestamp() * 1000), int(end.timestamp() * 1000)


def current_year(node: NodeContext) -> int:
    zone = ZoneInfo(node.config.get("TIMEZONE") or "Asia/Shanghai")
    return dt.datetime.fromtimestamp(node.now_ms() / 1000, zone).year


def check_year(year: Any) -> int:
    if isinstance(year, bool) or not isinstance(year, int):
        try:
            year = int(str(year).strip())
        except ValueError:
            raise InputError(N_("year must be a whole number, not %(year)s",
                                year=repr(str(year)[:20])), field="year") from None
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise InputError(N_("year must be between %(first_year)s and %(last_year)s", first_year=FIRST_YEAR,
                            last_year=LAST_YEAR), field="year")
    return year


def topic_statistics(session: Session, node: NodeContext, year: int | None = None) -> dict[str, Any]:
    """The topics raised in ``year`` (default: this year on the node's clock), counted by stage and area."""
    year = current_year(node) if year is None else check_year(year)
    start, end = year_bounds(node, year)
    rows = session.execute(select(Topic.stage, Topic.areas, Topic.overdue)
                           .where(Topic.raised_ms >= start, Topic.raised_ms < end)).all()
    stages: Counter[str] = Counter()
    areas: Counter[str] = Counter()
    overdue = 0
    for stage, area_json, late in rows:
        stages[stage] += 1
        overdue += bool(late)
        for code in dict.fromkeys(json.loads(area_json or "[]")):  # a code listed twice counts once
            areas[str(code)] += 1
    known = [{"stage": s, "count": stages.get(s, 0)} for s in STAGES]
    known += [{"stage": s, "count": n} for s, n in sorted(stages.items()) if s not in STAGES]
    names = peers.names(session, node.id, node.name)  # an area that is a known node, by its committee's name
    return {
        "year": year,
        "total": len(rows),
        "overdue": overdue,
        "by_stage": known,
        "by_area": [{"area": code, "name": names.get(code), "count": n}
                    for code, n in sorted(areas.items(), key=lambda kv: (-kv[1], kv[0]))],
        "by_month": monthly(session, node, year),
        "implementation": implementation_statistics(session, node, year),
    }


def month_bounds(node: NodeContext, year: int) -> list[int]:
    """Milliseconds of the start of each month of ``year`` and of the next year (13 bounds), node's time zone."""
    zone = ZoneInfo(node.config.get("TIMEZONE") or "Asia/Shanghai")
    starts = [dt.datetime(year, m, 1, tzinfo=zone) for m in range(1, 13)] + [dt.datetime(year + 1, 1, 1, tzinfo=zone)]
    return [int(s.timestamp() * 1000) for s in starts]


def monthly(session: Session, node: NodeContext, year: int) -> list[dict[str, Any]]:
    """Per month of ``year``: topics raised in it by stage now, closed in it, marked overdue in it."""
    import bisect

    from .models import TopicEvent

    bounds = month_bounds(node, year)
    start, end = bounds[0], bounds[-1]
    months = [{"month": m, "raised": 0, "by_stage": {s: 0 for s in STAGES}, "closed": 0, "overdue": 0}
              for m in range(1, 13)]

    def month_of(ms: int) -> dict[str, Any]:
        return months[bisect.bisect_right(bounds, ms) - 1]

    for raised_ms, stage in session.execute(select(Topic.raised_ms, Topic.stage)
                                            .where(Topic.raised_ms >= start, Topic.raised_ms < end)):
        row = month_of(raised_ms)
        row["raised"] += 1
        row["by_stage"][stage] = row["by_stage"].get(stage, 0) + 1
    for (closed_ms,) in session.execute(select(Topic.closed_ms).where(Topic.closed_ms >= start,
                                                                       Topic.closed_ms < end)):
        month_of(closed_ms)["closed"] += 1
    marked: set[tuple[int, int]] = set()
    for topic_id, at_ms in session.execute(select(TopicEvent.topic_id, TopicEvent.at_ms)
                                           .where(TopicEvent.action == "overdue", TopicEvent.at_ms >= start,
                                                  TopicEvent.at_ms < end)):
        row = month_of(at_ms)
        if (row["month"], topic_id) not in marked:
            marked.add((row["month"], topic_id))
            row["overdue"] += 1
    return months


#: How a result's implementation stands.
COMPLETION = ("complete", "incomplete", "no_units")


def implementation_statistics(session: Session, node: NodeContext, year: int | None = None) -> dict[str, Any]:
    """The assignments made in ``year`` by state, overdue and per unit, and the results recorded in ``year`` by
    whether their implementation is complete (the rule: this module's docstring)."""
    year = current_year(node) if year is None else check_year(year)
    start, end = year_bounds(node, year)
    now = node.now_ms()
    rows = session.execute(
        select(Assignment.id, Assignment.unit_id, HandlingUnit.name, Assignment.state, Assignment.overdue,
               Assignment.due_ms, Topic.stage)
        .join(Topic, Assignment.topic_id == Topic.id).join(HandlingUnit, Assignment.unit_id == HandlingUnit.id)
        .where(Assignment.assigned_ms >= start, Assignment.assigned_ms < end)).all()
    # when each accepted assignment's final report was filed
    filed = dict(session.execute(
        select(Report.assignment_id, func.max(Report.submitted_ms))
        .where(Report.kind == "final", Report.review == "accepted",
               Report.assignment_id.in_([r.id for r in rows] or [-1]))
        .group_by(Report.assignment_id)).all())
    states: Counter[str] = Counter()
    units: dict[int, dict[str, Any]] = {}
    overdue = on_time = 0
    for row in rows:
        states[row.state] += 1
        late = row.state != "accepted" and (bool(row.overdue) or (row.due_ms < now and row.stage != "closed"))
        timely = row.state == "accepted" and row.id in filed and filed[row.id] <= row.due_ms
        overdue += late
        on_time += timely
        unit = units.setdefault(row.unit_id, {"unit": row.name, "unit_id": row.unit_id, "assigned": 0,
                                              "accepted": 0, "overdue": 0, "on_time": 0})
        unit["assigned"] += 1
        unit["accepted"] += row.state == "accepted"
        unit["overdue"] += late
        unit["on_time"] += timely
    for unit in units.values():
        unit["on_time_share"] = _share(unit["on_time"], unit["accepted"] + unit["overdue"])
    by_state = [{"state": s, "count": states.get(s, 0)} for s in ASSIGNMENT_STATES]
    by_state += [{"state": s, "count": n} for s, n in sorted(states.items()) if s not in ASSIGNMENT_STATES]
    return {
        "year": year,
        "assignments": len(rows),
        "overdue": overdue,
        "on_time": on_time,
        "by_state": by_state,
        "by_unit": sorted(units.values(), key=lambda u: (-u["assigned"], u["unit"], u["unit_id"])),
        "results": _results(session, start, end),
    }


def own_unit_only(stats: dict[str, Any], unit_id: int | None) -> dict[str, Any]:
    """``stats`` as a handling unit's user sees them: the per-unit rows of its own unit only (none without a
    unit); the totals stay the node's (they name no unit)."""
    impl = stats["implementation"]
    mine = [u for u in impl["by_unit"] if unit_id is not None and u["unit_id"] == unit_id]
    return {**stats, "implementation": {**impl, "by_unit": mine}}


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _results(session: Session, start: int, end: int) -> dict[str, Any]:
    topics = session.execute(select(Topic.id).where(Topic.result.is_not(None), Topic.closed_ms >= start,
                                                    Topic.closed_ms < end)).scalars().all()
    open_: dict[int, int] = {}
    for topic_id, state in session.execute(select(Assignment.topic_id, Assignment.state)
                                           .where(Assignment.topic_id.in_(topics or [-1]))).all():
        open_[topic_id] = open_.get(topic_id, 0) + (state != "accepted")
    kinds = Counter("no_units" if t not in open_ else "incomplete" if open_[t] else "complete" for t in topics)
    return {"total": len(topics), "by_completion": [{"completion": c, "count": kinds.get(c, 0)} for c in COMPLETION]}


def sheets(stats: dict[str, Any], stage_label: Any, area_label: Any, headers: dict[str, str],
           state_label: Any = str, completion_label: Any = str) -> list[Any]:
    """The export of ``stats`` as sheets: by stage, by area, and (with the implementation part) assignments by
    state, per unit and results by completion; labels and headers come from the caller, in the reader's
    language."""
    from shangliang.core.exports import Sheet

    books = [
        Sheet(headers["by_stage"], [headers["stage"], headers["code"], headers["count"]],
              [[stage_label(r["stage"]), r["stage"], r["count"]] for r in stats["by_stage"]]
              + [[headers["total"], "", stats["total"]]]),
        Sheet(headers["by_area"], [headers["area"], headers["code"], headers["count"]],
              [[area_label(r), r["area"], r["count"]] for r in stats["by_area"]]),
    ]
    impl = stats.get("implementation")
    if impl is None:
        return books
    return books + [
        Sheet(headers["by_state"], [headers["state"], headers["code"], headers["assignments"]],
              [[state_label(r["state"]), r["state"], r["count"]] for r in impl["by_state"]]
              + [[headers["total"], "", impl["assignments"]], [headers["overdue"], "", impl["overdue"]]]),
        Sheet(headers["by_unit"], [headers["unit"], headers["assigned"], headers["accepted"], headers["overdue"],
                                   headers["on_time"], headers["on_time_share"]],
              [[u["unit"], u["assigned"], u["accepted"], u["overdue"], u["on_time"], u["on_time_share"]]
               for u in impl["by_unit"]]),
        Sheet(headers["results"], [headers["completion"], headers["code"], headers["results_count"]],
              [[completion_label(r["completion"]), r["completion"], r["count"]] for r in impl["results"]["by_completion"]]
              + [[headers["total"], "", impl["results"]["total"]]]),
    ]
