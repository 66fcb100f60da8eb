"""Topics across nodes: escalate, delegate, accept, return, progress and result (PROTOCOL.md §8).

Every action that moves a topic or answers for it writes the topic change and the outbox row that
carries the envelope in one transaction (the caller's). A topic travels as one envelope whose hop
chain grows; answers (accept, progress, result) are new envelopes from the holder, relayed back
along the route, hop by hop, to the node where the topic was raised.
"""

from __future__ import annotations

import json
import re
from typing import Any, Mapping

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from shangliang.core import divisions
from shangliang.core.db import after_commit
from shangliang.core.errors import InputError

from .models import STAGES, Topic, TopicAttachment, TopicEvent
from .services import MAX_ATTACHMENTS, SHA256, _now_ms, _text, file_name, topic_dict

#: Stages in which a topic may still move between nodes: research has not started.
MOVABLE = ("collected", "determined")
MOVING_KINDS = ("topic.escalate", "topic.delegate")
PAST = {"escalate": "escalated", "delegate": "delegated", "return": "returned"}  # hop action → topic event
REPLY_KINDS = ("topic.accept", "topic.progress", "topic.result")
MAX_NOTE = 1940  # the protocol allows 2000 characters in a hop note; the rest is kept for trailer lines
#: Lines a forwarding node appends to its hop's note, since the origin's body cannot change:
#: ``stage: <stage>`` (the stage the topic had when it left) and ``due_ms: <epoch ms>`` (a delegation's due date).
_TRAILER = re.compile(r"\n(?:stage: (?P<stage>[a-z]{1,20})|due_ms: (?P<due_ms>[0-9]{1,15}))$")
#: Limits this node keeps for a topic received from a neighbour (the columns' sizes; the wire allows more).
RECEIVED_LIMITS = {"title": 300, "category": 100, "name": 200}
MAX_AREAS = 50


# ---------------------------------------------------------------------------------------------
# Where the topic has been


def path_of(hops: list[Mapping[str, Any]]) -> list[str]:
    """The nodes from the origin to the last receiver, loops cut out: a topic returned to a node
    continues from that node as if it had never left it."""
    path: list[str] = []
    for node in [hops[0]["from"]] + [hop["to"] for hop in hops]:
        if node in path:
            del path[path.index(node) + 1:]
        else:
            path.append(node)
    return path


def split_note(note: str) -> tuple[str, dict[str, str]]:
    """A hop note's text and its trailer lines (``stage``, ``due_ms``)."""
    trailers: dict[str, str] = {}
    while (found := _TRAILER.search(note)) is not None:
        name = "stage" if found.group("stage") is not None else "due_ms"
        trailers.setdefault(name, found.group(name))
        note = note[:found.start()]
    return note, trailers


def _with_trailers(note: str, **trailers: Any) -> str:
    return note + "".join(f"\n{name}: {value}" for name, value in trailers.items() if value is not None)


def stage_on_arrival(envelope: Mapping[str, Any]) -> str:
    """The stage a moving envelope gives the topic: the last ``stage:`` trailer, else the origin's snapshot."""
    for hop in reversed(envelope["hops"][1:]):
        stage = split_note(hop.get("note", ""))[1].get("stage")
        if stage is not None:
            return stage
    return envelope["body"]["topic"]["stage"]


def due_for(envelope: Mapping[str, Any], node: str) -> int | None:
    """The due date of the last delegation to ``node`` on the route (None if it was never delegated there)."""
    for index in range(len(envelope["hops"]) - 1, -1, -1):
        hop = envelope["hops"][index]
        if hop["to"] == node and hop["action"] == "delegate":
            if index == 0:
                return envelope["body"].get("due_ms")
            due = split_note(hop.get("note", ""))[1].get("due_ms")
            return int(due) if due is not None else None
    return None


def _last_to(envelope: Mapping[str, Any], node: str, actions: tuple[str, ...]) -> str | None:
    for hop in reversed(envelope["hops"]):
        if hop["to"] == node and hop["action"] in actions:
            return hop["from"]
    return None


