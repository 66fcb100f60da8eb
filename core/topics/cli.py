"""``shangliang topics``: raise, list, show topics and act on them; each command calls one service."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from sqlalchemy import select

from shangliang.core.clock import datetime_of
from shangliang.core.clitools import _os_user, emit, table, with_appcontext
from shangliang.core.context import node_context
from shangliang.core.db import get_session, transaction
from shangliang.core.errors import InputError
from shangliang.core.i18n import N_

from shangliang.core.units.services import unit_of_user
from shangliang.core.users.models import User

from . import implementation, schemas, services, supervision
from .models import RAISED_BY_KINDS, REPORT_KINDS, STAGES
from .statistics_cli import topics_statistics


def _date(ms) -> str:
    """A day in the node's time zone (``timezone`` in node.toml), as its pages show it."""
    if ms is None:
        return "-"
    from zoneinfo import ZoneInfo

    from flask import current_app

    moment = datetime_of(ms, ZoneInfo(current_app.config["TIMEZONE"]))
    return f"beyond the calendar ({ms} ms)" if moment is None else moment.strftime("%Y-%m-%d")


def stage_code(value: str | None) -> str | None:
    """A stage given by its code (``determined``) or by its name in any of the interface's languages
    (``确定议题``, ``Determined``), as a person reads it on the pages; a named error otherwise."""
    if value is None or value in STAGES:
        return value
    from flask_babel import force_locale

    from shangliang.core import config as node_config

    from .views import stage_label

    wanted = value.strip().casefold()
    for locale in node_config.SUPPORTED_LOCALES:
        with force_locale(locale):
            for stage in STAGES:
                if str(stage_label(stage)).casefold() == wanted:
                    return stage
    raise InputError(N_("unknown stage %(value)s; give a stage's code (%(stages)s) or its name as the pages show it "
                        "(确定议题, …)", value=repr(value[:40]), stages=', '.join(STAGES)), field="stage")


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
    node = node_context()
    contents = [(path.name, _read(path, node.config)) for path in files]
    fields = schemas.TopicIn(title=title, description=description, category=category, areas=list(areas),
                             raised_by_kind=raised_by_kind, raised_by_name=raised_by_name)
    with transaction() as session:
        topic, route = services.raise_topic(session, node, fields, _actor(), contents)
    data = {"uid": topic.uid, "stage": topic.stage, "holder": topic.holder, "suggestion": route.as_dict()}
    emit(data, as_json, lambda d: f"{d['uid']}\nsuggestion: {d['suggestion']['action']}"
         + (f" to {d['suggestion']['to']}" if d['suggestion']['to'] else "") + f" — {d['suggestion']['reason']}")


def _read(path: Path, config) -> bytes:
    """A file's bytes, refused by size before it is read."""
    limit = services.attachment_limit(config)
    size = path.stat().st_size
    if size > limit:
        raise InputError(N_("%(name)s is %(size)s bytes; an attachment may have at most %(limit)s", name=path.name,
                            size=size, limit=limit))
    return path.read_bytes()


@topics.command("attach")
@click.argument("uid")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def topics_attach(uid, files, as_json) -> None:
    """Attach files to a topic held here; all are attached, or (on any error) none."""
    node = node_context()
    contents = [(path.name, _read(path, node.config)) for path in files]
    with transaction() as session:
        rows = services.attach(session, node, uid, contents, _actor())
    emit(rows, as_json, lambda rs: "\n".join(
        f"attached {r['name']} ({r['size']} bytes, sha256 {r['sha256']})"
        + ("" if r["travels"] else "; it stays on this node: the topic was raised elsewhere or has been sent on")
        for r in rs))


@topics.command("list")
@click.option("--stage", help=f"Only topics at this stage: {', '.join(STAGES)}, or its name (收集议题, 确定议题, …).")
@click.option("--holder", help="Only topics held by this node id.")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def topics_list(stage, holder, as_json) -> None:
    """Topics on this node, overdue first."""
    rows = [t.as_dict() for t in services.list_topics(get_session(), stage_code(stage), holder).items]
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
    data = services.show(session, node_context(), services.get_topic(session, uid))

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


def _actor() -> str:
    return f"cli:{_os_user()}"


def _act(uid: str, action: Any) -> services.Outcome:
    """Run one action on the topic in one transaction (the same service as the pages and the API)."""
    with transaction() as session:
        return services.act(session, node_context(), uid, action, _actor())


def _acted(outcome: services.Outcome, as_json: bool, what: str) -> None:
    topic = outcome.topic
    out = {"uid": topic.uid, "stage": topic.stage, "holder": topic.holder, "sent": outcome.sent()}
    emit(out, as_json, lambda d: f"{d['uid']} {what.format(holder=d['holder'], stage=d['stage'])}"
         + (f" (sent {d['sent']['kind']}, {d['sent']['action']} hop to {d['sent']['to']})" if d["sent"] else ""))


