"""The rules of democratic appraisal (民主评议). See docs/appraisal.md.

A node holds one appraisal per year and kind (``departments``: government departments; ``key_topics``: the
implementation of key topics). Its subjects are handling units or topics with their result; the office adds
subjects (confirmed at once), a practice proposes them through hook ``appraisal_subject_candidates`` (each
``proposed`` until the office confirms or dismisses it). Groups of members, each with a leader among them,
visit the subjects and record what they found; every member of a group rates the subjects (满意, 基本满意,
不满意), the office entering the ballots. The report to the party committee and government is recorded once
every confirmed subject is rated and none awaits confirmation; then each subject's rectification (整改) is
assigned to a unit with a deadline in working days on the node's calendar, the unit's contact user files
progress and final reports, the office accepts or returns them, and beat marks rectifications past their
deadline (hook ``item_overdue``, kind ``rectification``).

Every function is one unit of work: a refusal is a named error and nothing is stored.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from typing import Any

from shangliang.core.context import NodeContext
from shangliang.core.errors import Conflict, InputError, NotFound
from shangliang.core.i18n import N_
from shangliang.core.members.models import Member
from shangliang.core.models import Role
from shangliang.core.notifications import notify
from shangliang.core.plans.models import Plan, PlanItem
from shangliang.core.topics.models import Assignment, Topic
from shangliang.core.topics.supervision import (
    due_date,
    due_in_working_days,
    parse_due,
    today,
)
from shangliang.core.units import services as units
from shangliang.core.units.models import HandlingUnit
from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import (
    KINDS,
    RATINGS,
    REPORT_KINDS,
    Appraisal,
    AppraisalGroup,
    AppraisalGroupMember,
    AppraisalRating,
    AppraisalRectification,
    AppraisalRectificationReport,
    AppraisalSubject,
    AppraisalVisit,
)

#: Who runs an appraisal (the committee office); who reads it (any user of the node; a handling unit's user sees
#: only its own unit's rectifications, and only the office and admins see who rated what).
WRITERS = frozenset({Role.ADMIN.value, Role.OFFICE.value})
UNITS = frozenset({Role.HANDLING_UNIT.value})
FIRST_YEAR, LAST_YEAR = 1949, 2999
TITLE, NAME, PLACE, NOTE, BODY, FINDINGS, RECIPIENT = 300, 100, 200, 2_000, 20_000, 10_000, 200
GROUP_MEMBERS, RECIPIENTS, MAX_ID = 100, 20, 2 ** 31 - 1
DECISIONS = ("confirm", "dismiss")
REVIEW_DECISIONS = ("accept", "return")


# ---------------------------------------------------------------------------------------------
# Named errors


class SubjectsNotReady(Conflict):
    """The report is refused: a subject still awaits the office's confirmation, or a confirmed one is unrated
    (or there is no confirmed subject at all)."""


class NotInGroup(InputError):
    """A rating or visit by a member (or group) that does not appraise the subject: nothing is stored."""


class NotReported(Conflict):
    """Rectification is assigned after the appraisal's report is sent to the party committee and government."""


class NotYourUnit(InputError):
    """A rectification report from a user who acts for no unit: nothing is stored."""


# ---------------------------------------------------------------------------------------------
# Small checks


