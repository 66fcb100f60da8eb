"""Subtree summaries (一级看全辖): the rules. A node counts its own figures, sends them with its descendants'
latest figures to its parent, and keeps the latest figures of every node under it that its children's reports
carry; a page, the API and the command show its own and its subtree's figures, aggregated, with the nodes that
fell silent flagged stale.

*Own figures* are counted for the node's current year (its ``TIMEZONE``), each once in the whole tree:

- ``topics``: topics raised in the year that this node holds now (``holder``), by stage, and how many of them
  are overdue (a topic escalated up or delegated down counts at the node holding it, not at every node that
  knows it);
- ``results``: topics held here whose result was recorded in the year, by implementation (complete,
  incomplete, no_units — the rule of ``core/topics/statistics.py``);
- ``proposals``: the proposals of the year here, by status, and the latest overall satisfaction of the filed
  ones (``core/proposals/statistics.py``; a proposal forwarded up counts as ``forwarded`` here and again at the
  parent under its status there);
- ``opinions``: social-opinion reports written here in the year (not those forwarded from below) and what
  became of them (written, used, forwarded, reported, not_used, adopted, instructions);
- ``activities``: consultation activities held here starting in the year, by status, ``held`` = closed.

No person is named: the figures are counts only.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from shangliang.core import divisions
from shangliang.core.activities.models import STATUSES as ACTIVITY_STATUSES
from shangliang.core.activities.models import Activity
from shangliang.core.context import NodeContext
from shangliang.core.errors import InputError
from shangliang.core.i18n import N_
from shangliang.core.opinions.models import SocialOpinion
from shangliang.core.opinions.statistics import COUNTS as OPINION_COUNTS
from shangliang.core.opinions.statistics import outcome
from shangliang.core.proposals.statistics import proposal_statistics
from shangliang.core.topics.models import STAGES, Assignment, Topic
from shangliang.core.topics.statistics import COMPLETION, current_year, year_bounds
from shangliang.federation import outbox, peers

from .models import NodeSummary

#: The message kind (PROTOCOL.md §8's extension space).
REPORT = "x-summaries.report"
#: The most nodes one report may carry (a province's whole tree is a few thousand).
MAX_NODES = 5000
#: Limits of the figures a receiver accepts: nesting depth, keys per object, key length.
MAX_DEPTH, MAX_KEYS, MAX_KEY = 4, 64, 40
#: The largest count (PROTOCOL.md §2: integers up to 2^53 − 1).
MAX_COUNT = 2 ** 53 - 1


class SummaryError(InputError):
    """A summary report refused: what it carries does not fit (nothing was stored)."""


class NotAChild(SummaryError):
    """A summary report from a node that is not a pinned child of this node."""


class OutsideSubtree(SummaryError):
    """A summary report naming a node that is not under the child that sent it."""


# ---------------------------------------------------------------------------------------------
# Own figures


def own_figures(session: Session, node: NodeContext) -> dict[str, Any]:
    """This node's own figures for its current year (the rule: this module's docstring)."""
    year = current_year(node)
    start, end = year_bounds(node, year)
    rows = session.execute(select(Topic.stage, Topic.overdue).where(
        Topic.holder == node.id, Topic.raised_ms >= start, Topic.raised_ms < end)).all()
    stages = Counter(stage for stage, _late in rows)
    topics = {"total": len(rows), "overdue": sum(bool(late) for _stage, late in rows),
              "by_stage": {s: stages.get(s, 0) for s in (*STAGES, *sorted(set(stages) - set(STAGES)))}}
    closed = session.execute(select(Topic.id).where(
        Topic.holder == node.id, Topic.result.is_not(None), Topic.closed_ms >= start, Topic.closed_ms < end)
    ).scalars().all()
    open_: dict[int, int] = {}
    for topic_id, state in session.execute(select(Assignment.topic_id, Assignment.state)
                                           .where(Assignment.topic_id.in_(closed or [-1]))).all():
        open_[topic_id] = open_.get(topic_id, 0) + (state != "accepted")
    kinds = Counter("no_units" if t not in open_ else "incomplete" if open_[t] else "complete" for t in closed)
    results = {"total": len(closed), "by_completion": {c: kinds.get(c, 0) for c in COMPLETION}}
    stats = proposal_statistics(session, node, year)
    proposals = {"total": stats["total"], "by_status": {r["status"]: r["count"] for r in stats["by_status"]},
                 "filed": stats["satisfaction"]["filed"],
                 "satisfaction": {r["level"]: r["count"] for r in stats["satisfaction"]["overall"]}}
    opinions = {c: 0 for c in OPINION_COUNTS}
    for report in session.execute(select(SocialOpinion).where(SocialOpinion.year == year,
                                                              SocialOpinion.origin_node.is_(None))).scalars():
        out = outcome(report)
        opinions["written"] += 1
        for key in ("used", "forwarded", "reported", "not_used", "adopted"):
            opinions[key] += int(bool(out[key]))
        opinions["instructions"] += out["instructions"]
    statuses = Counter(session.execute(select(Activity.status).where(
        Activity.held_by == node.id, Activity.starts_ms >= start, Activity.starts_ms < end)).scalars())
    activities = {"total": sum(statuses.values()), "held": statuses.get("closed", 0),
                  "by_status": {s: statuses.get(s, 0) for s in ACTIVITY_STATUSES}}
    return {"year": year, "topics": topics, "results": results, "proposals": proposals, "opinions": opinions,
            "activities": activities}


def add(total: dict[str, Any], figures: Mapping[str, Any]) -> dict[str, Any]:
    """Add ``figures`` into ``total`` (counts summed, objects merged key by key; ``year`` kept, not summed)."""
    for key, value in figures.items():
        if key == "year":
            total.setdefault("year", value)
        elif isinstance(value, Mapping):
            add(total.setdefault(key, {}), value)
        elif isinstance(value, int) and not isinstance(value, bool):
            current = total.get(key, 0)
            total[key] = (current if isinstance(current, int) else 0) + value
    return total


def overdue_share(figures: Mapping[str, Any]) -> float | None:
    """Overdue topics / topics, 0 to 1; None without topics."""
    topics = figures.get("topics") or {}
    total, overdue = topics.get("total") or 0, topics.get("overdue") or 0
    return round(overdue / total, 4) if total else None


# ---------------------------------------------------------------------------------------------
# The subtree as this node sees it


def stale_ms(node: NodeContext) -> int:
    return int(float(node.config.get("SUMMARIES_STALE_SECONDS", 2 * 86400)) * 1000)


@dataclass
class NodeRow:
    node: str
    name: str
    level: str | None
    parent: str | None
    as_of_ms: int
    received_ms: int | None
    own: bool
    stale: bool
    figures: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"node": self.node, "name": self.name, "level": self.level, "parent": self.parent,
                "as_of_ms": self.as_of_ms, "received_ms": self.received_ms, "own": self.own, "stale": self.stale,
                "overdue_share": overdue_share(self.figures), "figures": self.figures}


def _level(node_id: str) -> str | None:
    return divisions.level_of(node_id) if divisions.is_standard(node_id) else None


def subtree(session: Session, node: NodeContext) -> dict[str, Any]:
    """This node's own figures (counted now) and the latest of every node under it, each flagged ``stale`` when
    its figures are older than ``[summaries] stale_seconds``; ``totals`` sums them all; ``levels`` groups the
    nodes by level, in the order province → village (the tree view)."""
    now = node.now_ms()
    limit = stale_ms(node)
    rows = [NodeRow(node.id, node.name, node.level, node.parent, now, None, True, False, own_figures(session, node))]
    for row in session.execute(select(NodeSummary).order_by(NodeSummary.node_id)).scalars():
        rows.append(NodeRow(row.node_id, row.name, row.level, row.parent_id, row.as_of_ms, row.received_ms, False,
                            now - row.as_of_ms > limit, json.loads(row.figures)))
    totals: dict[str, Any] = {}
    for row in rows:
        add(totals, row.figures)
    order = {level: i for i, level in enumerate(divisions.LEVELS)}
    levels: dict[str, list[dict[str, Any]]] = {}
    for row in sorted(rows, key=lambda r: (order.get(r.level or "", 99), r.node)):
        levels.setdefault(row.level or "node", []).append(row.as_dict())
    return {"node": node.id, "name": node.name, "level": node.level, "as_of_ms": now, "stale_seconds": limit // 1000,
            "totals": totals, "overdue_share": overdue_share(totals),
            "nodes": [r.as_dict() for r in rows], "stale": [r.node for r in rows if r.stale],
            "levels": [{"level": level, "nodes": cells} for level, cells in levels.items()]}


# ---------------------------------------------------------------------------------------------
# Sending


#: The room for a report's ``nodes`` in one envelope: what a new envelope may be (``outbox.MAX_START_BYTES``), less
#: the envelope's own fields and its first hop.
BODY_BUDGET = outbox.MAX_START_BYTES - 8192


def _entries(session: Session, node: NodeContext) -> list[dict[str, Any]]:
    now = node.now_ms()
    nodes = [{"node": node.id, "name": node.name, "level": node.level, "parent": node.parent, "as_of_ms": now,
              "figures": own_figures(session, node)}]
    for row in session.execute(select(NodeSummary).order_by(NodeSummary.node_id)).scalars():
        nodes.append({"node": row.node_id, "name": row.name, "level": row.level, "parent": row.parent_id,
                      "as_of_ms": row.as_of_ms, "figures": json.loads(row.figures)})
    return nodes


def report_bodies(session: Session, node: NodeContext, budget: int = BODY_BUDGET) -> list[dict[str, Any]]:
    """The bodies of this node's ``x-summaries.report``: its own figures first, then every descendant's latest,
    by node id (a parent before the nodes under it) — in as many reports as the envelope's size limit needs
    (a city's few hundred townships fit in one; each further report starts with this node's entry again)."""
    from shangliang.federation import canonical

    own, *rest = _entries(session, node)
    bodies: list[dict[str, Any]] = []
    chunk: list[dict[str, Any]] = [own]
    used = len(canonical.dumps(own))
    for entry in rest:
        size = len(canonical.dumps(entry)) + 1
        if used + size > budget or len(chunk) >= MAX_NODES:
            bodies.append({"as_of_ms": own["as_of_ms"], "nodes": chunk})
            chunk, used = [own], len(canonical.dumps(own))
        chunk.append(entry)
        used += size
    bodies.append({"as_of_ms": own["as_of_ms"], "nodes": chunk})
    return bodies


def report_body(session: Session, node: NodeContext) -> dict[str, Any]:
    """This node's report as one body (every node, whatever its size): what ``show`` and the tests read."""
    entries = _entries(session, node)
    return {"as_of_ms": entries[0]["as_of_ms"], "nodes": entries}


