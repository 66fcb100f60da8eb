"""The subtree page /summaries (charts, the tree view, the nodes' table) and its .xlsx download: thin callers of
``services.subtree``."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from flask import render_template
from flask_babel import gettext as _

from shangliang.core import exports
from shangliang.core.context import node_context
from shangliang.core.db import get_session
from shangliang.core.exports import Sheet
from shangliang.core.opinions.views import decision_label
from shangliang.core.proposals.statistics_web import satisfaction_label
from shangliang.core.proposals.views import status_label as proposal_status_label
from shangliang.core.activities.views import status_label as activity_status_label
from shangliang.core.topics.statistics_web import completion_label
from shangliang.core.topics.views import stage_label
from shangliang.core.web.views import level_label

from . import services

OPINION_LABELS = ("written", "used", "forwarded", "reported", "not_used", "adopted", "instructions")


def opinion_label(key: str) -> str:
    return {"written": _("Written"), "instructions": _("Leader's instructions")}.get(key) or decision_label(key)


def shade(share: float | None) -> str:
    """The tree view's colour class of a node by its overdue share."""
    if share is None:
        return "share-none"
    return "share-low" if share < 0.1 else "share-mid" if share < 0.3 else "share-high"


def moment(ms: int | None) -> str:
    if ms is None:
        return ""
    zone = ZoneInfo(node_context().config.get("TIMEZONE") or "Asia/Shanghai")
    return dt.datetime.fromtimestamp(ms / 1000, zone).strftime("%Y-%m-%d %H:%M")


def _series(counts: dict[str, int], label: Any) -> tuple[list[str], list[int]]:
    return [label(k) for k in counts], list(counts.values())


def charts(tree: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The page's chart specs (core/templates/_charts.html)."""
    t = tree["totals"]
    specs = {}

    def bar(key, title, header, counts, label, kind="bar"):
        labels, data = _series(counts or {}, label)
        specs[key] = {"type": kind, "title": title, "label_header": header, "labels": labels,
                      "series": [{"name": _("Count"), "data": data}]}

    bar("by_stage", _("Topics held in the subtree by stage"), _("Stage"), t.get("topics", {}).get("by_stage"),
        stage_label)
    bar("results", _("Results by implementation"), _("Implementation"), t.get("results", {}).get("by_completion"),
        completion_label, "donut")
    bar("proposals", _("Proposals by status"), _("Status"), t.get("proposals", {}).get("by_status"),
        proposal_status_label)
    bar("satisfaction", _("Proposals by satisfaction"), _("Satisfaction"),
        t.get("proposals", {}).get("satisfaction"), satisfaction_label, "donut")
    bar("opinions", _("Social-opinion reports and their adoption"), _("Outcome"),
        {k: t.get("opinions", {}).get(k, 0) for k in OPINION_LABELS}, opinion_label)
    bar("activities", _("Consultation activities by status"), _("Status"),
        t.get("activities", {}).get("by_status"), activity_status_label)
    nodes = tree["nodes"]
    specs["by_node"] = {"type": "bar", "title": _("Topics and overdue topics by node"), "label_header": _("Node"),
                        "labels": [n["name"] for n in nodes],
                        "series": [{"name": _("Topics held"), "data": [n["figures"].get("topics", {}).get("total", 0)
                                                                       for n in nodes]},
                                   {"name": _("Overdue"), "data": [n["figures"].get("topics", {}).get("overdue", 0)
                                                                   for n in nodes]}]}
    return specs


def headers() -> list[str]:
    return [_("Node"), _("Name"), _("Level"), _("As of"), _("Stale"), _("Topics held"), _("Overdue"),
            _("Overdue share"), _("Results recorded"), _("Proposals"), _("Reports written"), _("Reports adopted"),
            _("Activities held")]


def node_cells(n: dict[str, Any]) -> list[Any]:
    f = n["figures"]
    return [n["node"], n["name"], level_label(n["level"] or ""), moment(n["as_of_ms"]), _("yes") if n["stale"] else "",
            f.get("topics", {}).get("total", 0), f.get("topics", {}).get("overdue", 0), n["overdue_share"],
            f.get("results", {}).get("total", 0), f.get("proposals", {}).get("total", 0),
            f.get("opinions", {}).get("written", 0), f.get("opinions", {}).get("adopted", 0),
            f.get("activities", {}).get("held", 0)]


def sheets(tree: dict[str, Any]) -> list[Sheet]:
    """The workbook: the nodes (one row each, the totals last) and each chart's counts."""
    totals = {"node": "", "name": _("Total"), "level": "", "as_of_ms": tree["as_of_ms"], "stale": False,
              "overdue_share": tree["overdue_share"], "figures": tree["totals"]}
    books = [Sheet(_("Nodes"), headers(), [node_cells(n) for n in tree["nodes"]] + [node_cells(totals)])]
    for spec in charts(tree).values():
        if spec["label_header"] == _("Node"):
            continue
        books.append(Sheet(spec["title"], [spec["label_header"], _("Count")],
                           [[label, value] for label, value in zip(spec["labels"], spec["series"][0]["data"])]))
    return books


def page():
    node = node_context()
    tree = services.subtree(get_session(), node)
    return render_template("summaries/subtree.html", tree=tree, charts=charts(tree), shade=shade, moment=moment,
                           level_label=level_label, node_cells=node_cells, headers=headers())


def xlsx():
    node = node_context()
    tree = services.subtree(get_session(), node)
    return exports.xlsx_response(sheets(tree), _("%(node)s subtree summary", node=node.name))