def text(value: Any, name: str, limit: int, required: bool = True, field: str | None = None) -> str:
    """``value`` stripped; refused when not text, empty (if ``required``), over ``limit`` or not printable."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InputError(N_("%(name)s must be text", name=name), field=field)
    value = value.strip()
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InputError(N_("%(name)s holds something that is not a character", name=name), field=field) from None
    if required and not value:
        raise InputError(N_("%(name)s is empty", name=name), field=field)
    if len(value) > limit:
        raise InputError(N_("%(name)s is longer than %(limit)s characters", name=name, limit=limit), field=field)
    if "\x00" in value:
        raise InputError(N_("%(name)s holds a NUL character", name=name), field=field)
    return value


def year_of(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not FIRST_YEAR <= value <= LAST_YEAR:
        raise InputError(N_("the year must be a whole number from %(first_year)s to %(last_year)s, not %(value)s",
                            first_year=FIRST_YEAR, last_year=LAST_YEAR, value=str(value)[:20]),
                         field="year")
    return value


def _id(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ID:
        raise NotFound(N_("no %(what)s %(value)s", what=what, value=str(value)[:20]))
    return value


def _day(value: Any, field: str, node: NodeContext, default_today: bool = True) -> dt.date:
    current = today(node.config, node.now_ms())
    if value is None or (isinstance(value, str) and not value.strip()):
        if default_today:
            return current
        raise InputError(N_("the date is empty (YYYY-MM-DD)"), field=field)
    try:
        day = dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise InputError(N_("%(value)s is not a date (YYYY-MM-DD)", value=repr(str(value)[:40])), field=field) from None
    if day > current:
        raise InputError(N_("%(isoformat)s is in the future (today is %(isoformat2)s)", isoformat=day.isoformat(),
                            isoformat2=current.isoformat()), field=field)
    return day


# ---------------------------------------------------------------------------------------------
# Finding


def get_appraisal(session: Session, appraisal_id: Any, lock: bool = False) -> Appraisal:
    """The appraisal by its id; ``lock`` takes its row (PostgreSQL), so two changes to it never interleave."""
    appraisal_id = _id(appraisal_id, "appraisal")
    query = select(Appraisal).where(Appraisal.id == appraisal_id)
    if lock:
        query = query.with_for_update(of=Appraisal)
    found = session.execute(query).scalar_one_or_none()
    if found is None:
        raise NotFound(N_("no appraisal %(appraisal_id)s on this node", appraisal_id=appraisal_id))
    return found


def list_appraisals(session: Session, year: int | None = None) -> list[Appraisal]:
    """The appraisals of this node, the latest year first."""
    query = select(Appraisal)
    if year is not None:
        query = query.where(Appraisal.year == year_of(year))
    return list(session.execute(query.order_by(Appraisal.year.desc(), Appraisal.id.desc())).scalars())


def _subject(appraisal: Appraisal, subject_id: Any) -> AppraisalSubject:
    for subject in appraisal.subjects:
        if subject.id == subject_id:
            return subject
    raise NotFound(N_("appraisal %(id)s has no subject %(subject_id)s", id=appraisal.id,
                      subject_id=str(subject_id)[:20]))


def _group(appraisal: Appraisal, group_id: Any) -> AppraisalGroup:
    for group in appraisal.groups:
        if group.id == group_id:
            return group
    raise NotFound(N_("appraisal %(id)s has no group %(group_id)s", id=appraisal.id, group_id=str(group_id)[:20]), )


def _open(appraisal: Appraisal, what: str) -> None:
    if appraisal.status != "open":
        raise Conflict(N_("appraisal %(id)s is %(status)s: its report was sent, %(what)s no more", id=appraisal.id,
                          status=appraisal.status, what=what))


def member_of(session: Session, ref: Any, field: str = "member") -> Member:
    """A member of this node by member number or id (active only)."""
    if isinstance(ref, int) and not isinstance(ref, bool):
        member = session.get(Member, ref) if 1 <= ref <= MAX_ID else None
    else:
        value = text(ref, "the member", 40, field=field)
        member = session.execute(select(Member).where(Member.member_no == value)).scalar_one_or_none()
        if member is None and value.isdigit() and 1 <= int(value) <= MAX_ID:
            member = session.get(Member, int(value))
    if member is None:
        raise InputError(N_("no member %(ref)s on this node (a member number or id)",
                            ref=repr(str(ref)[:40])), field=field)
    if not member.active:
        raise InputError(N_("member %(name)s is inactive", name=member.name), field=field)
    return member


# ---------------------------------------------------------------------------------------------
# Last year's key topics (the subjects of this year's appraisal, ``000``: 把上年度的重点协商(调研)议题转化为下年度
# 评议议题)


def key_topics(session: Session, year: int) -> list[tuple[PlanItem, Topic]]:
    """The key topics of ``year``: the items of this node's published consultation plan of that year (年度协商计划,
    whose topics are the year's key consultation topics) whose topic reached a result here."""
    year = year_of(year)
    rows = session.execute(
        select(PlanItem, Topic).join(Plan, PlanItem.plan_id == Plan.id).join(Topic, Topic.uid == PlanItem.topic_uid)
        .where(Plan.year == year, Plan.status == "published", Topic.result.is_not(None))
        .order_by(PlanItem.position, PlanItem.id)).all()
    return [(item, topic) for item, topic in rows]


def _topic_units(session: Session, topic: Topic) -> list[str]:
    """The names of the units that implemented the topic's result: the assigned ones (lead first), then those the
    result names."""
    assigned = [a.unit.name for a in session.execute(
        select(Assignment).where(Assignment.topic_id == topic.id)
        .order_by(Assignment.role != "lead", Assignment.id)).scalars()]
    named = (json.loads(topic.result or "{}") or {}).get("handling_units") or []
    return list(dict.fromkeys(assigned + [str(n) for n in named]))


def candidate_subjects(session: Session, node: NodeContext, year: int) -> list[dict[str, Any]]:
    """The subjects proposed for ``year``'s appraisal: last year's key topics (see ``key_topics``) with their
    results and the handling units that implemented them (``unit``: the first of them this node knows, active)."""
    year = year_of(year)
    found = []
    for item, topic in key_topics(session, year - 1) if year > FIRST_YEAR else []:
        names = _topic_units(session, topic)
        unit = None
        for name in names:
            known = session.execute(select(HandlingUnit).where(HandlingUnit.name == name)).scalar_one_or_none()
            if known is not None and known.active:
                unit = known.name
                break
        found.append({"topic": topic.uid, "title": topic.title, "result": json.loads(topic.result),
                      "units": names, "unit": unit, "plan_year": year - 1, "plan_item": item.id})
    return found


