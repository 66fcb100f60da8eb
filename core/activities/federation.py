"""Activities between levels (issue 11, item 5): a higher level joins a lower one's consultation.

Four message kinds in the extension space (PROTOCOL.md §8, docs/protocol.md "Activities between
levels"), each a ``reply`` hop at a time from neighbour to neighbour, relayed by every node between:

- ``x-activities.invite`` — the host invites a higher level (its parent or an ancestor): up, hop by hop,
  to ``target``; it carries the activity's summary.
- ``x-activities.join`` — a higher level accepts (``accept``) or asks to join (``ask``) with its
  participants: down, hop by hop, to the host, which records them as invitations of kind ``node``.
- ``x-activities.opinions`` — the opinions of a level that joined: down to the host, recorded there with
  the node they came from.
- ``x-activities.update`` — the host tells every level that joined what changed (status, consensus,
  minutes, its participants and opinions): up, hop by hop, to each node of ``to``.

Nothing is kept beyond what the federation already keeps: every node's inbox and outbox hold the
envelopes verbatim, and they are the record — the host's invitations and joins, a relay's route (the
child an invite came from is where joins about it go), a higher level's invitations, joins, opinions
and the host's updates. A receiver refuses (422 ``invalid_body``, nothing stored) what does not fit:
a message travelling the wrong way, a join or opinions from a node that is not above the host, an
invite to a node that is not above this one, an activity it does not hold, one already closed, opinions
from a level that has not joined.
"""

from __future__ import annotations

import json
from typing import Any, Iterable, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from shangliang.core import divisions
from shangliang.core.context import NodeContext
from shangliang.core.errors import Conflict, InputError, NotFound
from shangliang.core.i18n import N_
from shangliang.core.topics.models import Topic
from shangliang.federation import outbox
from shangliang.federation.errors import InvalidBody, echo
from shangliang.federation.kinds import TOPIC_UID, Kind, MAX_TEXT, ms, require, text
from shangliang.federation.models import InboxTransfer, OutboxMessage, Peer
from shangliang.federation.verify import direction

from shangliang.core.plugins import flatten

from .models import ACTIVE, INVITATIONS_MAX, OPINIONS_MAX, REPLIES, STATUSES, Activity, Invitation, Opinion

INVITE, JOIN, OPINIONS, UPDATE = "x-activities.invite", "x-activities.join", "x-activities.opinions", "x-activities.update"
UP, DOWN = (INVITE, UPDATE), (JOIN, OPINIONS)
ALL = UP + DOWN
MODES = ("accept", "ask")
PARTICIPANT_KINDS = ("member", "department")
REMOTE_OPINION_KINDS = ("speech", "written")
#: What an update tells: the step at the host that sent it.
EVENTS = ("joined", "opinions", "attend", "consensus", "minutes", "closed", "cancelled")
#: The host sends an update after these actions (and after a join or opinions it records).
UPDATE_AFTER = {"attend": "attend", "consensus": "consensus", "minutes": "minutes", "close": "closed",
                "cancel": "cancelled"}
NOTE, NAME, TITLE, PLACE, FORM = 2_000, 200, 300, 300, 40
PARTICIPANTS_MAX, OPINIONS_PER_MESSAGE, TOPICS_MAX, TO_MAX = 200, 100, 20, 16
#: Minutes travel up to this many characters (a body text's limit); longer ones are marked so.
MINUTES_SENT = MAX_TEXT


# ---------------------------------------------------------------------------------------------
# The kinds and their bodies


def _node_id(value: Any, where: str) -> str:
    if not isinstance(value, str) or not divisions.NODE_ID.fullmatch(value):
        raise InvalidBody(f"{where} is not a node id: {echo(value)}")
    return value


def _uid(value: Any, where: str) -> str:
    if not isinstance(value, str) or not TOPIC_UID.fullmatch(value):
        raise InvalidBody(f"{where} is not an activity uid (<host node>:<id>): {echo(value)}")
    return value


def _short(body: Mapping[str, Any], field: str, where: str, limit: int, required: bool = True,
           empty: bool = False) -> None:
    """A text field of at most ``limit`` characters (what this node keeps: refused, never cut short)."""
    text(body, field, where, required=required, empty=empty)
    if field in body and len(body[field].strip()) > limit:
        raise InvalidBody(f"{where}.{field} is longer than {limit} characters, the most kept")