@topics.command("advance")
@click.argument("uid")
@click.option("--to", "to_stage", required=True,
              help=f"The next stage: {', '.join(STAGES)}, or its name (确定议题, 调查研究, …).")
@click.option("--note", default="")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def topics_advance(uid, to_stage, note, as_json) -> None:
    """Move a topic held here to its next stage (plugins may refuse, saying why)."""
    outcome = _act(uid, schemas.AdvanceAction(action="advance", to_stage=stage_code(to_stage), note=note))
    emit({"uid": uid, "stage": outcome.topic.stage}, as_json, lambda d: f"{d['uid']} is now {d['stage']}")


@topics.command("escalate")
@click.argument("uid")
@click.option("--note", required=True, help="Why the matter belongs higher up (上交).")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def topics_escalate(uid, note, as_json) -> None:
    """Send a topic held here to this node's parent (上交)."""
    _acted(_act(uid, schemas.EscalateAction(action="escalate", note=note)), as_json, "escalated to {holder}")


@topics.command("delegate")
@click.argument("uid")
@click.option("--to", "to", required=True, help="The child node's id.")
@click.option("--instructions", required=True)
@click.option("--due", help="YYYY-MM-DD, or +N for N working days on this node's calendar.")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def topics_delegate(uid, to, instructions, due, as_json) -> None:
    """Send a topic held here to a child node, with instructions and a due date (下放)."""
    action = schemas.DelegateAction(action="delegate", to=to, instructions=instructions, due=due or "")
    _acted(_act(uid, action), as_json, "delegated to {holder}")


@topics.command("accept")
@click.argument("uid")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def topics_accept(uid, as_json) -> None:
    """Accept a topic sent here (受理): the route back to where it was raised is told."""
    _acted(_act(uid, schemas.AcceptAction(action="accept")), as_json, "accepted")


@topics.command("return")
@click.argument("uid")
@click.option("--reason", required=True)
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def topics_return(uid, reason, as_json) -> None:
    """Return a topic to the node it came from, with the reason (退回)."""
    _acted(_act(uid, schemas.ReturnAction(action="return", reason=reason)), as_json, "returned to {holder}")


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
    action = schemas.ResultAction(action="result", kind=kind, title=title, summary=summary, measures=list(measures),
                                  handling_units=list(units))
    _acted(_act(uid, action), as_json, "closed with its result")


# `topics statistics` (counts by stage and area, --xlsx): statistics_cli.py
topics.add_command(topics_statistics)
# -- implementation of a result (办理实施) ----------------------------------------------------------------


def _user(username: str | None):
    """The user ``--as`` names (a handling unit's contact user acting for the unit)."""
    if username is None:
        return None
    user = get_session().execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        raise InputError(N_("no user %(username)s (see: shangliang users list)",
                            username=repr(username[:80])), field="as")
    return user


def _acting(user) -> str:
    return _actor() if user is None else f"cli:{_os_user()} as {user.username}"


def _assignment_item(text_: str, role: str) -> schemas.AssignmentItem:
    unit, sep, deadline = text_.rpartition("=")
    if not sep or not unit.strip() or not deadline.strip():
        raise InputError(N_("%(text)s: give UNIT=DEADLINE, the deadline as working days (20), +N or YYYY-MM-DD",
                            text=repr(text_[:80])),
                         field=role)
    deadline = deadline.strip()
    if deadline.isdigit():
        return schemas.AssignmentItem(unit=unit.strip(), role=role, working_days=int(deadline))
    return schemas.AssignmentItem(unit=unit.strip(), role=role, due=deadline)


def _implementation_text(d) -> str:
    lines = [f"{d['topic']}  {d['title']}  ({d['stage']})"]
    for a in d["assignments"]:
        lines.append(f"  {a['role']:<13} {a['unit']}  due {_date(a['due_ms'])}  {a['state']}"
                     + ("  OVERDUE" if a["overdue"] else ""))
        lines += [f"    report {r['id']} {r['kind']} [{r['review']}] {r['body']}"
                  + (f" — {r['comment']}" if r["comment"] else "") for r in a.get("reports") or []]
    lines += [f"  instruction {i['date']} {i['leader']}: {i['body']}" for i in d["instructions"]]
    lines.append("ready for feedback" if d["ready_for_feedback"] else f"waiting: {d['waiting'] or '-'}")
    return "\n".join(lines)


@topics.command("implement")
@click.argument("uid")
@click.option("--lead", "lead", help="The lead unit (牵头单位) and its deadline: UNIT=DAYS (working days), "
                                     "UNIT=+N or UNIT=YYYY-MM-DD.")
