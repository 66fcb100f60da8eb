"""Social-opinion report counts: for a year, how many reports were written, used (采用), forwarded, reported
to the party committee or government, not used, adopted at each level and instructed (批示) — in total, per
member, per node where decided and per level — and the same few counts for every year; and the sheets of the
.xlsx export of adoption statistics. Read only; the page, the API and the command show the same counts."""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Callable, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from shangliang.core import divisions
from shangliang.core.context import NodeContext
from shangliang.core.errors import InputError
from shangliang.core.exports import Sheet
from shangliang.core.i18n import N_
from shangliang.core.topics.supervision import today

from .models import ADOPTIONS, SocialOpinion

COUNTS = ("written", "used", "forwarded", "reported", "not_used", "adopted", "instructions")
FIRST_YEAR, LAST_YEAR = 1949, 9999


def _zero() -> dict[str, int]:
    return {c: 0 for c in COUNTS}


def outcome(o: SocialOpinion) -> dict[str, Any]:
    """What became of one report, at any level: flags per decision kind, the levels that adopted it, and its
    instructions."""
    decisions = [e for e in o.events if e.kind != "edited"]
    kinds = {e.kind for e in decisions}
    return {"used": "used" in kinds, "forwarded": "forwarded" in kinds, "reported": "reported" in kinds,
            "not_used": "not_used" in kinds, "adopted": any(e.kind in ADOPTIONS for e in decisions),
            "instructions": sum(1 for e in decisions if e.kind == "instruction"),
            "levels": sorted({e.level or e.node for e in decisions if e.kind in ADOPTIONS})}


def _add(counts: dict[str, int], out: Mapping[str, Any]) -> None:
    counts["written"] += 1
    for key in ("used", "forwarded", "reported", "not_used", "adopted"):
        counts[key] += int(bool(out[key]))
    counts["instructions"] += out["instructions"]


def opinion_statistics(session: Session, node: NodeContext, year: Any = None) -> dict[str, Any]:
    """The counts of the year's reports (default: this year on the node's time zone)."""
    if year is None or year == "":
        year = today(node.config, node.now_ms()).year
    try:
        year = int(year)
    except (TypeError, ValueError):
        raise InputError(N_("year %(year)s is not a year", year=repr(str(year)[:20])), field="year") from None
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise InputError(N_("year is from %(first_year)s to %(last_year)s", first_year=FIRST_YEAR,
                            last_year=LAST_YEAR), field="year")
    reports = list(session.execute(select(SocialOpinion).options(selectinload(SocialOpinion.events))).scalars())
    totals = _zero()
    members: dict[tuple, dict[str, Any]] = {}
    nodes: dict[str, dict[str, Any]] = {}
    levels: dict[str, dict[str, int]] = defaultdict(lambda: {"adopted": 0, "instructions": 0})
    years: dict[int, dict[str, int]] = defaultdict(lambda: {"written": 0, "adopted": 0, "instructions": 0})
    for o in reports:
        out = outcome(o)
        years[o.year]["written"] += 1
        years[o.year]["adopted"] += int(out["adopted"])
        years[o.year]["instructions"] += out["instructions"]
        if o.year != year:
            continue
        _add(totals, out)
        if o.author_kind == "member":
            key = (o.member_no or "", o.author_name if not o.member_no else "", o.author_node)
            row = members.setdefault(key, {"name": o.author_name, "member_no": o.member_no, "home": o.author_node,
                                           **_zero(), "adopted_by_level": defaultdict(int)})
            _add(row, out)
            for level in out["levels"]:
                row["adopted_by_level"][level] += 1
        seen: dict[str, set[str]] = defaultdict(set)
        for e in o.events:
            if e.kind == "edited":
                continue
            row = nodes.setdefault(e.node, {"node": e.node, "level": e.level, "used": 0, "forwarded": 0,
                                            "reported": 0, "not_used": 0, "adopted": 0, "instructions": 0})
            if e.kind == "instruction":
                row["instructions"] += 1
                levels[e.level or e.node]["instructions"] += 1
                continue
            if e.kind in ADOPTIONS and "adopted" not in seen[e.node]:
                seen[e.node].add("adopted")
                row["adopted"] += 1
                levels[e.level or e.node]["adopted"] += 1
            if e.kind in ("used", "forwarded", "reported", "not_used") and e.kind not in seen[e.node]:
                seen[e.node].add(e.kind)
                row[e.kind] += 1
    order = {level: i for i, level in enumerate(divisions.LEVELS)}
    by_member = sorted(({**r, "adopted_by_level": dict(r["adopted_by_level"])} for r in members.values()),
                       key=lambda r: (-r["adopted"], -r["written"], r["member_no"] or "", r["name"]))
    by_node = sorted(nodes.values(), key=lambda r: (order.get(r["level"] or "", 99), r["node"]))
    by_level = [{"level": level, **levels[level]} for level in sorted(levels, key=lambda lv: order.get(lv, 99))]
    by_year = [{"year": y, **years[y]} for y in sorted(years)]
    return {"year": year, "totals": totals, "by_member": by_member, "by_node": by_node, "by_level": by_level,
            "by_year": by_year}


def sheets(stats: Mapping[str, Any], label: Callable[[str], str], headers: Mapping[str, str]) -> list[Sheet]:
    """The adoption statistics as sheets (titles and headers in the reader's language, from ``headers``;
    ``label`` names a level)."""
    h = headers
    counts = [h[c] for c in COUNTS]
    levels = [lv for lv in divisions.LEVELS if any(lv in r["adopted_by_level"] for r in stats["by_member"])]
    return [
        Sheet(h["totals"], [h["year"], *counts], [[stats["year"], *[stats["totals"][c] for c in COUNTS]]]),
        Sheet(h["by_member"], [h["name"], h["member_no"], h["home"], *counts,
                               *[f"{h['adopted_at']} {label(lv)}" for lv in levels]],
              [[r["name"], r["member_no"] or "", r["home"], *[r[c] for c in COUNTS],
                *[r["adopted_by_level"].get(lv, 0) for lv in levels]] for r in stats["by_member"]]),
        Sheet(h["by_node"], [h["node"], h["level"], *[h[c] for c in COUNTS[1:]]],
              [[r["node"], label(r["level"] or ""), *[r[c] for c in COUNTS[1:]]] for r in stats["by_node"]]),
        Sheet(h["by_level"], [h["level"], h["adopted"], h["instructions"]],
              [[label(r["level"]), r["adopted"], r["instructions"]] for r in stats["by_level"]]),
        Sheet(h["by_year"], [h["year"], h["written"], h["adopted"], h["instructions"]],
              [[r["year"], r["written"], r["adopted"], r["instructions"]] for r in stats["by_year"]]),
    ]
