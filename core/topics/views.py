"""Topic pages (/topics): the list grouped by stage or holder, raising a topic, one topic with its route
drawn as a diagram, and a form for every action that applies. Each handler parses the form, calls one
service and renders the answer."""

from __future__ import annotations

import re
from typing import Any, Mapping

import flask
from flask import abort, flash, redirect, render_template, url_for
from flask_babel import format_datetime, gettext as _
from pydantic import ValidationError

from shangliang.core import divisions
from shangliang.core.clock import datetime_of
from shangliang.core.context import node_context
from shangliang.core.db import get_session
from shangliang.core.errors import Conflict, InputError, NotFound
from shangliang.core.i18n import reason
from shangliang.core.web import auth, forms
from shangliang.core.web.api import describe
from shangliang.core.web.views import level_label
from shangliang.federation import peers

from shangliang.core.units import services as units

from . import implementation, services
from .models import MOVABLE, RAISED_BY_KINDS, STAGES
from .schemas import ActionIn, AssignmentItem, TopicIn

# Flask's context-bound proxies (request, g, current_app, current_user) are used through their modules:
# a proxy bound to a name here would be probed outside any app context by `plugins list`.

SEPARATORS = re.compile(r"[\s,，、;；]+")


def stage_label(stage: str | None) -> str:
    labels = {
        "collected": _("Collected"), "determined": _("Determined"), "researching": _("Researching"),
        "consulting": _("Consulting"), "implementing": _("Implementing"), "feedback": _("Feedback"),
        "closed": _("Closed"),
    }
    return labels.get(stage, stage or "")


def kind_label(kind: str) -> str:
    labels = {
        "public": _("The public"), "member": _("A member"), "sector": _("A sector"),
        "special_committee": _("A special committee"), "party_committee": _("The Party committee"),
        "government": _("The government"), "lower_level": _("A lower-level committee"),
    }
    return labels.get(kind, kind)


def action_label(action: str) -> str:
    labels = {
        "raised": _("raised"), "advanced": _("advanced"), "escalated": _("escalated"), "escalate": _("escalated"),
        "delegated": _("delegated"), "delegate": _("delegated"), "accepted": _("accepted"),
        "returned": _("returned"), "return": _("returned"), "progress": _("progress"), "result": _("result"),
        "reply": _("reply"), "overdue": _("overdue"), "overdue_cleared": _("no longer overdue"),
        "attached": _("attached"), "assigned": _("unit assigned"), "instruction": _("leader's instruction"),
        "report": _("unit's report"), "report_accepted": _("report accepted"), "report_returned": _("report returned"),
        "assignment_overdue": _("unit overdue"), "assignment_overdue_cleared": _("unit no longer overdue"),
        "implementation_report": _("implementation report"),
    }
    return labels.get(action, action)


def message_label(kind: str) -> str:
    labels = {
        "topic.escalate": _("topic escalated"), "topic.delegate": _("topic delegated"),
        "topic.accept": _("acceptance"), "topic.progress": _("progress report"), "topic.result": _("result"),
    }
    return labels.get(kind, kind)


def _moment(ms: int | None, pattern: str) -> str:
    if ms is None:
        return ""
    moment = datetime_of(ms)
    if moment is None:  # a neighbour may send any moment the protocol allows
        return _("beyond the calendar (%(ms)s ms)", ms=ms)
    return format_datetime(moment, pattern)


def when(ms: int | None) -> str:
    return _moment(ms, "yyyy-MM-dd HH:mm")


def day(ms: int | None) -> str:
    return _moment(ms, "yyyy-MM-dd")


