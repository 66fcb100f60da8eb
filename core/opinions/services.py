"""Social-opinion report services: the rules of a report (社情民意信息) from its writing to every decision on it
— written by a member (alone) or a body, edited by the office, compiled into issues of the periodical (期),
decided here (used, forwarded to the parent node, reported to the party committee or government, not used,
adopted by a named body, a leader's instruction) — for pages, the API and commands alike.

Who may do what: a member writes their own report; the office (office, admin) writes a body's or a member's on
their behalf (also a member of a higher committee writing through this node's work station), edits,
compiles and decides; every user of the node reads. Every change locks the report's row and either stores all
of itself or (a named error of ``errors.py``) nothing; the caller's transaction commits.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from shangliang.core import divisions
from shangliang.core.context import NodeContext
from shangliang.core.errors import InputError, NotFound
from shangliang.core.i18n import N_
from shangliang.core.members.models import Member
from shangliang.core.models import Role
from shangliang.core.pagination import Page, page
from shangliang.core.proposals.services import OPERATOR, Who, who_named, who_of  # noqa: F401  (one notion of who)
from shangliang.core.proposals.services import _text  # one rule of what a text field accepts
from shangliang.core.topics.supervision import today
from shangliang.core.work import count_and_first

from .errors import IssueTaken, NoParent, NotAllowed, NotAMember, NotLinked, NotOffice, WrongStatus
from .models import (AUTHOR_KINDS, BODY_AUTHOR_KINDS, REPORT_TO, STATUSES, OpinionIssue, SocialOpinion,
                     SocialOpinionEvent)
from .schemas import OpinionDecisionIn, OpinionEditIn, OpinionIn, OpinionIssueIn

#: The office: edits, compiles, decides; writes bodies' reports and members' on their behalf.
OFFICE = frozenset({Role.ADMIN.value, Role.OFFICE.value})
#: Who writes: members (their own) and the office.
WRITERS = OFFICE | {Role.MEMBER.value}

TITLE, TEXT, CATEGORY, NAME, NOTE, ISSUE_TITLE = 300, 20_000, 100, 200, 2_000, 200
ISSUE_REPORTS_MAX = 200
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
EDITABLE = ("title", "sentiment", "analysis", "suggestion", "category")


def _need_office(who: Who, doing: str) -> None:
    if who.role not in OFFICE:
        raise NotOffice(N_("%(doing)s is the office's (role office or admin), not %(role)s %(username)s's",
                           doing=doing, role=who.role, username=who.username))


def level_of(node_id: str) -> str | None:
    return divisions.level_of(node_id.split("-")[0]) if node_id else None


def _day(node: NodeContext, ms: int) -> str:
    return today(node.config, ms).isoformat()


# ---------------------------------------------------------------------------------------------
# Finding reports


def _options():
    return (selectinload(SocialOpinion.events), selectinload(SocialOpinion.issue))


def get_opinion(session: Session, ref: Any, lock: bool = False) -> SocialOpinion:
    """The report with this id; ``lock`` takes its row."""
    ref = str(ref or "").strip()[:60]
    if not (ref.isascii() and ref.isdigit()) or int(ref) >= 2 ** 31:
        raise NotFound(N_("no social-opinion report %(ref)s on this node", ref=repr(ref)))
    query = select(SocialOpinion).options(*_options()).where(SocialOpinion.id == int(ref))
    if lock:
        query = query.with_for_update(of=SocialOpinion)
    found = session.execute(query).scalar_one_or_none()
    if found is None:
        raise NotFound(N_("no social-opinion report %(ref)s on this node", ref=repr(ref)))
    return found


def list_opinions(session: Session, who: Who, status: str | None = None, year: int | None = None,
                  limit: int | None = None, cursor: str | None = None, mine: bool = False) -> Page[SocialOpinion]:
    """The node's reports, newest first (every user reads them); ``mine``: those the asking member wrote."""
    query = select(SocialOpinion).options(*_options())
    if status is not None:
        if status not in STATUSES:
            raise InputError(N_("unknown status %(status)s; statuses: %(statuses)s", status=repr(status[:40]),
                                statuses=', '.join(STATUSES)), field="status")
        query = query.where(SocialOpinion.status == status)
    if year is not None:
        if not isinstance(year, int) or not 1949 <= year <= 9999:
            raise InputError(N_("year is from 1949 to 9999"), field="year")
        query = query.where(SocialOpinion.year == year)
    if mine:
        member = session.get(Member, who.member_id) if who.member_id is not None else None
        query = query.where(SocialOpinion.member_no == member.member_no) if member is not None and member.member_no \
            else query.where(SocialOpinion.id == -1)
    return page(session, query, [SocialOpinion.id], lambda o: [o.id], limit, cursor)