def parent_id(session: Session) -> str | None:
    found = [p.node_id for p in peers.list_peers(session) if p.relation == "parent"]
    return found[0] if found else None


def send(session: Session, node: NodeContext, budget: int = BODY_BUDGET) -> dict[str, Any]:
    """Send this node's summary to its parent now, in the caller's transaction (the outbox delivers it after
    the commit, the reports in the order written). ``InputError`` when no parent is paired."""
    parent = parent_id(session)
    if parent is None:
        raise InputError(N_("this node has no paired parent to send its summary to (shangliang peers add)"),
                         field="parent")
    sent = []
    for body in report_bodies(session, node, budget):
        envelope, row = outbox.originate(session, node, REPORT, body, parent, "reply")
        sent.append({"id": envelope["id"], "outbox": row.id, "nodes": len(body["nodes"])})
    return {"kind": REPORT, "id": sent[0]["id"], "to": parent, "outbox": sent[0]["outbox"],
            "nodes": sum(s["nodes"] for s in sent) - (len(sent) - 1), "messages": sent}


# ---------------------------------------------------------------------------------------------
# Receiving


def check_figures(value: Any, where: str = "figures", depth: int = 0) -> None:
    """Figures are objects of short ASCII keys whose leaves are non-negative counts; ``SummaryError`` else."""
    if not isinstance(value, Mapping):
        raise SummaryError(N_("%(where)s must be an object", where=where), field=where)
    if depth >= MAX_DEPTH or len(value) > MAX_KEYS:
        raise SummaryError(N_("%(where)s is nested too deep or holds too many keys", where=where), field=where)
    for key, item in value.items():
        if not isinstance(key, str) or not key or len(key) > MAX_KEY or not key.isascii() or not key.isprintable():
            raise SummaryError(N_("%(where)s holds a key that is not a short name", where=where), field=where)
        if isinstance(item, Mapping):
            check_figures(item, f"{where}.{key}", depth + 1)
        elif isinstance(item, bool) or not isinstance(item, int) or not 0 <= item <= MAX_COUNT:
            raise SummaryError(N_("%(where)s.%(key)s must be a count (a whole number, not negative)", where=where, key=key),
                               field=where)


