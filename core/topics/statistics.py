"""Topic statistics for a year (议题统计): how many topics were raised, by stage and by area.

The counting rule, in one place for the page, the API, the command and the .xlsx export:

- a topic counts in year Y when it was *raised* in Y, in the node's ``TIMEZONE`` (00:00 on 1 January to
  00:00 on 1 January of Y+1, the same bounds as a plan's year);
- every topic this node knows counts once, whichever node holds it now (a topic raised here and delegated
  down still counts here: it was raised here);
- *by stage*: its stage now; every stage is listed, in the order of the six steps and the close, zeros too;
- *by area*: once for every division code it concerns (a topic about two towns counts for each), so the
  area counts may add up to more than the total; the most frequent first, then by code.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from typing import Any
from zoneinfo import ZoneInfo

from shangliang.core.context import NodeContext
from shangliang.core.errors import InputError
from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import STAGES, Topic

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
            raise InputError(f"year must be a whole number, not {str(year)[:20]!r}", field="year") from None
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise InputError(f"year must be between {FIRST_YEAR} and {LAST_YEAR}", field="year")
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
    return {
        "year": year,
        "total": len(rows),
        "overdue": overdue,
        "by_stage": known,
        "by_area": [{"area": code, "count": n} for code, n in sorted(areas.items(), key=lambda kv: (-kv[1], kv[0]))],
    }


def sheets(stats: dict[str, Any], stage_label: Any, area_label: Any, headers: dict[str, str]) -> list[Any]:
    """The export of ``stats`` as two sheets (by stage, by area); labels and headers come from the caller,
    in the reader's language."""
    from shangliang.core.exports import Sheet

    return [
        Sheet(headers["by_stage"], [headers["stage"], headers["code"], headers["count"]],
              [[stage_label(r["stage"]), r["stage"], r["count"]] for r in stats["by_stage"]]
              + [[headers["total"], "", stats["total"]]]),
        Sheet(headers["by_area"], [headers["area"], headers["code"], headers["count"]],
              [[area_label(r["area"]), r["area"], r["count"]] for r in stats["by_area"]]),
    ]