def returns_to(envelope: Mapping[str, Any] | None, node: str) -> str | None:
    """Where a return from ``node`` goes (退回): the node that last escalated or delegated the topic to it —
    never back up to a node that has just returned it (None: it was raised here and never sent to it)."""
    return None if envelope is None else _last_to(envelope, node, ("escalate", "delegate"))


def delegator(envelope: Mapping[str, Any] | None, node: str) -> str | None:
    """The node that last delegated the topic to ``node``: it hears the answers too, even when it is not
    on the way back to where the topic was raised (a delegation back down a route the topic climbed)."""
    return None if envelope is None else _last_to(envelope, node, ("delegate",))


def attachments_travel(session: Session, topic: Topic) -> bool:
    """Whether files attached now would travel (by name, size and hash) with the topic: only on the node where
    it was raised, before it first leaves — after that the envelope's body is fixed."""
    return (topic.uid.split(":", 1)[0] == _node_id() and latest_sent(session, topic.uid) is None
            and latest_received(session, topic.uid) is None)


def answer_targets(topic: Topic, received: Mapping[str, Any] | None, seen: set[str] = frozenset()) -> list[str]:
    """Where answers about the topic go from here (``received``: the envelope that brought it): the upstream
    and the delegating node, minus this node and the nodes the answer has already passed."""
    me = _node_id()
    targets = [topic.upstream, delegator(received, me)]
    return list(dict.fromkeys(t for t in targets if t is not None and t != me and t not in seen))


def upstream_in(hops: list[Mapping[str, Any]], node: str) -> str | None:
    """The node before ``node`` on the route: where answers go next (None where it was raised)."""
    path = path_of(hops)
    index = path.index(node)
    return path[index - 1] if index else None


def latest_received(session: Session, uid: str) -> dict[str, Any] | None:
    """The last envelope that brought the topic here (escalated, delegated or returned to this node).

    A topic travels as one envelope whose chain only grows, so that is the longest chain received; of
    equally long ones (the same transfer sent again with its last hop signed anew) the first, which
    took effect."""
    from shangliang.federation.models import InboxTransfer

    rows = session.execute(
        select(InboxTransfer.envelope).where(InboxTransfer.topic == uid, InboxTransfer.kind.in_(MOVING_KINDS))
        .order_by(InboxTransfer.received_ms, InboxTransfer.transfer_id)
    ).scalars()
    best: dict[str, Any] | None = None
    for text in rows:
        envelope = json.loads(text)
        if best is None or len(envelope["hops"]) > len(best["hops"]):
            best = envelope
    return best


def latest_sent(session: Session, uid: str) -> dict[str, Any] | None:
    """The last envelope by which this node passed the topic on (escalated, delegated or returned it)."""
    from shangliang.federation.models import OutboxMessage

    row = session.execute(
        select(OutboxMessage).where(OutboxMessage.topic == uid, OutboxMessage.kind.in_(MOVING_KINDS))
        .order_by(OutboxMessage.created_ms.desc(), OutboxMessage.id.desc()).limit(1)
    ).scalar_one_or_none()
    return json.loads(row.envelope) if row is not None else None


def _node_id() -> str:
    return current_app.config["NODE_ID"]


def _snapshot(topic: Topic) -> dict[str, Any]:
    data = topic_dict(topic)
    snapshot = {k: data[k] for k in ("uid", "title", "description", "category", "areas", "raised_by", "raised_ms",
                                     "stage")}
    if data["attachments"]:  # names, sizes and hashes only: the bytes stay on this node
        snapshot["attachments"] = data["attachments"]
    return snapshot


def _event(topic: Topic, action: str, actor: str, node: str, note: str = "", to_stage: str | None = None,
           at_ms: int | None = None) -> None:
    at = at_ms if at_ms is not None else _now_ms()
    topic.events.append(TopicEvent(at_ms=at, actor=actor, action=action, node=node, from_stage=topic.stage if to_stage
                                   else None, to_stage=to_stage, note=note))
    topic.updated_ms = max(topic.updated_ms, at)


# ---------------------------------------------------------------------------------------------
# Checks shared by the actions: each refuses before anything is written