def _list(body: Mapping[str, Any], field: str, where: str, most: int, least: int = 1) -> list:
    values = require(body, field, list, where)
    if not least <= len(values) <= most:
        raise InvalidBody(f"{where}.{field} must hold {least} to {most} entries, not {len(values)}")
    return values


def _summary(body: Mapping[str, Any]) -> None:
    where = "body.activity"
    activity = require(body, "activity", dict)
    uid = _uid(require(activity, "uid", str, where), where + ".uid")
    host = _node_id(require(activity, "host", str, where), where + ".host")
    if uid.split(":", 1)[0] != host:
        raise InvalidBody(f"{where}.uid {echo(uid)} is not an activity of {host}, its host")
    for field, limit in (("title", TITLE), ("form", FORM), ("place", PLACE), ("organiser", NAME)):
        _short(activity, field, where, limit)
    ms(activity, "starts_ms", where)
    ms(activity, "ends_ms", where)
    if require(activity, "status", str, where) not in STATUSES:
        raise InvalidBody(f"{where}.status must be one of {', '.join(STATUSES)}")
    for index, title in enumerate(_list(activity, "topics", where, TOPICS_MAX, 0)):
        if not isinstance(title, str) or not title.strip() or len(title.strip()) > TITLE:
            raise InvalidBody(f"{where}.topics[{index}] must be a topic's title (1 to {TITLE} characters)")


def _invite(body):
    _summary(body)
    _node_id(require(body, "target", str), "body.target")
    _short(body, "note", "body", NOTE, required=False, empty=True)


def _join(body):
    _uid(require(body, "uid", str), "body.uid")
    if require(body, "mode", str) not in MODES:
        raise InvalidBody(f"body.mode must be one of {', '.join(MODES)}")
    names = set()
    for index, participant in enumerate(_list(body, "participants", "body", PARTICIPANTS_MAX)):
        where = f"body.participants[{index}]"
        if not isinstance(participant, dict):
            raise InvalidBody(f"{where} must be an object {{name, kind}}")
        _short(participant, "name", where, NAME)
        if require(participant, "kind", str, where) not in PARTICIPANT_KINDS:
            raise InvalidBody(f"{where}.kind must be one of {', '.join(PARTICIPANT_KINDS)}")
        if participant["name"].strip() in names:
            raise InvalidBody(f"{where}.name {echo(participant['name'])} is named twice")
        names.add(participant["name"].strip())
    _short(body, "note", "body", NOTE, required=False, empty=True)


def _opinions(body):
    _uid(require(body, "uid", str), "body.uid")
    for index, opinion in enumerate(_list(body, "opinions", "body", OPINIONS_PER_MESSAGE)):
        where = f"body.opinions[{index}]"
        if not isinstance(opinion, dict):
            raise InvalidBody(f"{where} must be an object {{speaker, text, kind}}")
        _short(opinion, "speaker", where, NAME)
        text(opinion, "text", where)
        if require(opinion, "kind", str, where) not in REMOTE_OPINION_KINDS:
            raise InvalidBody(f"{where}.kind must be one of {', '.join(REMOTE_OPINION_KINDS)}")


def _update(body):
    _summary(body)
    targets = _list(body, "to", "body", TO_MAX)
    for index, target in enumerate(targets):
        _node_id(target, f"body.to[{index}]")
    if len(set(targets)) != len(targets):
        raise InvalidBody("body.to names a node twice")
    if require(body, "event", str) not in EVENTS:
        raise InvalidBody(f"body.event must be one of {', '.join(EVENTS)}")
    if require(body, "consensus", (str, type(None))) is not None:
        text(body, "consensus")
    minutes = require(body, "minutes", (dict, type(None)))
    if minutes is not None:
        text(minutes, "text", "body.minutes")
        _short(minutes, "approved_by", "body.minutes", NAME)
        ms(minutes, "approved_ms", "body.minutes")
        require(minutes, "complete", bool, "body.minutes")
    for index, row in enumerate(_list(body, "participants", "body", PARTICIPANTS_MAX * TO_MAX, 0)):
        where = f"body.participants[{index}]"
        if not isinstance(row, dict):
            raise InvalidBody(f"{where} must be an object {{node_id, name, reply, attended}}")
        _node_id(require(row, "node_id", str, where), where + ".node_id")
        _short(row, "name", where, NAME)
        if require(row, "reply", str, where) not in REPLIES:
            raise InvalidBody(f"{where}.reply must be one of {', '.join(REPLIES)}")
        require(row, "attended", (bool, type(None)), where)
    counts = require(body, "opinions", dict)
    for node_id, count in counts.items():
        _node_id(node_id, "body.opinions key")
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise InvalidBody("body.opinions maps node ids to whole numbers from 0")