@click.option("--participating", "participating", multiple=True,
              help="A participating unit (参加单位) and its deadline, as --lead (repeatable).")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def topics_implement(uid, lead, participating, as_json) -> None:
    """Assign handling units to implement a topic's result (at the implementing stage); all or none."""
    items = ([_assignment_item(lead, "lead")] if lead else []) + [_assignment_item(p, "participating")
                                                                  for p in participating]
    node = node_context()
    with transaction() as session:
        implementation.assign(session, node, uid, items, _actor())
        data = implementation.state(session, node, uid)
    emit(data, as_json, _implementation_text)


@topics.command("instruct")
@click.argument("uid")
@click.option("--leader", required=True, help="The leader's name and office.")
@click.option("--body", required=True, help="The instruction (批示).")
@click.option("--date", "date", help="When it was given, YYYY-MM-DD (default today).")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def topics_instruct(uid, leader, body, date, as_json) -> None:
    """Record a party or government leader's instruction (批示) on a topic's implementation."""
    node = node_context()
    with transaction() as session:
        instruction = implementation.instruct(session, node, uid, leader, body, date, _actor())
        data = instruction.as_dict()
    emit(data, as_json, lambda d: f"instruction {d['id']} recorded: {d['date']} {d['leader']}")


@topics.command("report")
@click.argument("uid")
@click.option("--as", "username", required=True, help="The unit's contact user who files it.")
@click.option("--kind", type=click.Choice(REPORT_KINDS), required=True)
@click.option("--body", required=True)
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def topics_report(uid, username, kind, body, as_json) -> None:
    """File a unit's progress or final report on its own assignment, as the unit's contact user."""
    node = node_context()
    user = _user(username)
    with transaction() as session:
        report = implementation.file_report(session, node, uid, user.id, kind, body, _acting(user))
        data = report.as_dict()
    emit(data, as_json, lambda d: f"report {d['id']} ({d['kind']}, {d['unit']}) filed; it awaits the office's review")


@topics.command("review-report")
@click.argument("uid")
@click.argument("report_id", type=int)
@click.option("--decision", type=click.Choice(["accept", "return"]), required=True)
@click.option("--comment", help="The office's comment (required to return it).")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def topics_review_report(uid, report_id, decision, comment, as_json) -> None:
    """Accept or return a unit's report; an accepted one travels back to where the topic was raised."""
    node = node_context()
    with transaction() as session:
        report = implementation.review_report(session, node, uid, report_id, decision, comment, _actor())
        data = report.as_dict()
    emit(data, as_json, lambda d: f"report {d['id']} ({d['kind']}, {d['unit']}) {d['review']}")


@topics.command("assignments")
@click.option("--as", "username", help="Only the assignments of the unit this user acts for.")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def topics_assignments(username, as_json) -> None:
    """Units' assignments on this node, overdue first then by deadline."""
    session = get_session()
    user = _user(username)
    unit = unit_of_user(session, user.id) if user is not None else None
    scope = services.Scope(True, unit.id if unit is not None else None) if user is not None else services.EVERYTHING
    rows = [a.as_dict(reports=False) for a in implementation.list_assignments(session, scope)]
    emit(rows, as_json, lambda rs: table(
        [[r["topic"], r["title"], r["unit"], r["role"], _date(r["due_ms"]), r["state"],
          "overdue" if r["overdue"] else ""] for r in rs], ["topic", "title", "unit", "role", "due", "state", ""]))


@topics.command("supervise")
@click.option("--as-of", "as_of", help="Run the marking as of this day (YYYY-MM-DD, today or later; default now).")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def topics_supervise(as_of, as_json) -> None:
    """Mark overdue topics and units' assignments now, or as of a later day (督办); each newly overdue one is
    notified."""
    node = node_context()
    at = supervision.as_of_ms(node.config, as_of, node.now_ms()) if as_of else node.now_ms()
    with transaction() as session:
        before = {a.id for a in implementation.list_assignments(session) if a.overdue}
        topics_marked = supervision.mark_overdue(session, node.config, at, node.pm)
        units_marked = [a for a in implementation.list_assignments(session) if a.overdue and a.id not in before]
        data = {"as_of_ms": at, "topics": [t.uid for t in topics_marked],
                "assignments": [{"topic": a.topic.uid, "unit": a.unit.name, "due_ms": a.due_ms} for a in units_marked]}
    emit(data, as_json, lambda d: "\n".join(
        [f"overdue topic: {u}" for u in d["topics"]]
        + [f"overdue unit: {a['unit']} on {a['topic']} (due {_date(a['due_ms'])})" for a in d["assignments"]])
        or "nothing newly overdue")