def _held_here(topic: Topic) -> None:
    if topic.holder != _node_id():
        raise InputError(f"topic {topic.uid} is held by {topic.holder}, not by this node")


def _movable(topic: Topic, verb: str) -> None:
    if topic.stage not in MOVABLE:
        raise InputError(f"topic {topic.uid} is {topic.stage}: a topic is {verb} only before research starts "
                         f"({' or '.join(MOVABLE)})")


def _room_for_hop(received: Mapping[str, Any] | None) -> None:
    from shangliang.federation.envelope import MAX_HOPS

    if received is not None and len(received["hops"]) >= MAX_HOPS:
        raise InputError(f"the topic's envelope already carries {MAX_HOPS} hops, the most the protocol allows; "
                         "raise a new topic instead")


def _peer_or_refuse(session: Session, node: str, relation: str) -> None:
    from shangliang.federation.models import Peer

    peer = session.get(Peer, node)
    if peer is None:
        raise InputError(f"{node} is not a peer of this node (shangliang peers add)")
    if peer.relation != relation:
        raise InputError(f"{node} is this node's {peer.relation}, not its {relation}")


def _note(value: Any, name: str) -> str:
    text = _text(value, name, MAX_NOTE)
    if split_note("\n" + text)[1]:
        raise InputError(f"{name} may not end with a line 'stage: …' or 'due_ms: …' (those lines are the node's own)")
    return text


def _stage_trailer(topic: Topic, received: Mapping[str, Any]) -> str | None:
    """The ``stage:`` trailer a forwarded hop needs: the stage here, unless the receiver would assume it anyway."""
    return None if stage_on_arrival(received) == topic.stage else topic.stage


def _let_go(topic: Topic, to: str) -> None:
    """The topic has left this node: ``to`` holds it now; its due date and overdue flag are the new holder's."""
    topic.holder, topic.accepted_ms, topic.overdue = to, None, False


# ---------------------------------------------------------------------------------------------
# Actions on a topic held here


def escalate(session: Session, pm, config: Mapping[str, Any], topic: Topic, note: str, actor: str) -> dict[str, Any]:
    """上交: send the topic to this node's parent with a note saying why."""
    _held_here(topic)
    _movable(topic, "escalated")
    note = _note(note, "note")
    parent = config.get("NODE_PARENT")
    if not parent:
        raise InputError(f"{config['NODE_ID']} has no parent to escalate to")
    _peer_or_refuse(session, parent, "parent")
    return _send_on(session, config, topic, latest_received(session, topic.uid), parent, "escalate", note, actor,
                    {"topic": _snapshot(topic), "reason": note})


def delegate(session: Session, pm, config: Mapping[str, Any], topic: Topic, to: str, instructions: str,
             due_ms: int | None, actor: str) -> dict[str, Any]:
    """下放: send the topic to a named child with instructions and, optionally, a due date."""
    _held_here(topic)
    _movable(topic, "delegated")
    to = _text(to, "target node", 40)
    if not (divisions.is_standard(to) and divisions.parent_of(to) == config["NODE_ID"]):
        from shangliang.federation.models import Peer

        peer = session.get(Peer, to)
        if peer is None or peer.relation != "child":
            raise InputError(f"{to} is not a child of {config['NODE_ID']}: a topic is delegated one level down")
    _peer_or_refuse(session, to, "child")
    instructions = _note(instructions, "instructions")
    if due_ms is not None and due_ms <= _now_ms():
        raise InputError("the due date has passed")
    body: dict[str, Any] = {"topic": _snapshot(topic), "instructions": instructions}
    if due_ms is not None:
        body["due_ms"] = due_ms
    envelope = _send_on(session, config, topic, latest_received(session, topic.uid), to, "delegate", instructions,
                        actor, body, due_ms)
    topic.due_ms = due_ms  # the date given to the child, shown here while the child holds it
    return envelope