# ---------------------------------------------------------------------------------------------
# The appraisal and its subjects


def create_appraisal(session: Session, node: NodeContext, year: Any, kind: Any, title: Any, actor: str) -> Appraisal:
    """Create the year's appraisal of ``kind``; then the subjects that practices propose (hook
    ``appraisal_subject_candidates``) are added as ``proposed``, in the same unit of work."""
    year = year_of(year)
    if kind not in KINDS:
        raise InputError(N_("unknown appraisal kind %(kind)s; kinds: %(kinds)s", kind=repr(str(kind)[:40]),
                            kinds=', '.join(KINDS)), field="kind")
    title = text(title, "the title", TITLE, field="title")
    if session.execute(select(Appraisal.id).where(Appraisal.year == year, Appraisal.kind == kind)).first():
        raise Conflict(N_("the %(year)s appraisal of %(kind)s exists already (one a year of each kind)", year=year,
                          kind=kind))
    now = node.now_ms()
    appraisal = Appraisal(uid="", year=year, kind=kind, title=title, status="open", created_ms=now, created_by=actor)
    session.add(appraisal)
    session.flush()
    appraisal.uid = f"{node.id}:{appraisal.id}"
    session.flush()
    for found in node.pm.hook.appraisal_subject_candidates(session=session, node=node, appraisal=detail(appraisal)):
        if found:
            propose_subjects(session, node, appraisal.id, found, actor)
    return appraisal


def _subject_fields(session: Session, unit: Any, topic: Any) -> dict[str, Any]:
    given_unit = unit is not None and not (isinstance(unit, str) and not unit.strip())
    given_topic = topic is not None and not (isinstance(topic, str) and not topic.strip())
    if not given_unit and not given_topic:
        raise InputError(N_("a subject is a handling unit or a topic: give one"), field="unit")
    fields: dict[str, Any] = {"unit_id": None, "topic_uid": None, "result": None, "units": [], "unit": None}
    if given_topic:
        uid = text(topic, "the topic", 120, field="topic")
        found = session.execute(select(Topic).where(Topic.uid == uid)).scalar_one_or_none()
        if found is None:
            raise InputError(N_("no topic %(uid)s on this node", uid=repr(uid)), field="topic")
        if found.result is None:
            raise InputError(N_("topic %(uid)s has no result yet: a topic is appraised on the implementation of its "
                                "result", uid=uid), field="topic")
        fields.update(kind="topic", topic_uid=uid, title=found.title, result=found.result,
                      units=_topic_units(session, found))
    if given_unit:
        (known,) = units.resolve(session, [unit], field="unit")
        fields.update(unit_id=known.id, unit=known)
        if not given_topic:
            fields.update(kind="unit", title=known.name, units=[known.name])
        elif known.name not in fields["units"]:
            fields["units"] = [known.name] + fields["units"]
    return fields


def _duplicate(appraisal: Appraisal, fields: Mapping[str, Any]) -> AppraisalSubject | None:
    for subject in appraisal.subjects:
        if subject.kind == fields["kind"] and subject.topic_uid == fields["topic_uid"] and \
                (fields["kind"] == "topic" or subject.unit_id == fields["unit_id"]):
            return subject
    return None


def _new_subject(appraisal: Appraisal, fields: Mapping[str, Any], status: str, source: str, note: str,
                 now: int, actor: str) -> AppraisalSubject:
    subject = AppraisalSubject(kind=fields["kind"], unit_id=fields["unit_id"], topic_uid=fields["topic_uid"],
                               title=fields["title"][:TITLE], result=fields["result"],
                               units=json.dumps(fields["units"], ensure_ascii=False), status=status, source=source,
                               note=note, added_ms=now,
                               decided_ms=now if status == "confirmed" else None,
                               decided_by=actor if status == "confirmed" else None)
    subject.unit = fields["unit"]
    appraisal.subjects.append(subject)
    return subject


def add_subject(session: Session, node: NodeContext, appraisal_id: Any, unit: Any, topic: Any, note: Any,
                actor: str) -> AppraisalSubject:
    """The office adds a subject (confirmed): a handling unit, or a topic with a result (optionally with the unit
    that answers for it); the same subject once."""
    appraisal = get_appraisal(session, appraisal_id, lock=True)
    _open(appraisal, "subjects are added")
    fields = _subject_fields(session, unit, topic)
    note = text(note, "the note", NOTE, required=False, field="note")
    if _duplicate(appraisal, fields) is not None:
        raise Conflict(N_("%(title)s is a subject of appraisal %(id)s already", title=fields['title'], id=appraisal.id))
    subject = _new_subject(appraisal, fields, "confirmed", "office", note, node.now_ms(), actor)
    session.flush()
    return subject