def summary(o: SocialOpinion) -> dict[str, Any]:
    return {"id": o.id, "title": o.title, "category": o.category, "author": o.author_name, "status": o.status,
            "year": o.year, "origin": o.origin_node}


# ---------------------------------------------------------------------------------------------
# Writing and editing


def _member_by_number(session: Session, number: Any) -> Member:
    number = _text(number, "member_no", 40)
    member = session.execute(select(Member).where(Member.member_no == number)).scalar_one_or_none()
    if member is None or not member.active:
        raise NotAMember(N_("%(number)s is not an active member of this node", number=repr(number)), field="member_no")
    return member


def write(session: Session, node: NodeContext, data: OpinionIn, who: Who, actor: str) -> SocialOpinion:
    """A member writes their own report; the office writes a body's (sector, special committee, station) or a
    member's on their behalf — a member of this node (``member_no``), or of a committee above this node
    (``author_node``, with the name and number: a county member writing through a township work station)."""
    if who.role not in WRITERS:
        raise NotAllowed(N_("role %(role)s does not write social-opinion reports; members and the office do",
                            role=who.role))
    title = _text(data.title, "title", TITLE)
    sentiment = _text(data.sentiment, "sentiment", TEXT)
    analysis = _text(data.analysis, "analysis", TEXT, required=False)
    suggestion = _text(data.suggestion, "suggestion", TEXT)
    category = _text(data.category, "category", CATEGORY)
    now = node.now_ms()
    year = data.year if data.year is not None else today(node.config, now).year
    if not isinstance(year, int) or not 1949 <= year <= 9999:
        raise InputError(N_("year is from 1949 to 9999"), field="year")
    kind = data.author_kind or "member"
    if kind not in AUTHOR_KINDS:
        raise InputError(N_("unknown author kind %(kind)s; kinds: %(author_kinds)s", kind=repr(str(kind)[:40]),
                            author_kinds=', '.join(AUTHOR_KINDS)),
                         field="author_kind")
    home = (data.author_node or "").strip() or node.id
    member_no: str | None = None
    if kind in BODY_AUTHOR_KINDS:
        _need_office(who, N_("writing a body's report"))
        if data.member_no or (data.author_node and home != node.id):
            raise InputError(N_("a body's report has no member number or other home committee"), field="member_no")
        name = _text(data.author_name, "author_name", NAME)
    elif who.role in OFFICE:
        if home != node.id:
            if not divisions.is_ancestor(home, node.id.split("-")[0]):
                raise InputError(N_("author_node %(home)s is not a committee above node %(id)s: a member writes here "
                                    "for this committee or one above it", home=repr(home[:40]), id=node.id), field="author_node")
            name = _text(data.author_name, "author_name", NAME)
            member_no = _text(data.member_no, "member_no", 40, required=False) or None
        else:
            if not (data.member_no or "").strip():
                raise InputError(N_("the office writes a member's report with the member's number (member_no), or a "
                                    "body's with author_kind and author_name"), field="member_no")
            member = _member_by_number(session, data.member_no)
            name, member_no = member.name, member.member_no
            if data.author_name and data.author_name.strip() and data.author_name.strip() != name:
                raise InputError(N_("member %(member_no)s is %(name)s, not %(strip)s", member_no=member_no, name=name,
                                    strip=data.author_name.strip()[:40]),
                                 field="author_name")
    else:
        if any((getattr(data, f) or "").strip() for f in ("author_name", "member_no", "author_node")):
            raise InputError(N_("a member writes their own report; author_name, member_no and author_node are for "
                                "the office"), field="author_name")
        if who.member_id is None:
            raise NotLinked(N_("user %(username)s is not linked to a member, so cannot write a member's report "
                               "(users add --member)", username=who.username))
        member = session.get(Member, who.member_id)
        if member is None or not member.active:
            raise NotAMember(N_("user %(username)s's member is not active on this node",
                                username=who.username), field="member_no")
        name, member_no = member.name, member.member_no
    o = SocialOpinion(year=year, title=title, sentiment=sentiment, analysis=analysis, suggestion=suggestion,
                category=category, author_kind=kind, author_name=name, member_no=member_no, author_node=home,
                written_node=node.id, written_ms=now, written_by=actor[:NAME], status="pending", created_ms=now,
                updated_ms=now)
    o.events = []
    session.add(o)
    session.flush()
    return o


