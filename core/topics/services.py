"""Topic services: the rules of raising a topic, the six stages, moving it between nodes and answering
for it, its attachments — for pages, the API, commands and tasks alike.

Every function takes a session and the node's context and either returns a value or raises a named
error (``InputError``, ``NotFound``); the caller's transaction stores all of a change or none of it.
Every action that moves a topic or answers for it writes the topic change and the outbox row that
carries its envelope (PROTOCOL.md §7, §8) in that one transaction.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from shangliang.core import divisions
from shangliang.core.context import NodeContext
from shangliang.core.db import after_commit
from shangliang.core.errors import Conflict, InputError, NotFound
from shangliang.core.i18n import N_
from shangliang.core.models import Role
from shangliang.core.pagination import Page, page
from shangliang.core.plugins import flatten
from shangliang.core.units.services import unit_of_user
from shangliang.core.work import count_and_first
from shangliang.federation import outbox, peers, trail
from shangliang.federation.envelope import MAX_HOPS
from shangliang.federation.ids import ulid

from . import limits, route as topic_route
from .models import MOVABLE, RAISED_BY_KINDS, STAGES, Assignment, Topic, TopicAttachment, TopicEvent
from .routing import Route
from .schemas import (AcceptAction, AdvanceAction, DelegateAction, EscalateAction, ResultAction, ReturnAction,
                      TopicIn)
from .supervision import parse_due

#: Roles that may change topics; every signed-in user may read them.
WRITERS = frozenset({Role.ADMIN.value, Role.OFFICE.value})
#: Roles that may raise a topic: the office (for anyone, naming who raised it), a member (as themselves) and the
#: public (a matter of their own, 群众反映); the office then accepts and determines it as any other.
RAISERS = WRITERS | {Role.MEMBER.value, Role.PUBLIC.value}
ATTACHMENT_MAX_BYTES = 20 * 1024 * 1024
SHA256 = re.compile(r"^[0-9a-f]{64}$")
PAST = {"escalate": "escalated", "delegate": "delegated", "return": "returned"}  # hop action → topic event


def _at_most(items: list[Any], field: str, limit: int) -> list[Any]:
    if len(items) > limit:
        raise InputError(N_("%(field)s holds %(count)s items; a topic may have at most %(limit)s (the most a "
                            "neighbouring node keeps)", field=field, count=len(items), limit=limit), field=field)
    return items


def text(value: Any, name: str, limit: int, required: bool = True) -> str:
    """``value`` stripped, refused when it is not text, empty (if ``required``) or over ``limit`` characters."""
    value = (value or "").strip() if isinstance(value, str) or value is None else None
    if value is None:
        raise InputError(N_("%(name)s must be text", name=name))
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate (a JSON \ud800 escape, a command line's undecodable byte)
        raise InputError(N_("%(name)s holds something that is not a character (a lone surrogate or an undecodable "
                            "byte)", name=name)) from None
    if required and not value:
        raise InputError(N_("%(name)s is empty", name=name))
    if len(value) > limit:
        raise InputError(N_("%(name)s is longer than %(limit)s characters", name=name, limit=limit))
    return value


# ---------------------------------------------------------------------------------------------
# Finding topics


@dataclass(frozen=True)
class Scope:
    """Which topics a reader sees: every topic on the node, or (``unit_only``) only those whose result is
    assigned to the unit ``unit_id`` — a handling unit's user (承办单位) sees what its unit was given to do,
    and nothing while it acts for no unit."""

    unit_only: bool = False
    unit_id: int | None = None

    def admits(self, query):
        """``query`` (over ``Topic``) narrowed to what this reader sees."""
        if not self.unit_only:
            return query
        return query.where(Topic.id.in_(select(Assignment.topic_id).where(Assignment.unit_id == self.unit_id)))


#: What the office, an admin, a member, the public and the command line see: every topic on the node.
EVERYTHING = Scope()


def scope_of(session: Session, user: Any) -> Scope:
    """What ``user`` (a node user, or None: the command line) reads: a handling unit's user the topics assigned
    to their unit, everyone else every topic."""
    if user is None or user.role != Role.HANDLING_UNIT.value:
        return EVERYTHING
    unit = unit_of_user(session, user.id)
    return Scope(True, unit.id if unit is not None else None)


def get_topic(session: Session, uid: str, lock: bool = False, scope: Scope = EVERYTHING) -> Topic:
    """The topic ``uid``; ``lock`` takes its row (PostgreSQL) so that two actions on it never interleave.
    ``NotFound`` when there is none, or when ``scope`` does not admit it (a unit's user asking for a topic
    not assigned to the unit is told no more than that)."""
    query = scope.admits(select(Topic).where(Topic.uid == uid)).options(selectinload(Topic.events),
                                                                        selectinload(Topic.attachments))
    if lock:
        query = query.with_for_update(of=Topic)
    topic = session.execute(query).scalar_one_or_none()
    if topic is None:
        if scope.unit_only:
            raise NotFound(N_("no topic %(uid)s among those assigned to your unit", uid=repr(uid[:120])))
        raise NotFound(N_("no topic %(uid)s on this node", uid=repr(uid[:120])))
    return topic


def list_topics(session: Session, stage: str | None = None, holder: str | None = None, limit: int | None = None,
                cursor: str | None = None, scope: Scope = EVERYTHING) -> Page[Topic]:
    """Overdue topics first, then the most recently changed; a page of ``limit`` after ``cursor`` (all: None);
    only what ``scope`` admits."""
    query = scope.admits(select(Topic)).options(selectinload(Topic.attachments))
    if stage is not None:
        if stage not in STAGES:
            raise InputError(N_("unknown stage %(stage)s; stages: %(stages)s", stage=repr(stage[:40]),
                                stages=', '.join(STAGES)), field="stage")
        query = query.where(Topic.stage == stage)
    if holder is not None:
        query = query.where(Topic.holder == holder)
    return page(session, query, [Topic.overdue, Topic.updated_ms, Topic.id],
                lambda t: [t.overdue, t.updated_ms, t.id], limit, cursor)


def holders(session: Session, scope: Scope = EVERYTHING) -> list[str]:
    """The nodes that hold the topics known here (that ``scope`` admits)."""
    return sorted(set(session.execute(scope.admits(select(Topic.holder)).distinct()).scalars()))


def suggest_route(node: NodeContext, topic: Topic) -> Route:
    """Where the topic belongs and this node's next step (hook ``route_topic``)."""
    return node.pm.hook.route_topic(topic=topic.as_dict(), config=node.config)


