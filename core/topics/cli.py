"""``shangliang topics``: raise, list, show and advance topics."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
from flask import current_app

from shangliang.core.clitools import _os_user, emit, table, with_appcontext
from shangliang.core.db import get_session, transaction
from shangliang.core.errors import InputError
from shangliang.core.plugins import get_plugin_manager

from . import actions, services
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
@click.option("--attach", "files", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A file to attach (repeatable): its name, size and SHA-256 travel with the topic.")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def topics_add(title, description, category, areas, raised_by_kind, raised_by_name, files, as_json) -> None:
    """Raise a topic here (收集议题); prints its uid and where it belongs."""
    config = current_app.config
    contents = [(path.name, _read(path, config)) for path in files]
    actor = f"cli:{_os_user()}"
    with transaction() as session:
        topic = services.create_topic(session, config, title, description, category, list(areas), raised_by_kind,
                                      raised_by_name, actor=actor)
        for name, data in contents:
            services.add_attachment(session, config, topic, name, data, actor)
    route = services.suggest_route(get_plugin_manager(), config, topic)
    data = {"uid": topic.uid, "stage": topic.stage, "holder": topic.holder, "suggestion": route.as_dict()}
    emit(data, as_json, lambda d: f"{d['uid']}\nsuggestion: {d['suggestion']['action']}"
         + (f" to {d['suggestion']['to']}" if d['suggestion']['to'] else "") + f" — {d['suggestion']['reason']}")


def _read(path: Path, config) -> bytes:
    """A file's bytes, refused by size before it is read."""
    limit = services.attachment_limit(config)
    size = path.stat().st_size
    if size > limit:
        raise InputError(f"{path.name} is {size} bytes; an attachment may have at most {limit}")
    return path.read_bytes()


@topics.command("attach")
@click.argument("uid")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def topics_attach(uid, files, as_json) -> None:
    """Attach files to a topic held here; all are attached, or (on any error) none."""
    config = current_app.config
    contents = [(path.name, _read(path, config)) for path in files]
    with transaction() as session:
        topic = services.get_topic(session, uid, for_update=True)
        added = [services.add_attachment(session, config, topic, name, data, f"cli:{_os_user()}")
                 for name, data in contents]
        travels = actions.attachments_travel(session, topic)
        rows = [{"name": a.name, "size": a.size, "sha256": a.sha256, "travels": travels} for a in added]
    emit(rows, as_json, lambda rs: "\n".join(
        f"attached {r['name']} ({r['size']} bytes, sha256 {r['sha256']})"
        + ("" if r["travels"] else "; it stays on this node: the topic was raised elsewhere or has been sent on")
        for r in rs))


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
    """A topic: its stage, holder, result, history, the routing suggestion and its route, each hop verified."""
    session = get_session()
    topic = services.get_topic(session, uid)
    data = services.mark_kept(current_app.config, services.topic_dict(topic, events=True))
    data["suggestion"] = services.suggest_route(get_plugin_manager(), current_app.config, topic).as_dict()
    data["route"] = actions.route(session, topic.uid)
    data["route_verified"] = actions.route_verified(data["route"])
    data["returns_to"] = actions.returns_to(actions.latest_received(session, topic.uid), current_app.config["NODE_ID"])

    def text(d):
        lines = [f"{d['uid']}  {d['title']}", f"stage: {d['stage']}   holder: {d['holder']}   areas: {', '.join(d['areas'])}",
                 f"raised by {d['raised_by']['kind']} {d['raised_by']['name']} on {_date(d['raised_ms'])}",
                 f"suggestion: {d['suggestion']['action']}" + (f" to {d['suggestion']['to']}" if d['suggestion']['to'] else "")
                 + f" — {d['suggestion']['reason']}", "history:"]
        lines += [f"  {_date(e['at_ms'])} {e['node']} {e['action']}"
                  + (f" {e['from_stage'] or ''}→{e['to_stage']}" if e["to_stage"] else "")
                  + (f" — {e['note']}" if e["note"] else "") for e in d["events"]]
        lines += [f"attachment: {a['name']} ({a['size']} bytes, sha256 {a['sha256']})"
                  + ("" if a["kept_here"] else f", kept at {d['uid'].split(':', 1)[0]}") for a in d["attachments"]]
        if d["result"]:
            r = d["result"]
            lines += [f"result ({r['kind']}): {r['title']}", f"  {r['summary']}"]
            lines += [f"  measure: {m}" for m in r["measures"]] + [f"  handling unit: {u}" for u in r["handling_units"]]
        lines.append("route: " + ("every hop verified" if d["route_verified"] else "NOT VERIFIED") if d["route"]
                     else "route: raised here, never sent")
        for entry in d["route"]:
            lines.append(f"  {entry['direction']} {entry['kind']} from {entry['origin']}"
                         + (f" [{entry['delivery']}]" if entry["delivery"] else ""))
            lines += [f"    {h['from']} → {h['to']} {h['action']} {_date(h['at_ms'])} "
                      + ("verified" if h["verified"] else f"NOT VERIFIED ({h['problem']})")
                      + (f" — {h['note']}" if h["note"] else "") for h in entry["hops"]]
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
        topic = services.get_topic(session, uid, for_update=True)
        services.advance(session, get_plugin_manager(), current_app.config, topic, to_stage, note, f"cli:{_os_user()}")
    emit({"uid": uid, "stage": to_stage}, as_json, lambda d: f"{d['uid']} is now {d['stage']}")