def edit(session: Session, node: NodeContext, ref: Any, data: OpinionEditIn, who: Who, actor: str) -> SocialOpinion:
    """The office edits a report's text before it is forwarded or set aside; the edit is an event (and the
    audit chain keeps the old values)."""
    _need_office(who, N_("editing a report"))
    o = get_opinion(session, ref, lock=True)
    if o.status == "not_used":
        raise WrongStatus(N_("report %(ref)s was not used: it is not edited", ref=o.ref))
    if o.forwarded_to is not None:
        raise WrongStatus(N_("report %(ref)s was forwarded to %(forwarded_to)s: what was sent stays as it was",
                             ref=o.ref, forwarded_to=o.forwarded_to))
    limits = {"title": TITLE, "sentiment": TEXT, "analysis": TEXT, "suggestion": TEXT, "category": CATEGORY}
    changed = []
    for field in EDITABLE:
        value = getattr(data, field)
        if value is None:
            continue
        value = _text(value, field, limits[field], required=field != "analysis")
        if value != getattr(o, field):
            setattr(o, field, value)
            changed.append(field)
    if not changed:
        raise InputError(N_("nothing to change: give a field with a new value"), field="title")
    now = node.now_ms()
    o.updated_ms = max(o.updated_ms, now)
    o.events.append(SocialOpinionEvent(kind="edited", node=node.id, level=level_of(node.id), text=", ".join(changed),
                                 date=_day(node, now), actor=actor[:NAME], at_ms=now, remote=False))
    session.flush()
    return o


# ---------------------------------------------------------------------------------------------
# Deciding


def _date(value: Any, node: NodeContext, field: str = "date") -> str:
    raw = _text(value, field, 10)
    if not DATE.fullmatch(raw):
        raise InputError(N_("%(field)s %(raw)s is not a date: write YYYY-MM-DD", field=field,
                            raw=repr(raw[:40])), field=field)
    try:
        day = dt.date.fromisoformat(raw)
    except ValueError:
        raise InputError(N_("%(field)s %(raw)s is not a calendar date", field=field,
                            raw=repr(raw)), field=field) from None
    if day > today(node.config, node.now_ms()):
        raise InputError(N_("%(field)s %(raw)s is after today", field=field, raw=raw), field=field)
    return raw


def check_decision(o: SocialOpinion, data: OpinionDecisionIn, node: NodeContext, here: str) -> dict[str, Any]:
    """The decision's fields, checked against the report's decisions at ``here`` (the deciding node)."""
    kind = data.decision
    mine = [e for e in o.events if e.node == here and e.kind != "edited"]
    fields: dict[str, Any] = {"kind": kind, "body": None, "body_kind": None, "leader": None, "text": "",
                              "date": None}
    if kind == "not_used":
        if mine:
            raise WrongStatus(N_("report %(ref)s was decided here already (%(value)s): it is not set aside after that",
                                 ref=o.ref, value=', '.join(e.kind for e in mine)))
        fields["text"] = _text(data.text, "text", NOTE)  # the reason
        return fields
    fields["text"] = _text(data.text, "text", NOTE, required=kind == "instruction")
    if kind in ("used", "forwarded") and any(e.kind == kind for e in mine):
        raise WrongStatus(N_("report %(ref)s was %(kind)s here already", ref=o.ref, kind=kind))
    if kind == "reported":
        if data.body_kind not in REPORT_TO:
            raise InputError(N_("a report is sent to one of %(report_to)s (body_kind)",
                                report_to=', '.join(REPORT_TO)), field="body_kind")
        fields["body_kind"] = data.body_kind
        fields["body"] = _text(data.body, "body", NAME)
        if any(e.kind == "reported" and e.body == fields["body"] for e in mine):
            raise WrongStatus(N_("report %(ref)s was reported to %(body)s already", ref=o.ref, body=fields['body']))
    elif kind == "adopted":
        fields["body"] = _text(data.body, "body", NAME, required=False) or node.name[:NAME]
        if any(e.kind == "adopted" and e.body == fields["body"] for e in mine):
            raise WrongStatus(N_("report %(ref)s was adopted by %(body)s already", ref=o.ref, body=fields['body']))
    elif kind == "instruction":
        fields["leader"] = _text(data.leader, "leader", NAME)
        fields["date"] = _date(data.date, node)
    return fields