def show(session: Session, node: NodeContext, topic: Topic) -> dict[str, Any]:
    """The topic with its history, the routing suggestion, its route (each hop re-verified now), where a
    return would go, and whether attachments travel."""
    data = mark_kept(node, topic.as_dict(events=True))
    data["suggestion"] = suggest_route(node, topic).as_dict()
    data["route"] = trail.about(session, node.id, topic.uid)
    data["route_verified"] = trail.all_verified(data["route"])
    data["returns_to"] = topic_route.returns_to(topic_route.latest_received(session, topic.uid), node.id)
    data["attachments_travel"] = attachments_travel(session, node, topic)
    return data


# ---------------------------------------------------------------------------------------------
# Raising a topic


class NotAllowed(InputError):
    """A refusal of who asks (the API answers 403 ``forbidden``), not of what they ask."""


class NotLinked(NotAllowed):
    """A member's user not linked to a member raises no topic as a member."""


def raised_by_of(user: Any, data: TopicIn) -> tuple[str, str]:
    """Who raised the topic, as recorded: for the office (or the command line, ``user`` None) what it names; for a
    member the member themselves (name and number) and for the public the user themselves — fixed, whatever the
    request says; any other role raises nothing."""
    if user is None or user.role in WRITERS:
        return data.raised_by_kind, data.raised_by_name
    if user.role == Role.MEMBER.value:
        member = user.member
        if member is None:
            raise NotLinked(N_("user %(username)s is not linked to a member, so cannot raise a topic as a member; "
                               "the office links users to members", username=user.username), field="raised_by_name")
        return "member", f"{member.name}（{member.member_no}）" if member.member_no else member.name
    if user.role == Role.PUBLIC.value:
        return "public", user.display_name or user.username
    raise NotAllowed(N_("the role %(role)s does not raise topics; the office, members and the public do",
                        role=user.role))


