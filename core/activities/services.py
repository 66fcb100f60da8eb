"""Activity services: the rules of a consultation activity (协商活动) from its planning to its minutes — topics,
invitations and replies, attendance, materials, research before consulting, speeches and opinions, the
online window (网络协商) and its moderation, the consensus, the minutes, closing and cancelling — for
pages, the API, commands and tasks alike.

Every change locks the activity's row, asks the ``activity_guard`` hook under that lock, and either
stores all of itself or (on any refusal) nothing; the caller's transaction commits it. Closing tells
``activity_closed`` once the transaction has committed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import tempfile
import zoneinfo
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from shangliang.core.clock import datetime_of
from shangliang.core.context import NodeContext
from shangliang.core.db import after_commit
from shangliang.core.errors import Conflict, InputError, NotFound
from shangliang.core.i18n import N_
from shangliang.core.members.models import Member
from shangliang.core.models import Role
from shangliang.core.pagination import Page, page
from shangliang.core.plans import forms
from shangliang.core.plugins import flatten
from shangliang.core.topics import services as topics
from shangliang.core.topics.models import STAGES, Topic
from shangliang.core.work import count_and_first
from shangliang.federation.ids import ulid

from . import federation
from .models import (ACTIVE, INVITATIONS_MAX, INVITEE_KINDS, OPINIONS_MAX, STATUSES, Activity, ActivityTopic,
                     Invitation, Material, Opinion, Research)
from .schemas import (ActivityAttendAction, ActivityCancelAction, ActivityCloseAction, ActivityCloseWindowAction,
                      ActivityConsensusAction, ActivityIn, ActivityInviteAction, ActivityInviteLevelAction,
                      ActivityMinutesAction,
                      ActivityModerateAction, ActivityOpenWindowAction, ActivityOpinionAction, ActivityReplyAction,
                      ActivityResearchAction)

#: Roles that plan and run activities; every signed-in user may read them.
WRITERS = frozenset({Role.ADMIN.value, Role.OFFICE.value})
#: Roles that post opinions online while a window is open (网络协商).
ONLINE_ROLES = frozenset({Role.MEMBER.value, Role.PUBLIC.value})
#: The topic stages at which an activity may consult a topic: determined, researching before it, consulting.
CONSULTABLE = ("determined", "researching", "consulting")

TITLE, TEXT, PLACE, NAME, REASON, MINUTES, ONLINE_TEXT = 300, 20_000, 300, 200, 2_000, 100_000, 5_000
TOPICS_MAX, MATERIALS_MAX = 20, 50
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
text = topics.text


# ---------------------------------------------------------------------------------------------
# Times


def _zone(config: Mapping[str, Any]) -> dt.tzinfo:
    return zoneinfo.ZoneInfo(config.get("TIMEZONE") or "Asia/Shanghai")


def parse_moment(value: Any, config: Mapping[str, Any], field: str) -> int:
    """``YYYY-MM-DD HH:MM`` (the node's time zone), ``YYYY-MM-DD`` (its midnight) or ISO 8601 with an
    offset, as epoch milliseconds; a named error otherwise."""
    raw = text(value, field, 40)
    try:
        moment = dt.datetime.fromisoformat(raw.replace(" ", "T", 1) if len(raw) > 10 else raw)
    except ValueError:
        raise InputError(N_("%(field)s %(raw)s is not a moment: write YYYY-MM-DD HH:MM", field=field,
                            raw=repr(raw)), field=field) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_zone(config))
    return int(moment.timestamp() * 1000)


def parse_date(value: Any, config: Mapping[str, Any], field: str) -> int:
    raw = text(value, field, 10)
    if not DATE.fullmatch(raw):
        raise InputError(N_("%(field)s %(raw)s is not a date: write YYYY-MM-DD", field=field,
                            raw=repr(raw)), field=field)
    return parse_moment(raw, config, field)


def local(ms: int | None, config: Mapping[str, Any]) -> dt.datetime | None:
    return None if ms is None else datetime_of(ms, _zone(config))


# ---------------------------------------------------------------------------------------------
# Finding activities


def get_activity(session: Session, uid: str, lock: bool = False) -> Activity:
    """The activity ``uid``; ``lock`` takes its row (PostgreSQL) so that two changes to it never interleave."""
    query = select(Activity).where(Activity.uid == uid).options(
        selectinload(Activity.topics), selectinload(Activity.invitations), selectinload(Activity.materials),
        selectinload(Activity.research), selectinload(Activity.opinions))
    if lock:
        query = query.with_for_update(of=Activity)
    found = session.execute(query).scalar_one_or_none()
    if found is None:
        raise NotFound(N_("no activity %(uid)s on this node", uid=repr(str(uid)[:120])))
    return found


def list_activities(session: Session, status: str | None = None, limit: int | None = None,
                    cursor: str | None = None) -> Page[Activity]:
    """Activities held here, the latest start first; a page of ``limit`` after ``cursor`` (all: None)."""
    query = select(Activity).options(selectinload(Activity.topics), selectinload(Activity.opinions))
    if status is not None:
        if status not in STATUSES:
            raise InputError(N_("unknown status %(status)s; statuses: %(statuses)s", status=repr(status[:40]),
                                statuses=', '.join(STATUSES)), field="status")
        query = query.where(Activity.status == status)
    return page(session, query, [Activity.starts_ms, Activity.id], lambda a: [a.starts_ms, a.id], limit, cursor)


def show(node: NodeContext, activity: Activity) -> dict[str, Any]:
    """The activity with everything recorded on it, and whether its online window is open now."""
    from sqlalchemy.orm import object_session

    data = activity.as_dict()
    data["window_open"] = activity.window_open(node.now_ms())
    session = object_session(activity)
    data["levels"] = federation.levels(session, node, activity.uid) if session is not None else None
    return data


def activities_of_topic(session: Session, topic_uid: str) -> list[Activity]:
    """The activities that consult a topic (for its page and for plans)."""
    return list(session.execute(select(Activity).join(ActivityTopic).where(ActivityTopic.topic_uid == topic_uid)
                                .order_by(Activity.starts_ms)).scalars())


# ---------------------------------------------------------------------------------------------
# The guard and small checks


def _guard(node: NodeContext, activity: Activity, action: str, fields: Mapping[str, Any]) -> None:
    """Ask every ``activity_guard``; any reason refuses the change (nothing is stored)."""
    reasons = flatten(node.pm.hook.activity_guard(activity=activity.as_dict(), action=action, fields=dict(fields),
                                                  config=node.config))
    if reasons:
        raise InputError(f"refused ({action}): " + "; ".join(str(r) for r in reasons))


def _active(activity: Activity, doing: str) -> None:
    if activity.status not in ACTIVE:
        raise Conflict(N_("activity %(uid)s is %(status)s: %(doing)s only while it is planned or open",
                          uid=activity.uid, status=activity.status, doing=doing))


def _touch(node: NodeContext, activity: Activity) -> int:
    now = node.now_ms()
    activity.updated_ms = max(activity.updated_ms or 0, now)
    return now


def _member_by_number(session: Session, number: Any, field: str = "member_no") -> Member:
    number = text(number, "member number", 40)
    member = session.execute(select(Member).where(Member.member_no == number)).scalar_one_or_none()
    if member is None:
        raise InputError(N_("no member with the number %(number)s on this node", number=repr(number)), field=field)
    return member


def _dump(action: Any) -> dict[str, Any]:
    return action.model_dump() if hasattr(action, "model_dump") else dict(action)


# ---------------------------------------------------------------------------------------------
# Planning an activity


def create(session: Session, node: NodeContext, data: ActivityIn, actor: str) -> Activity:
    """Plan an activity on topics this node holds (accepted, determined or later, before implementing), in
    one of the node's consultation forms."""
    form = forms.form_of(node.pm, data.form).key
    title = text(data.title, "title", TITLE)
    description = text(data.description, "description", TEXT, required=False)
    place = text(data.place, "place", PLACE)
    organiser = text(data.organiser, "organiser", NAME)
    starts_ms = parse_moment(data.starts, node.config, "starts")
    ends_ms = parse_moment(data.ends, node.config, "ends")
    if ends_ms <= starts_ms:
        raise InputError(N_("the activity ends before it starts"), field="ends")
    uids = [text(u, "topic uid", 120) for u in data.topics]
    if not uids:
        raise InputError(N_("topics is empty: an activity consults at least one topic"), field="topics")
    if len(set(uids)) != len(uids):
        raise InputError(N_("a topic is named twice"), field="topics")
    if len(uids) > TOPICS_MAX:
        raise InputError(N_("an activity consults at most %(topics_max)s topics",
                            topics_max=TOPICS_MAX), field="topics")
    for uid in uids:
        topic = session.execute(select(Topic).where(Topic.uid == uid)).scalar_one_or_none()
        if topic is None:
            raise InputError(N_("no topic %(uid)s on this node", uid=repr(uid)), field="topics")
        if topic.holder != node.id:
            raise InputError(N_("topic %(uid)s is held by %(holder)s, not by this node: an activity consults topics "
                                "held here", uid=uid, holder=topic.holder), field="topics")
        if topic.accepted_ms is None:
            raise InputError(N_("topic %(uid)s was sent here and is not accepted yet", uid=uid), field="topics")
        if topic.stage not in CONSULTABLE:
            raise InputError(N_("topic %(uid)s is %(stage)s: an activity consults a topic that is %(consultable)s",
                                uid=uid, stage=topic.stage, consultable=', '.join(CONSULTABLE)), field="topics")
    now = node.now_ms()
    activity = Activity(uid=f"{node.id}:{ulid(now)}", form=form, title=title, description=description,
                        starts_ms=starts_ms, ends_ms=ends_ms, place=place, organiser=organiser, held_by=node.id,
                        status="planned", created_ms=now, updated_ms=now)
    activity.topics = [ActivityTopic(topic_uid=uid) for uid in uids]
    activity.invitations, activity.materials, activity.research, activity.opinions = [], [], [], []
    _guard(node, activity, "create", data.model_dump())
    session.add(activity)
    session.flush()
    return activity


# ---------------------------------------------------------------------------------------------
# Actions: one entry point for pages, the API and commands


@dataclass
class Outcome:
    """What an action did: the activity after it, and (on closing) each member's part in it."""

    activity: Activity
    participation: list[dict[str, Any]] | None = None

    def as_dict(self, node: NodeContext) -> dict[str, Any]:
        return {"activity": show(node, self.activity), "participation": self.participation}


def act(session: Session, node: NodeContext, uid: str, action: Any, actor: str) -> Outcome:
    """Run ``action`` (one of the ``Activity*Action`` shapes) on activity ``uid``, its row locked, after the
    ``activity_guard`` hook has been asked under the lock."""
    activity = get_activity(session, uid, lock=True)
    handlers = {
        ActivityInviteAction: invite, ActivityReplyAction: reply, ActivityAttendAction: attend,
        ActivityResearchAction: research, ActivityOpinionAction: record_opinion,
        ActivityOpenWindowAction: open_window, ActivityCloseWindowAction: close_window,
        ActivityModerateAction: moderate, ActivityConsensusAction: consensus, ActivityMinutesAction: minutes,
        ActivityCloseAction: close, ActivityCancelAction: cancel, ActivityInviteLevelAction: invite_level,
    }
    handler = handlers.get(type(action))
    if handler is None:
        raise InputError(N_("unknown action %(name)s", name=type(action).__name__), field="action")
    result = handler(session, node, activity, action, actor)
    session.flush()
    federation.after_action(session, node, activity, getattr(action, "action", ""))
    return Outcome(activity, result if isinstance(result, list) else None)


def invite(session: Session, node: NodeContext, activity: Activity, action: ActivityInviteAction,
           actor: str) -> None:
    """Invite a member (by number), a department, a person of the public, or a participant from another node."""
    _active(activity, N_("invitations are sent"))
    if action.kind not in INVITEE_KINDS:
        raise InputError(N_("unknown invitee kind %(kind)s; kinds: %(invitee_kinds)s",
                            kind=repr(str(action.kind)[:40]), invitee_kinds=', '.join(INVITEE_KINDS)),
                         field="kind")
    member_id, node_id = None, None
    if action.kind == "member":
        if not (action.member_no or "").strip():
            raise InputError(N_("a member is invited by member number"), field="member_no")
        member = _member_by_number(session, action.member_no)
        name, member_id = member.name, member.id
        if any(i.member_id == member.id for i in activity.invitations):
            raise Conflict(N_("%(name)s (%(member_no)s) is already invited to activity %(uid)s", name=member.name,
                              member_no=member.member_no, uid=activity.uid))
    else:
        name = text(action.name, "name", NAME)
        if action.kind == "node":
            node_id = text(action.node_id, "node id", 40)
            if node_id == node.id:
                raise InputError(N_("a participant from another node names that node, not this one"), field="node_id")
        if any(i.kind == action.kind and i.name == name and i.node_id == node_id for i in activity.invitations):
            raise Conflict(N_("%(name)s is already invited to activity %(uid)s", name=name, uid=activity.uid))
    if len(activity.invitations) >= INVITATIONS_MAX:
        raise InputError(N_("activity %(uid)s already has %(invitations_max)s invitations, the most it may have",
                            uid=activity.uid, invitations_max=INVITATIONS_MAX))
    _guard(node, activity, "invite", _dump(action))
    now = _touch(node, activity)
    activity.invitations.append(Invitation(kind=action.kind, name=name, member_id=member_id, node_id=node_id,
                                           invited_ms=now, reply="pending"))


def invite_level(session: Session, node: NodeContext, activity: Activity, action: ActivityInviteLevelAction,
                 actor: str) -> None:
    """Invite a higher level — the parent, or an ancestor through the nodes between — over signed messages
    (``x-activities.invite``, core/activities/federation.py), in this transaction."""
    federation.invite_level(session, node, activity, action, actor)


def reply(session: Session, node: NodeContext, activity: Activity, action: ActivityReplyAction, actor: str) -> None:
    """Record a reply to an invitation that exists: attend, decline, or leave (请假) with its reason."""
    _active(activity, N_("replies are recorded"))
    invitation = next((i for i in activity.invitations if i.id == action.invitation), None)
    if invitation is None:
        raise InputError(N_("activity %(uid)s has no invitation %(invitation)s: only an invitee replies",
                            uid=activity.uid, invitation=action.invitation),
                         field="invitation")
    reason = text(action.reason, "reason", REASON, required=action.reply == "leave")
    _guard(node, activity, "reply", _dump(action))
    invitation.reply, invitation.reason, invitation.replied_ms = action.reply, reason or None, _touch(node, activity)


def _invitation_of(activity: Activity, session: Session, who: str) -> Invitation | None:
    who = who.strip()
    for invitation in activity.invitations:
        if invitation.name == who:
            return invitation
    member = session.execute(select(Member).where(Member.member_no == who)).scalar_one_or_none()
    if member is not None:
        return next((i for i in activity.invitations if i.member_id == member.id), None)
    return None


def attend(session: Session, node: NodeContext, activity: Activity, action: ActivityAttendAction,
           actor: str) -> None:
    """Take attendance: the invitees named are present, every other invitee absent. A person not invited
    refuses the whole roll (nothing stored). The activity is under way (``open``) from then on."""
    _active(activity, N_("attendance is taken"))
    present: dict[int, Invitation] = {}
    for who in action.present:
        name = text(who, "attendee", NAME)
        invitation = _invitation_of(activity, session, name)
        if invitation is None:
            raise InputError(N_("%(name)s was not invited to activity %(uid)s: attendance is taken of invitees only "
                                "(invite them first)", name=name, uid=activity.uid), field="present")
        present[invitation.id] = invitation
    _guard(node, activity, "attend", _dump(action))
    for invitation in activity.invitations:
        invitation.attended = invitation.id in present
    activity.status = "open"
    _touch(node, activity)


def research(session: Session, node: NodeContext, activity: Activity, action: ActivityResearchAction,
             actor: str) -> None:
    """议前调研: record research before consulting; each topic of the activity held here at ``determined``
    moves to ``researching`` through the topics service (its guards and its progress report)."""
    _active(activity, N_("research is recorded"))
    row = Research(who=text(action.who, "who", PLACE), place=text(action.place, "place", PLACE),
                   done_ms=parse_date(action.date, node.config, "date"),
                   findings=text(action.findings, "findings", TEXT), recorded_by=actor)
    _guard(node, activity, "research", _dump(action))
    row.recorded_ms = _touch(node, activity)
    activity.research.append(row)
    for link in activity.topics:
        topic = topics.get_topic(session, link.topic_uid, lock=True)
        if topic.holder == node.id and topic.accepted_ms is not None and topic.stage == "determined":
            topics.advance(session, node, topic, "researching",
                           f"research for activity {activity.uid}: {row.who}, {row.place}", actor)


def record_opinion(session: Session, node: NodeContext, activity: Activity, action: ActivityOpinionAction,
                   actor: str) -> None:
    """Record a speech or a written opinion per speaker (office staff, at any time before closing)."""
    _active(activity, N_("opinions are recorded"))
    if action.kind not in ("speech", "written"):
        raise InputError(N_("office staff record speeches and written opinions; online opinions are posted by "
                            "members and the public while the window is open"), field="kind")
    member_id = _member_by_number(session, action.member_no).id if (action.member_no or "").strip() else None
    speaker = text(action.speaker, "speaker", NAME)
    body = text(action.text, "text", TEXT)
    _opinion_room(activity)
    _guard(node, activity, "opinion", _dump(action))
    now = _touch(node, activity)
    activity.opinions.append(Opinion(speaker=speaker, member_id=member_id, kind=action.kind, text=body, at_ms=now,
                                     posted_by=actor, node_id=node.id, hidden=False))


def _opinion_room(activity: Activity) -> None:
    if len(activity.opinions) >= OPINIONS_MAX:
        raise InputError(N_("activity %(uid)s already has %(opinions_max)s opinions, the most it may have",
                            uid=activity.uid, opinions_max=OPINIONS_MAX))


def post_online(session: Session, node: NodeContext, uid: str, body: Any, user: Mapping[str, Any],
                actor: str) -> Opinion:
    """网络协商: an opinion posted by a signed-in member or person of the public, only while the activity's
    online window is open (outside it: refused, nothing stored). ``user``: username, display_name, role,
    member_id."""
    activity = get_activity(session, uid, lock=True)
    if user.get("role") not in ONLINE_ROLES:
        raise InputError(N_("online opinions are posted by signed-in members and the public (roles "
                            "%(online_roles)s); office staff record speeches and written opinions",
                            online_roles=', '.join(sorted(ONLINE_ROLES))))
    now = node.now_ms()
    if not activity.window_open(now):
        if activity.window_opens_ms is None:
            raise InputError(N_("activity %(uid)s has no online window: opinions are posted online only while its "
                                "window is open", uid=activity.uid))
        raise InputError(N_("the online window of activity %(uid)s is not open now (it opens %(moment)s and closes "
                            "%(moment2)s): opinions are posted only while it is open", uid=activity.uid,
                            moment=_moment(activity.window_opens_ms, node),
                            moment2=_moment(activity.window_closes_ms, node)))
    opinion_text = text(body, "text", ONLINE_TEXT)
    _opinion_room(activity)
    _guard(node, activity, "opinion", {"kind": "online", "text": opinion_text, "user": user.get("username")})
    _touch(node, activity)
    speaker = text(user.get("display_name") or user.get("username"), "speaker", NAME)
    opinion = Opinion(speaker=speaker, member_id=user.get("member_id"), kind="online", text=opinion_text, at_ms=now,
                      posted_by=actor, node_id=node.id, hidden=False)
    activity.opinions.append(opinion)
    session.flush()
    return opinion


def _moment(ms: int | None, node: NodeContext) -> str:
    moment = local(ms, node.config)
    return moment.strftime("%Y-%m-%d %H:%M") if moment else "-"


def open_window(session: Session, node: NodeContext, activity: Activity, action: ActivityOpenWindowAction,
                actor: str) -> None:
    """Open the online window from ``opens`` (default now) until ``closes``; the activity is ``open``."""
    _active(activity, N_("an online window is opened"))
    now = node.now_ms()
    opens_ms = parse_moment(action.opens, node.config, "opens") if (action.opens or "").strip() else now
    closes_ms = parse_moment(action.closes, node.config, "closes")
    if closes_ms <= max(opens_ms, now):
        raise InputError(N_("the window would close before it opens or in the past"), field="closes")
    _guard(node, activity, "open_window", _dump(action))
    activity.window_opens_ms, activity.window_closes_ms, activity.status = opens_ms, closes_ms, "open"
    _touch(node, activity)


def close_window(session: Session, node: NodeContext, activity: Activity, action: Any, actor: str) -> None:
    """Close the online window now."""
    _active(activity, N_("the online window is closed"))
    now = node.now_ms()
    if not activity.window_open(now):
        raise Conflict(N_("the online window of activity %(uid)s is not open", uid=activity.uid))
    _guard(node, activity, "close_window", _dump(action))
    activity.window_closes_ms = now
    _touch(node, activity)


def moderate(session: Session, node: NodeContext, activity: Activity, action: ActivityModerateAction,
             actor: str) -> None:
    """Hide an opinion, or merge it into another opinion of the activity, with the reason; the moderator and
    the moment are recorded on the opinion."""
    _active(activity, N_("opinions are moderated"))
    by_id = {o.id: o for o in activity.opinions}
    opinion = by_id.get(action.opinion)
    if opinion is None:
        raise InputError(N_("activity %(uid)s has no opinion %(opinion)s", uid=activity.uid,
                            opinion=action.opinion), field="opinion")
    if opinion.hidden or opinion.merged_into_id is not None:
        raise Conflict(N_("opinion %(id)s was already moderated (%(value)s)", id=opinion.id,
                          value='hidden' if opinion.hidden else 'merged'))
    reason = text(action.reason, "reason", REASON)
    target = None
    if action.decision == "merge":
        target = by_id.get(action.into) if action.into is not None else None
        if target is None:
            raise InputError(N_("merge into which opinion? activity %(uid)s has no opinion %(into)s",
                                uid=activity.uid, into=action.into),
                             field="into")
        if target.id == opinion.id or target.hidden or target.merged_into_id is not None:
            raise InputError(N_("opinion %(id)s is merged into another shown opinion, not %(id2)s", id=opinion.id,
                                id2=target.id),
                             field="into")
    _guard(node, activity, "moderate", _dump(action))
    now = _touch(node, activity)
    opinion.hidden = action.decision == "hide"
    opinion.merged_into_id = target.id if target is not None else None
    opinion.moderation_reason, opinion.moderated_by, opinion.moderated_ms = reason, actor, now


def consensus(session: Session, node: NodeContext, activity: Activity, action: ActivityConsensusAction,
              actor: str) -> None:
    """Record the consensus reached, with the counts of the opinions it summarises."""
    _active(activity, N_("the consensus is recorded"))
    body = text(action.text, "consensus", TEXT)
    _guard(node, activity, "consensus", _dump(action))
    now = _touch(node, activity)
    activity.consensus, activity.consensus_ms = body, now
    activity.consensus_counts = json.dumps(activity.counts())


def minutes(session: Session, node: NodeContext, activity: Activity, action: ActivityMinutesAction,
            actor: str) -> None:
    """Approve and publish the minutes (who approved them, when)."""
    _active(activity, N_("minutes are approved"))
    body = text(action.text, "minutes", MINUTES)
    approved_by = text(action.approved_by, "approved by", NAME)
    _guard(node, activity, "minutes", _dump(action))
    activity.minutes, activity.minutes_approved_by = body, approved_by
    activity.minutes_approved_ms = _touch(node, activity)


def participation(activity: Activity) -> list[dict[str, Any]]:
    """Each member's part in the activity — invited, reply, attendance, opinions not hidden — for the
    member's duty record (履职档案)."""
    rows: dict[int, dict[str, Any]] = {}
    for invitation in activity.invitations:
        if invitation.member_id is not None:
            rows[invitation.member_id] = {"member_id": invitation.member_id, "name": invitation.name, "invited": True,
                                          "reply": invitation.reply, "attended": invitation.attended, "opinions": 0}
    for opinion in activity.opinions:
        if opinion.member_id is None or opinion.hidden:
            continue
        row = rows.setdefault(opinion.member_id, {"member_id": opinion.member_id, "name": opinion.speaker,
                                                  "invited": False, "reply": None, "attended": None, "opinions": 0})
        row["opinions"] += 1
    return sorted(rows.values(), key=lambda r: r["member_id"])


def close(session: Session, node: NodeContext, activity: Activity, action: Any, actor: str) -> list[dict[str, Any]]:
    """Close the activity once its minutes are published: each topic's loop records it — a topic held here
    at ``determined`` or ``researching`` moves (stage by stage, through the topics service) to
    ``consulting``, and every topic gets a ``consulted`` event naming the activity. Returns each member's
    part in it; ``activity_closed`` is told after the commit."""
    _active(activity, N_("an activity is closed"))
    if activity.minutes_approved_ms is None:
        raise Conflict(N_("activity %(uid)s has no approved minutes: approve and publish them first", uid=activity.uid))
    _guard(node, activity, "close", _dump(action))
    now = _touch(node, activity)
    note = f"activity {activity.uid}: {activity.title}"
    for link in activity.topics:
        topic = topics.get_topic(session, link.topic_uid, lock=True)
        if topic.holder == node.id and topic.accepted_ms is not None and topic.stage in ("determined", "researching"):
            for stage in STAGES[STAGES.index(topic.stage) + 1:STAGES.index("consulting") + 1]:
                topics.advance(session, node, topic, stage, f"consulted at {note}"[:topics.limits.PROGRESS_SUMMARY],
                               actor)
        topic.record("consulted", actor, node.id, now, note)
    activity.status, activity.closed_ms = "closed", now
    if activity.window_closes_ms is not None and activity.window_closes_ms > now:
        activity.window_closes_ms = now
    session.flush()
    data = activity.as_dict()
    after_commit(session, lambda: node.pm.hook.activity_closed(activity=data, actor=actor))
    return participation(activity)


def cancel(session: Session, node: NodeContext, activity: Activity, action: ActivityCancelAction,
           actor: str) -> None:
    """Cancel an activity that has not closed, with the reason (its records stay)."""
    _active(activity, N_("an activity is cancelled"))
    reason = text(action.reason, "reason", REASON)
    _guard(node, activity, "cancel", _dump(action))
    activity.status, activity.cancelled_reason = "cancelled", reason
    if activity.window_closes_ms is not None and activity.window_closes_ms > node.now_ms():
        activity.window_closes_ms = node.now_ms()
    _touch(node, activity)


# ---------------------------------------------------------------------------------------------
# Materials: the bytes are kept as topic attachments are (the node directory, under their SHA-256)


def upload_limit(config: Mapping[str, Any]) -> int:
    return topics.upload_limit(config)


def read_upload(read: Any, declared: int | None, config: Mapping[str, Any]) -> bytes:
    return topics.read_upload(read, declared, config)


def keep_bytes(node: NodeContext, data: bytes) -> str:
    """Keep ``data`` in the node directory under its SHA-256 (once, whoever names it); returns the hash."""
    digest = hashlib.sha256(data).hexdigest()
    path = topics.attachment_path(node, digest)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    return digest


def add_materials(session: Session, node: NodeContext, uid: str, files: Iterable[tuple[Any, bytes]],
                  actor: str) -> list[Material]:
    """Send materials beforehand: files named on activity ``uid`` (its row locked); all, or none."""
    activity = get_activity(session, uid, lock=True)
    _active(activity, N_("materials are added"))
    added = []
    for name, data in files:
        name = topics.file_name(name)
        limit = topics.attachment_limit(node.config)
        if not data:
            raise InputError(N_("%(name)s is empty", name=name))
        if len(data) > limit:
            raise InputError(N_("%(name)s is %(count)s bytes; a file may have at most %(limit)s", name=name,
                                count=len(data), limit=limit))
        if len(activity.materials) >= MATERIALS_MAX:
            raise InputError(N_("activity %(uid)s already has %(materials_max)s materials, the most it may have",
                                uid=activity.uid, materials_max=MATERIALS_MAX))
        digest = hashlib.sha256(data).hexdigest()
        same = next((m for m in activity.materials if m.sha256 == digest), None)
        if same is not None:
            raise InputError(N_("these bytes are already a material of activity %(uid)s, as %(name)s",
                                uid=activity.uid, name=same.name))
        _guard(node, activity, "material", {"name": name, "size": len(data), "sha256": digest})
        keep_bytes(node, data)
        material = Material(name=name, size=len(data), sha256=digest, added_ms=_touch(node, activity))
        activity.materials.append(material)
        added.append(material)
    session.flush()
    return added


def material_file(session: Session, node: NodeContext, uid: str, sha256: str) -> tuple[Material, Path]:
    """A material and the path of its bytes here; ``NotFound`` when the activity has no such material."""
    activity = get_activity(session, uid)
    found = next((m for m in activity.materials if m.sha256 == sha256), None)
    if found is None:
        raise NotFound(N_("activity %(uid)s has no material with SHA-256 %(sha256)s", uid=activity.uid,
                          sha256=sha256[:70]))
    path = topics.attachment_path(node, sha256)
    if not path.is_file():
        raise NotFound(N_("the bytes of %(name)s are not kept on this node", name=found.name))
    return found, path


# ---------------------------------------------------------------------------------------------
# iCalendar


def calendar(session: Session, node: NodeContext) -> bytes:
    """The node's activities as an iCalendar file (RFC 5545): one VEVENT each, cancelled ones marked so."""
    from icalendar import Calendar, Event

    cal = Calendar()
    cal.add("prodid", "-//Shangliang//activities//ZH")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", f"{node.name} 协商活动" if node.name else "协商活动")
    stamp = dt.datetime.fromtimestamp(node.now_ms() / 1000, dt.UTC)
    for activity in list_activities(session).items:
        starts, ends = datetime_of(activity.starts_ms), datetime_of(activity.ends_ms)
        if starts is None or ends is None:
            continue
        event = Event()
        event.add("uid", f"{activity.uid}@shangliang")
        event.add("dtstamp", stamp)
        event.add("dtstart", starts)
        event.add("dtend", ends)
        event.add("summary", activity.title)
        event.add("location", activity.place)
        event.add("categories", [activity.form])
        event.add("status", {"cancelled": "CANCELLED", "planned": "TENTATIVE"}.get(activity.status, "CONFIRMED"))
        event.add("description", "\n".join(part for part in (
            f"组织: {activity.organiser}", activity.description,
            f"议题: {', '.join(t.topic_uid for t in activity.topics)}") if part))
        event.add("last-modified", dt.datetime.fromtimestamp(activity.updated_ms / 1000, dt.UTC))
        cal.add_component(event)
    return cal.to_ical()


# -- what waits on the workbench (core/work.py) ---------------------------------------------------------


def invitations_to_answer(session: Session, member_id: int | None) -> tuple[int, list[Invitation]]:
    """The member's invitations to activities still ahead that they have not answered, soonest first."""
    if member_id is None:
        return 0, []
    return count_and_first(session, select(Invitation).join(Activity).where(
        Invitation.member_id == member_id, Invitation.reply == "pending", Activity.status.in_(ACTIVE))
        .order_by(Activity.starts_ms, Invitation.id))


def coming(session: Session, node: NodeContext) -> tuple[int, list[Activity]]:
    """Activities held here that are planned or under way, soonest first (the office's calendar)."""
    return count_and_first(session, select(Activity).where(Activity.held_by == node.id, Activity.status.in_(ACTIVE))
                           .order_by(Activity.starts_ms, Activity.id))