KINDS = (
    Kind(INVITE, "reply", False, _invite),
    Kind(JOIN, "reply", False, _join),
    Kind(OPINIONS, "reply", False, _opinions),
    Kind(UPDATE, "reply", False, _update),
)


# ---------------------------------------------------------------------------------------------
# Where things are: levels, the route, what the inbox and outbox hold


def host_of(uid: str) -> str:
    return uid.split(":", 1)[0]


def above(upper: str, lower: str) -> bool:
    """``upper`` is a strict ancestor of ``lower`` (by their standard codes)."""
    return divisions.is_ancestor(upper, lower)


def parent_peer(session: Session) -> str | None:
    return session.execute(select(Peer.node_id).where(Peer.relation == "parent")).scalar()


def _relation(session: Session, node_id: str) -> str | None:
    peer = session.get(Peer, node_id)
    return peer.relation if peer is not None else None


def _received(session: Session, kinds: Iterable[str]) -> list[tuple[InboxTransfer, dict[str, Any]]]:
    rows = session.execute(select(InboxTransfer).where(InboxTransfer.kind.in_(list(kinds)))
                           .order_by(InboxTransfer.received_ms, InboxTransfer.transfer_id)).scalars()
    return [(row, json.loads(row.envelope)) for row in rows]


def _sent(session: Session, node: NodeContext, kinds: Iterable[str]) -> list[tuple[OutboxMessage, dict[str, Any]]]:
    """What this node wrote itself (not what it relayed) of ``kinds``, oldest first."""
    rows = session.execute(select(OutboxMessage).where(OutboxMessage.kind.in_(list(kinds)),
                                                       OutboxMessage.origin == node.id)
                           .order_by(OutboxMessage.created_ms, OutboxMessage.id)).scalars()
    return [(row, json.loads(row.envelope)) for row in rows]


def toward_host(session: Session, node: NodeContext, uid: str) -> str | None:
    """The child of this node on the way down to the activity's host: the child an invite about it came
    from (the route it climbed), else the paired child whose code is the host's or above it."""
    host = host_of(uid)
    for _row, envelope in reversed(_received(session, [INVITE])):
        if envelope["body"]["activity"]["uid"] == uid:
            child = envelope["hops"][-1]["from"]
            if _relation(session, child) == "child":
                return child
    for child in session.execute(select(Peer.node_id).where(Peer.relation == "child")).scalars():
        if child == host or above(child, host):
            return child
    return None


def summary(session: Session, activity: Activity) -> dict[str, Any]:
    """The activity as the messages carry it: uid, title, form, time, place, organiser, host, status and
    the titles of its topics."""
    titles = []
    for link in activity.topics:
        title = session.execute(select(Topic.title).where(Topic.uid == link.topic_uid)).scalar()
        titles.append((title or link.topic_uid).strip()[:TITLE])
    return {"uid": activity.uid, "title": activity.title, "form": activity.form, "starts_ms": activity.starts_ms,
            "ends_ms": activity.ends_ms, "place": activity.place, "organiser": activity.organiser,
            "host": activity.held_by, "status": activity.status, "topics": titles}


# ---------------------------------------------------------------------------------------------
# The host (services.py builds on this module: these few rules are its own, the same as there)


def _locked(session: Session, uid: str) -> Activity:
    found = session.execute(select(Activity).where(Activity.uid == uid).options(
        selectinload(Activity.topics), selectinload(Activity.invitations), selectinload(Activity.opinions))
        .with_for_update(of=Activity)).scalar_one_or_none()
    if found is None:
        raise NotFound(N_("no activity %(uid)s on this node", uid=repr(uid[:120])))
    return found