def decide(session: Session, node: NodeContext, ref: Any, data: OpinionDecisionIn, who: Who,
           actor: str) -> tuple[SocialOpinion, list[dict[str, Any]]]:
    """The office decides on a report: ``used`` (采用 here), ``forwarded`` to the parent node (an
    ``x-opinions.forward``), ``reported`` to the party committee or government (报送, with the body),
    ``not_used`` (with the reason), ``adopted`` by a named body, a leader's ``instruction`` (批示). A report
    forwarded here from a child is told back down (``x-opinions.decision``). Returns it and what was sent."""
    from . import messages

    _need_office(who, N_("deciding on a report"))
    o = get_opinion(session, ref, lock=True)
    if o.status == "not_used":
        raise WrongStatus(N_("report %(ref)s was not used here: nothing more is decided on it", ref=o.ref))
    fields = check_decision(o, data, node, node.id)
    parent = None
    if fields["kind"] == "forwarded":
        parent = messages.parent_peer(session)
        if parent is None:
            raise NoParent(N_("node %(id)s has no parent node paired: there is no one to forward report %(ref)s to",
                              id=node.id, ref=o.ref))
    now = node.now_ms()
    event = SocialOpinionEvent(kind=fields["kind"], node=node.id, level=level_of(node.id), body=fields["body"],
                         body_kind=fields["body_kind"], leader=fields["leader"], text=fields["text"],
                         date=fields["date"] or _day(node, now), actor=actor[:NAME], at_ms=now, remote=False)
    o.events.append(event)
    o.status = "not_used" if fields["kind"] == "not_used" else "decided"
    o.updated_ms = max(o.updated_ms, now)
    sent = []
    if parent is not None:
        o.forwarded_to = parent
        session.flush()
        sent.append(messages.send_forward(session, node, o, parent, fields["text"]))
    session.flush()
    down = messages.send_decision(session, node, o, event)
    if down is not None:
        sent.append(down)
    return o, sent


# ---------------------------------------------------------------------------------------------
# Issues of the periodical (期)


def get_issue(session: Session, ref: Any) -> OpinionIssue:
    raw = str(ref or "").strip()[:40]
    match = re.fullmatch(r"(\d{4})-(\d{1,3})", raw)
    found = None
    if match:
        found = session.execute(select(OpinionIssue).options(selectinload(OpinionIssue.opinions))
                                .where(OpinionIssue.year == int(match[1]), OpinionIssue.number == int(match[2]))
                                ).scalar_one_or_none()
    if found is None:
        raise NotFound(N_("no issue %(raw)s on this node (issues are named YEAR-NUMBER, e.g. 2026-3)", raw=repr(raw)))
    return found


def list_issues(session: Session, year: int | None = None) -> list[OpinionIssue]:
    query = select(OpinionIssue).options(selectinload(OpinionIssue.opinions))
    if year is not None:
        query = query.where(OpinionIssue.year == int(year))
    return list(session.execute(query.order_by(OpinionIssue.year.desc(), OpinionIssue.number.desc())).scalars())


