"""Proposal services: the rules of a proposal (提案) from its submission to its closing — signers and their
confirmation, the filing review (立案审查) with per-session numbers, key and face-to-face flags, handling
units with deadlines and reassignment, replies and contacts, the proposer's satisfaction and re-handling,
supervision (督办), publication and the public list — for pages, the API, commands and tasks alike.

Every change locks the proposal's row, asks the ``proposal_guard`` hook under that lock, and either stores
all of itself or (on any refusal, a named error of ``errors.py``) nothing; the caller's transaction commits.
Who may take a step is decided here, from ``Who`` (the user asking), not only by the route's role.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
import re
from dataclasses import dataclass
from typing import Any, Mapping

from sqlalchemy import exists, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from shangliang.core.context import NodeContext
from shangliang.core.errors import InputError, NotFound
from shangliang.core.i18n import N_
from shangliang.core.members.models import Member
from shangliang.core.models import Role
from shangliang.core.notifications import notify
from shangliang.core.pagination import Page, page
from shangliang.core.plugins import flatten
from shangliang.core.topics.supervision import due_date, end_of_day_ms, today
from shangliang.core.units import services as units
from shangliang.core.units.models import HandlingUnit
from shangliang.core.users.models import User
from shangliang.core.work import count_and_first

from .errors import (DeadlinePassed, GuardRefused, MergeIntoClosed, NoConsent, NoParent, NotAllowed, NotAMember,
                     NotAssignedUnit, NotLinked, NotOffice, NotProposer, NotSigner, WrongStatus)
from .models import (SATISFACTION, BODY_KINDS, CLASSIFICATIONS, CONTACT_KINDS, DIMENSIONS, DISPOSALS, FILED_STATUSES,
                     OPEN_STATUSES, PHASES, STATUSES, Proposal, ProposalAssignment, ProposalContact, ProposalCounter,
                     ProposalRating, ProposalReassignment, ProposalReply, ProposalSigner, ProposalSupervision)
from .schemas import (ProposalAssignmentIn, ProposalCloseIn, ProposalContactIn, ProposalDecisionIn,
                      ProposalFlagsIn, ProposalIn, ProposalPublicationIn, ProposalRatingIn, ProposalReassignmentIn,
                      ProposalReplyIn, ProposalReviewIn, ProposalRevisionIn, ProposalSupervisionIn)

#: The office: reviews, assigns, decides reassignments, flags, supervises, publishes, closes.
OFFICE = frozenset({Role.ADMIN.value, Role.OFFICE.value})
#: Who submits: members (their own proposals) and the office (bodies' proposals, or a member's entered for them).
SUBMITTERS = OFFICE | {Role.MEMBER.value}
MEMBERS = frozenset({Role.MEMBER.value})
UNITS = frozenset({Role.HANDLING_UNIT.value})
#: Who records a contact with the proposers: a unit, or the office for it.
CONTACT_RECORDERS = OFFICE | UNITS
#: Who revises a returned proposal: its member proposer, or the office for a body's.
REVISERS = SUBMITTERS

TITLE, TEXT, CATEGORY, NAME, REASON = 300, 20_000, 100, 200, 2_000
COSIGNERS_MAX = 50
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


# ---------------------------------------------------------------------------------------------
# Who asks


@dataclass(frozen=True)
class Who:
    """The person taking a step: user name, role, the member they are (if linked) and their user id."""

    username: str
    role: str
    member_id: int | None = None
    user_id: int | None = None

    @property
    def office(self) -> bool:
        return self.role in OFFICE


def who_of(user: Any) -> Who:
    """A signed-in user (or an API user) as the services see them."""
    return Who(user.username, user.role, user.member_id, user.id)


def who_named(session: Session, username: str) -> Who:
    """The active user ``username`` (a command's ``--as``); ``InputError`` when there is none."""
    user = session.execute(select(User).where(User.username == str(username).strip())).scalar_one_or_none()
    if user is None or not user.active:
        raise InputError(N_("no active user %(username)s on this node", username=repr(str(username)[:80])), field="as")
    return who_of(user)


#: A command run by the node's operator without ``--as``: the office.
OPERATOR = Who("operator", Role.ADMIN.value)


def _text(value: Any, field: str, limit: int, required: bool = True) -> str:
    value = (value or "").strip() if isinstance(value, str) or value is None else None
    if value is None:
        raise InputError(N_("%(field)s must be text", field=field), field=field)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InputError(N_("%(field)s holds something that is not a character", field=field), field=field) from None
    if required and not value:
        raise InputError(N_("%(field)s is empty", field=field), field=field)
    if len(value) > limit:
        raise InputError(N_("%(field)s is longer than %(limit)s characters", field=field, limit=limit), field=field)
    return value


def _need_office(who: Who, doing: str) -> None:
    if not who.office:
        raise NotOffice(N_("%(doing)s is the office's decision (role office or admin), not %(role)s %(username)s's",
                           doing=doing, role=who.role, username=who.username))


# ---------------------------------------------------------------------------------------------
# Finding proposals


def _options():
    return (selectinload(Proposal.signers).selectinload(ProposalSigner.member),
            selectinload(Proposal.assignments).selectinload(ProposalAssignment.unit),
            selectinload(Proposal.reassignments), selectinload(Proposal.replies), selectinload(Proposal.contacts),
            selectinload(Proposal.ratings), selectinload(Proposal.supervisions),
            selectinload(Proposal.upstream_events))


def get_proposal(session: Session, ref: Any, lock: bool = False) -> Proposal:
    """The proposal with this number, or (a number of digits) this id; ``lock`` takes its row."""
    ref = str(ref or "").strip()[:60]
    query = select(Proposal).options(*_options())
    if ref.isascii() and ref.isdigit():
        query = query.where(Proposal.id == int(ref)) if int(ref) < 2 ** 31 else query.where(Proposal.id == -1)
    else:
        query = query.where(Proposal.number == ref)
    if lock:
        query = query.with_for_update(of=Proposal)
    found = session.execute(query).scalar_one_or_none()
    if found is None:
        raise NotFound(N_("no proposal %(ref)s on this node", ref=repr(ref)))
    return found


def unit_of(session: Session, who: Who) -> HandlingUnit | None:
    return units.unit_of_user(session, who.user_id) if who.role in UNITS else None


def is_proposer(p: Proposal, who: Who) -> bool:
    """The lead member of a member's proposal (the office, for a body's)."""
    if p.kind == "body":
        return who.office
    if p.kind == "forwarded":  # its proposers are members of the node it came from: they rate there
        return False
    return who.member_id is not None and any(s.role == "lead" and s.member_id == who.member_id for s in p.signers)


def can_see(session: Session, p: Proposal, who: Who) -> bool:
    """The office sees every proposal; a member their own (as a signer) and public ones; a handling unit's
    user those assigned to their unit (a part handed to another unit is no longer theirs); anyone else
    public ones."""
    if who.office:
        return True
    if who.role in UNITS:
        unit = unit_of(session, who)
        return unit is not None and any(a.unit_id == unit.id for a in p.active_assignments())
    if who.member_id is not None and any(s.member_id == who.member_id for s in p.signers):
        return True
    return p.public_proposal


def get_visible(session: Session, ref: Any, who: Who) -> Proposal:
    """The proposal, if ``who`` may see it; otherwise ``NotFound`` (as if it were not here)."""
    p = get_proposal(session, ref)
    if not can_see(session, p, who):
        raise NotFound(N_("no proposal %(ref)s on this node", ref=repr(str(ref)[:60])))
    return p


SCOPES = ("all", "mine", "assigned", "public")


def list_proposals(session: Session, who: Who, scope: str = "all", status: str | None = None,
                   limit: int | None = None, cursor: str | None = None) -> Page[Proposal]:
    """The proposals ``who`` may see, newest first: ``all`` they may see, ``mine`` (as a signer),
    ``assigned`` (to their unit), ``public``."""
    query = select(Proposal).options(*_options())
    if status is not None:
        if status not in STATUSES:
            raise InputError(N_("unknown status %(status)s; statuses: %(statuses)s", status=repr(status[:40]),
                                statuses=', '.join(STATUSES)), field="status")
        query = query.where(Proposal.status == status)
    if scope not in SCOPES:
        raise InputError(N_("unknown scope %(scope)s; scopes: %(scopes)s", scope=repr(scope[:40]),
                            scopes=', '.join(SCOPES)), field="scope")
    return page(session, query.where(visible(session, who, scope)), [Proposal.id], lambda p: [p.id], limit, cursor)


def visible(session: Session, who: Who, scope: str = "all") -> Any:
    """The condition (over ``Proposal``) of the proposals ``who`` sees in ``scope`` — the rule of
    :func:`can_see` as SQL, for the list and for search."""
    signed = exists().where(ProposalSigner.proposal_id == Proposal.id, ProposalSigner.member_id == who.member_id)
    unit = unit_of(session, who)
    assigned = exists().where(ProposalAssignment.proposal_id == Proposal.id, ProposalAssignment.active.is_(True),
                              ProposalAssignment.unit_id == (unit.id if unit is not None else -1))
    if scope == "public":
        return Proposal.public_proposal.is_(True)
    if scope == "mine":
        return signed if who.member_id is not None else Proposal.id == -1
    if scope == "assigned":
        return assigned
    if who.office:
        return true()
    if who.role in UNITS:
        return assigned
    if who.member_id is not None:
        return signed | Proposal.public_proposal.is_(True)
    return Proposal.public_proposal.is_(True)


def proposers(p: Proposal) -> list[str]:
    return [s.name for s in p.signers if s.role in ("lead", "cosigner", "body", "merged", "forwarded")]


def summary(p: Proposal) -> dict[str, Any]:
    return {"id": p.id, "number": p.number, "ref": p.ref, "title": p.title, "category": p.category,
            "status": p.status, "key": p.key, "face_to_face": p.face_to_face, "proposers": proposers(p)}


def public_view(p: Proposal, config: Mapping[str, Any]) -> dict[str, Any]:
    """A published proposal as the public list shows it: proposer names hidden where the node publishes
    anonymously; the replies only where they are published."""
    anonymous = bool(config.get("PROPOSALS_PUBLIC_ANONYMOUS", True))
    return {"number": p.number or p.ref, "title": p.title, "category": p.category,
            "proposers": None if anonymous else proposers(p), "reasons": p.reasons, "suggestions": p.suggestions,
            "replies": [{"unit": r.unit.name, "classification": r.classification, "text": r.text, "round": r.round}
                        for r in p.replies] if p.public_reply else None}


def public_list(session: Session, config: Mapping[str, Any]) -> list[dict[str, Any]]:
    found = session.execute(select(Proposal).options(*_options()).where(Proposal.public_proposal.is_(True))
                            .order_by(Proposal.number, Proposal.id)).scalars()
    return [public_view(p, config) for p in found]


# ---------------------------------------------------------------------------------------------
# The guard and small helpers


def _guard(node: NodeContext, p: Proposal, action: str, fields: Mapping[str, Any]) -> None:
    """Ask every ``proposal_guard``; any reason refuses the step (nothing is stored)."""
    reasons = flatten(node.pm.hook.proposal_guard(proposal=p.as_dict(), action=action, fields=dict(fields),
                                                  config=node.config))
    if reasons:
        raise GuardRefused(f"refused ({action}): " + "; ".join(str(r) for r in reasons))


def _status(p: Proposal, allowed: tuple[str, ...], doing: str) -> None:
    if p.status not in allowed:
        raise WrongStatus(N_("proposal %(ref)s is %(status)s: %(doing)s only when it is %(allowed)s", ref=p.ref,
                             status=p.status, doing=doing, allowed=' or '.join(allowed)))


def _touch(node: NodeContext, p: Proposal) -> int:
    now = node.now_ms()
    p.updated_ms = max(p.updated_ms or 0, now)
    return now


def _member(session: Session, number: Any, field: str) -> Member:
    number = _text(number, field, 40)
    member = session.execute(select(Member).where(Member.member_no == number)).scalar_one_or_none()
    if member is None or not member.active:
        raise NotAMember(N_("%(number)s is not a member of this node: only members sign proposals",
                            number=repr(number)), field=field)
    return member


def _dump(data: Any) -> dict[str, Any]:
    return data.model_dump() if hasattr(data, "model_dump") else dict(data)


def _months_later(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def deadline_ms(value: Any, node: NodeContext, field: str = "deadline") -> int:
    """``YYYY-MM-DD`` (the end of that day, in the node's zone) or, when not given, the default months from
    today; a day before today is refused."""
    current = today(node.config, node.now_ms())
    raw = (value or "").strip() if isinstance(value, str) or value is None else str(value)
    if not raw:
        months = int(node.config.get("PROPOSALS_DEFAULT_DEADLINE_MONTHS", 3))
        return end_of_day_ms(node.config, _months_later(current, months))
    if not DATE.fullmatch(raw):
        raise InputError(N_("%(field)s %(raw)s is not a date: write YYYY-MM-DD", field=field,
                            raw=repr(raw[:40])), field=field)
    try:
        day = dt.date.fromisoformat(raw)
    except ValueError:
        raise InputError(N_("%(field)s %(raw)s is not a calendar date", field=field,
                            raw=repr(raw)), field=field) from None
    if day < current:
        raise DeadlinePassed(N_("%(field)s %(isoformat)s has passed (today is %(isoformat2)s)", field=field,
                                isoformat=day.isoformat(), isoformat2=current.isoformat()), field=field)
    return end_of_day_ms(node.config, day)


def standards(config: Mapping[str, Any]) -> list[str]:
    """The filing standards (立案标准) the node configures, shown to the reviewer."""
    return [str(s) for s in (config.get("PROPOSALS_STANDARDS") or [])]


# ---------------------------------------------------------------------------------------------
# Submitting and signing


def submit(session: Session, node: NodeContext, data: ProposalIn, who: Who, actor: str,
           source_topic: str | None = None) -> Proposal:
    """A member submits their own proposal (alone, or with co-signers who must each confirm); the office
    enters a body's proposal (sector, special committee, party group) or a member's on their behalf."""
    if who.role not in SUBMITTERS:
        raise NotAllowed(N_("role %(role)s does not submit proposals; members and the office do", role=who.role))
    title = _text(data.title, "title", TITLE)
    reasons = _text(data.reasons, "reasons", TEXT)
    suggestions = _text(data.suggestions, "suggestions", TEXT)
    category = _text(data.category, "category", CATEGORY)
    if not 1 <= data.term <= 1000:
        raise InputError(N_("term (届) is a number from 1 to 1000"), field="term")
    if not 1 <= data.session <= 100:
        raise InputError(N_("session (次) is a number from 1 to 100"), field="session")
    now = node.now_ms()
    year = data.year if data.year is not None else today(node.config, now).year
    if not 1949 <= year <= 9999:
        raise InputError(N_("year is from 1949 to 9999"), field="year")
    signers: list[ProposalSigner] = []
    body_kind = body_name = None
    if data.body_kind or data.body_name:
        _need_office(who, N_("entering a body's proposal"))
        if data.body_kind not in BODY_KINDS:
            raise InputError(N_("unknown body kind %(body_kind)s; kinds: %(body_kinds)s",
                                body_kind=repr(str(data.body_kind)[:40]), body_kinds=', '.join(BODY_KINDS)),
                             field="body_kind")
        body_kind, body_name = data.body_kind, _text(data.body_name, "body_name", NAME)
        if data.proposer or data.cosigners:
            raise InputError(N_("a body's proposal has no member proposer or co-signers"), field="cosigners")
        signers.append(ProposalSigner(member_id=None, name=body_name, role="body", confirmed_ms=now))
        kind = "body"
    else:
        kind = "member"
        if who.office:
            if not (data.proposer or "").strip():
                raise InputError(N_("the office enters a member's proposal with the proposer's member number, or a "
                                    "body's with body_kind and body_name"), field="proposer")
            lead = _member(session, data.proposer, "proposer")
        else:
            if data.proposer and data.proposer.strip():
                raise InputError(N_("a member submits their own proposal; proposer is for the office"), field="proposer")
            if who.member_id is None:
                raise NotLinked(N_("user %(username)s is not linked to a member, so cannot submit a member's "
                                   "proposal (users add --member)", username=who.username))
            lead = session.get(Member, who.member_id)
            if lead is None or not lead.active:
                raise NotAMember(N_("user %(username)s's member is not active on this node",
                                    username=who.username), field="proposer")
        signers.append(ProposalSigner(member_id=lead.id, member=lead, name=lead.name, role="lead", confirmed_ms=now))
        if len(data.cosigners) > COSIGNERS_MAX:
            raise InputError(N_("at most %(cosigners_max)s co-signers", cosigners_max=COSIGNERS_MAX), field="cosigners")
        for number in data.cosigners:
            member = _member(session, number, "cosigners")
            if any(s.member_id == member.id for s in signers):
                raise InputError(N_("%(name)s (%(member_no)s) is named twice among the proposers", name=member.name,
                                    member_no=member.member_no),
                                 field="cosigners")
            signers.append(ProposalSigner(member_id=member.id, member=member, name=member.name, role="cosigner"))
    areas = check_areas(getattr(data, "areas", None) or [])
    p = Proposal(year=year, term=data.term, session_no=data.session, title=title, reasons=reasons,
                 suggestions=suggestions, category=category, kind=kind, body_kind=body_kind, body_name=body_name,
                 submitted_by=actor, status="signing" if len(signers) > 1 else "submitted", key=False,
                 face_to_face=False, public_proposal=False, public_reply=False, round=1, created_ms=now,
                 updated_ms=now, areas=json.dumps(areas) if areas else None,
                 source_topic=source_topic)
    p.signers = signers
    p.assignments, p.reassignments, p.replies, p.contacts, p.ratings, p.supervisions = [], [], [], [], [], []
    p.upstream_events = []
    _guard(node, p, "submit", _dump(data))
    session.add(p)
    session.flush()
    return p


def confirm(session: Session, node: NodeContext, ref: Any, who: Who, actor: str) -> Proposal:
    """A co-signer confirms (联名确认); once all have, the proposal waits for its filing review."""
    p = get_proposal(session, ref, lock=True)
    if who.member_id is None:
        raise NotLinked(N_("user %(username)s is not linked to a member: only a co-signer confirms",
                           username=who.username))
    signer = next((s for s in p.signers if s.role == "cosigner" and s.member_id == who.member_id), None)
    if signer is None:
        raise NotSigner(N_("user %(username)s is not a co-signer of proposal %(ref)s", username=who.username,
                           ref=p.ref))
    if signer.confirmed_ms is not None:
        raise WrongStatus(N_("%(name)s confirmed proposal %(ref)s already", name=signer.name, ref=p.ref))
    _status(p, ("signing",), N_("co-signers confirm"))
    _guard(node, p, "confirm", {"member_id": who.member_id})
    signer.confirmed_ms = _touch(node, p)
    if all(s.confirmed_ms is not None for s in p.signers):
        p.status = "submitted"
    session.flush()
    return p


def revise(session: Session, node: NodeContext, ref: Any, data: ProposalRevisionIn, who: Who,
           actor: str) -> Proposal:
    """The proposer revises a proposal returned for revision (退回修改) and submits it again."""
    p = get_proposal(session, ref, lock=True)
    if not is_proposer(p, who):
        raise NotProposer(N_("only the proposer of proposal %(ref)s revises it", ref=p.ref))
    _status(p, ("returned",), N_("a proposal is revised"))
    changes = {}
    for field, limit in (("title", TITLE), ("reasons", TEXT), ("suggestions", TEXT), ("category", CATEGORY)):
        value = getattr(data, field)
        if value is not None:
            changes[field] = _text(value, field, limit)
    if not changes:
        raise InputError(N_("nothing to revise: give title, reasons, suggestions or category"))
    _guard(node, p, "revise", changes)
    for field, value in changes.items():
        setattr(p, field, value)
    p.status = "submitted"
    _touch(node, p)
    session.flush()
    return p


# ---------------------------------------------------------------------------------------------
# The filing review (立案审查)


def next_number(session: Session, year: int, session_no: int) -> str:
    """The next number of a year's session, ``YEAR-SESSION-NNNN``: the counter's row is locked and moved
    in the caller's transaction, so a filing rolled back gives its number back (no gaps)."""
    query = select(ProposalCounter).where(ProposalCounter.year == year, ProposalCounter.session_no == session_no)
    counter = session.execute(query.with_for_update()).scalar_one_or_none()
    if counter is None:
        # A session's first number: two filings may start its counter at once (PostgreSQL); the one that
        # loses the insert takes the winner's row, locked, instead.
        try:
            with session.begin_nested():
                counter = ProposalCounter(year=year, session_no=session_no, last=0)
                session.add(counter)
        except IntegrityError:
            counter = session.execute(query.with_for_update()).scalar_one()
    counter.last += 1
    session.flush()
    return f"{year}-{session_no}-{counter.last:04d}"


def review(session: Session, node: NodeContext, ref: Any, data: ProposalReviewIn, who: Who, actor: str) -> Proposal:
    """File (立案, with its number), not file (不立案, with the reason and its disposal: a social-opinion
    report, a letter, or none), merge into another proposal (并案, the proposers of both kept), or return
    for revision (退回修改)."""
    _need_office(who, N_("the filing review"))
    p = get_proposal(session, ref, lock=True)
    _status(p, ("submitted",), N_("the filing review is made"))
    reason = _text(data.reason, "reason", REASON, required=data.decision != "filed")
    fields = _dump(data)
    target = None
    disposal = None
    if data.decision == "not_filed":
        disposal = data.disposal or "none"
        if disposal not in DISPOSALS:
            raise InputError(N_("unknown disposal %(disposal)s; disposals: %(disposals)s",
                                disposal=repr(disposal[:40]), disposals=', '.join(DISPOSALS)),
                             field="disposal")
    if data.decision == "merged":
        if not (data.into or "").strip():
            raise InputError(N_("merged into which proposal? give its number"), field="into")
        try:
            target = get_proposal(session, data.into, lock=True)
        except NotFound:
            raise InputError(N_("no proposal %(into)s to merge into",
                                into=repr(data.into[:60])), field="into") from None
        if target.id == p.id:
            raise InputError(N_("a proposal is not merged into itself"), field="into")
        if target.status not in ("filed", "assigned", "replied", "rated"):
            raise MergeIntoClosed(N_("proposal %(ref)s is %(status)s: a proposal is merged only into a filed "
                                     "proposal that is not closed", ref=target.ref, status=target.status))
    _guard(node, p, "review", fields)
    if target is not None:
        _guard(node, target, "merge_in", {"from": p.ref})
    now = _touch(node, p)
    p.decision, p.decision_reason, p.reviewed_by, p.reviewed_ms = data.decision, reason or None, actor, now
    p.disposal = disposal
    if data.decision == "filed":
        p.number = next_number(session, p.year, p.session_no)
        p.status = "filed"
    elif data.decision == "not_filed":
        p.status = "not_filed"
    elif data.decision == "returned":
        p.status = "returned"
    else:
        p.status, p.merged_into_id = "merged", target.id
        have = {s.member_id for s in target.signers if s.member_id is not None}
        names = {s.name for s in target.signers if s.member_id is None}
        for s in p.signers:
            if (s.member_id is not None and s.member_id not in have) or (s.member_id is None and s.name not in names):
                target.signers.append(ProposalSigner(member_id=s.member_id, name=s.name, role="merged",
                                                     confirmed_ms=now))
        _touch(node, target)
    session.flush()
    _tell_origin(session, node, p, data.decision, reason or (p.number or ""),
                 {"disposal": disposal, "into": target.ref if target is not None else None})
    return p


def set_flags(session: Session, node: NodeContext, ref: Any, data: ProposalFlagsIn, who: Who, actor: str) -> Proposal:
    """Key proposal (重点提案) and face-to-face handling (面对面办理), chosen by the office for a filed one."""
    _need_office(who, N_("choosing key and face-to-face proposals"))
    p = get_proposal(session, ref, lock=True)
    _status(p, ("filed", "assigned", "replied", "rated"), N_("flags are set"))
    if data.key is None and data.face_to_face is None:
        raise InputError(N_("give key or face_to_face"))
    _guard(node, p, "flags", _dump(data))
    if data.key is not None:
        p.key = data.key
    if data.face_to_face is not None:
        p.face_to_face = data.face_to_face
    _touch(node, p)
    session.flush()
    return p


# ---------------------------------------------------------------------------------------------
# Handling units


def assign(session: Session, node: NodeContext, ref: Any, data: ProposalAssignmentIn, who: Who,
           actor: str) -> Proposal:
    """Assign a filed proposal to its lead unit (主办) and co-handling units (会办), each with the deadline."""
    _need_office(who, N_("assigning handling units"))
    p = get_proposal(session, ref, lock=True)
    _status(p, ("filed",), N_("handling units are assigned"))
    (lead,) = units.resolve(session, [data.lead], field="lead")
    co = units.resolve(session, data.co, field="co")
    if lead in co:
        raise InputError(N_("%(name)s is the lead unit; it is not also a co-handling unit", name=lead.name), field="co")
    due = deadline_ms(data.deadline, node)
    _guard(node, p, "assign", _dump(data))
    now = _touch(node, p)
    for unit, role in [(lead, "lead")] + [(u, "co") for u in co]:
        p.assignments.append(ProposalAssignment(unit_id=unit.id, unit=unit, role=role, deadline_ms=due,
                                                assigned_ms=now, assigned_by=actor, active=True, overdue=False))
    p.status = "assigned"
    session.flush()
    _tell_origin(session, node, p, "assigned", "、".join(u.name for u in [lead] + co),
                 {"lead": lead.name, "co": [u.name for u in co], "deadline_ms": due})
    for unit in [lead] + co:
        for user_id in units.contact_user_ids(unit):
            notify(session, subject=f"提案交办:{p.number} {p.title}"[:300], body=f"{unit.name} 承办", user_id=user_id,
                   source="proposals")
    return p


def _assignment_of(session: Session, p: Proposal, who: Who, doing: str) -> ProposalAssignment:
    if who.role not in UNITS:
        raise NotAssignedUnit(N_("%(doing)s: only a contact user of a unit assigned to proposal %(ref)s does this",
                                 doing=doing, ref=p.ref))
    unit = unit_of(session, who)
    found = next((a for a in p.active_assignments() if unit is not None and a.unit_id == unit.id), None)
    if found is None:
        raise NotAssignedUnit(N_("%(doing)s: %(value)s is not assigned to proposal %(ref)s", doing=doing,
                                 value=unit.name if unit else who.username, ref=p.ref))
    return found


def request_reassignment(session: Session, node: NodeContext, ref: Any, data: ProposalReassignmentIn, who: Who,
                         actor: str) -> ProposalReassignment:
    """An assigned unit asks the office to hand its part to another unit, with the reason."""
    p = get_proposal(session, ref, lock=True)
    assignment = _assignment_of(session, p, who, N_("asking for reassignment"))
    _status(p, ("assigned",), N_("a reassignment is asked for"))
    reason = _text(data.reason, "reason", REASON)
    suggested = _text(data.suggested_unit, "suggested_unit", 100, required=False) or None
    if any(r.assignment_id == assignment.id and r.decision is None for r in p.reassignments):
        raise WrongStatus(N_("%(name)s has asked for reassignment of proposal %(ref)s already",
                             name=assignment.unit.name, ref=p.ref))
    _guard(node, p, "request_reassignment", _dump(data))
    request = ProposalReassignment(assignment_id=assignment.id, assignment=assignment, reason=reason,
                                   suggested_unit=suggested, requested_by=actor, requested_ms=_touch(node, p))
    p.reassignments.append(request)
    session.flush()
    notify(session, subject=f"提案申请调整承办单位:{p.number}"[:300], body=f"{assignment.unit.name}: {reason}",
           role=Role.OFFICE.value, source="proposals")
    return request


def decide_reassignment(session: Session, node: NodeContext, ref: Any, request_id: int, data: ProposalDecisionIn,
                        who: Who, actor: str) -> Proposal:
    """The office — and only the office — approves a reassignment (the part moves to ``unit``) or refuses it."""
    _need_office(who, N_("deciding a reassignment"))
    p = get_proposal(session, ref, lock=True)
    request = next((r for r in p.reassignments if r.id == request_id), None)
    if request is None:
        raise NotFound(N_("proposal %(ref)s has no reassignment request %(request_id)s", ref=p.ref,
                          request_id=request_id))
    if request.decision is not None:
        raise WrongStatus(N_("reassignment request %(request_id)s was %(decision)s already", request_id=request_id,
                             decision=request.decision))
    note = _text(data.note, "note", REASON, required=False) or None
    new_unit = None
    due = None
    if data.decision == "approved":
        _status(p, ("assigned",), N_("a reassignment is approved"))
        if not (data.unit or "").strip():
            raise InputError(N_("approved to which unit? give unit"), field="unit")
        (new_unit,) = units.resolve(session, [data.unit], field="unit")
        if any(a.unit_id == new_unit.id for a in p.active_assignments()):
            raise InputError(N_("%(name)s is assigned to proposal %(ref)s already", name=new_unit.name,
                                ref=p.ref), field="unit")
        due = deadline_ms(data.deadline, node)
    _guard(node, p, "decide_reassignment", {**_dump(data), "request": request_id})
    now = _touch(node, p)
    request.decision, request.note, request.decided_by, request.decided_ms = data.decision, note, actor, now
    if new_unit is not None:
        old = request.assignment
        old.active = False
        request.new_unit_id, request.new_unit = new_unit.id, new_unit
        p.assignments.append(ProposalAssignment(unit_id=new_unit.id, unit=new_unit, role=old.role, deadline_ms=due,
                                                assigned_ms=now, assigned_by=actor, active=True, overdue=False))
    session.flush()
    return p


def reply(session: Session, node: NodeContext, ref: Any, data: ProposalReplyIn, who: Who, actor: str) -> Proposal:
    """An assigned unit's contact user replies (答复), once per unit and round: solved or being solved,
    planned, or cannot be solved now (with its reasons). The lead unit's reply makes the proposal replied."""
    p = get_proposal(session, ref, lock=True)
    assignment = _assignment_of(session, p, who, N_("replying"))
    _status(p, ("assigned", "replied"), N_("a unit replies"))
    if data.classification not in CLASSIFICATIONS:
        raise InputError(N_("unknown classification %(classification)s; classifications: %(classifications)s",
                            classification=repr(str(data.classification)[:40]),
                            classifications=', '.join(CLASSIFICATIONS)), field="classification")
    body = _text(data.text, "text", TEXT)
    reasons = _text(data.reasons, "reasons", TEXT, required=data.classification == "cannot_now") or None
    if any(r.unit_id == assignment.unit_id and r.round == p.round for r in p.replies):
        raise WrongStatus(N_("%(name)s has replied to proposal %(ref)s in round %(round)s already",
                             name=assignment.unit.name, ref=p.ref, round=p.round))
    _guard(node, p, "reply", _dump(data))
    now = _touch(node, p)
    p.replies.append(ProposalReply(unit_id=assignment.unit_id, unit=assignment.unit, role=assignment.role,
                                   round=p.round, classification=data.classification, text=body, reasons=reasons,
                                   replied_by=actor, replied_ms=now))
    assignment.overdue = False
    if assignment.role == "lead":
        p.status = "replied"
    session.flush()
    _tell_origin(session, node, p, "replied", body,
                 {"unit": assignment.unit.name, "role": assignment.role, "classification": data.classification,
                  "reasons": reasons})
    return p


def record_contact(session: Session, node: NodeContext, ref: Any, data: ProposalContactIn, who: Who,
                   actor: str) -> Proposal:
    """A contact with the proposers (before, during, after handling; call, visit, face-to-face, meeting),
    recorded by an assigned unit or by the office."""
    p = get_proposal(session, ref, lock=True)
    unit = None
    if not who.office:
        unit = _assignment_of(session, p, who, N_("recording a contact")).unit
    _status(p, ("assigned", "replied", "rated"), N_("contacts are recorded"))
    if data.phase not in PHASES:
        raise InputError(N_("unknown phase %(phase)s; phases: %(phases)s", phase=repr(str(data.phase)[:40]),
                            phases=', '.join(PHASES)), field="phase")
    if data.kind not in CONTACT_KINDS:
        raise InputError(N_("unknown kind %(kind)s; kinds: %(contact_kinds)s", kind=repr(str(data.kind)[:40]),
                            contact_kinds=', '.join(CONTACT_KINDS)), field="kind")
    note = _text(data.note, "note", REASON, required=False)
    at = node.now_ms()
    if (data.date or "").strip():
        raw = data.date.strip()
        if not DATE.fullmatch(raw):
            raise InputError(N_("date %(raw)s is not a date: write YYYY-MM-DD", raw=repr(raw[:40])), field="date")
        try:
            at = end_of_day_ms(node.config, dt.date.fromisoformat(raw)) - 86_399_999
        except ValueError:
            raise InputError(N_("date %(raw)s is not a calendar date", raw=repr(raw)), field="date") from None
    _guard(node, p, "contact", _dump(data))
    _touch(node, p)
    p.contacts.append(ProposalContact(unit_id=unit.id if unit else None, unit=unit, phase=data.phase, kind=data.kind,
                                      note=note, at_ms=at, recorded_by=actor))
    session.flush()
    return p


# ---------------------------------------------------------------------------------------------
# Satisfaction, supervision, publication, closing


def rate(session: Session, node: NodeContext, ref: Any, data: ProposalRatingIn, who: Who, actor: str) -> Proposal:
    """The proposer — only the proposer — rates the round's replies on six dimensions and overall;
    unsatisfied overall sends it back to its units for another round (re-handling)."""
    p = get_proposal(session, ref, lock=True)
    if not is_proposer(p, who):
        raise NotProposer(N_("only the proposer of proposal %(ref)s rates its handling, not %(username)s", ref=p.ref,
                             username=who.username))
    if p.status == "forwarded":
        return _rate_upstream(session, node, p, data, actor)
    _status(p, ("replied",), N_("the handling is rated"))
    comment = _text(data.comment, "comment", REASON, required=False)
    _guard(node, p, "rate", _dump(data))
    return apply_rating(session, node, p, _dump(data), comment, actor)


def apply_rating(session: Session, node: NodeContext, p: Proposal, data: Mapping[str, Any], comment: str,
                 actor: str) -> Proposal:
    """Record the proposer's rating of the round (checked by the caller) and move the proposal on."""
    now = _touch(node, p)
    for field in (*DIMENSIONS, "overall"):
        if data.get(field) not in SATISFACTION:
            raise InputError(N_("%(field)s must be one of %(satisfaction)s", field=field,
                                satisfaction=', '.join(SATISFACTION)), field=field)
    p.ratings.append(ProposalRating(round=p.round, **{d: data[d] for d in DIMENSIONS}, overall=data["overall"],
                                    comment=comment, rated_by=actor, rated_ms=now))
    if data["overall"] == "unsatisfied":
        p.round += 1
        p.status = "assigned"
        for a in p.active_assignments():
            for user_id in units.contact_user_ids(a.unit):
                notify(session, subject=f"提案重新办理:{p.number} {p.title}"[:300], body="提案者不满意", user_id=user_id,
                       source="proposals")
    else:
        p.status = "rated"
    session.flush()
    _tell_origin(session, node, p, "unsatisfied" if data["overall"] == "unsatisfied" else "rated",
                 data["overall"], {"round": p.ratings[-1].round, "overall": data["overall"]})
    return p


def supervise(session: Session, node: NodeContext, ref: Any, data: ProposalSupervisionIn, who: Who,
              actor: str) -> Proposal:
    """督办: a chair supervises a key proposal or one with an overdue unit (recorded by the office)."""
    _need_office(who, N_("recording supervision"))
    p = get_proposal(session, ref, lock=True)
    _status(p, ("assigned", "replied"), N_("a proposal is supervised"))
    overdue = any(a.overdue for a in p.active_assignments())
    if not (overdue or p.key):
        raise InputError(N_("proposal %(ref)s is neither a key proposal nor overdue: chairs supervise those",
                            ref=p.ref))
    chair = _text(data.chair, "chair", NAME)
    note = _text(data.note, "note", REASON)
    _guard(node, p, "supervise", _dump(data))
    p.supervisions.append(ProposalSupervision(chair=chair, note=note, reason="overdue" if overdue else "key",
                                              at_ms=_touch(node, p), recorded_by=actor))
    session.flush()
    return p


def publish(session: Session, node: NodeContext, ref: Any, data: ProposalPublicationIn, who: Who,
            actor: str) -> Proposal:
    """The office decides what is public: the proposal, and its replies."""
    _need_office(who, N_("publication"))
    p = get_proposal(session, ref, lock=True)
    _status(p, FILED_STATUSES, N_("a proposal is published"))
    if data.reply and not data.proposal:
        raise InputError(N_("a reply is published with its proposal"), field="reply")
    if data.reply and not p.replies:
        raise InputError(N_("proposal %(ref)s has no reply to publish", ref=p.ref), field="reply")
    _guard(node, p, "publish", _dump(data))
    p.public_proposal, p.public_reply = data.proposal, data.reply
    _touch(node, p)
    session.flush()
    return p


def close(session: Session, node: NodeContext, ref: Any, data: ProposalCloseIn, who: Who, actor: str) -> Proposal:
    """The office closes (办结) a proposal whose proposer is satisfied or basically satisfied."""
    _need_office(who, N_("closing a proposal"))
    p = get_proposal(session, ref, lock=True)
    _status(p, ("rated",), N_("a proposal is closed"))
    _text(data.note, "note", REASON, required=False)
    _guard(node, p, "close", _dump(data))
    p.status, p.closed_ms = "closed", _touch(node, p)
    for a in p.assignments:
        a.overdue = False
    session.flush()
    _tell_origin(session, node, p, "closed", data.note or "", {})
    return p


# ---------------------------------------------------------------------------------------------
# Overdue units (督办)


def mark_overdue(session: Session, node: NodeContext) -> list[ProposalAssignment]:
    """Mark the active assignments past their deadline whose unit has not replied in the proposal's current
    round; each newly overdue one tells the office and ``item_overdue``. Returns those newly marked."""
    now = node.now_ms()
    found = session.execute(
        select(ProposalAssignment).join(Proposal)
        .where(ProposalAssignment.active.is_(True), ProposalAssignment.overdue.is_(False),
               ProposalAssignment.deadline_ms < now, Proposal.status == "assigned")
        .order_by(ProposalAssignment.deadline_ms, ProposalAssignment.id)
        .with_for_update(skip_locked=True)).scalars().all()
    marked = []
    for a in found:
        p = a.proposal
        if any(r.unit_id == a.unit_id and r.round == p.round for r in p.replies):
            continue
        a.overdue = True
        marked.append(a)
        day = due_date(node.config, a.deadline_ms).isoformat()
        notify(session, subject=f"提案逾期:{p.number} {p.title}"[:300], body=f"{a.unit.name} 答复期限 {day} 已过",
               role=Role.OFFICE.value, source="proposals")
        item = {"kind": "proposal", "ref": p.number or p.ref, "title": p.title, "due_ms": a.deadline_ms,
                "unit": a.unit.name, "areas": p.area_list()}
        node.pm.hook.item_overdue(session=session, item=item, config=node.config)
    session.flush()
    return marked


# ---------------------------------------------------------------------------------------------
# Across levels (docs/proposals.md, "Proposals across levels"): areas, the proposer's consent, forwarding
# to the parent node, the parent's answers, the rating sent up, proposals from a topic's result

AREAS_MAX = 50


def check_areas(values: Any, field: str = "areas") -> list[str]:
    """A list of standard division codes (sorted, each once)."""
    from shangliang.core import divisions

    if not isinstance(values, (list, tuple)):
        raise InputError(N_("%(field)s is a list of division codes", field=field), field=field)
    if len(values) > AREAS_MAX:
        raise InputError(N_("at most %(areas_max)s areas", areas_max=AREAS_MAX), field=field)
    found = set()
    for value in values:
        value = str(value).strip() if isinstance(value, (str, int)) else ""
        if not divisions.is_standard(value):
            raise InputError(N_("%(value)s is not a division code (2, 4, 6, 9 or 12 digits)",
                                value=repr(value[:40])), field=field)
        found.add(value)
    return sorted(found)


def route_of(p: Proposal, node_id: str) -> dict[str, Any] | None:
    """Where the proposal's matter belongs, from its areas — the routing suggestion topics get (None without
    areas, or when the areas share no province)."""
    from shangliang.core.topics import routing

    areas = p.area_list()
    if not areas:
        return None
    try:
        return routing.suggest(node_id, areas).as_dict()
    except ValueError:
        return None


def consent(session: Session, node: NodeContext, ref: Any, data: Any, who: Who, actor: str) -> Proposal:
    """The proposer consents to forwarding their proposal to the parent node; the office records the
    proposer's written consent, saying where it is (``note``)."""
    p = get_proposal(session, ref, lock=True)
    note = _text(getattr(data, "note", "") or "", "note", REASON, required=False)
    if not is_proposer(p, who):
        if not who.office:
            raise NotProposer(N_("only the proposer of proposal %(ref)s (or the office, with their written consent) "
                                 "consents to forwarding it", ref=p.ref))
        if not note:
            raise InputError(N_("the office records the proposer's written consent: say where it is (note)"),
                             field="note")
    if p.kind == "forwarded":
        raise WrongStatus(N_("proposal %(ref)s came from %(origin_node)s: it is not forwarded again from here",
                             ref=p.ref, origin_node=p.origin_node))
    _status(p, ("submitted",), N_("the proposer consents to forwarding"))
    if p.consent_ms is not None:
        raise WrongStatus(N_("the proposer consented to forwarding proposal %(ref)s already", ref=p.ref))
    _guard(node, p, "consent", {"note": note})
    p.consent_by, p.consent_note, p.consent_ms = actor, note or None, _touch(node, p)
    session.flush()
    return p


def forward(session: Session, node: NodeContext, ref: Any, data: Any, who: Who, actor: str) -> tuple[Proposal,
                                                                                                     dict[str, Any]]:
    """The office forwards a proposal whose proposer consented to the parent node (an ``x-proposals.forward``,
    in this transaction); the proposal becomes ``forwarded``, read-only here. Returns it and what was sent."""
    from . import messages as federation

    _need_office(who, N_("forwarding a proposal to the parent node"))
    p = get_proposal(session, ref, lock=True)
    if p.status == "forwarded":
        raise WrongStatus(N_("proposal %(ref)s was forwarded to %(forwarded_to)s already", ref=p.ref,
                             forwarded_to=p.forwarded_to))
    if p.kind == "forwarded":
        raise WrongStatus(N_("proposal %(ref)s came from %(origin_node)s: it is handled here, not forwarded again",
                             ref=p.ref, origin_node=p.origin_node))
    _status(p, ("submitted",), N_("a proposal is forwarded"))
    if p.consent_ms is None:
        raise NoConsent(N_("proposal %(ref)s is forwarded only with its proposer's consent: the proposer consents "
                           "first (or the office records their written consent)", ref=p.ref))
    note = _text(getattr(data, "note", "") or "", "note", REASON, required=False)
    areas = getattr(data, "areas", None)
    if areas is not None:
        areas = check_areas(areas)
    parent = federation.parent_peer(session)
    if parent is None:
        raise NoParent(N_("node %(id)s has no parent node paired: there is no one to forward proposal %(ref)s to",
                          id=node.id, ref=p.ref))
    _guard(node, p, "forward", {"note": note, "areas": areas})
    if areas:
        p.areas = json.dumps(areas)
    now = _touch(node, p)
    p.status, p.forwarded_to, p.forwarded_by, p.forwarded_ms = "forwarded", parent, actor, now
    session.flush()
    sent = federation.send_forward(session, node, p, parent, note)
    return p, sent


def _rate_upstream(session: Session, node: NodeContext, p: Proposal, data: Any, actor: str) -> Proposal:
    """The proposer of a forwarded proposal rates the parent's replies here; the rating is recorded here and
    sent up (``x-proposals.rating``), where it counts as the proposer's."""
    from . import messages as federation

    upstream = p.upstream() or {}
    if upstream.get("status") != "replied":
        raise WrongStatus(N_("proposal %(ref)s is %(value)s at %(forwarded_to)s: its handling is rated once the lead "
                             "unit there has replied", ref=p.ref, value=upstream.get('status') or 'not yet answered',
                             forwarded_to=p.forwarded_to))
    comment = _text(data.comment, "comment", REASON, required=False)
    fields = _dump(data)
    for field in (*DIMENSIONS, "overall"):
        if fields.get(field) not in SATISFACTION:
            raise InputError(N_("%(field)s must be one of %(satisfaction)s", field=field,
                                satisfaction=', '.join(SATISFACTION)), field=field)
    rounds = upstream.get("round") or 1
    if any(r.round == rounds for r in p.ratings):
        raise WrongStatus(N_("the proposer rated round %(rounds)s of proposal %(ref)s already", rounds=rounds,
                             ref=p.ref))
    _guard(node, p, "rate", fields)
    now = _touch(node, p)
    p.ratings.append(ProposalRating(round=rounds, **{d: fields[d] for d in DIMENSIONS}, overall=fields["overall"],
                                    comment=comment, rated_by=actor, rated_ms=now))
    session.flush()
    federation.send_rating(session, node, p, rounds, fields, comment, actor)
    return p


def _tell_origin(session: Session, node: NodeContext, p: Proposal, event: str, summary_text: str,
                 detail: Mapping[str, Any]) -> None:
    """A proposal forwarded here from a lower node: tell that node what happened (``x-proposals.answer``)."""
    if p.origin_node is None:
        return
    from . import messages

    messages.send_answer(session, node, p, event, summary_text, detail)


def from_topic(session: Session, node: NodeContext, data: Any, who: Who, actor: str) -> Proposal:
    """A proposal made from a closed topic's result (the result's title, the topic's description and the
    result's summary, its measures; fields given replace them), keeping the topic's uid (``source_topic``)."""
    from shangliang.core.topics.models import Topic

    from .errors import NotAClosedTopic
    from .schemas import ProposalIn

    _need_office(who, N_("making a proposal from a topic's result"))
    uid = _text(data.topic, "topic", 120)
    topic = session.execute(select(Topic).where(Topic.uid == uid)).scalar_one_or_none()
    if topic is None:
        raise NotAClosedTopic(N_("no topic %(uid)s on this node", uid=repr(uid)), field="topic")
    if topic.stage != "closed" or not topic.result:
        raise NotAClosedTopic(N_("topic %(uid)s is %(stage)s: a proposal is made from a closed topic's result",
                                 uid=uid, stage=topic.stage),
                              field="topic")
    result = json.loads(topic.result)
    measures = [m for m in result.get("measures") or [] if isinstance(m, str) and m.strip()]
    reasons = "\n\n".join(t for t in ((topic.description or "").strip(), str(result.get("summary") or "").strip()) if t)
    prefilled = ProposalIn(
        title=data.title or str(result.get("title") or topic.title)[:TITLE],
        reasons=data.reasons or reasons or topic.title,
        suggestions=data.suggestions or ("\n".join(f"{i}. {m}" for i, m in enumerate(measures, 1))
                                         or str(result.get("summary") or topic.title)),
        category=data.category or topic.category, term=data.term, session=data.session, year=data.year,
        cosigners=list(data.cosigners or []), proposer=data.proposer, body_kind=data.body_kind,
        body_name=data.body_name, areas=json.loads(topic.areas or "[]"))
    return submit(session, node, prefilled, who, actor, source_topic=uid)


def from_topic_list(session: Session, uid: str) -> list[Proposal]:
    """The proposals made from topic ``uid`` (the link shown on the topic's page)."""
    return list(session.execute(select(Proposal).where(Proposal.source_topic == uid).order_by(Proposal.id)).scalars())


# -- what waits on the workbench (core/work.py) ---------------------------------------------------------


def to_review(session: Session) -> tuple[int, list[Proposal]]:
    """Submitted proposals awaiting the office's filing review (立案审查), oldest first."""
    return count_and_first(session, select(Proposal).where(Proposal.status == "submitted")
                           .order_by(Proposal.updated_ms, Proposal.id))


def to_sign(session: Session, who: Who) -> tuple[int, list[Proposal]]:
    """Joint proposals waiting for ``who``'s confirmation as a co-signer (附议)."""
    if who.member_id is None:
        return 0, []
    waiting = exists().where(ProposalSigner.proposal_id == Proposal.id, ProposalSigner.member_id == who.member_id,
                             ProposalSigner.role == "cosigner", ProposalSigner.confirmed_ms.is_(None))
    return count_and_first(session, select(Proposal).where(Proposal.status == "signing", waiting)
                           .order_by(Proposal.created_ms, Proposal.id))


def open_of_member(session: Session, who: Who) -> tuple[int, list[Proposal]]:
    """``who``'s own proposals still open (the lead proposer), those awaiting their rating first."""
    if who.member_id is None:
        return 0, []
    lead = exists().where(ProposalSigner.proposal_id == Proposal.id, ProposalSigner.member_id == who.member_id,
                          ProposalSigner.role == "lead")
    return count_and_first(session, select(Proposal).where(lead, Proposal.status.in_(OPEN_STATUSES))
                           .order_by((Proposal.status == "replied").desc(), Proposal.updated_ms.desc(), Proposal.id))


def to_handle(session: Session, who: Who) -> tuple[int, list[ProposalAssignment]]:
    """The parts assigned to ``who``'s unit that still await its reply, overdue first then by deadline."""
    unit = unit_of(session, who)
    if unit is None:
        return 0, []
    return count_and_first(session, select(ProposalAssignment).join(Proposal).where(
        ProposalAssignment.unit_id == unit.id, ProposalAssignment.active.is_(True), Proposal.status == "assigned")
        .order_by(ProposalAssignment.overdue.desc(), ProposalAssignment.deadline_ms, ProposalAssignment.id))