def _guard(node: NodeContext, activity: Activity, action: str, fields: Mapping[str, Any]) -> None:
    """Ask every ``activity_guard`` (as ``services`` does); any reason refuses the change."""
    reasons = flatten(node.pm.hook.activity_guard(activity=activity.as_dict(), action=action, fields=dict(fields),
                                                  config=node.config))
    if reasons:
        raise InputError(f"refused ({action}): " + "; ".join(str(r) for r in reasons))


def _active(activity: Activity, doing: str) -> None:
    if activity.status not in ACTIVE:
        raise Conflict(N_("activity %(uid)s is %(status)s: %(doing)s only while it is planned or open",
                          uid=activity.uid, status=activity.status, doing=doing))



def _joins_about(session: Session, uid: str) -> list[tuple[InboxTransfer, dict[str, Any]]]:
    return [(row, env) for row, env in _received(session, [JOIN]) if env["body"]["uid"] == uid]


def joined_levels(session: Session, uid: str, also: Iterable[str] = ()) -> list[str]:
    """The higher levels that joined activity ``uid`` (the origins of the joins received), first first."""
    return list(dict.fromkeys([env["origin"] for _row, env in _joins_about(session, uid)] + list(also)))


def levels(session: Session, node: NodeContext, uid: str) -> dict[str, Any]:
    """What the host shows of the higher levels: each invitation it sent (and whether delivered), each join
    it received (mode, participants, note)."""
    invited = [{"node_id": env["body"]["target"], "note": env["body"].get("note", ""), "at_ms": env["created_ms"],
                "via": row.destination, "delivery": row.status}
               for row, env in _sent(session, node, [INVITE]) if env["body"]["activity"]["uid"] == uid]
    joined = [{"node_id": env["origin"], "mode": env["body"]["mode"], "at_ms": env["created_ms"],
               "received_ms": row.received_ms, "note": env["body"].get("note", ""),
               "participants": [p["name"].strip() for p in env["body"]["participants"]]}
              for row, env in _joins_about(session, uid)]
    return {"invited": invited, "joined": joined, "parent": node.parent}


def invite_level(session: Session, node: NodeContext, activity: Activity, action: Any, actor: str) -> None:
    """Invite a higher level — the parent, or an ancestor through the nodes between — to the activity: an
    ``x-activities.invite`` to the parent, in this transaction."""
    _active(activity, N_("a higher level is invited"))
    target = (action.node_id or "").strip()
    if not divisions.NODE_ID.fullmatch(target):
        raise InputError(N_("%(target)s is not a node id", target=repr(target[:40])), field="node_id")
    parent = parent_peer(session)
    if parent is None:
        raise InputError(N_("this node has no paired parent: a higher level is reached through it (shangliang peers "
                            "add)"),
                         field="node_id")
    if target != parent and not above(target, node.id):
        raise InputError(N_("%(target)s is not above %(id)s: invite the parent (%(parent)s) or an ancestor",
                            target=target, id=node.id, parent=parent),
                         field="node_id")
    note = (action.note or "").strip()
    if len(note) > NOTE:
        raise InputError(N_("note is longer than %(note)s characters", note=NOTE), field="note")
    if any(t["node_id"] == target for t in levels(session, node, activity.uid)["invited"]):
        raise Conflict(N_("%(target)s is already invited to activity %(uid)s", target=target, uid=activity.uid))
    if target in joined_levels(session, activity.uid):
        raise Conflict(N_("%(target)s has already joined activity %(uid)s", target=target, uid=activity.uid))
    _guard(node, activity, "invite_level", {"node_id": target, "note": note})
    activity.updated_ms = max(activity.updated_ms or 0, node.now_ms())
    body = {"activity": summary(session, activity), "target": target, "note": note}
    outbox.originate(session, node, INVITE, body, parent, "reply")