def _text(entry: Mapping[str, Any], field: str, where: str, limit: int, optional: bool = False) -> str | None:
    value = entry.get(field)
    if value is None and optional:
        return None
    if not isinstance(value, str) or len(value) > limit or not value.isprintable():
        raise SummaryError(N_("%(where)s.%(field)s must be a text of at most %(limit)s characters", where=where,
                              field=field, limit=limit), field=where)
    return value


def check_report(origin: str, body: Mapping[str, Any], known: set[str] | None = None) -> list[dict[str, Any]]:
    """The node entries of a report from child ``origin``, checked: the first is ``origin`` itself, every other
    one a node under it (by division code where both are standard codes, and by a ``parent`` listed before it or
    in ``known``, the nodes this node already holds under ``origin``; with ``known`` None, as the body check
    without a database, the parent is not looked for), each named once; ``OutsideSubtree`` or ``SummaryError``
    otherwise."""
    nodes = body.get("nodes")
    if not isinstance(nodes, list) or not 1 <= len(nodes) <= MAX_NODES:
        raise SummaryError(N_("nodes must list 1 to %(most)s nodes", most=MAX_NODES), field="nodes")
    seen: set[str] = set()
    checked = []
    for index, entry in enumerate(nodes):
        where = f"nodes[{index}]"
        if not isinstance(entry, Mapping):
            raise SummaryError(N_("%(where)s must be an object", where=where), field=where)
        node_id = _text(entry, "node", where, 40)
        if not divisions.NODE_ID.fullmatch(node_id):
            raise SummaryError(N_("%(where)s.node is not a node id", where=where), field=where)
        name = _text(entry, "name", where, 200)
        level = _text(entry, "level", where, 20, optional=True)
        parent = _text(entry, "parent", where, 40, optional=True)
        as_of = entry.get("as_of_ms")
        if isinstance(as_of, bool) or not isinstance(as_of, int) or not 0 <= as_of <= MAX_COUNT:
            raise SummaryError(N_("%(where)s.as_of_ms must be a time in milliseconds", where=where), field=where)
        check_figures(entry.get("figures"), f"{where}.figures")
        if node_id in seen:
            raise SummaryError(N_("%(where)s: node %(node)s is listed twice", where=where, node=node_id), field=where)
        if index == 0:
            if node_id != origin:
                raise SummaryError(N_("the first node of a report is its sender %(origin)s, not %(node)s", origin=origin,
                                       node=node_id), field=where)
        else:
            standard = divisions.is_standard(origin) and divisions.is_standard(node_id)
            linked = parent in seen or known is None or parent in known
            if (standard and not divisions.is_ancestor(origin, node_id)) or not linked:
                raise OutsideSubtree(N_("node %(node)s is not under %(origin)s, the child that sent the report", node=node_id,
                                        origin=origin), field=where)
        seen.add(node_id)
        checked.append({"node": node_id, "name": name, "level": level, "parent": parent, "as_of_ms": as_of,
                        "figures": dict(entry["figures"])})
    return checked


