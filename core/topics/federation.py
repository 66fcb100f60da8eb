"""Topics between nodes: the ``topic.*`` message kinds (PROTOCOL.md §8) and what an accepted one does here.

A receiver holds a correctly signed neighbour to the topic's route too: it refuses (422
``invalid_body``, nothing stored) answers from a node it did not pass the topic to, a topic it knows
arriving as anything but the continuation of what it sent, snapshots it cannot keep — the list is in
docs/protocol.md, "Topics between nodes".
"""

from __future__ import annotations

import json
from typing import Any, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from shangliang.core import divisions
from shangliang.core.context import NodeContext
from shangliang.federation import outbox
from shangliang.federation.errors import InvalidBody, echo
from shangliang.federation.kinds import TOPIC_UID, Kind, ms, require, text, texts

from . import limits, route as topic_route
from .models import MOVABLE, RAISED_BY_KINDS, REPORT_KINDS, ROLES, STAGES, Topic, TopicAttachment
from .services import SHA256, answer, plain_file_name

#: Limits this node keeps for a topic received from a neighbour (the columns' sizes; the wire allows more):
#: the same numbers as a person's entry here (``limits``).
RECEIVED_LIMITS = {"title": limits.TITLE, "category": limits.CATEGORY, "name": limits.RAISED_BY_NAME}
MAX_AREAS = limits.AREAS
MAX_ATTACHMENTS = limits.ATTACHMENTS
PAST = {"escalate": "escalated", "delegate": "delegated", "return": "returned"}


# ---------------------------------------------------------------------------------------------
# The kinds and their bodies


def _topic_snapshot(body: Mapping[str, Any]) -> None:
    topic = require(body, "topic", dict)
    where = "body.topic"
    uid = require(topic, "uid", str, where)
    if not TOPIC_UID.fullmatch(uid):
        raise InvalidBody(f"{where}.uid is not a topic uid: {echo(uid)}")
    for field in ("title", "category"):
        text(topic, field, where)
    text(topic, "description", where, empty=True)
    areas = require(topic, "areas", list, where)
    if not areas:
        raise InvalidBody(f"{where}.areas is empty")
    for area in areas:
        if not isinstance(area, str) or not divisions.is_standard(area):
            raise InvalidBody(f"{where}.areas holds {echo(area)}, not a division code")
    raised_by = require(topic, "raised_by", dict, where)
    if require(raised_by, "kind", str, where + ".raised_by") not in RAISED_BY_KINDS:
        raise InvalidBody(f"{where}.raised_by.kind must be one of {', '.join(RAISED_BY_KINDS)}")
    text(raised_by, "name", where + ".raised_by")
    ms(topic, "raised_ms", where)
    if require(topic, "stage", str, where) not in STAGES:
        raise InvalidBody(f"{where}.stage must be one of {', '.join(STAGES)}")


def _escalate(body):
    _topic_snapshot(body)
    text(body, "reason")


def _delegate(body):
    _topic_snapshot(body)
    text(body, "instructions")
    ms(body, "due_ms", required=False)


def _accept(body):
    if require(body, "decision", str) != "consult":
        raise InvalidBody("body.decision must be 'consult'")


def _progress(body):
    if require(body, "stage", str) not in STAGES:
        raise InvalidBody(f"body.stage must be one of {', '.join(STAGES)}")
    text(body, "summary")
    if "implementation" in body:  # an extension: a unit's report on the result's implementation, accepted
        report = require(body, "implementation", dict)
        where = "body.implementation"
        text(report, "unit", where)
        text(report, "body", where)
        if require(report, "role", str, where) not in ROLES:
            raise InvalidBody(f"{where}.role must be one of {', '.join(ROLES)}")
        if require(report, "kind", str, where) not in REPORT_KINDS:
            raise InvalidBody(f"{where}.kind must be one of {', '.join(REPORT_KINDS)}")


def _result(body):
    result = require(body, "result", dict)
    for field in ("kind", "title", "summary"):
        text(result, field, "body.result")
    texts(result, "measures", "body.result")
    texts(result, "handling_units", "body.result")
    ms(body, "closed_ms")


KINDS = (
    Kind("topic.escalate", "escalate", True, _escalate),
    Kind("topic.delegate", "delegate", True, _delegate),
    Kind("topic.accept", "reply", True, _accept),
    Kind("topic.progress", "reply", True, _progress),
    Kind("topic.result", "reply", True, _result),
)