def send_update(session: Session, node: NodeContext, activity: Activity, event: str, also: Iterable[str] = (),
                in_reply_to: Mapping[str, str] | None = None) -> dict[str, Any] | None:
    """Tell every level that joined (and ``also``) what the activity is now: one ``x-activities.update`` to
    the parent, relayed up. None when no level joined or no parent is paired."""
    targets = [t for t in joined_levels(session, activity.uid, also) if t != node.id][:TO_MAX]
    parent = parent_peer(session)
    if not targets or parent is None:
        return None
    minutes = None
    if activity.minutes is not None:
        minutes = {"text": activity.minutes[:MINUTES_SENT], "approved_by": activity.minutes_approved_by or "-",
                   "approved_ms": activity.minutes_approved_ms or 0,
                   "complete": len(activity.minutes) <= MINUTES_SENT}
    participants = [{"node_id": i.node_id, "name": i.name, "reply": i.reply, "attended": i.attended}
                    for i in activity.invitations if i.kind == "node" and i.node_id in targets]
    counts: dict[str, int] = {}
    for opinion in activity.opinions:
        if opinion.node_id in targets and not opinion.hidden:
            counts[opinion.node_id] = counts.get(opinion.node_id, 0) + 1
    body = {"activity": summary(session, activity), "to": targets, "event": event, "consensus": activity.consensus,
            "minutes": minutes, "participants": participants, "opinions": counts}
    envelope, _row = outbox.originate(session, node, UPDATE, body, parent, "reply", in_reply_to=in_reply_to)
    return envelope


def after_action(session: Session, node: NodeContext, activity: Activity, action: str) -> None:
    """The update a host action sends to the levels that joined (``UPDATE_AFTER``)."""
    event = UPDATE_AFTER.get(action)
    if event is not None:
        send_update(session, node, activity, event)


# ---------------------------------------------------------------------------------------------
# The higher level


def _check_below(session: Session, node: NodeContext, uid: str) -> tuple[str, str]:
    """The host of ``uid`` and the child towards it; refused unless the host is below this node."""
    try:
        uid = _uid(uid, "uid")
    except InvalidBody:
        raise InputError(N_("%(uid)s is not an activity uid (<host node>:<id>)",
                            uid=repr(str(uid)[:120])), field="uid") from None
    host = host_of(uid)
    if host == node.id:
        raise InputError(N_("activity %(uid)s is held here: a level joins the consultation of a node below it",
                            uid=uid),
                         field="uid")
    child = toward_host(session, node, uid)
    if child is None or (divisions.is_standard(host) and not above(node.id, host)):
        raise InputError(N_("%(host)s is not below %(id)s (or no paired child leads to it): a level joins the "
                            "consultation of a node below it", host=host, id=node.id), field="uid")
    return host, child


def join(session: Session, node: NodeContext, uid: str, mode: str, participants: list[Mapping[str, str]],
         note: str, actor: str) -> dict[str, Any]:
    """Accept an invitation (``accept``) or ask to join (``ask``) a lower node's activity with this level's
    participants (members, departments): an ``x-activities.join`` down to the host, in this transaction."""
    if mode not in MODES:
        raise InputError(N_("mode must be one of %(modes)s", modes=', '.join(MODES)), field="mode")
    host, child = _check_below(session, node, uid)
    entry = remote(session, node, uid, missing_ok=True)
    if mode == "accept" and (entry is None or entry["invitation"] is None):
        raise InputError(N_("no invitation to activity %(uid)s reached this node: ask to join instead",
                            uid=uid), field="mode")
    if entry is not None and entry["status"] in ("closed", "cancelled"):
        raise Conflict(N_("activity %(uid)s is %(status)s at %(host)s: it takes no one more", uid=uid,
                          status=entry['status'], host=host))
    people, seen = [], set()
    for index, participant in enumerate(participants):
        name = (participant.get("name") or "").strip()
        kind = participant.get("kind") or "department"
        if not name or len(name) > NAME:
            raise InputError(N_("participant %(index)s: a name of 1 to %(name)s characters", index=index + 1,
                                name=NAME), field="participants")
        if kind not in PARTICIPANT_KINDS:
            raise InputError(N_("participant %(name)s: kind is one of %(participant_kinds)s", name=name,
                                participant_kinds=', '.join(PARTICIPANT_KINDS)), field="participants")
        if name in seen:
            raise InputError(N_("participant %(name)s is named twice", name=name), field="participants")
        seen.add(name)
        people.append({"name": name, "kind": kind})
    if not people:
        raise InputError(N_("name at least one participant (a member or a department)"), field="participants")
    if len(people) > PARTICIPANTS_MAX:
        raise InputError(N_("at most %(participants_max)s participants at a time",
                            participants_max=PARTICIPANTS_MAX), field="participants")
    note = (note or "").strip()
    if len(note) > NOTE:
        raise InputError(N_("note is longer than %(note)s characters", note=NOTE), field="note")
    in_reply_to = None
    if entry is not None and entry["invitation"] is not None:
        in_reply_to = entry["invitation"]["message"]
    envelope, row = outbox.originate(session, node, JOIN, {"uid": uid, "mode": mode, "participants": people,
                                                           "note": note}, child, "reply", in_reply_to=in_reply_to)
    return {"kind": JOIN, "id": envelope["id"], "to": child, "host": host}