def raise_topic(session: Session, node: NodeContext, data: TopicIn, actor: str,
                files: Iterable[tuple[str, bytes]] = (), user: Any = None) -> tuple[Topic, Route]:
    """收集议题: raise a topic here (stage ``collected``, held here) with ``files`` attached; returns it
    and the routing suggestion. ``user`` (None: the command line) decides who it is recorded as raised by
    (:func:`raised_by_of`)."""
    kind, name = raised_by_of(user, data)
    data = data.model_copy(update={"raised_by_kind": kind, "raised_by_name": name})
    title = text(data.title, "title", limits.TITLE)
    description = text(data.description, "description", limits.DESCRIPTION, required=False)
    category = text(data.category, "category", limits.CATEGORY)
    raised_by_name = text(data.raised_by_name, "raised-by name", limits.RAISED_BY_NAME)
    if data.raised_by_kind not in RAISED_BY_KINDS:
        raise InputError(N_("raised-by kind %(raised_by_kind)s; kinds: %(raised_by_kinds)s",
                            raised_by_kind=repr(str(data.raised_by_kind)[:40]),
                            raised_by_kinds=', '.join(RAISED_BY_KINDS)))
    areas = list(data.areas)
    if not areas:
        raise InputError(N_("areas is empty: a topic concerns at least one division code"), field="areas")
    _at_most(sorted(set(areas)), "areas", limits.AREAS)
    for area in areas:
        try:
            divisions.validate_code(area, "area")
        except divisions.DivisionCodeError as exc:
            raise InputError(exc.message, field="areas") from None
    outside = [a for a in areas if a[:2] != node.id[:2]]
    if outside:
        raise InputError(N_("area %(outside)s is outside this node's province", outside=outside[0]))
    now = node.now_ms()
    topic = Topic(uid=f"{node.id}:{ulid(now)}", title=title, description=description, category=category,
                  areas=json.dumps(sorted(set(areas))), raised_by_kind=data.raised_by_kind,
                  raised_by_name=raised_by_name, raised_ms=now, stage="collected", holder=node.id, overdue=False,
                  updated_ms=now, accepted_ms=now, attachments=[])  # known empty: the answer reads it without a SELECT
    topic.record("raised", actor, node.id, now, to_stage="collected").from_stage = None  # nothing came before
    session.add(topic)
    session.flush()
    for name, content in files:
        add_attachment(session, node, topic, name, content, actor)
    return topic, suggest_route(node, topic)


# ---------------------------------------------------------------------------------------------
# Actions: one entry point for pages, the API and commands


@dataclass
class Outcome:
    """What an action did: the topic after it, and the envelope it sent (None when it sent none)."""

    topic: Topic
    envelope: dict[str, Any] | None

    def sent(self) -> dict[str, Any] | None:
        if self.envelope is None:
            return None
        last = self.envelope["hops"][-1]
        return {"kind": self.envelope["kind"], "id": self.envelope["id"], "to": last["to"],
                "action": last["action"], "hops": len(self.envelope["hops"])}

    def as_dict(self) -> dict[str, Any]:
        sent = self.sent()
        return {"topic": self.topic.as_dict(events=True),
                "sent": None if sent is None else {k: sent[k] for k in ("kind", "id", "to", "hops")}}


def act(session: Session, node: NodeContext, uid: str, action: Any, actor: str) -> Outcome:
    """Run ``action`` (one of the ``*Action`` shapes) on topic ``uid``, its row locked."""
    topic = get_topic(session, uid, lock=True)
    if isinstance(action, AdvanceAction):
        advance(session, node, topic, action.to_stage, action.note or "", actor)
        envelope = None  # the progress report an advance sends is not its answer (docs/api.md)
    elif isinstance(action, EscalateAction):
        envelope = escalate(session, node, topic, action.note, actor)
    elif isinstance(action, DelegateAction):
        due_ms = parse_due(action.due, node.config, node.now_ms()) if (action.due or "").strip() else None
        envelope = delegate(session, node, topic, action.to, action.instructions, due_ms, actor)
    elif isinstance(action, AcceptAction):
        envelope = accept(session, node, topic, actor)
    elif isinstance(action, ReturnAction):
        envelope = return_topic(session, node, topic, action.reason, actor)
    elif isinstance(action, ResultAction):
        envelope = record_result(session, node, topic, action.kind or "consultation", action.title, action.summary,
                                 action.measures, action.handling_units, actor)
    else:
        raise InputError(N_("unknown action %(name)s", name=type(action).__name__), field="action")
    return Outcome(topic, envelope)