def propose_subjects(session: Session, node: NodeContext, appraisal_id: Any, candidates: Iterable[Mapping[str, Any]],
                     actor: str) -> list[AppraisalSubject]:
    """Add practices' candidates as ``proposed`` subjects awaiting the office; each candidate a mapping with
    ``topic`` (a uid) or ``unit`` (a name or id), ``source`` (the practice) and optionally ``note``. A candidate
    already a subject (proposed, confirmed or dismissed) is left out; a bad one refuses them all."""
    appraisal = get_appraisal(session, appraisal_id, lock=True)
    _open(appraisal, "subjects are proposed")
    now, made = node.now_ms(), []
    for candidate in candidates:
        if not isinstance(candidate, Mapping):
            raise InputError(N_("a proposed subject must be a mapping with topic or unit, and source"))
        fields = _subject_fields(session, candidate.get("unit"), candidate.get("topic"))
        source = text(candidate.get("source"), "the proposed subject's source", NAME, field="source")
        note = text(candidate.get("note"), "the note", NOTE, required=False, field="note")
        if _duplicate(appraisal, fields) is not None:
            continue
        made.append(_new_subject(appraisal, fields, "proposed", source, note, now, actor))
    session.flush()
    return made


def decide_subject(session: Session, node: NodeContext, appraisal_id: Any, subject_id: Any, decision: Any,
                   note: Any, actor: str) -> AppraisalSubject:
    """The office confirms or dismisses a proposed subject (a dismissal says why)."""
    appraisal = get_appraisal(session, appraisal_id, lock=True)
    _open(appraisal, "subjects are decided")
    subject = _subject(appraisal, subject_id)
    if decision not in DECISIONS:
        raise InputError(N_("unknown decision %(decision)s; decisions: %(decisions)s",
                            decision=repr(str(decision)[:40]), decisions=', '.join(DECISIONS)),
                         field="decision")
    note = text(note, "the reason", NOTE, required=decision == "dismiss", field="note")
    if subject.status != "proposed":
        raise Conflict(N_("subject %(id)s is %(status)s already", id=subject.id, status=subject.status))
    subject.status = "confirmed" if decision == "confirm" else "dismissed"
    subject.decided_ms, subject.decided_by = node.now_ms(), actor
    if note:
        subject.note = note
    session.flush()
    return subject


# ---------------------------------------------------------------------------------------------
# Groups, visits, ratings


def add_group(session: Session, node: NodeContext, appraisal_id: Any, name: Any, leader: Any, members: Any,
              subjects: Any, actor: str) -> AppraisalGroup:
    """An appraisal group: its name, its leader (a member, counted among its members), its members (each in one
    group of the appraisal) and the confirmed subjects it appraises."""
    appraisal = get_appraisal(session, appraisal_id, lock=True)
    _open(appraisal, "groups are formed")
    name = text(name, "the group's name", NAME, field="name")
    if any(g.name == name for g in appraisal.groups):
        raise InputError(N_("appraisal %(id)s has a group named %(name)s already", id=appraisal.id,
                            name=repr(name)), field="name")
    head = member_of(session, leader, "leader")
    if not isinstance(members, (list, tuple)):
        raise InputError(N_("the members must be a list of member numbers or ids"), field="members")
    if len(members) > GROUP_MEMBERS:
        raise InputError(N_("a group has at most %(group_members)s members",
                            group_members=GROUP_MEMBERS), field="members")
    people = [head] + [member_of(session, ref, "members") for ref in members]
    people = list({m.id: m for m in people}.values())
    taken = {gm.member_id: g.name for g in appraisal.groups for gm in g.members}
    for person in people:
        if person.id in taken:
            raise InputError(N_("%(name)s is in group %(taken)s already (one group each)", name=person.name,
                                taken=taken[person.id]),
                             field="members")
    if not isinstance(subjects, (list, tuple)):
        raise InputError(N_("the subjects must be a list of subject ids"), field="subjects")
    chosen = []
    for subject_id in subjects:
        subject = _subject(appraisal, subject_id)
        if subject.status != "confirmed":
            raise InputError(N_("subject %(id)s is %(status)s: a group appraises confirmed subjects", id=subject.id,
                                status=subject.status),
                             field="subjects")
        if subject.group_id is not None:
            raise InputError(N_("subject %(id)s is appraised by another group already",
                                id=subject.id), field="subjects")
        chosen.append(subject)
    group = AppraisalGroup(name=name, leader_id=head.id, created_ms=node.now_ms())
    group.leader = head
    appraisal.groups.append(group)
    session.flush()
    for person in people:
        group.members.append(AppraisalGroupMember(appraisal_id=appraisal.id, member_id=person.id, member=person))
    for subject in chosen:
        subject.group = group
    session.flush()
    return group