def send_opinions(session: Session, node: NodeContext, uid: str, opinions: list[Mapping[str, str]],
                  actor: str) -> dict[str, Any]:
    """Send this level's opinions to the host of an activity it joined: an ``x-activities.opinions`` down."""
    host, child = _check_below(session, node, uid)
    entry = remote(session, node, uid, missing_ok=True)
    if entry is None or not entry["joins"]:
        raise InputError(N_("this node has not joined activity %(uid)s: join it first", uid=uid), field="uid")
    if entry["status"] in ("closed", "cancelled"):
        raise Conflict(N_("activity %(uid)s is %(status)s at %(host)s: it takes no more opinions", uid=uid,
                          status=entry['status'], host=host))
    items = []
    for index, opinion in enumerate(opinions):
        speaker = (opinion.get("speaker") or "").strip()
        body = (opinion.get("text") or "").strip()
        kind = opinion.get("kind") or "written"
        if not speaker or len(speaker) > NAME:
            raise InputError(N_("opinion %(index)s: a speaker of 1 to %(name)s characters", index=index + 1,
                                name=NAME), field="opinions")
        if not body or len(body) > MAX_TEXT:
            raise InputError(N_("opinion %(index)s: a text of 1 to %(max_text)s characters", index=index + 1,
                                max_text=MAX_TEXT), field="opinions")
        if kind not in REMOTE_OPINION_KINDS:
            raise InputError(N_("opinion %(index)s: kind is one of %(remote_opinion_kinds)s", index=index + 1,
                                remote_opinion_kinds=', '.join(REMOTE_OPINION_KINDS)),
                             field="opinions")
        items.append({"speaker": speaker, "text": body, "kind": kind})
    if not items:
        raise InputError(N_("give at least one opinion"), field="opinions")
    if len(items) > OPINIONS_PER_MESSAGE:
        raise InputError(N_("at most %(opinions_per_message)s opinions at a time",
                            opinions_per_message=OPINIONS_PER_MESSAGE), field="opinions")
    envelope, _row = outbox.originate(session, node, OPINIONS, {"uid": uid, "opinions": items}, child, "reply")
    return {"kind": OPINIONS, "id": envelope["id"], "to": child, "host": host}


