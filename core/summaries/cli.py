"""``shangliang summaries``: send this node's summary to its parent now, show its subtree."""

from __future__ import annotations

import click

from shangliang.core.clitools import _os_user, emit, table, with_appcontext
from shangliang.core.context import node_context
from shangliang.core.db import get_session, transaction

from . import services


@click.group("summaries")
def summaries() -> None:
    """A level sees its subtree: figures sent up level by level."""


@summaries.command("send")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@with_appcontext
def send(as_json: bool) -> None:
    """Send this node's summary (its own figures and its subtree's) to its parent now."""
    with transaction(f"cli:{_os_user()}") as session:
        sent = services.send(session, node_context())
    emit(sent, as_json, lambda s: f"summary {s['id']} to {s['to']}: {s['nodes']} nodes (outbox {s['outbox']})")


@summaries.command("show")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@with_appcontext
def show(as_json: bool) -> None:
    """This node's figures and every node's under it, with the totals; stale nodes flagged."""
    tree = services.subtree(get_session(), node_context())

    def text(t):
        def row(n):
            f = n["figures"]
            return [n["node"], n["name"], n["level"] or "", f.get("topics", {}).get("total", 0),
                    f.get("topics", {}).get("overdue", 0), f.get("results", {}).get("total", 0),
                    f.get("proposals", {}).get("total", 0), f.get("opinions", {}).get("written", 0),
                    f.get("activities", {}).get("held", 0), "STALE" if n["stale"] else ""]

        total = {"node": "total", "name": "", "level": "", "figures": t["totals"], "stale": False}
        return table([row(n) for n in t["nodes"]] + [row(total)],
                     ["node", "name", "level", "topics", "overdue", "results", "proposals", "reports",
                      "activities", "stale"])

    emit(tree, as_json, text)
