"""``shangliang similar``: list suggestions to group similar topics held here, and decide on them (merge, keep
separate, dismiss); each command calls one service."""

from __future__ import annotations

import click

from shangliang.core.clitools import _os_user, emit, table, with_appcontext
from shangliang.core.context import node_context
from shangliang.core.db import transaction

from . import services
from .models import STATES


def _actor() -> str:
    return f"cli:{_os_user()}"


@click.group("similar")
def similar() -> None:
    """Similar matters (集中的问题): topics held here with similar content from different places."""


def _text(rows: list[dict]) -> str:
    if not rows:
        return "no suggestions"
    out = []
    for s in rows:
        out.append(f"suggestion {s['id']} ({s['state']}, similarity {s['score']})"
                   + (f", merged into {s['primary']}" if s["primary"] else ""))
        out.append(table([[t["uid"], t["title"], ",".join(t["areas"]), t["from"], t["matched"] or "",
                           "" if t["score"] is None else t["score"], "、".join(t["shared"])] for t in s["topics"]],
                         ["uid", "title", "areas", "from", "similar to", "score", "shared keywords"]))
    return "\n".join(out)


@similar.command("list")
@click.option("--state", type=click.Choice(STATES + ("all",)), default="open", show_default=True)
@click.option("--limit", type=int, default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def similar_list(state, limit, as_json) -> None:
    """Suggestions with their reasons: the topics, their areas, where each came from, how similar."""
    with transaction(_actor()) as session:  # topics raised here since the last look are indexed first
        rows = [s.as_dict() for s in services.list_suggestions(session, node_context(),
                                                               None if state == "all" else state, limit)]
    emit(rows, as_json, _text)


@similar.command("merge")
@click.argument("suggestion_id", type=int)
@click.option("--primary", help="The uid of the topic that stays as the merged matter.")
@click.option("--topic", "uids", multiple=True, help="Merge only these uids (repeat); default: the whole suggestion.")
@click.option("--note", default="")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def similar_merge(suggestion_id, primary, uids, note, as_json) -> None:
    """Merge a suggestion's topics into one matter held here; its result will reach every original's raiser."""
    with transaction(_actor()) as session:
        data = services.merge(session, node_context(), suggestion_id, _actor(), primary, list(uids) or None,
                              note).as_dict()
    emit(data, as_json, lambda d: f"suggestion {d['id']} merged into {d['primary']}")


def _decide(suggestion_id, decision, note, as_json) -> None:
    with transaction(_actor()) as session:
        data = services.decide(session, node_context(), suggestion_id, decision, _actor(), note).as_dict()
    emit(data, as_json, lambda d: f"suggestion {d['id']} {d['state']}")


@similar.command("separate")
@click.argument("suggestion_id", type=int)
@click.option("--note", default="")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def similar_separate(suggestion_id, note, as_json) -> None:
    """Keep a suggestion's topics separate: they are different matters."""
    _decide(suggestion_id, "separate", note, as_json)


@similar.command("dismiss")
@click.argument("suggestion_id", type=int)
@click.option("--note", default="")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def similar_dismiss(suggestion_id, note, as_json) -> None:
    """Dismiss a suggestion."""
    _decide(suggestion_id, "dismissed", note, as_json)