def return_topic(session: Session, pm, config: Mapping[str, Any], topic: Topic, reason: str,
                 actor: str) -> dict[str, Any]:
    """退回: send the topic back to the node it came from, with the reason."""
    _held_here(topic)
    received = latest_received(session, topic.uid)
    back_to = returns_to(received, config["NODE_ID"])
    if back_to is None:
        raise InputError(f"topic {topic.uid} was raised here and not sent here since: there is no node to "
                         "return it to")
    _movable(topic, "returned")
    return _send_on(session, config, topic, received, back_to, "return", _note(reason, "reason"), actor)


def _send_on(session: Session, config: Mapping[str, Any], topic: Topic, received: Mapping[str, Any] | None,
             to: str, action: str, text: str, actor: str, body: Mapping[str, Any] | None = None,
             due_ms: int | None = None) -> dict[str, Any]:
    """Pass the topic held here to ``to``: a new envelope with ``body`` if it was raised here and never came
    back, else our ``action`` hop on the envelope that brought it — whose body is the origin's and cannot
    change, so the stage and due date go in our hop's note as trailer lines. Then it is no longer ours."""
    from shangliang.federation import outbox

    _room_for_hop(received)
    if received is None:
        envelope, _ = outbox.originate(session, f"topic.{action}", body, to, action, topic=topic.uid, note=text)
    else:
        note = _with_trailers(text, stage=_stage_trailer(topic, received), due_ms=due_ms)
        envelope, _ = outbox.forward(session, received, to, action, note=note)
    _event(topic, PAST[action], actor, config["NODE_ID"], f"→ {to}: {text}")
    _let_go(topic, to)
    session.flush()
    return envelope


def accept(session: Session, pm, config: Mapping[str, Any], topic: Topic, actor: str) -> dict[str, Any] | None:
    """受理: take responsibility for a topic sent here; the route back to where it was raised is told."""
    _held_here(topic)
    if topic.accepted_ms is not None:
        raise InputError(f"topic {topic.uid} was already accepted here")
    if topic.stage == "closed":
        raise InputError(f"topic {topic.uid} is closed")
    now = _now_ms()
    envelope = _answer(session, topic, "topic.accept", {"decision": "consult"})
    topic.accepted_ms = now
    _event(topic, "accepted", actor, config["NODE_ID"], at_ms=now)
    session.flush()
    return envelope


def record_result(session: Session, pm, config: Mapping[str, Any], topic: Topic, kind: str, title: str,
                  summary: str, measures: list[str], handling_units: list[str], actor: str) -> dict[str, Any] | None:
    """反馈: record the consultation's result, close the topic and send the result back along its route."""
    _held_here(topic)
    _accepted(topic)
    if topic.stage != "feedback":
        raise InputError(f"topic {topic.uid} is {topic.stage}: a result is fed back at the feedback stage")
    result = {"kind": _text(kind, "result kind", 100), "title": _text(title, "result title", 300),
              "summary": _text(summary, "result summary", 20000),
              "measures": [_text(m, "measure", 2000) for m in measures],
              "handling_units": [_text(u, "handling unit", 200) for u in handling_units]}
    reasons = [r for found in pm.hook.topic_transition_guard(topic=topic_dict(topic, events=True),
                                                             from_stage="feedback", to_stage="closed")
               for r in (found or [])]
    if reasons:
        raise InputError("refused: " + "; ".join(reasons))
    now = _now_ms()
    envelope = _answer(session, topic, "topic.result", {"result": result, "closed_ms": now})
    _event(topic, "result", actor, config["NODE_ID"], result["title"], to_stage="closed", at_ms=now)
    topic.result, topic.stage, topic.closed_ms, topic.overdue = json.dumps(result, ensure_ascii=False), "closed", now, False
    session.flush()
    after_commit(session, lambda: pm.hook.topic_stage_changed(topic=topic_dict(topic), from_stage="feedback",
                                                              to_stage="closed", actor=actor))
    return envelope


def progress(session: Session, topic: Topic, stage: str, summary: str) -> dict[str, Any] | None:
    """Tell the route of a stage change on the holder (called by ``services.advance``)."""
    return _answer(session, topic, "topic.progress", {"stage": stage, "summary": summary or stage})