def size_label(size: int) -> str:
    for unit, scale in (("MiB", 1024 * 1024), ("KiB", 1024)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return _("%(n)s bytes", n=size)


def role_label(role: str) -> str:
    return {"lead": _("Lead unit"), "participating": _("Participating unit")}.get(role, role)


def assignment_state_label(state: str) -> str:
    return {"assigned": _("Assigned"), "reporting": _("Reporting"), "final_reported": _("Final report filed"),
            "accepted": _("Final report accepted")}.get(state, state)


def report_kind_label(kind: str) -> str:
    return {"progress": _("Progress report"), "final": _("Final report")}.get(kind, kind)


def review_label(review: str) -> str:
    return {"pending": _("awaiting review"), "accepted": _("accepted"), "returned": _("returned")}.get(review, review)


def can_write() -> bool:
    return auth.has_role(auth.current_user(), services.WRITERS)


def node_names() -> dict[str, str]:
    """The committee names this node knows (its own, its named neighbours'), once per request."""
    if "node_names" not in flask.g:
        config = flask.current_app.config
        flask.g.node_names = peers.names(get_session(), config["NODE_ID"], config["NODE_NAME"])
    return flask.g.node_names


def node_name(node: str | None) -> str:
    """A node as people read it: its committee's name where this node knows it, else its id."""
    return node_names().get(node or "", node or "")


def actor_label(actor: str | None) -> str:
    """Who did something, as people read it: a user by their name (``web:wang`` → 王主任), a node by its
    committee's name (``node:620302`` → 金川区政协), the node itself for its own tasks, an operator at the command
    line by their system account."""
    actor = actor or ""
    kind, _sep, who = actor.partition(":")
    if kind in ("web", "api") and who:
        if "actor_names" not in flask.g:
            from shangliang.core.users.models import User
            from sqlalchemy import select

            flask.g.actor_names = {u: (d or u) for u, d in get_session().execute(select(User.username, User.display_name))}
        return flask.g.actor_names.get(who, who)
    if kind == "node" and who:
        return node_name(who)
    if kind == "cli" and who:
        return _("%(account)s at the command line", account=who)
    if actor in ("system", "worker"):
        return _("this node, on its own")
    return actor


def template_helpers() -> dict[str, Any]:
    """What the topic templates use (a context processor of the pages blueprint)."""
    return {"stage_label": stage_label, "node_name": node_name, "actor_label": actor_label, "kind_label": kind_label, "action_label": action_label,
            "message_label": message_label, "node_level": node_level, "when": when, "day": day,
            "level_label": level_label, "size_label": size_label, "role_label": role_label,
            "assignment_state_label": assignment_state_label, "report_kind_label": report_kind_label,
            "review_label": review_label,
            "attachment_limit": services.attachment_limit(flask.current_app.config),
            "can_write": can_write(), "can_raise": can_raise(), "STAGES": STAGES, "RAISED_BY_KINDS": RAISED_BY_KINDS,
            "node_id": flask.current_app.config["NODE_ID"]}


def _actor() -> str:
    return f"web:{auth.current_user().username}"


def _refusal(exc: Exception) -> str:
    return describe(exc)[0] if isinstance(exc, ValidationError) else reason(exc)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


# ---------------------------------------------------------------------------------------------
# The list and raising a topic


def _index_page(form: Mapping[str, Any] | None = None, status: int = 200):
    session = get_session()
    node = node_context()
    args = flask.request.args
    stage = args.get("stage") if args.get("stage") in STAGES else None
    holder = args.get("holder") or None
    group = "holder" if args.get("group") == "holder" else "stage"
    scope = _scope()
    rows = [t.as_dict() for t in services.list_topics(session, stage, holder, scope=scope).items]
    groups: dict[str, list[dict]] = {}
    if group == "stage":
        for key in STAGES:
            found = [r for r in rows if r["stage"] == key]
            if found:
                groups[key] = found
    else:
        for row in rows:
            groups.setdefault(row["holder"], []).append(row)
    raised = None
    if args.get("raised"):
        try:
            found = services.get_topic(session, args["raised"], scope=scope)
        except NotFound:
            found = None
        if found is not None:
            raised = {"topic": found.as_dict(), "suggestion": services.suggest_route(node, found).as_dict()}
    return render_template("topics/index.html", groups=groups, group=group, count=len(rows),
                           overdue=sum(1 for r in rows if r["overdue"]), stage=stage, holder=holder,
                           holders=services.holders(session, scope), raised=raised, form=form or {}), status


def index():
    return _index_page()


def can_raise() -> bool:
    return auth.has_role(auth.current_user(), services.RAISERS)


def raise_topic():
    """Raise a topic from the list (the office) or from "my matters" (a member, the public): a refusal shows the
    form again, as typed, on the page it was sent from."""
    form = flask.request.form
    fields: dict[str, Any] = {key: form.get(key, "") for key in ("title", "description", "category", "raised_by_kind",
                                                                "raised_by_name")}
    fields["areas"] = [a for a in SEPARATORS.split(form.get("areas", "")) if a]
    user = auth.current_user()
    own = not can_write()  # a member or the public: raised as themselves, followed on "my matters"

    def work(session):
        topic, _suggestion = services.raise_topic(session, node_context(), data, _actor(), user=user)
        return "success", _("Topic raised: %(title)s", title=topic.title), url_for(
            "topics.mine" if own else "topics.index", raised=topic.uid)

    try:
        data = TopicIn.model_validate(fields)
        return forms.run_once(_actor(), work)
    except (InputError, ValidationError) as exc:
        flash(_("Not raised: %(message)s", message=_refusal(exc)), "error")
        status = 403 if isinstance(exc, services.NotAllowed) else 400
        return _mine_page(form, status) if own else _index_page(form, status)


def _mine_page(form: Mapping[str, Any] | None = None, status: int = 200):
    session = get_session()
    rows = [t.as_dict(events=True) for t in services.raised_by_user(session, auth.current_user().username)]
    for row in rows:  # what came back: the latest progress report, the acceptance
        notes = [e for e in row["events"] if e["action"] in ("progress", "accepted", "advanced") and e["note"]]
        row["latest_note"] = notes[-1]["note"] if notes else ""
    raised = flask.request.args.get("raised")
    return render_template("topics/mine.html", rows=rows, raised=raised, form=form or {},
                           can_raise=can_raise()), status


def mine():
    """我的事项: the topics the signed-in user raised, with their stage and the results fed back."""
    return _mine_page()


# ---------------------------------------------------------------------------------------------
# One topic


def _applicable(topic: dict[str, Any], suggestion: dict[str, Any], child_peers: list[str]) -> dict[str, Any]:
    """Which action forms apply to the topic on this node now."""
    config = flask.current_app.config
    held = topic["holder"] == config["NODE_ID"]
    awaiting = topic["awaiting_acceptance"]
    stage = topic["stage"]
    movable = held and stage in MOVABLE
    following = STAGES[STAGES.index(stage) + 1] if stage != STAGES[-1] else None
    return {
        "accept": held and awaiting and stage != "closed",
        "return": movable and topic["returns_to"] is not None,
        "advance": held and not awaiting and following not in (None, "closed"),  # the result closes it
        "next_stage": following,
        "escalate": movable and bool(config.get("NODE_PARENT")),
        "parent": config.get("NODE_PARENT"),
        "delegate": movable and (bool(child_peers) or suggestion["action"] == "delegate"),
        "children": child_peers,
        "delegate_to": suggestion["to"] if suggestion["action"] == "delegate" else "",
        "result": held and not awaiting and stage == "feedback",
        "suggest": movable,  # where the topic belongs matters while it may still move
    }


def show(uid: str, typed: Mapping[str, Any] | None = None, refusal: str | None = None,
         against: Mapping[str, Any] | None = None, status: int = 200):
    """A topic's page. After a refused action (``refusal``) or a delegation that needs confirming (``against``:
    the routing suggestion it goes against), the action's form shows again with what was typed (``typed``)."""
    session = get_session()
    scope = _scope()
    try:
        topic = services.get_topic(session, uid, scope=scope)
    except NotFound:
        abort(404)
    data = services.show(session, node_context(), topic)
    impl = implementation.state(session, node_context(), uid, scope)
    return render_template("topics/show.html", topic=data,
                           forms=_applicable(data, data["suggestion"], peers.child_ids(session)),
                           diagram=route_diagram(data["route"]), progress=_progress(data["stage"]), impl=impl,
                           impl_forms=_implementation_forms(data, impl, scope.unit_id),
                           typed=typed or {}, refusal=refusal, against=against), status


# ---------------------------------------------------------------------------------------------
# Implementation of a result (办理实施): the office's forms and the unit's


def _scope() -> services.Scope:
    """What the signed-in user reads: a handling unit's user the topics assigned to their unit (and only its
    part of their implementation), others every topic."""
    return services.scope_of(get_session(), auth.current_user())


def _implementation_forms(topic: Mapping[str, Any], impl: Mapping[str, Any], unit_id: int | None) -> dict[str, Any]:
    held = topic["holder"] == flask.current_app.config["NODE_ID"] and not topic["awaiting_acceptance"]
    implementing = held and topic["stage"] == "implementing"
    writer = can_write()
    mine = next((a for a in impl["assignments"] if a["unit_id"] == unit_id), None) if unit_id is not None else None
    return {
        "assign": writer and implementing,
        "units": [u.name for u in units.list_units(get_session(), active_only=True)] if writer and implementing else [],
        "instruct": writer and held and topic["stage"] in implementation.INSTRUCTED_AT,
        "review": writer and implementing,
        "report": implementing and mine is not None and mine["state"] != "accepted",
        "unit": mine["unit"] if mine else None,
    }


def _implementation_form(uid: str, work_of: Any, back: str | None = None):
    """Run one implementation form: the service ``work_of(session)`` returns the flashed message; a refusal
    goes back to the topic's page, or to ``back`` (a unit's own list, when the topic is not its to see)."""
    here = url_for("topics.show", uid=uid) + "#implementation"

    def work(session):
        return "success", work_of(session), here

    try:
        return forms.run_once(_actor(), work)
    except NotFound:
        abort(404)
    except (InputError, Conflict, ValidationError) as exc:
        flash(_("Refused: %(message)s", message=_refusal(exc)), "error")
        return redirect(back or here, 303)


def assign_unit(uid: str):
    form = flask.request.form
    deadline = (form.get("deadline") or "").strip()

    def work(session):
        fields = {"unit": form.get("unit", ""), "role": form.get("role", "")}
        if deadline.isdigit():
            fields["working_days"] = int(deadline)
        else:
            fields["due"] = deadline
        (made,) = implementation.assign(session, node_context(), uid, [AssignmentItem.model_validate(fields)], _actor())
        return _("Assigned %(unit)s, due %(day)s.", unit=made.unit.name, day=day(made.due_ms))

    return _implementation_form(uid, work)


def instruct(uid: str):
    form = flask.request.form

    def work(session):
        implementation.instruct(session, node_context(), uid, form.get("leader", ""), form.get("body", ""),
                                form.get("date") or None, _actor())
        return _("The instruction is recorded.")

    return _implementation_form(uid, work)


def file_report(uid: str):
    form = flask.request.form

    def work(session):
        report = implementation.file_report(session, node_context(), uid, auth.current_user().id, form.get("kind", ""),
                                            form.get("body", ""), _actor())
        return _("Report filed for %(unit)s; it awaits the office's review.", unit=report.assignment.unit.name)

    try:  # a unit not assigned to the topic cannot see its page: the refusal is shown on the unit's list
        services.get_topic(get_session(), uid, scope=_scope())
        back = None
    except NotFound:
        back = url_for("topics.assignments")
    return _implementation_form(uid, work, back)


def review_report(uid: str, report_id: int):
    form = flask.request.form

    def work(session):
        report = implementation.review_report(session, node_context(), uid, report_id, form.get("decision", ""),
                                              form.get("comment") or None, _actor())
        return _("Report %(id)s: %(review)s.", id=report.id, review=review_label(report.review))

    return _implementation_form(uid, work)


def assignments():
    session = get_session()
    scope = _scope()
    unit = units.get_unit(session, scope.unit_id) if scope.unit_id is not None else None
    rows = [a.as_dict(reports=False) for a in implementation.list_assignments(session, scope)]
    return render_template("topics/assignments.html", rows=rows, unit=unit.name if unit is not None else None)


def attach(uid: str):
    upload = flask.request.files.get("file")
    here = url_for("topics.show", uid=uid) + "#attachments"

    def work(session):
        (added,) = services.attach(session, node_context(), uid, [(upload.filename, content)], _actor())
        return "success", _("Attached %(name)s.", name=added["name"]), here

    try:
        if upload is None or not upload.filename:
            raise InputError(_("choose a file to attach"))
        content = services.read_upload(upload.stream.read, upload.content_length or None, flask.current_app.config)
        return forms.run_once(_actor(), work)
    except NotFound:
        abort(404)
    except (InputError, Conflict) as exc:
        flash(_("Refused: %(message)s", message=reason(exc)), "error")
        return redirect(here, 303)


def attachment(uid: str, sha256: str):
    try:
        found, path = services.attachment_file(get_session(), node_context(), uid, sha256, _scope())
    except (NotFound, InputError):
        abort(404)
    return send_attachment(found, path)


def send_attachment(found, path):
    """The file's bytes as a download under its name (pages and the API alike)."""
    return flask.send_file(path, download_name=found.name, as_attachment=True, mimetype="application/octet-stream",
                           etag=found.sha256, max_age=0)


def act(uid: str):
    form = flask.request.form
    fields: dict[str, Any] = {key: value for key, value in form.items()
                              if key not in ("measures", "handling_units", "once", "csrf_token")}
    fields["measures"] = _lines(form.get("measures", ""))
    fields["handling_units"] = _lines(form.get("handling_units", ""))

    def work(session):
        outcome = services.act(session, node_context(), uid, action, _actor())
        return "success", _done(action.action, outcome.topic.as_dict()), url_for("topics.show", uid=uid)

    typed = {key: value for key, value in form.items() if key not in ("once", "csrf_token")}
    try:
        action = ActionIn.model_validate(fields).root
        if action.action == "delegate" and form.get("confirm_against") != "1":
            against = _against_suggestion(uid, action.to)
            if against is not None:  # asked again, with the reason, before it goes against the suggestion
                return show(uid, typed, against=against, status=409)
        return forms.run_once(_actor(), work)
    except NotFound:
        abort(404)
    except (InputError, Conflict, ValidationError) as exc:
        return show(uid, typed, refusal=_("Refused: %(message)s", message=_refusal(exc)), status=400)


def _against_suggestion(uid: str, to: str) -> dict[str, Any] | None:
    """The routing suggestion a delegation to ``to`` goes against (it suggests keeping the topic, escalating it,
    or delegating it to another node), or None when it follows it."""
    session = get_session()
    suggestion = services.suggest_route(node_context(), services.get_topic(session, uid, scope=_scope())).as_dict()
    if suggestion["action"] == "delegate" and suggestion["to"] == to:
        return None
    return suggestion


def _done(action: str, data: Mapping[str, Any]) -> str:
    return {
        "advance": lambda: _("Moved to the stage: %(stage)s.", stage=stage_label(data["stage"])),
        "escalate": lambda: _("Escalated to %(node)s; it waits for their acceptance.", node=data["holder"]),
        "delegate": lambda: _("Delegated to %(node)s; it waits for their acceptance.", node=data["holder"]),
        "accept": lambda: _("Accepted: this node is now responsible for the topic."),
        "return": lambda: _("Returned to %(node)s.", node=data["holder"]),
        "result": lambda: _("Result recorded; the topic is closed."),
    }[action]()


def _progress(stage: str) -> list[dict[str, Any]]:
    """The six steps and the close, each done, current or to come."""
    index = STAGES.index(stage)
    return [{"stage": s, "number": i + 1, "state": "done" if i < index or stage == "closed" else
             "current" if i == index else "todo"} for i, s in enumerate(STAGES)]


# ---------------------------------------------------------------------------------------------
# The route as a diagram: one lane per level, each hop an arrow between lanes, in time order

LANE_H = 64
LABEL_W = 104
COL_W = 150
MARGIN = 44
DOT_R = 7


def node_level(node: str) -> str | None:
    """A node's level: from a standard id, else from this node's settings (itself, its parent, its children)."""
    level = divisions.level_of(node)
    if level is not None:
        return level
    config = flask.current_app.config
    mine = config["NODE_LEVEL"]
    index = divisions.LEVELS.index(mine)
    if node == config["NODE_ID"]:
        return mine
    if node == config.get("NODE_PARENT") and index > 0:
        return divisions.LEVELS[index - 1]
    if peers.relation_of(get_session(), node) == "child" and index + 1 < len(divisions.LEVELS):
        return divisions.LEVELS[index + 1]
    return None


#: what a ``reply`` hop was, by the kind of the envelope it carried (PROTOCOL.md §8: answers are replies)
REPLY_MEANING = {"topic.accept": "accepted", "topic.progress": "progress", "topic.result": "result"}


def hop_meaning(action: str, kind: str | None) -> str:
    """What a hop was, as a person reads it: a reply named by what it answered (受理, 进展, 成果), otherwise the
    hop's own action (escalated, delegated, returned)."""
    if action == "reply" and kind in REPLY_MEANING:
        return REPLY_MEANING[kind]
    return action


def with_inferred(ordered: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``ordered`` with the hops this node never saw but its messages prove, so that the line is unbroken.

    A message reaches this node with the hops of its own journey only: the city that delegated a topic to the
    county sees the township's acceptance come up from the township, but not the county's delegation down to
    it. Where one hop ends at a node and the next starts from another, the matter went from the first to the
    second in between (neighbours only pass to neighbours): that hop is drawn, marked as inferred (dashed, no
    signature claimed), named by its direction (delegated down, escalated up)."""
    result: list[dict[str, Any]] = []
    for hop in ordered:
        if result and result[-1]["to"] != hop["from"]:
            came, went = result[-1]["to"], hop["from"]
            rank = {lv: i for i, lv in enumerate(divisions.LEVELS)}
            down = rank.get(node_level(went), 0) > rank.get(node_level(came), 0)
            result.append({"from": came, "to": went, "action": "delegate" if down else "escalate",
                           "meaning": "delegate" if down else "escalate", "at_ms": result[-1]["at_ms"],
                           "note": "", "verified": False, "problem": None, "inferred": True})
        result.append(hop)
    return result


def route_diagram(entries: list[Mapping[str, Any]]) -> dict[str, Any]:
    """Lanes (levels, top down), hops (arrows, oldest first, each hop once) and the nodes they join."""
    me = flask.current_app.config["NODE_ID"]
    hops: dict[tuple, dict[str, Any]] = {}
    for entry in entries:
        for hop in entry["hops"]:
            key = (hop["from"], hop["to"], hop["action"], hop["at_ms"])
            seen = hops.get(key)
            if seen is None:
                hops[key] = {**hop, "meaning": hop_meaning(hop["action"], entry.get("kind"))}
            elif not hop["verified"]:
                seen["verified"], seen["problem"] = False, seen["problem"] or hop["problem"]
    ordered = with_inferred(sorted(hops.values(), key=lambda h: h["at_ms"]))
    nodes = {me} | {h["from"] for h in ordered} | {h["to"] for h in ordered}
    levels = {node: node_level(node) for node in nodes}
    used = set(levels.values())
    lanes = [lv for lv in divisions.LEVELS if lv in used or lv in ("province", "city", "county", "township")]
    if None in used:
        lanes.append(None)
    lane_y = {lv: i * LANE_H + LANE_H / 2 for i, lv in enumerate(lanes)}

    def x_at(column: int) -> float:
        return LABEL_W + MARGIN + column * COL_W

    dots: dict[tuple[int, str], dict[str, Any]] = {}

    def dot(column: int, node: str) -> dict[str, Any]:
        found = dots.get((column, node))
        if found is None:
            found = dots[(column, node)] = {"x": x_at(column), "y": lane_y[levels[node]], "id": node,
                                            "here": node == me}
        return found

    arrows = []
    for number, hop in enumerate(ordered, start=1):
        start, end = dot(number - 1, hop["from"]), dot(number, hop["to"])
        dx, dy = end["x"] - start["x"], end["y"] - start["y"]
        length = (dx * dx + dy * dy) ** 0.5 or 1.0
        ux, uy = dx / length, dy / length
        # The label sits on the arrow's left-hand side, clear of it: above a rising arrow, below a falling one.
        if abs(uy) < 0.05:
            nx, ny, anchor = 0.0, -1.0, "middle"
        else:
            nx, ny = (uy, -ux) if uy < 0 else (-uy, ux)
            anchor = "end"
        arrows.append({
            "number": number, "from": hop["from"], "to": hop["to"], "action": hop["meaning"], "at_ms": hop["at_ms"],
            "note": hop["note"], "verified": hop["verified"], "problem": hop["problem"],
            "inferred": hop.get("inferred", False),
            "x1": round(start["x"] + ux * (DOT_R + 1), 1), "y1": round(start["y"] + uy * (DOT_R + 1), 1),
            "x2": round(end["x"] - ux * (DOT_R + 4), 1), "y2": round(end["y"] - uy * (DOT_R + 4), 1),
            "lx": round((start["x"] + end["x"]) / 2 + nx * 8, 1),
            "ly": round((start["y"] + end["y"]) / 2 + ny * 8 + (10 if ny > 0 else 0), 1), "anchor": anchor,
        })
    if not ordered:
        dot(0, me)
    columns = max(len(ordered), 1)
    return {
        "lanes": [{"level": lv, "y": i * LANE_H, "mid": lane_y[lv]} for i, lv in enumerate(lanes)],
        "dots": list(dots.values()), "hops": arrows, "lane_h": LANE_H, "label_w": LABEL_W,
        "width": int(LABEL_W + 2 * MARGIN + columns * COL_W), "height": int(len(lanes) * LANE_H),
        "verified": all(entry["verified"] for entry in entries), "sent": bool(entries),
        "inferred": any(hop.get("inferred") for hop in ordered),
        "envelopes": [{"direction": e["direction"], "kind": e["kind"], "origin": e["origin"], "at_ms": e["at_ms"],
                       "delivery": e["delivery"], "verified": e["verified"], "core_problem": e.get("core_problem")}
                      for e in entries],
    }