def receive(session: Session, node: NodeContext, origin: str, body: Mapping[str, Any], received_ms: int) -> int:
    """Keep the figures of a report from child ``origin``: each node's row replaced when the report's figures
    are newer (``as_of_ms``), older ones ignored. ``NotAChild``, ``OutsideSubtree`` or ``SummaryError`` (nothing
    stored) for a report that does not fit. Returns how many rows were written."""
    if peers.relation_of(session, origin) != "child":
        raise NotAChild(N_("a summary comes from a child of this node; %(origin)s is not a paired child", origin=origin),
                        field="origin")
    held = set(session.execute(select(NodeSummary.node_id).where(NodeSummary.via == origin)).scalars())
    entries = check_report(origin, body, held)
    written = 0
    for entry in entries:
        row = session.get(NodeSummary, entry["node"], with_for_update=True)
        if row is not None and row.as_of_ms >= entry["as_of_ms"]:
            continue
        if row is None:
            row = NodeSummary(node_id=entry["node"])
            session.add(row)
        row.name, row.level, row.parent_id = entry["name"], entry["level"] or _level(entry["node"]), entry["parent"]
        row.via, row.as_of_ms, row.received_ms = origin, entry["as_of_ms"], received_ms
        row.figures = json.dumps(entry["figures"], ensure_ascii=False, sort_keys=True)
        written += 1
    session.flush()
    return written


def list_rows(session: Session) -> Iterable[NodeSummary]:
    return session.execute(select(NodeSummary).order_by(NodeSummary.node_id)).scalars()