def _accepted(topic: Topic) -> None:
    if topic.accepted_ms is None:
        raise InputError(f"topic {topic.uid} was sent here and is not accepted yet: accept it (topics accept) "
                         "or return it first")


def _answer(session: Session, topic: Topic, kind: str, body: Mapping[str, Any]) -> dict[str, Any] | None:
    """New envelopes from the holder, one ``reply`` hop each: towards where the topic was raised (the upstream)
    and, when the topic was delegated here, to the node that delegated it, if that is not the upstream (a
    delegation back down a route the topic climbed). Returns the first (None if there is no one to tell)."""
    from shangliang.federation import outbox

    received = latest_received(session, topic.uid)
    targets = answer_targets(topic, received)
    in_reply_to = {"origin": received["origin"], "id": received["id"]} if received else None
    sent = [outbox.originate(session, kind, body, target, "reply", topic=topic.uid, in_reply_to=in_reply_to)[0]
            for target in targets]
    return sent[0] if sent else None


# ---------------------------------------------------------------------------------------------
# What an accepted message does here (called by the inbox, in its transaction)


def apply_received(session: Session, envelope: Mapping[str, Any], transfer: Mapping[str, Any]) -> None:
    """Record a topic message a neighbour sent; raise ``InvalidBody`` (nothing stored) for one that does not fit
    what this node knows about the topic."""
    kind = envelope["kind"]
    if kind not in MOVING_KINDS + REPLY_KINDS:
        return
    topic = session.execute(select(Topic).where(Topic.uid == envelope["topic"]).with_for_update()).scalar_one_or_none()
    if kind in MOVING_KINDS:
        _receive_topic(session, topic, envelope, transfer)
    else:
        if topic is None:
            _refuse(f"topic {envelope['topic']} is not known here: an answer follows the topic's route")
        _receive_answer(session, topic, envelope, transfer)


def _refuse(message: str):
    from shangliang.federation.errors import InvalidBody

    raise InvalidBody(message)


def _check_snapshot(envelope: Mapping[str, Any], me: str) -> None:
    """What the wire allows but this node does not keep: refused by name, never cut short."""
    snapshot = envelope["body"]["topic"]
    if snapshot["uid"] != envelope["topic"]:
        _refuse("body.topic.uid is not the envelope's topic")
    if envelope["topic"].split(":", 1)[0] != envelope["origin"]:
        _refuse(f"topic {envelope['topic']} was not raised by {envelope['origin']}, the envelope's origin")
    for field, value in (("title", snapshot["title"]), ("category", snapshot["category"]),
                         ("name", snapshot["raised_by"]["name"])):
        if len(value.strip()) > RECEIVED_LIMITS[field]:
            where = "body.topic.raised_by.name" if field == "name" else f"body.topic.{field}"
            _refuse(f"{where} is longer than {RECEIVED_LIMITS[field]} characters, the most this node keeps")
    areas = snapshot["areas"]
    if len(areas) > MAX_AREAS:
        _refuse(f"body.topic.areas holds {len(areas)} codes; this node keeps at most {MAX_AREAS}")
    outside = [a for a in areas if a[:2] != me[:2]]
    if outside:
        _refuse(f"body.topic.areas holds {outside[0]}, outside this node's province")
    attachments = snapshot.get("attachments", [])
    if not isinstance(attachments, list) or len(attachments) > MAX_ATTACHMENTS or not all(
            isinstance(a, dict) and isinstance(a.get("name"), str) and 0 < len(a["name"].strip()) <= 300
            and isinstance(a.get("size"), int) and not isinstance(a["size"], bool) and a["size"] >= 0
            and isinstance(a.get("sha256"), str) and SHA256.fullmatch(a["sha256"]) and _plain_name(a["name"])
            for a in attachments):
        _refuse(f"body.topic.attachments must be a list of at most {MAX_ATTACHMENTS} objects with a name "
                "(1 to 300 characters), a size in bytes and a sha256 (64 lower-case hex digits)")
    stage = stage_on_arrival(envelope)
    if stage not in MOVABLE:
        _refuse(f"a topic moves between nodes only before research starts; this one arrives {stage[:20]}")