def _held_here(node: NodeContext, topic: Topic) -> None:
    if topic.holder != node.id:
        raise Conflict(N_("topic %(uid)s is held by %(holder)s, not by this node (it may have been sent on a moment "
                          "ago)", uid=topic.uid, holder=topic.holder))


def _accepted(topic: Topic) -> None:
    if topic.accepted_ms is None:
        raise Conflict(N_("topic %(uid)s was sent here and is not accepted yet: accept it (topics accept) or return "
                          "it first", uid=topic.uid))


def _movable(topic: Topic, verb: str) -> None:
    if topic.stage not in MOVABLE:
        raise Conflict(N_("topic %(uid)s is %(stage)s: a topic is %(verb)s only before research starts (%(movable)s)",
                          uid=topic.uid, stage=topic.stage, verb=verb, movable=' or '.join(MOVABLE)))


def _guard(node: NodeContext, topic: Topic, from_stage: str, to_stage: str) -> None:
    reasons = flatten(node.pm.hook.topic_transition_guard(topic=topic.as_dict(events=True), from_stage=from_stage,
                                                          to_stage=to_stage))
    if reasons:
        raise InputError("refused: " + "; ".join(reasons))


def _note(value: Any, name: str) -> str:
    note = text(value, name, limits.NOTE)
    if topic_route.split_note("\n" + note)[1]:
        raise InputError(N_("%(name)s may not end with a line 'stage: …' or 'due_ms: …' (those lines are the node's "
                            "own)", name=name))
    return note


def _stage_changed(session: Session, node: NodeContext, topic: Topic, from_stage: str, to_stage: str,
                   actor: str) -> None:
    """Observers (hook ``topic_stage_changed``) hear of it once the change is committed."""
    after_commit(session, lambda: node.pm.hook.topic_stage_changed(topic=topic.as_dict(), from_stage=from_stage,
                                                                   to_stage=to_stage, actor=actor))


def advance(session: Session, node: NodeContext, topic: Topic, to_stage: str, note: str = "",
            actor: str = "system") -> Topic:
    """Move a topic held here to ``to_stage``, if no guard objects; the route back is told (``topic.progress``)."""
    if to_stage not in STAGES:
        raise InputError(N_("unknown stage %(to_stage)s; stages: %(stages)s", to_stage=repr(str(to_stage)[:40]),
                            stages=', '.join(STAGES)))
    _held_here(node, topic)
    _accepted(topic)
    from_stage = topic.stage
    if to_stage == from_stage:
        raise Conflict(N_("topic %(uid)s is already %(to_stage)s", uid=topic.uid, to_stage=to_stage))
    if to_stage == "closed":
        raise InputError(N_("topic %(uid)s closes only with its result: record the consultation's result (topics "
                            "result), which closes it and sends it back to where it was raised", uid=topic.uid), field="to_stage")
    if (from_stage, to_stage) == ("implementing", "feedback"):
        waiting = implementation_pending(session, topic)
        if waiting:
            raise LeadReportPending(waiting)
    _guard(node, topic, from_stage, to_stage)
    note = text(note, "note", limits.PROGRESS_SUMMARY, False)
    now = node.now_ms()
    topic.record("advanced", actor, node.id, now, note, to_stage=to_stage)
    topic.stage = to_stage
    if to_stage == "closed":
        topic.closed_ms, topic.overdue = now, False
    session.flush()
    answer(session, node, topic, "topic.progress", {"stage": to_stage, "summary": note or to_stage})
    _stage_changed(session, node, topic, from_stage, to_stage, actor)
    return topic


class LeadReportPending(Conflict):
    """``implementing`` → ``feedback`` refused: the topic's implementation has no lead unit, or the lead unit's
    final report is not accepted yet."""


def _assignments(session: Session, topic: Topic) -> list[Assignment]:
    return list(session.execute(select(Assignment).where(Assignment.topic_id == topic.id)
                                .order_by(Assignment.role != "lead", Assignment.id)).scalars())


def implementation_pending(session: Session, topic: Topic) -> str | None:
    """Why the topic's implementation is not done (None when it is, or when no unit was assigned): the stage
    ``feedback`` waits for the lead unit's final report, accepted by the office."""
    assignments = _assignments(session, topic)
    if not assignments:
        return None
    lead = next((a for a in assignments if a.role == "lead"), None)
    if lead is None:
        return (f"topic {topic.uid} has handling units but no lead unit: assign the lead unit (牵头单位) and accept "
                "its final report before feedback")
    if lead.state != "accepted":
        return (f"topic {topic.uid} waits for the final report of its lead unit {lead.unit.name} (牵头单位), "
                f"accepted by the office, before feedback; the unit's state: {lead.state}")
    return None