def _act(uid: str, action) -> tuple[dict, dict | None]:
    """Run ``action(session, pm, config, topic, actor)`` on the topic in one transaction."""
    with transaction() as session:
        topic = services.get_topic(session, uid, for_update=True)
        envelope = action(session, get_plugin_manager(), current_app.config, topic, f"cli:{_os_user()}")
        data = services.topic_dict(topic)
    return data, envelope


def _acted(data: dict, envelope: dict | None, as_json: bool, what: str) -> None:
    out = {"uid": data["uid"], "stage": data["stage"], "holder": data["holder"],
           "sent": None if envelope is None else {"kind": envelope["kind"], "id": envelope["id"],
                                                  "action": envelope["hops"][-1]["action"],
                                                  "to": envelope["hops"][-1]["to"], "hops": len(envelope["hops"])}}
    emit(out, as_json, lambda d: f"{d['uid']} {what}" + (f" (sent {d['sent']['kind']}, {d['sent']['action']} hop to {d['sent']['to']})"
                                                        if d["sent"] else ""))


@topics.command("escalate")
@click.argument("uid")
@click.option("--note", required=True, help="Why the matter belongs higher up (上交).")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def topics_escalate(uid, note, as_json) -> None:
    """Send a topic held here to this node's parent (上交)."""
    data, envelope = _act(uid, lambda s, pm, c, t, a: actions.escalate(s, pm, c, t, note, a))
    _acted(data, envelope, as_json, f"escalated to {data['holder']}")


@topics.command("delegate")
@click.argument("uid")
@click.option("--to", "to", required=True, help="The child node's id.")
@click.option("--instructions", required=True)
@click.option("--due", help="YYYY-MM-DD, or +N for N working days on this node's calendar.")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def topics_delegate(uid, to, instructions, due, as_json) -> None:
    """Send a topic held here to a child node, with instructions and a due date (下放)."""
    from .supervision import parse_due

    due_ms = parse_due(due, current_app.config) if due else None
    data, envelope = _act(uid, lambda s, pm, c, t, a: actions.delegate(s, pm, c, t, to, instructions, due_ms, a))
    _acted(data, envelope, as_json, f"delegated to {data['holder']}")


@topics.command("accept")
@click.argument("uid")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def topics_accept(uid, as_json) -> None:
    """Accept a topic sent here (受理): the route back to where it was raised is told."""
    data, envelope = _act(uid, actions.accept)
    _acted(data, envelope, as_json, "accepted")


@topics.command("return")
@click.argument("uid")
@click.option("--reason", required=True)
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def topics_return(uid, reason, as_json) -> None:
    """Return a topic to the node it came from, with the reason (退回)."""
    data, envelope = _act(uid, lambda s, pm, c, t, a: actions.return_topic(s, pm, c, t, reason, a))
    _acted(data, envelope, as_json, f"returned to {data['holder']}")


@topics.command("result")
@click.argument("uid")
@click.option("--kind", "kind", default="consultation", show_default=True,
              help="What kind of result: consultation opinion, proposal, report…")
@click.option("--title", required=True)
@click.option("--summary", required=True)
@click.option("--measure", "measures", multiple=True, help="A measure agreed (repeatable).")
@click.option("--handling-unit", "units", multiple=True, help="A unit that handles it (repeatable).")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def topics_result(uid, kind, title, summary, measures, units, as_json) -> None:
    """Record the result of a topic at its feedback stage and close it; the result travels back to where it was raised."""
    data, envelope = _act(uid, lambda s, pm, c, t, a: actions.record_result(s, pm, c, t, kind, title, summary,
                                                                            list(measures), list(units), a))
    _acted(data, envelope, as_json, "closed with its result")