def _plain_name(name: str) -> bool:
    try:
        return file_name(name) == name.strip()
    except InputError:
        return False


def _receive_topic(session: Session, topic: Topic | None, envelope: Mapping[str, Any],
                   transfer: Mapping[str, Any]) -> None:
    me = _node_id()
    _check_snapshot(envelope, me)
    body, last = envelope["body"], envelope["hops"][-1]
    snapshot = body["topic"]
    at = transfer["received_ms"]
    if topic is None:
        if last["action"] == "return":
            _refuse(f"topic {envelope['topic']} is not known here: a topic is returned only to a node it came from")
        topic = Topic(uid=snapshot["uid"], title=snapshot["title"].strip(), description=snapshot["description"],
                      category=snapshot["category"].strip(), areas=json.dumps(sorted(set(snapshot["areas"]))),
                      raised_by_kind=snapshot["raised_by"]["kind"],
                      raised_by_name=snapshot["raised_by"]["name"].strip(), raised_ms=snapshot["raised_ms"],
                      stage=snapshot["stage"], holder=me, overdue=False, updated_ms=at)
        session.add(topic)
    else:
        # A topic known here comes back only as the continuation of the envelope this node passed on.
        if topic.holder == me:
            if _resent(latest_received(session, topic.uid), envelope):
                return  # the sender sent the same transfer again (a new last hop, §5 step 5): nothing changes
            _refuse(f"topic {topic.uid} is held by this node: no one else can pass it here")
        sent = latest_sent(session, topic.uid)
        if sent is None or (sent["origin"], sent["id"]) != (envelope["origin"], envelope["id"]) \
                or envelope["hops"][:len(sent["hops"])] != sent["hops"]:
            _refuse(f"topic {topic.uid} is known here: it comes back only along the route this node sent it on")
    known = {a.sha256 for a in topic.attachments}
    for item in snapshot.get("attachments", []):
        if item["sha256"] not in known:
            known.add(item["sha256"])
            topic.attachments.append(TopicAttachment(name=item["name"].strip(), size=item["size"],
                                                     sha256=item["sha256"]))
    action = last["action"]
    note = split_note(last.get("note", ""))[0]
    raised_here = envelope["topic"].split(":", 1)[0] == me
    held_before = any(e.action == "accepted" and e.node == me for e in topic.events)
    topic.holder, topic.upstream = me, upstream_in(envelope["hops"], me)
    topic.stage = stage_on_arrival(envelope)
    topic.accepted_ms = at if action == "return" and (raised_here or held_before) else None
    topic.due_ms, topic.overdue = due_for(envelope, me), False
    if action == "delegate":
        topic.instructions = body["instructions"] if len(envelope["hops"]) == 1 else note
    _event(topic, PAST[action],
           f"node:{last['from']}", last["from"], f"{last['from']} → {me}" + (f": {note}" if note else ""), at_ms=at)
    session.flush()
    if topic.accepted_ms is not None and topic.upstream is not None:
        # Back at a node that held it: it holds it again, and the route towards the origin hears so.
        _answer(session, topic, "topic.accept", {"decision": "consult"})


def _resent(received: Mapping[str, Any] | None, envelope: Mapping[str, Any]) -> bool:
    """The envelope is the one that brought the topic here, its last hop written again by the same sender."""
    if received is None or (received["origin"], received["id"]) != (envelope["origin"], envelope["id"]):
        return False
    before, again = received["hops"], envelope["hops"]
    # It never takes the place of the transfer that took effect (see latest_received).
    return len(before) == len(again) and before[:-1] == again[:-1] and \
        (before[-1]["from"], before[-1]["action"]) == (again[-1]["from"], again[-1]["action"])