def record_visit(session: Session, node: NodeContext, appraisal_id: Any, group_id: Any, subject_id: Any, date: Any,
                 place: Any, findings: Any, actor: str) -> AppraisalVisit:
    """A group's visit to a subject (走访调研): the day (not in the future), the place, what was found."""
    appraisal = get_appraisal(session, appraisal_id, lock=True)
    _open(appraisal, "visits are recorded")
    group = _group(appraisal, group_id)
    subject = _subject(appraisal, subject_id)
    if subject.status != "confirmed":
        raise InputError(N_("subject %(id)s is %(status)s: visits are to confirmed subjects", id=subject.id,
                            status=subject.status),
                         field="subject")
    if subject.group_id is not None and subject.group_id != group.id:
        raise NotInGroup(N_("subject %(id)s is appraised by group %(name)s, not %(name2)s", id=subject.id,
                            name=subject.group.name, name2=group.name),
                         field="group")
    day = _day(date, "date", node, default_today=False)
    place = text(place, "the place", PLACE, field="place")
    findings = text(findings, "the findings", FINDINGS, field="findings")
    visit = AppraisalVisit(group_id=group.id, subject_id=subject.id, visited_on=day.isoformat(), place=place,
                           findings=findings, recorded_ms=node.now_ms(), recorded_by=actor)
    visit.group, visit.subject = group, subject
    appraisal.visits.append(visit)
    session.flush()
    return visit


def rate(session: Session, node: NodeContext, appraisal_id: Any, subject_id: Any, member: Any, rating: Any,
         comment: Any, actor: str) -> AppraisalRating:
    """A group member's rating of a confirmed subject (the office enters the ballot): 满意 ``satisfied``, 基本满意
    ``basically_satisfied`` or 不满意 ``unsatisfied``; once per member and subject. The member sits in the
    group that appraises the subject (in any group of the appraisal while the subject has none)."""
    appraisal = get_appraisal(session, appraisal_id, lock=True)
    _open(appraisal, "ratings are entered")
    subject = _subject(appraisal, subject_id)
    if subject.status != "confirmed":
        raise InputError(N_("subject %(id)s is %(status)s: only confirmed subjects are rated", id=subject.id,
                            status=subject.status),
                         field="subject")
    if rating not in RATINGS:
        raise InputError(N_("unknown rating %(rating)s; ratings: %(ratings)s", rating=repr(str(rating)[:40]),
                            ratings=', '.join(RATINGS)), field="rating")
    person = member_of(session, member)
    comment = text(comment, "the comment", NOTE, required=False, field="comment")
    groups = {gm.member_id: g for g in appraisal.groups for gm in g.members}
    if person.id not in groups:
        raise NotInGroup(N_("%(name)s is in no appraisal group of appraisal %(id)s", name=person.name,
                            id=appraisal.id), field="member")
    if subject.group_id is not None and groups[person.id].id != subject.group_id:
        raise NotInGroup(N_("%(name)s is in group %(name2)s; subject %(id)s is appraised by group %(name3)s",
                            name=person.name, name2=groups[person.id].name, id=subject.id, name3=subject.group.name), field="member")
    if any(r.member_id == person.id for r in subject.ratings):
        raise Conflict(N_("%(name)s has rated subject %(id)s already", name=person.name, id=subject.id))
    row = AppraisalRating(member_id=person.id, rating=rating, comment=comment, recorded_ms=node.now_ms(),
                          recorded_by=actor)
    row.member = person
    subject.ratings.append(row)
    session.flush()
    return row


def raters(appraisal: Appraisal, subject: AppraisalSubject) -> list[Member]:
    """Who rates the subject: its group's members (every group's while it has none)."""
    groups = [subject.group] if subject.group is not None else appraisal.groups
    return [gm.member for g in groups for gm in g.members]


def tally(subject: AppraisalSubject) -> dict[str, Any]:
    """The subject's ratings counted; ``satisfaction``: the share (0 to 1) of 满意 and 基本满意, or None unrated."""
    counts = {r: sum(1 for x in subject.ratings if x.rating == r) for r in RATINGS}
    total = sum(counts.values())
    share = round((counts["satisfied"] + counts["basically_satisfied"]) / total, 4) if total else None
    return {**counts, "total": total, "satisfaction": share}


# ---------------------------------------------------------------------------------------------
# The report to the party committee and government