def assigned_unit_names(session: Session, topic: Topic) -> list[str]:
    """The names of the units assigned to implement the topic, the lead unit first."""
    return [a.unit.name for a in _assignments(session, topic)]


def escalate(session: Session, node: NodeContext, topic: Topic, note: str, actor: str) -> dict[str, Any]:
    """上交: send the topic to this node's parent with a note saying why."""
    _held_here(node, topic)
    _movable(topic, "escalated")
    note = _note(note, "note")
    if not node.parent:
        raise InputError(N_("%(id)s has no parent to escalate to", id=node.id))
    peers.require_peer(session, node.parent, "parent")
    return _send_on(session, node, topic, node.parent, "escalate", note, actor, {"topic": snapshot(topic), "reason": note})


def delegate(session: Session, node: NodeContext, topic: Topic, to: str, instructions: str, due_ms: int | None,
             actor: str) -> dict[str, Any]:
    """下放: send the topic to a named child with instructions and, optionally, a due date."""
    _held_here(node, topic)
    _movable(topic, "delegated")
    to = text(to, "target node", 40)
    if not (divisions.is_standard(to) and divisions.parent_of(to) == node.id) \
            and peers.relation_of(session, to) != "child":
        raise InputError(N_("%(to)s is not a child of %(id)s: a topic is delegated one level down", to=to, id=node.id))
    peers.require_peer(session, to, "child")
    instructions = _note(instructions, "instructions")
    if due_ms is not None and due_ms <= node.now_ms():
        raise InputError(N_("the due date has passed"))
    body: dict[str, Any] = {"topic": snapshot(topic), "instructions": instructions}
    if due_ms is not None:
        body["due_ms"] = due_ms
    envelope = _send_on(session, node, topic, to, "delegate", instructions, actor, body, due_ms)
    topic.due_ms = due_ms  # the date given to the child, shown here while the child holds it
    return envelope


def return_topic(session: Session, node: NodeContext, topic: Topic, reason: str, actor: str) -> dict[str, Any]:
    """退回: send the topic back to the node it came from, with the reason."""
    _held_here(node, topic)
    back_to = topic_route.returns_to(topic_route.latest_received(session, topic.uid), node.id)
    if back_to is None:
        raise InputError(N_("topic %(uid)s was raised here and not sent here since: there is no node to return it to",
                            uid=topic.uid))
    _movable(topic, "returned")
    envelope = _send_on(session, node, topic, back_to, "return", _note(reason, "reason"), actor)
    # Nothing is awaited here: the node it goes back to raised it or held it before and holds it again at once,
    # and any later answer travels from there towards the origin, not back down to this node.
    topic.accepted_ms = node.now_ms()
    return envelope


def _send_on(session: Session, node: NodeContext, topic: Topic, to: str, action: str, note: str, actor: str,
             body: Mapping[str, Any] | None = None, due_ms: int | None = None) -> dict[str, Any]:
    """Pass the topic held here to ``to``: a new envelope with ``body`` if it was raised here and never came
    back, else our ``action`` hop on the envelope that brought it — whose body is the origin's and cannot
    change, so the stage and due date go in our hop's note as trailer lines. Then it is no longer ours."""
    received = topic_route.latest_received(session, topic.uid)
    if received is not None and len(received["hops"]) >= MAX_HOPS:
        raise InputError(N_("the topic's envelope already carries %(max_hops)s hops, the most the protocol allows; "
                            "raise a new topic instead", max_hops=MAX_HOPS))
    if received is None:
        envelope, _ = outbox.originate(session, node, f"topic.{action}", body, to, action, topic=topic.uid, note=note)
    else:
        stage = None if topic_route.stage_on_arrival(received) == topic.stage else topic.stage
        envelope, _ = outbox.forward(session, node, received, to, action,
                                     note=topic_route.with_trailers(note, stage=stage, due_ms=due_ms))
    topic.record(PAST[action], actor, node.id, node.now_ms(), f"→ {to}: {note}")
    # The topic has left this node: ``to`` holds it now; its due date and overdue flag are the new holder's.
    topic.holder, topic.accepted_ms, topic.overdue = to, None, False
    session.flush()
    return envelope