def compile_issue(session: Session, node: NodeContext, data: OpinionIssueIn, who: Who, actor: str) -> OpinionIssue:
    """The office compiles reports into an issue (期) of its periodical: ``2026年第3期``. A report is in one
    issue at most; a report not used is in none."""
    _need_office(who, N_("compiling an issue"))
    if not 1949 <= data.year <= 9999:
        raise InputError(N_("year is from 1949 to 9999"), field="year")
    if not 1 <= data.number <= 999:
        raise InputError(N_("number (第N期) is from 1 to 999"), field="number")
    title = _text(data.title, "title", ISSUE_TITLE, required=False)
    ids = list(data.opinions)
    if not 1 <= len(ids) <= ISSUE_REPORTS_MAX:
        raise InputError(N_("an issue holds 1 to %(issue_reports_max)s reports",
                            issue_reports_max=ISSUE_REPORTS_MAX), field="opinions")
    if len(set(ids)) != len(ids):
        raise InputError(N_("a report is named twice"), field="opinions")
    taken = session.execute(select(OpinionIssue.id).where(OpinionIssue.year == data.year,
                                                          OpinionIssue.number == data.number)).scalar()
    if taken is not None:
        raise IssueTaken(N_("issue %(year)s年第%(number)s期 exists already", year=data.year, number=data.number))
    reports = []
    for ident in ids:
        try:
            o = get_opinion(session, ident, lock=True)
        except NotFound as exc:
            raise InputError(str(exc), field="opinions") from None
        if o.status == "not_used":
            raise WrongStatus(N_("report %(ref)s was not used: it is not compiled", ref=o.ref))
        if o.issue_id is not None:
            raise IssueTaken(N_("report %(ref)s is in issue %(ref2)s already", ref=o.ref, ref2=o.issue.ref))
        reports.append(o)
    issue = OpinionIssue(year=data.year, number=data.number, title=title, compiled_by=actor[:NAME],
                         compiled_ms=node.now_ms())
    session.add(issue)
    session.flush()
    for o in reports:
        o.issue_id = issue.id
        o.issue = issue
        o.updated_ms = max(o.updated_ms, issue.compiled_ms)
    session.flush()
    session.refresh(issue)
    return issue


# ---------------------------------------------------------------------------------------------
# From a proposal not filed (不立案, 转社情民意)


def from_proposal(session: Session, node: NodeContext, ref: Any, who: Who, actor: str) -> SocialOpinion:
    """The office writes the report a proposal not filed with the disposal ``social_opinion`` becomes: its
    title, reasons (as the sentiment), suggestions, category and year, its proposer as the author (the lead
    member, or the body); the proposal keeps the report's id (``opinion_ref``)."""
    from shangliang.core.proposals.services import get_proposal

    _need_office(who, N_("writing a report from a proposal"))
    try:
        p = get_proposal(session, ref, lock=True)
    except NotFound:
        raise NotFound(N_("no proposal %(ref)s on this node", ref=repr(str(ref)[:60]))) from None
    if p.status != "not_filed" or p.disposal != "social_opinion":
        raise WrongStatus(f"proposal {p.ref} is {p.status}"
                          + (f" (disposal {p.disposal})" if p.disposal else "")
                          + ": a report is written from a proposal not filed with the disposal social_opinion")
    if p.opinion_ref:
        raise WrongStatus(N_("proposal %(ref)s became report %(opinion_ref)s already", ref=p.ref,
                             opinion_ref=p.opinion_ref))
    if p.kind == "body":
        kind = p.body_kind if p.body_kind in AUTHOR_KINDS else "party_group"
        name, member_no = p.body_name or "", None
    else:
        lead = next((s for s in p.signers if s.role == "lead"), None)
        if lead is None:
            raise WrongStatus(N_("proposal %(ref)s has no lead member to be the report's author", ref=p.ref))
        kind, name = "member", lead.name
        member_no = lead.member.member_no if lead.member is not None else None
    now = node.now_ms()
    o = SocialOpinion(year=p.year, title=p.title[:TITLE], sentiment=p.reasons, analysis="",
                      suggestion=p.suggestions, category=p.category[:CATEGORY], author_kind=kind,
                      author_name=name[:NAME], member_no=member_no, author_node=node.id, written_node=node.id,
                      written_ms=now, written_by=actor[:NAME], status="pending", created_ms=now, updated_ms=now)
    o.events = []
    session.add(o)
    session.flush()
    p.opinion_ref = str(o.id)
    p.updated_ms = max(p.updated_ms or 0, now)
    session.flush()
    return o


# -- what waits on the workbench (core/work.py) ---------------------------------------------------------


def to_decide(session: Session) -> tuple[int, list[SocialOpinion]]:
    """Reports awaiting the office's decision (use, report on, or not use), oldest first."""
    return count_and_first(session, select(SocialOpinion).where(SocialOpinion.status == "pending")
                           .order_by(SocialOpinion.created_ms, SocialOpinion.id))


def of_member(session: Session, who: Who) -> tuple[int, list[SocialOpinion]]:
    """The reports the member ``who`` wrote this year and earlier, newest first."""
    member = session.get(Member, who.member_id) if who.member_id is not None else None
    if member is None or not member.member_no:
        return 0, []
    return count_and_first(session, select(SocialOpinion).where(SocialOpinion.member_no == member.member_no)
                           .order_by(SocialOpinion.id.desc()))