def send_report(session: Session, node: NodeContext, appraisal_id: Any, body: Any, sent_on: Any, recipients: Any,
                actor: str) -> Appraisal:
    """Record the report sent to the party committee and government (its text, the day sent, to whom). Refused
    while a subject awaits confirmation or a confirmed subject is unrated (every rater need not have rated)."""
    appraisal = get_appraisal(session, appraisal_id, lock=True)
    _open(appraisal, "the report is sent")
    body = text(body, "the report", BODY, field="body")
    day = _day(sent_on, "sent_on", node)
    if not isinstance(recipients, (list, tuple)) or not recipients:
        raise InputError(N_("name to whom the report was sent (e.g. 区委, 区政府)"), field="recipients")
    if len(recipients) > RECIPIENTS:
        raise InputError(N_("at most %(recipients)s recipients", recipients=RECIPIENTS), field="recipients")
    names = list(dict.fromkeys(text(r, "a recipient", RECIPIENT, field="recipients") for r in recipients))
    waiting = [s for s in appraisal.subjects if s.status == "proposed"]
    if waiting:
        raise SubjectsNotReady(f"{len(waiting)} subject(s) await the office's confirmation: "
                               + ", ".join(f"{s.id} {s.title}" for s in waiting)[:500])
    confirmed = [s for s in appraisal.subjects if s.status == "confirmed"]
    if not confirmed:
        raise SubjectsNotReady(N_("appraisal %(id)s has no confirmed subject to report on", id=appraisal.id))
    unrated = [s for s in confirmed if not s.ratings]
    if unrated:
        raise SubjectsNotReady(f"{len(unrated)} subject(s) are not rated yet: "
                               + ", ".join(f"{s.id} {s.title}" for s in unrated)[:500])
    appraisal.report_body, appraisal.report_sent_on = body, day.isoformat()
    appraisal.report_recipients = json.dumps(names, ensure_ascii=False)
    appraisal.report_recorded_ms, appraisal.report_recorded_by = node.now_ms(), actor
    appraisal.status = "reported"
    session.flush()
    return appraisal


# ---------------------------------------------------------------------------------------------
# Rectification (整改), tracked like a result's implementation


def _due(node: NodeContext, working_days: Any, due: Any, now: int) -> tuple[int, int | None]:
    given_days = working_days is not None
    given_due = isinstance(due, str) and due.strip() != ""
    if given_days == given_due:
        raise InputError(N_("give the deadline either as working days or as a due date (YYYY-MM-DD, +N)"),
                         field="working_days")
    if given_days:
        return due_in_working_days(node.config, working_days, now), working_days
    return parse_due(due, node.config, now), None


def assign_rectification(session: Session, node: NodeContext, appraisal_id: Any, subject_id: Any, unit: Any,
                         requirements: Any, working_days: Any, due: Any, actor: str) -> AppraisalRectification:
    """After the report is sent: a confirmed subject's rectification goes to a unit (default: the subject's unit)
    with what to rectify and a deadline in working days on the node's calendar (or a date); once per subject.
    The unit's contact users are told."""
    appraisal = get_appraisal(session, appraisal_id, lock=True)
    subject = _subject(appraisal, subject_id)
    if appraisal.status != "reported":
        raise NotReported(N_("appraisal %(id)s is %(status)s: rectification follows the report to the party "
                             "committee and government", id=appraisal.id, status=appraisal.status))
    if subject.status != "confirmed":
        raise InputError(N_("subject %(id)s is %(status)s: only confirmed subjects are rectified", id=subject.id,
                            status=subject.status),
                         field="subject")
    if subject.rectification is not None:
        raise Conflict(N_("subject %(id)s's rectification is assigned to %(name)s already", id=subject.id,
                          name=subject.rectification.unit.name))
    given = unit is not None and not (isinstance(unit, str) and not unit.strip())
    if not given and subject.unit is None:
        raise InputError(N_("name the unit that rectifies subject %(id)s (a topic subject has no unit of its own)",
                            id=subject.id), field="unit")
    (target,) = units.resolve(session, [unit if given else subject.unit.id], field="unit")
    requirements = text(requirements, "what to rectify", BODY, field="requirements")
    now = node.now_ms()
    due_ms, days = _due(node, working_days, due, now)
    if due_ms <= now:
        raise InputError(N_("the deadline has passed"), field="due")
    row = AppraisalRectification(unit_id=target.id, requirements=requirements, working_days=days, due_ms=due_ms,
                                 state="assigned", overdue=False, assigned_ms=now, assigned_by=actor)
    row.unit = target
    subject.rectification = row
    session.flush()
    day = due_date(node.config, due_ms).isoformat()
    for user_id in units.contact_user_ids(target):
        notify(session, subject=f"民主评议整改:{subject.title}"[:300],
               body=f"{appraisal.year}年{appraisal.title}:{target.name} 须于 {day} 前完成整改并报送整改报告。\n"
                    f"{requirements}"[:2000], user_id=user_id, source="appraisal")
    return row


def get_rectification(session: Session, rectification_id: Any, unit_id: int | None = None,
                      lock: bool = False) -> AppraisalRectification:
    """A rectification by id; ``unit_id`` given: only that unit's (another's is not found)."""
    rectification_id = _id(rectification_id, "rectification")
    query = select(AppraisalRectification).where(AppraisalRectification.id == rectification_id)
    if unit_id is not None:
        query = query.where(AppraisalRectification.unit_id == unit_id)
    if lock:
        query = query.with_for_update(of=AppraisalRectification)
    found = session.execute(query).scalar_one_or_none()
    if found is None:
        raise NotFound(f"no rectification {rectification_id}" + (" of your unit" if unit_id is not None else ""))
    return found