def accept(session: Session, node: NodeContext, topic: Topic, actor: str) -> dict[str, Any] | None:
    """受理: take responsibility for a topic sent here; the route back to where it was raised is told."""
    _held_here(node, topic)
    if topic.accepted_ms is not None:
        raise Conflict(N_("topic %(uid)s was already accepted here", uid=topic.uid))
    if topic.stage == "closed":
        raise Conflict(N_("topic %(uid)s is closed", uid=topic.uid))
    now = node.now_ms()
    envelope = answer(session, node, topic, "topic.accept", {"decision": "consult"})
    topic.accepted_ms = now
    topic.record("accepted", actor, node.id, now)
    session.flush()
    return envelope


def record_result(session: Session, node: NodeContext, topic: Topic, kind: str, title: str, summary: str,
                  measures: list[str], handling_units: list[str], actor: str) -> dict[str, Any] | None:
    """反馈: record the consultation's result, close the topic and send the result back along its route."""
    _held_here(node, topic)
    _accepted(topic)
    if topic.stage != "feedback":
        raise Conflict(N_("topic %(uid)s is %(stage)s: a result is fed back at the feedback stage", uid=topic.uid,
                          stage=topic.stage))
    result = {"kind": text(kind, "result kind", limits.RESULT_KIND),
              "title": text(title, "result title", limits.RESULT_TITLE),
              "summary": text(summary, "result summary", limits.RESULT_SUMMARY),
              "measures": [text(m, "measure", limits.MEASURE) for m in _at_most(measures, "measures", limits.MEASURES)],
              "handling_units": [text(u, "handling unit", limits.HANDLING_UNIT)
                                 for u in _at_most(handling_units, "handling_units", limits.HANDLING_UNITS)]}
    assigned = assigned_unit_names(session, topic)
    if assigned:  # the units that implemented it (lead first), then any others named
        result["handling_units"] = assigned + [u for u in result["handling_units"] if u not in assigned]
    _guard(node, topic, "feedback", "closed")
    now = node.now_ms()
    envelope = answer(session, node, topic, "topic.result", {"result": result, "closed_ms": now})
    topic.record("result", actor, node.id, now, result["title"], to_stage="closed")
    topic.result, topic.stage, topic.closed_ms, topic.overdue = json.dumps(result, ensure_ascii=False), "closed", now, False
    session.flush()
    _stage_changed(session, node, topic, "feedback", "closed", actor)
    # In this transaction: topics that share this one's result (similar matters merged into it) are answered too.
    node.pm.hook.topic_result_recorded(session=session, node=node, topic=topic, result=result, actor=actor)
    return envelope


def feed_back_shared_result(session: Session, node: NodeContext, topic: Topic, result: Mapping[str, Any],
                            actor: str, note: str) -> dict[str, Any] | None:
    """反馈 of a topic held here whose matter was consulted as part of another (a merged matter): record
    ``result`` (already checked, the other topic's), close the topic from whatever stage it is at and send
    the result back along this topic's own route, as :func:`record_result` does."""
    _held_here(node, topic)
    if topic.stage == "closed":
        raise Conflict(N_("topic %(uid)s is closed", uid=topic.uid))
    from_stage, now = topic.stage, node.now_ms()
    envelope = answer(session, node, topic, "topic.result", {"result": dict(result), "closed_ms": now})
    topic.record("result", actor, node.id, now, f"{result['title']} ({note})", to_stage="closed")
    topic.result, topic.stage, topic.closed_ms, topic.overdue = json.dumps(result, ensure_ascii=False), "closed", now, False
    if topic.accepted_ms is None:
        topic.accepted_ms = now
    session.flush()
    _stage_changed(session, node, topic, from_stage, "closed", actor)
    return envelope


def answer(session: Session, node: NodeContext, topic: Topic, kind: str, body: Mapping[str, Any]) -> dict[str, Any] | None:
    """New envelopes from the holder, one ``reply`` hop each: towards where the topic was raised (the upstream)
    and, when the topic was delegated here, to the node that delegated it, if that is not the upstream (a
    delegation back down a route the topic climbed). Returns the first (None if there is no one to tell)."""
    received = topic_route.latest_received(session, topic.uid)
    in_reply_to = {"origin": received["origin"], "id": received["id"]} if received else None
    sent = [outbox.originate(session, node, kind, body, target, "reply", topic=topic.uid, in_reply_to=in_reply_to)[0]
            for target in topic_route.answer_targets(node.id, topic.upstream, received)]
    return sent[0] if sent else None