# ---------------------------------------------------------------------------------------------
# What an accepted message does here (called by the inbox, in its transaction)


def apply_received(session: Session, node: NodeContext, envelope: Mapping[str, Any],
                   transfer: Mapping[str, Any]) -> None:
    """Record a topic message a neighbour sent; raise ``InvalidBody`` (nothing stored) for one that does not fit
    what this node knows about the topic."""
    kind = envelope["kind"]
    if kind not in topic_route.MOVING_KINDS + topic_route.REPLY_KINDS:
        return
    topic = session.execute(select(Topic).where(Topic.uid == envelope["topic"]).with_for_update()).scalar_one_or_none()
    if kind in topic_route.MOVING_KINDS:
        _receive_topic(session, node, topic, envelope, transfer)
    else:
        if topic is None:
            raise InvalidBody(f"topic {envelope['topic']} is not known here: an answer follows the topic's route")
        _receive_answer(session, node, topic, envelope)


def _check_snapshot(envelope: Mapping[str, Any], me: str) -> None:
    """What the wire allows but this node does not keep: refused by name, never cut short."""
    snapshot = envelope["body"]["topic"]
    if snapshot["uid"] != envelope["topic"]:
        raise InvalidBody("body.topic.uid is not the envelope's topic")
    if envelope["topic"].split(":", 1)[0] != envelope["origin"]:
        raise InvalidBody(f"topic {envelope['topic']} was not raised by {envelope['origin']}, the envelope's origin")
    for field, value in (("title", snapshot["title"]), ("category", snapshot["category"]),
                         ("name", snapshot["raised_by"]["name"])):
        if len(value.strip()) > RECEIVED_LIMITS[field]:
            where = "body.topic.raised_by.name" if field == "name" else f"body.topic.{field}"
            raise InvalidBody(f"{where} is longer than {RECEIVED_LIMITS[field]} characters, the most this node keeps")
    areas = snapshot["areas"]
    if len(areas) > MAX_AREAS:
        raise InvalidBody(f"body.topic.areas holds {len(areas)} codes; this node keeps at most {MAX_AREAS}")
    outside = [a for a in areas if a[:2] != me[:2]]
    if outside:
        raise InvalidBody(f"body.topic.areas holds {outside[0]}, outside this node's province")
    attachments = snapshot.get("attachments", [])
    if not isinstance(attachments, list) or len(attachments) > MAX_ATTACHMENTS or not all(
            isinstance(a, dict) and isinstance(a.get("name"), str) and 0 < len(a["name"].strip()) <= 300
            and isinstance(a.get("size"), int) and not isinstance(a["size"], bool) and a["size"] >= 0
            and isinstance(a.get("sha256"), str) and SHA256.fullmatch(a["sha256"]) and plain_file_name(a["name"])
            for a in attachments):
        raise InvalidBody(f"body.topic.attachments must be a list of at most {MAX_ATTACHMENTS} objects with a name "
                          "(1 to 300 characters), a size in bytes and a sha256 (64 lower-case hex digits)")
    stage = topic_route.stage_on_arrival(envelope)
    if stage not in MOVABLE:
        raise InvalidBody(f"a topic moves between nodes only before research starts; this one arrives {stage[:20]}")