def list_rectifications(session: Session, unit_id: int | None = None, appraisal_id: int | None = None
                        ) -> list[AppraisalRectification]:
    """Rectifications on this node, overdue first then by deadline (``unit_id``: that unit's only)."""
    query = select(AppraisalRectification).join(AppraisalSubject)
    if unit_id is not None:
        query = query.where(AppraisalRectification.unit_id == unit_id)
    if appraisal_id is not None:
        query = query.where(AppraisalSubject.appraisal_id == appraisal_id)
    query = query.order_by(AppraisalRectification.overdue.desc(), AppraisalRectification.due_ms,
                           AppraisalRectification.id)
    return list(session.execute(query).scalars())


def unit_scope(session: Session, user: Any) -> int | None | bool:
    """What rectifications ``user`` reads: ``None`` all of them; a unit id (a handling unit's user: its unit's
    only); ``False`` none (a handling unit's user who acts for no unit)."""
    if user is None or getattr(user, "role", None) != Role.HANDLING_UNIT.value:
        return None
    unit = units.unit_of_user(session, user.id)
    return unit.id if unit is not None else False


def file_rectification_report(session: Session, node: NodeContext, rectification_id: Any, user_id: int | None,
                              kind: Any, body: Any, actor: str) -> AppraisalRectificationReport:
    """The unit's contact user files a progress or final rectification report on its own unit's rectification."""
    unit = units.unit_of_user(session, user_id)
    if unit is None:
        raise NotYourUnit(N_("you act for no handling unit: only a unit's contact user files its rectification "
                             "reports"), field="unit")
    row = get_rectification(session, rectification_id, unit.id, lock=True)
    if kind not in REPORT_KINDS:
        raise InputError(N_("unknown report kind %(kind)s; kinds: %(report_kinds)s", kind=repr(str(kind)[:40]),
                            report_kinds=', '.join(REPORT_KINDS)), field="kind")
    body = text(body, "the report", BODY, field="body")
    if row.state == "accepted":
        raise Conflict(N_("the final rectification report of %(name)s was accepted already", name=unit.name))
    if kind == "final" and row.state == "final_reported":
        raise Conflict(N_("the final rectification report of %(name)s awaits the office's review", name=unit.name))
    report = AppraisalRectificationReport(kind=kind, body=body, submitted_ms=node.now_ms(), submitted_by=actor,
                                          review="pending")
    row.reports.append(report)
    if kind == "final":
        row.state = "final_reported"
    elif row.state == "assigned":
        row.state = "reporting"
    session.flush()
    return report


def review_rectification_report(session: Session, node: NodeContext, rectification_id: Any, report_id: Any,
                                decision: Any, comment: Any, actor: str) -> AppraisalRectificationReport:
    """The office accepts or returns (saying why) a rectification report; an accepted final report completes the
    rectification (and clears its overdue mark), a returned one sends it back to reporting."""
    row = get_rectification(session, rectification_id, lock=True)
    report = next((r for r in row.reports if r.id == report_id), None)
    if report is None:
        raise NotFound(N_("rectification %(id)s has no report %(report_id)s", id=row.id, report_id=str(report_id)[:20]))
    if decision not in REVIEW_DECISIONS:
        raise InputError(N_("unknown decision %(decision)s; decisions: %(review_decisions)s",
                            decision=repr(str(decision)[:40]), review_decisions=', '.join(REVIEW_DECISIONS)),
                         field="decision")
    comment = text(comment, "the comment", NOTE, required=decision == "return", field="comment")
    if report.review != "pending":
        raise Conflict(N_("report %(id)s was %(review)s already", id=report.id, review=report.review))
    report.review = "accepted" if decision == "accept" else "returned"
    report.comment, report.reviewed_ms, report.reviewed_by = comment or None, node.now_ms(), actor
    if report.kind == "final":
        row.state = "accepted" if decision == "accept" else "reporting"
        if decision == "accept":
            row.overdue = False
    session.flush()
    return report