def snapshot(topic: Topic) -> dict[str, Any]:
    """The topic as a moving envelope carries it (PROTOCOL.md §8): names, sizes and hashes of attachments,
    never their bytes."""
    data = topic.as_dict()
    shot = {k: data[k] for k in ("uid", "title", "description", "category", "areas", "raised_by", "raised_ms", "stage")}
    if data["attachments"]:
        shot["attachments"] = data["attachments"]
    return shot


# ---------------------------------------------------------------------------------------------
# Attachments: the bytes are kept in the node directory under their SHA-256; the topic names them


def attachment_limit(config: Mapping[str, Any]) -> int:
    return config["TOPICS_ATTACHMENT_MAX_BYTES"]


def upload_limit(config: Mapping[str, Any]) -> int:
    """The largest request body an upload may send: the file and a form's other fields."""
    return attachment_limit(config) + 1024 * 1024


def read_upload(read: Any, declared: int | None, config: Mapping[str, Any]) -> bytes:
    """An uploaded file's bytes, refused by its declared size before it is read, and by its real size."""
    limit = attachment_limit(config)
    if declared is not None and declared > limit:
        raise InputError(N_("the file is %(declared)s bytes; an attachment may have at most %(limit)s",
                            declared=declared, limit=limit))
    data = read(limit + 1)
    if len(data) > limit:
        raise InputError(N_("the file is over %(limit)s bytes, the most an attachment may have", limit=limit))
    return data


def attachment_path(node: NodeContext, sha256: str) -> Path:
    """Where this node keeps the bytes with this SHA-256 (``<node dir>/attachments/ab/abcd…``)."""
    if not SHA256.fullmatch(sha256):
        raise InputError(N_("%(sha256)s is not a SHA-256 (64 lower-case hex digits)", sha256=repr(sha256[:70])))
    if not node.node_dir:
        raise InputError(N_("this node has no node directory to keep attachments in"))
    return Path(node.node_dir) / "attachments" / sha256[:2] / sha256


def file_name(name: Any) -> str:
    """A file's name as people will see it: its last path part, NFC, no control characters, ≤ 300 characters."""
    if not isinstance(name, str):
        raise InputError(N_("the file name must be text"), field="name")
    name = unicodedata.normalize("NFC", name.replace("\\", "/").rsplit("/", 1)[-1].strip())
    if not name or name in (".", ".."):
        raise InputError(N_("the file has no name"), field="name")
    if len(name) > limits.FILE_NAME:
        raise InputError(N_("the file name is longer than %(file_name)s characters",
                            file_name=limits.FILE_NAME), field="name")
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs") for c in name):
        raise InputError(N_("the file name holds control characters or no characters at all (lone surrogates)"),
                         field="name")
    return name


def plain_file_name(name: str) -> bool:
    """Whether ``name`` is already as :func:`file_name` would make it."""
    try:
        return file_name(name) == name.strip()
    except InputError:
        return False


def attach(session: Session, node: NodeContext, uid: str, files: Iterable[tuple[Any, bytes]],
           actor: str) -> list[dict[str, Any]]:
    """Attach files to topic ``uid`` (its row locked); all of them, or (on any refusal) none."""
    topic = get_topic(session, uid, lock=True)
    added = [add_attachment(session, node, topic, name, content, actor) for name, content in files]
    travels = attachments_travel(session, node, topic)
    return [{"name": a.name, "size": a.size, "sha256": a.sha256, "travels": travels} for a in added]