def _receive_answer(session: Session, topic: Topic, envelope: Mapping[str, Any], transfer: Mapping[str, Any]) -> None:
    from shangliang.federation import outbox

    me = _node_id()
    origin, body, kind = envelope["origin"], envelope["body"], envelope["kind"]
    sender = envelope["hops"][-1]["from"]
    # An answer comes from the node this node passed the topic to, about a topic no longer held here.
    if topic.holder == me:
        _refuse(f"topic {topic.uid} is held by this node: {origin} cannot answer for it")
    sent = latest_sent(session, topic.uid)
    if sent is None or sent["hops"][-1]["to"] != sender:
        _refuse(f"topic {topic.uid} was not passed from here to {sender}: answers come back along its route")
    if topic.stage == "closed":
        _refuse(f"topic {topic.uid} is closed here: no further answers are taken")
    actor, at = f"node:{origin}", envelope["created_ms"]
    if kind == "topic.accept":
        _event(topic, "accepted", actor, origin, at_ms=at)
        topic.accepted_ms = at
    elif kind == "topic.progress":
        stage = body["stage"]
        if STAGES.index(stage) < STAGES.index(topic.stage):
            _refuse(f"topic {topic.uid} is {topic.stage} here: progress to {stage} would go back")
        if stage != topic.stage:
            _event(topic, "progress", actor, origin, body["summary"], to_stage=stage, at_ms=at)
            topic.stage = stage
            if stage == "closed":
                topic.closed_ms = at
    else:
        _event(topic, "result", actor, origin, body["result"]["title"], to_stage="closed", at_ms=at)
        topic.result = json.dumps(body["result"], ensure_ascii=False)
        topic.stage, topic.closed_ms = "closed", body["closed_ms"]
    # An answer comes from the node that holds the topic now.
    topic.holder, topic.overdue = origin, False
    session.flush()
    # Relay it on towards where the topic was raised, unless the next node has had it already; every node
    # on the way records it.
    seen = {envelope["origin"]} | {hop["from"] for hop in envelope["hops"]} | {hop["to"] for hop in envelope["hops"]}
    for target in answer_targets(topic, latest_received(session, topic.uid), seen):
        outbox.forward(session, envelope, target, "reply")



# ---------------------------------------------------------------------------------------------
# The route as this node saw it


def route(session: Session, uid: str) -> list[dict[str, Any]]:
    """Every envelope about the topic that this node received or sent, oldest first, each hop re-verified."""
    from shangliang.federation import keys
    from shangliang.federation.models import InboxTransfer, OutboxMessage
    from shangliang.federation.peers import PinnedPeers
    from shangliang.federation.signing import b64u_decode
    from shangliang.federation.verify import check_chain

    me = _node_id()
    own = {row.key_id: b64u_decode(row.public, "key", 32) for row in keys.all_rows(session)}
    pinned = PinnedPeers(session)

    def key_of(node: str, key_id: str, at_ms: int) -> bytes | None:
        return own.get(key_id) if node == me else pinned.key(node, key_id, at_ms)

    items = []
    for row in session.execute(select(InboxTransfer).where(InboxTransfer.topic == uid)).scalars():
        items.append(("received", row.received_ms, row.transfer_id, json.loads(row.envelope), None))
    for row in session.execute(select(OutboxMessage).where(OutboxMessage.topic == uid)).scalars():
        items.append(("sent", row.created_ms, row.transfer_id, json.loads(row.envelope), row.status))
    items.sort(key=lambda item: (item[1], item[0] == "received"))
    out = []
    for direction, at_ms, transfer, envelope, status in items:
        core_problem, problems = check_chain(envelope, key_of)
        out.append({
            "direction": direction, "at_ms": at_ms, "transfer": transfer, "kind": envelope["kind"],
            "origin": envelope["origin"], "id": envelope["id"], "delivery": status,
            "verified": core_problem is None and not any(problems), "core_problem": core_problem,
            "hops": [{"from": h["from"], "to": h["to"], "action": h["action"], "at_ms": h["at_ms"],
                      "note": h.get("note", ""), "key": h["key"], "verified": p is None, "problem": p}
                     for h, p in zip(envelope["hops"], problems)],
        })
    return out


def route_verified(entries: list[Mapping[str, Any]]) -> bool:
    return all(entry["verified"] for entry in entries)


__all__ = ["escalate", "delegate", "return_topic", "accept", "record_result", "progress", "apply_received", "route",
           "route_verified", "path_of", "upstream_in", "latest_received", "MOVABLE", "STAGES"]