def mark_overdue(session: Session, node: NodeContext) -> list[AppraisalRectification]:
    """Mark the rectifications past their deadline without an accepted final report; each newly overdue one tells
    the office, the unit's contact users and hook ``item_overdue`` (kind ``rectification``), in the caller's
    transaction. Returns those newly marked; a second run at the same time marks nothing."""
    now = node.now_ms()
    found = session.execute(
        select(AppraisalRectification)
        .where(AppraisalRectification.state != "accepted", AppraisalRectification.overdue.is_(False),
               AppraisalRectification.due_ms < now)
        .order_by(AppraisalRectification.due_ms, AppraisalRectification.id)
        .with_for_update(skip_locked=True)).scalars().all()
    for row in found:
        row.overdue = True
        subject = row.subject
        day = due_date(node.config, row.due_ms).isoformat()
        title = f"整改逾期:{row.unit.name} · {subject.title}"[:300]
        body = f"{subject.appraisal.year}年民主评议「{subject.title}」的整改期限 {day} 已过,最终整改报告尚未通过审核。"
        notify(session, subject=title, body=body, role=Role.OFFICE.value, source="appraisal")
        for user_id in units.contact_user_ids(row.unit):
            notify(session, subject=title, body=body, user_id=user_id, source="appraisal")
        areas: list[str] = []
        if subject.topic_uid:
            topic = session.execute(select(Topic).where(Topic.uid == subject.topic_uid)).scalar_one_or_none()
            areas = json.loads(topic.areas) if topic is not None else []
        node.pm.hook.item_overdue(session=session, item={
            "kind": "rectification", "ref": f"{subject.appraisal.uid}/{subject.id}", "title": subject.title,
            "due_ms": row.due_ms, "unit": row.unit.name, "areas": areas}, config=node.config)
    session.flush()
    return list(found)


# ---------------------------------------------------------------------------------------------
# What pages, the API and commands show


def rectification_dict(row: AppraisalRectification) -> dict[str, Any]:
    subject = row.subject
    return {"id": row.id, "appraisal": subject.appraisal_id, "year": subject.appraisal.year,
            "subject": subject.id, "title": subject.title, "unit": row.unit.name, "unit_id": row.unit_id,
            "requirements": row.requirements, "working_days": row.working_days, "due_ms": row.due_ms,
            "state": row.state, "overdue": row.overdue, "assigned_ms": row.assigned_ms, "assigned_by": row.assigned_by,
            "reports": [{"id": r.id, "kind": r.kind, "body": r.body, "submitted_ms": r.submitted_ms,
                         "submitted_by": r.submitted_by, "review": r.review, "comment": r.comment,
                         "reviewed_ms": r.reviewed_ms, "reviewed_by": r.reviewed_by} for r in row.reports]}


def subject_dict(appraisal: Appraisal, subject: AppraisalSubject, ratings: bool = True,
                 unit_id: int | None | bool = None) -> dict[str, Any]:
    rect = subject.rectification
    if rect is not None and unit_id is not None and rect.unit_id != unit_id:
        rect = None
    return {"id": subject.id, "kind": subject.kind, "title": subject.title, "status": subject.status,
            "source": subject.source, "note": subject.note, "topic": subject.topic_uid,
            "unit": subject.unit.name if subject.unit is not None else None,
            "units": json.loads(subject.units or "[]"),
            "result": json.loads(subject.result) if subject.result else None,
            "group": subject.group.name if subject.group is not None else None, "group_id": subject.group_id,
            "added_ms": subject.added_ms, "decided_ms": subject.decided_ms, "decided_by": subject.decided_by,
            "tally": tally(subject),
            "ratings": [{"member": r.member.name, "member_no": r.member.member_no, "rating": r.rating,
                         "comment": r.comment} for r in subject.ratings] if ratings else None,
            "unrated_by": [m.name for m in raters(appraisal, subject)
                           if not any(r.member_id == m.id for r in subject.ratings)],
            "rectification": rectification_dict(rect) if rect is not None else None}


def detail(appraisal: Appraisal, ratings: bool = True, unit_id: int | None | bool = None) -> dict[str, Any]:
    """The appraisal as pages, the API, commands and hooks see it. ``ratings``: with who rated what (the office's
    view; others see the counts); ``unit_id``: a handling unit's user sees only its unit's rectifications."""
    return {"id": appraisal.id, "uid": appraisal.uid, "year": appraisal.year, "kind": appraisal.kind,
            "title": appraisal.title, "status": appraisal.status, "created_ms": appraisal.created_ms,
            "created_by": appraisal.created_by,
            "subjects": [subject_dict(appraisal, s, ratings, unit_id) for s in appraisal.subjects],
            "groups": [{"id": g.id, "name": g.name, "leader": g.leader.name,
                        "members": [{"name": gm.member.name, "member_no": gm.member.member_no} for gm in g.members],
                        "subjects": [s.id for s in appraisal.subjects if s.group_id == g.id]}
                       for g in appraisal.groups],
            "visits": [{"id": v.id, "group": v.group.name, "subject": v.subject_id, "date": v.visited_on,
                        "place": v.place, "findings": v.findings, "recorded_by": v.recorded_by}
                       for v in appraisal.visits],
            "report": appraisal.report()}


def summary(appraisal: Appraisal) -> dict[str, Any]:
    counts = {s: sum(1 for x in appraisal.subjects if x.status == s) for s in ("proposed", "confirmed", "dismissed")}
    return {"id": appraisal.id, "uid": appraisal.uid, "year": appraisal.year, "kind": appraisal.kind,
            "title": appraisal.title, "status": appraisal.status, "subjects": counts,
            "report_sent_on": appraisal.report_sent_on}