def add_attachment(session: Session, node: NodeContext, topic: Topic, name: Any, data: bytes,
                   actor: str = "system") -> TopicAttachment:
    """Attach a file to a topic held here: its name, size and SHA-256 are recorded, its bytes kept on this
    node. Checked before anything is written; the same bytes twice on one topic are refused."""
    _held_here(node, topic)
    if topic.stage == "closed":
        raise InputError(N_("topic %(uid)s is closed", uid=topic.uid))
    name = file_name(name)
    limit = attachment_limit(node.config)
    if not data:
        raise InputError(N_("%(name)s is empty", name=name))
    if len(data) > limit:
        raise InputError(N_("%(name)s is %(count)s bytes; an attachment may have at most %(limit)s", name=name,
                            count=len(data), limit=limit))
    if len(topic.attachments) >= limits.ATTACHMENTS:
        raise InputError(N_("topic %(uid)s already has %(attachments)s attachments, the most it may have",
                            uid=topic.uid, attachments=limits.ATTACHMENTS))
    digest = hashlib.sha256(data).hexdigest()
    same = next((a for a in topic.attachments if a.sha256 == digest), None)
    if same is not None:
        raise InputError(N_("these bytes are already attached to topic %(uid)s as %(name)s", uid=topic.uid,
                            name=same.name))
    path = attachment_path(node, digest)
    if not path.exists():  # content-addressed: bytes kept once, whichever topic names them
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    attachment = TopicAttachment(name=name, size=len(data), sha256=digest)
    topic.attachments.append(attachment)
    topic.record("attached", actor, node.id, node.now_ms(), f"{name} ({len(data)} bytes, sha256 {digest})")
    session.flush()
    return attachment


def attachment_file(session: Session, node: NodeContext, uid: str, sha256: str,
                    scope: Scope = EVERYTHING) -> tuple[TopicAttachment, Path]:
    """A topic's attachment and the path of its bytes here; ``NotFound`` when the topic has no such
    attachment, ``scope`` does not admit the topic, or this node has only its name, size and hash (the
    message names the node that keeps it)."""
    topic = get_topic(session, uid, scope=scope)
    found = next((a for a in topic.attachments if a.sha256 == sha256), None)
    if found is None:
        raise NotFound(N_("topic %(uid)s has no attachment with SHA-256 %(sha256)s", uid=topic.uid, sha256=sha256[:70]))
    path = attachment_path(node, sha256)
    if not path.is_file():
        raise NotFound(N_("the file %(name)s is kept at %(raised_at)s, where the topic was raised; this node has its "
                          "name, size and SHA-256 only", name=found.name, raised_at=topic.raised_at))
    return found, path


def mark_kept(node: NodeContext, data: dict[str, Any]) -> dict[str, Any]:
    """Add ``kept_here`` to each attachment of a topic dict: whether this node has the bytes."""
    for item in data["attachments"]:
        try:
            item["kept_here"] = attachment_path(node, item["sha256"]).is_file()
        except InputError:
            item["kept_here"] = False
    return data


def attachments_travel(session: Session, node: NodeContext, topic: Topic) -> bool:
    """Whether files attached now would travel (by name, size and hash) with the topic: only on the node where
    it was raised, before it first leaves — after that the envelope's body is fixed."""
    return (topic.raised_at == node.id and topic_route.latest_sent(session, topic.uid) is None
            and topic_route.latest_received(session, topic.uid) is None)


# -- a raiser's own topics ("my matters")


def raised_by_user(session: Session, username: str, limit: int | None = None) -> list[Topic]:
    """The topics ``username`` raised on this node (from a page or the API), the most recently changed first:
    what a member or a member of the public follows; nobody else's."""
    mine = select(TopicEvent.topic_id).where(TopicEvent.action == "raised",
                                             TopicEvent.actor.in_([f"web:{username}", f"api:{username}"]))
    query = select(Topic).where(Topic.id.in_(mine)).order_by(Topic.updated_ms.desc(), Topic.id.desc())
    if limit is not None:
        query = query.limit(limit)
    return list(session.execute(query).scalars())


# -- what waits on the workbench (core/work.py) ---------------------------------------------------------


def awaiting_acceptance(session: Session, node: NodeContext) -> tuple[int, list[Topic]]:
    """Topics passed to this node that it has not yet accepted (受理), oldest first."""
    return count_and_first(session, select(Topic).where(Topic.holder == node.id, Topic.accepted_ms.is_(None),
                                                        Topic.stage != "closed").order_by(Topic.updated_ms, Topic.id))


def overdue_here(session: Session, node: NodeContext) -> tuple[int, list[Topic]]:
    """Topics held here past their due date, the longest overdue first."""
    return count_and_first(session, select(Topic).where(Topic.holder == node.id, Topic.overdue.is_(True),
                                                        Topic.stage != "closed").order_by(Topic.due_ms, Topic.id))