def remote_list(session: Session, node: NodeContext) -> list[dict[str, Any]]:
    """The lower nodes' activities this level was invited to, joined or asked to join, latest start first."""
    entries: dict[str, dict[str, Any]] = {}

    def entry(uid: str) -> dict[str, Any]:
        return entries.setdefault(uid, {"uid": uid, "host": host_of(uid), "activity": None, "status": None,
                                        "invitation": None, "joins": [], "opinions_sent": [], "consensus": None,
                                        "minutes": None, "participants": [], "opinions_recorded": 0,
                                        "last_update": None, "state": None})

    for row, env in _received(session, [INVITE]):
        if env["body"]["target"] == node.id:
            found = entry(env["body"]["activity"]["uid"])
            found["invitation"] = {"by": env["origin"], "note": env["body"].get("note", ""),
                                   "at_ms": env["created_ms"], "received_ms": row.received_ms,
                                   "message": {"origin": env["origin"], "id": env["id"]}}
            found["activity"] = env["body"]["activity"]
    for row, env in _sent(session, node, DOWN):
        found = entry(env["body"]["uid"])
        if env["kind"] == JOIN:
            found["joins"].append({"mode": env["body"]["mode"], "participants": env["body"]["participants"],
                                   "note": env["body"].get("note", ""), "at_ms": env["created_ms"],
                                   "delivery": row.status})
        else:
            found["opinions_sent"] += [{**o, "at_ms": env["created_ms"], "delivery": row.status}
                                       for o in env["body"]["opinions"]]
    for row, env in _received(session, [UPDATE]):
        body = env["body"]
        if node.id not in body["to"]:
            continue
        found = entry(body["activity"]["uid"])
        if found["last_update"] is not None and found["last_update"]["at_ms"] > env["created_ms"]:
            continue
        found["activity"] = body["activity"]
        found["consensus"], found["minutes"] = body["consensus"], body["minutes"]
        found["participants"] = [p for p in body["participants"] if p["node_id"] == node.id]
        found["opinions_recorded"] = body["opinions"].get(node.id, 0)
        found["last_update"] = {"event": body["event"], "at_ms": env["created_ms"], "received_ms": row.received_ms}
    for found in entries.values():
        found["status"] = found["activity"]["status"] if found["activity"] else None
        found["state"] = ("joined" if found["participants"] else "join_sent" if found["joins"]
                          else "invited" if found["invitation"] else "informed")
    return sorted(entries.values(), key=lambda e: (-(e["activity"] or {}).get("starts_ms", 0), e["uid"]))


def remote(session: Session, node: NodeContext, uid: str, missing_ok: bool = False) -> dict[str, Any] | None:
    """One lower node's activity as this level knows it (``NotFound`` when it knows nothing of it)."""
    found = next((e for e in remote_list(session, node) if e["uid"] == uid), None)
    if found is None and not missing_ok:
        raise NotFound(N_("no activity %(uid)s invited to or joined from this node", uid=repr(str(uid)[:120])))
    return found


# ---------------------------------------------------------------------------------------------
# What an accepted message does here (called by the inbox, in its transaction)


def _check_hops(session: Session, envelope: Mapping[str, Any], way: str) -> None:
    """Every hop goes ``way`` (``up``: child to parent; ``down``); a hop between non-standard ids is judged
    by the receiver's pinned relation to its sender (the last hop) or was judged by the node it reached."""
    hops = envelope["hops"]
    for index, hop in enumerate(hops):
        going = direction(hop["from"], hop["to"])
        if going is None and index == len(hops) - 1:
            relation = _relation(session, hop["from"])
            going = "up" if relation == "child" else "down" if relation == "parent" else "none"
        if going is not None and going != way:
            raise InvalidBody(f"{envelope['kind']} travels {way}, from a {'child' if way == 'up' else 'parent'} "
                              f"to its {'parent' if way == 'up' else 'child'}: hops[{index}] goes from "
                              f"{hop['from']} to {hop['to']}")


def _relay(session: Session, node: NodeContext, envelope: Mapping[str, Any], to: str | None, why: str) -> None:
    if to is None or _relation(session, to) is None:
        raise InvalidBody(f"this node cannot relay {envelope['kind']} {why}: no paired neighbour leads there")
    outbox.forward(session, node, envelope, to, "reply")


def apply_received(session: Session, node: NodeContext, envelope: Mapping[str, Any],
                   transfer: Mapping[str, Any]) -> None:
    """Relay or record an activity message a neighbour sent; raise ``InvalidBody`` (nothing stored) for one
    that does not fit."""
    kind = envelope["kind"]
    if kind not in ALL:
        return
    try:
        if kind in UP:
            _receive_up(session, node, envelope)
        else:
            _receive_down(session, node, envelope, transfer)
    except (InputError, Conflict, NotFound) as exc:  # a rule of the activity, refused by its name
        raise InvalidBody(str(exc)) from None