def _receive_topic(session: Session, node: NodeContext, topic: Topic | None, envelope: Mapping[str, Any],
                   transfer: Mapping[str, Any]) -> None:
    me = node.id
    _check_snapshot(envelope, me)
    body, last = envelope["body"], envelope["hops"][-1]
    snapshot = body["topic"]
    at = transfer["received_ms"]
    if topic is None:
        if last["action"] == "return":
            raise InvalidBody(f"topic {envelope['topic']} is not known here: a topic is returned only to a node it "
                              "came from")
        topic = Topic(uid=snapshot["uid"], title=snapshot["title"].strip(), description=snapshot["description"],
                      category=snapshot["category"].strip(), areas=json.dumps(sorted(set(snapshot["areas"]))),
                      raised_by_kind=snapshot["raised_by"]["kind"],
                      raised_by_name=snapshot["raised_by"]["name"].strip(), raised_ms=snapshot["raised_ms"],
                      stage=snapshot["stage"], holder=me, overdue=False, updated_ms=at)
        session.add(topic)
    else:
        # A topic known here comes back only as the continuation of the envelope this node passed on.
        if topic.holder == me:
            if topic_route.resent(topic_route.latest_received(session, topic.uid), envelope):
                return  # the sender sent the same transfer again (a new last hop, §5 step 5): nothing changes
            raise InvalidBody(f"topic {topic.uid} is held by this node: no one else can pass it here")
        sent = topic_route.latest_sent(session, topic.uid)
        if sent is None or (sent["origin"], sent["id"]) != (envelope["origin"], envelope["id"]) \
                or envelope["hops"][:len(sent["hops"])] != sent["hops"]:
            raise InvalidBody(f"topic {topic.uid} is known here: it comes back only along the route this node sent "
                              "it on")
    known = {a.sha256 for a in topic.attachments}
    for item in snapshot.get("attachments", []):
        if item["sha256"] not in known:
            known.add(item["sha256"])
            topic.attachments.append(TopicAttachment(name=item["name"].strip(), size=item["size"],
                                                     sha256=item["sha256"]))
    action = last["action"]
    note = topic_route.split_note(last.get("note", ""))[0]
    raised_here = topic.raised_at == me
    held_before = any(e.action == "accepted" and e.node == me for e in topic.events)
    topic.holder, topic.upstream = me, topic_route.upstream_in(envelope["hops"], me)
    topic.stage = topic_route.stage_on_arrival(envelope)
    topic.accepted_ms = at if action == "return" and (raised_here or held_before) else None
    topic.due_ms, topic.overdue = topic_route.due_for(envelope, me), False
    if action == "delegate":
        topic.instructions = body["instructions"] if len(envelope["hops"]) == 1 else note
    topic.record(PAST[action], f"node:{last['from']}", last["from"],
                 at, f"{last['from']} → {me}" + (f": {note}" if note else ""))
    session.flush()
    if topic.accepted_ms is not None and topic.upstream is not None:
        # Back at a node that held it: it holds it again, and the route towards the origin hears so.
        answer(session, node, topic, "topic.accept", {"decision": "consult"})


def _receive_answer(session: Session, node: NodeContext, topic: Topic, envelope: Mapping[str, Any]) -> None:
    me = node.id
    origin, body, kind = envelope["origin"], envelope["body"], envelope["kind"]
    sender = envelope["hops"][-1]["from"]
    # An answer comes from the node this node passed the topic to, about a topic no longer held here.
    if topic.holder == me:
        raise InvalidBody(f"topic {topic.uid} is held by this node: {origin} cannot answer for it")
    sent = topic_route.latest_sent(session, topic.uid)
    if sent is None or sent["hops"][-1]["to"] != sender:
        raise InvalidBody(f"topic {topic.uid} was not passed from here to {sender}: answers come back along its route")
    if topic.stage == "closed":
        raise InvalidBody(f"topic {topic.uid} is closed here: no further answers are taken")
    actor, at = f"node:{origin}", envelope["created_ms"]
    if kind == "topic.accept":
        topic.record("accepted", actor, origin, at)
        topic.accepted_ms = at
    elif kind == "topic.progress":
        stage = body["stage"]
        if STAGES.index(stage) < STAGES.index(topic.stage):
            raise InvalidBody(f"topic {topic.uid} is {topic.stage} here: progress to {stage} would go back")
        if stage != topic.stage:
            topic.record("progress", actor, origin, at, body["summary"], to_stage=stage)
            topic.stage = stage
            if stage == "closed":
                topic.closed_ms = at
        elif "implementation" in body:  # a unit's accepted report: the stage stays, the history shows it
            topic.record("implementation_report", actor, origin, at, body["summary"])
    else:
        topic.record("result", actor, origin, at, body["result"]["title"], to_stage="closed")
        topic.result = json.dumps(body["result"], ensure_ascii=False)
        topic.stage, topic.closed_ms = "closed", body["closed_ms"]
    # An answer comes from the node that holds the topic now.
    topic.holder, topic.overdue = origin, False
    session.flush()
    # Relay it on towards where the topic was raised, unless the next node has had it already; every node
    # on the way records it.
    seen = {envelope["origin"]} | {hop["from"] for hop in envelope["hops"]} | {hop["to"] for hop in envelope["hops"]}
    received = topic_route.latest_received(session, topic.uid)
    for target in topic_route.answer_targets(me, topic.upstream, received, seen):
        outbox.forward(session, node, envelope, target, "reply")
