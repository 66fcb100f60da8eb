"""``shangliang topics``: raise, list, show and advance topics."""

from __future__ import annotations

import datetime as dt

import click
from flask import current_app

from shangliang.core.clitools import _os_user, emit, table, with_appcontext
from shangliang.core.db import get_session, transaction
from shangliang.core.plugins import get_plugin_manager

from . import services
from .models import RAISED_BY_KINDS, STAGES


def _date(ms) -> str:
    return "-" if ms is None else dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%d")


@click.group()
def topics() -> None:
    """Topics (协商议题): the six-step closed loop."""


@topics.command("add")
@click.option("--title", required=True)
@click.option("--description", default="")
@click.option("--category", required=True)
@click.option("--area", "areas", multiple=True, required=True, help="A division code the matter concerns (repeatable).")
@click.option("--raised-by-kind", required=True, type=click.Choice(RAISED_BY_KINDS))
@click.option("--raised-by-name", required=True)
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def topics_add(title, description, category, areas, raised_by_kind, raised_by_name, as_json) -> None:
    """Raise a topic here (收集议题); prints its uid and where it belongs."""
    config = current_app.config
    with transaction() as session:
        topic = services.create_topic(session, config, title, description, category, list(areas), raised_by_kind,
                                      raised_by_name, actor=f"cli:{_os_user()}")
    route = services.suggest_route(get_plugin_manager(), config, topic)
    data = {"uid": topic.uid, "stage": topic.stage, "holder": topic.holder, "suggestion": route.as_dict()}
    emit(data, as_json, lambda d: f"{d['uid']}\nsuggestion: {d['suggestion']['action']}"
         + (f" to {d['suggestion']['to']}" if d['suggestion']['to'] else "") + f" — {d['suggestion']['reason']}")


@topics.command("list")
@click.option("--stage", type=click.Choice(STAGES))
@click.option("--holder", help="Only topics held by this node id.")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def topics_list(stage, holder, as_json) -> None:
    """Topics on this node, overdue first."""
    rows = [services.topic_dict(t) for t in services.list_topics(get_session(), stage, holder)]
    emit(rows, as_json, lambda rs: table(
        [[r["uid"], r["title"], r["stage"], r["holder"], _date(r["due_ms"]), "overdue" if r["overdue"] else ""] for r in rs],
        ["uid", "title", "stage", "holder", "due", ""]))


@topics.command("show")
@click.argument("uid")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def topics_show(uid, as_json) -> None:
    """A topic: its stage, holder, history and the routing suggestion."""
    topic = services.get_topic(get_session(), uid)
    data = services.topic_dict(topic, events=True)
    data["suggestion"] = services.suggest_route(get_plugin_manager(), current_app.config, topic).as_dict()

    def text(d):
        lines = [f"{d['uid']}  {d['title']}", f"stage: {d['stage']}   holder: {d['holder']}   areas: {', '.join(d['areas'])}",
                 f"raised by {d['raised_by']['kind']} {d['raised_by']['name']} on {_date(d['raised_ms'])}",
                 f"suggestion: {d['suggestion']['action']}" + (f" to {d['suggestion']['to']}" if d['suggestion']['to'] else "")
                 + f" — {d['suggestion']['reason']}", "history:"]
        lines += [f"  {_date(e['at_ms'])} {e['node']} {e['action']}"
                  + (f" {e['from_stage'] or ''}→{e['to_stage']}" if e["to_stage"] else "")
                  + (f" — {e['note']}" if e["note"] else "") for e in d["events"]]
        return "\n".join(lines)

    emit(data, as_json, text)


@topics.command("advance")
@click.argument("uid")
@click.option("--to", "to_stage", required=True, type=click.Choice(STAGES))
@click.option("--note", default="")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def topics_advance(uid, to_stage, note, as_json) -> None:
    """Move a topic held here to its next stage (plugins may refuse, saying why)."""
    with transaction() as session:
        topic = services.get_topic(session, uid)
        services.advance(session, get_plugin_manager(), current_app.config, topic, to_stage, note, f"cli:{_os_user()}")
    emit({"uid": uid, "stage": to_stage}, as_json, lambda d: f"{d['uid']} is now {d['stage']}")