def _receive_up(session: Session, node: NodeContext, envelope: Mapping[str, Any]) -> None:
    _check_hops(session, envelope, "up")
    me, body = node.id, envelope["body"]
    uid = body["activity"]["uid"]
    if host_of(uid) != envelope["origin"]:
        raise InvalidBody(f"{envelope['kind']} about {uid} comes only from its host, {host_of(uid)}, not from "
                          f"{envelope['origin']}")
    if envelope["kind"] == INVITE:
        target = body["target"]
        if target == me:
            return  # invited: the inbox keeps it; the remote list shows it
        if divisions.is_standard(target) and not above(target, me):
            raise InvalidBody(f"body.target {target} is not above {me}: an invitation goes to a higher level")
        _relay(session, node, envelope, parent_peer(session), f"up to {target}")
        return
    targets = body["to"]
    for target in targets:
        if divisions.is_standard(target) and divisions.is_standard(envelope["origin"]) \
                and not above(target, envelope["origin"]):
            raise InvalidBody(f"body.to names {target}, which is not above the host {envelope['origin']}")
    passed = {envelope["origin"]} | {hop["from"] for hop in envelope["hops"]} | {hop["to"] for hop in envelope["hops"]}
    onward = [t for t in targets if t not in passed and (not divisions.is_standard(t) or above(t, me))]
    if me not in targets and not onward:
        raise InvalidBody(f"{UPDATE} names neither {me} nor a node above it")
    if onward:
        _relay(session, node, envelope, parent_peer(session), f"up to {', '.join(onward)}")


def _receive_down(session: Session, node: NodeContext, envelope: Mapping[str, Any],
                  transfer: Mapping[str, Any]) -> None:
    _check_hops(session, envelope, "down")
    me, body, origin = node.id, envelope["body"], envelope["origin"]
    uid = body["uid"]
    host = host_of(uid)
    if divisions.is_standard(origin) and divisions.is_standard(host) and not above(origin, host):
        raise InvalidBody(f"{origin} is not above {host}, the activity's host: only a higher level joins a "
                          "consultation or sends opinions to it")
    if host != me:
        if divisions.is_standard(host) and not above(me, host):
            raise InvalidBody(f"activity {uid} is held by {host}, which is not below {me}")
        _relay(session, node, envelope, toward_host(session, node, uid), f"down to {host}")
        return
    activity = _locked(session, uid)
    if activity.held_by != me:
        raise InvalidBody(f"activity {uid} is not held by {me}")
    if activity.status not in ("planned", "open"):
        what = "participants" if envelope["kind"] == JOIN else "opinions"
        raise InvalidBody(f"activity {uid} is {activity.status}: it takes no {what} any more")
    at = transfer["received_ms"]
    actor = f"node:{origin}"
    if envelope["kind"] == JOIN:
        known = {i.name for i in activity.invitations if i.kind == "node" and i.node_id == origin}
        new = [p for p in body["participants"] if p["name"].strip() not in known]
        if len(activity.invitations) + len(new) > INVITATIONS_MAX:
            raise InvalidBody(f"activity {uid} would have more than {INVITATIONS_MAX} invitations")
        _guard(node, activity, "join", {"node_id": origin, "mode": body["mode"], "participants": body["participants"]})
        for participant in new:
            activity.invitations.append(Invitation(kind="node", name=participant["name"].strip(), member_id=None,
                                                   node_id=origin, invited_ms=at, reply="attend", replied_ms=at))
        event = "joined"
    else:
        if origin not in joined_levels(session, uid):
            raise InvalidBody(f"{origin} has not joined activity {uid}: its opinions are taken once it joins")
        if len(activity.opinions) + len(body["opinions"]) > OPINIONS_MAX:
            raise InvalidBody(f"activity {uid} would have more than {OPINIONS_MAX} opinions")
        for opinion in body["opinions"]:
            _guard(node, activity, "opinion", {"kind": opinion["kind"], "speaker": opinion["speaker"],
                                               "text": opinion["text"], "node_id": origin})
            activity.opinions.append(Opinion(speaker=opinion["speaker"].strip(), member_id=None, kind=opinion["kind"],
                                             text=opinion["text"].strip(), at_ms=at, posted_by=actor, node_id=origin,
                                             hidden=False))
        event = "opinions"
    activity.updated_ms = max(activity.updated_ms or 0, at)
    session.flush()
    send_update(session, node, activity, event, also=[origin],
                in_reply_to={"origin": origin, "id": envelope["id"]})
