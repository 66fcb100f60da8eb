"""Proposal tables: a proposal (提案) with its signers, filing review, handling units, replies, contacts,
satisfaction ratings and supervision, and the per-session number counter.

A proposal's number (``YEAR-SESSION-NNNN``) is given when it is filed, from ``proposal_counters`` under the
transaction's lock, so a rolled-back filing leaves no gap.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shangliang.core.members.models import Member
from shangliang.core.models import Base
from shangliang.core.units.models import HandlingUnit

#: signing: co-signers have not all confirmed; submitted: waiting for the filing review (立案审查);
#: returned: sent back for revision (退回修改); filed (立案), not_filed (不立案), merged (并案);
#: assigned: being handled by its units; replied: the lead unit replied this round; rated: the proposer
#: is satisfied or basically satisfied; closed; forwarded: sent to the parent node with the proposer's consent
#: (read-only here: its handling there comes back as ``upstream`` events).
STATUSES = ("signing", "submitted", "returned", "filed", "not_filed", "merged", "assigned", "replied", "rated",
            "closed", "forwarded")
#: What the parent node tells the origin of a forwarded proposal (``x-proposals.answer``).
UPSTREAM_EVENTS = ("received", "filed", "not_filed", "merged", "returned", "assigned", "replied", "rated",
                   "unsatisfied", "closed")
#: A proposal that can still change (merged into, flagged, supervised…).
OPEN_STATUSES = ("signing", "submitted", "returned", "filed", "assigned", "replied", "rated")
FILED_STATUSES = ("filed", "assigned", "replied", "rated", "closed")
BODY_KINDS = ("sector", "special_committee", "party_group")
DECISIONS = ("filed", "not_filed", "merged", "returned")
DISPOSALS = ("none", "social_opinion", "letter")
CLASSIFICATIONS = ("solved_or_solving", "planned", "cannot_now")
PHASES = ("before", "during", "after")
CONTACT_KINDS = ("call", "visit", "face_to_face", "meeting")
DIMENSIONS = ("contact", "attitude", "measures", "pertinence", "leader_attention", "result")
SATISFACTION = ("satisfied", "basically", "unsatisfied")


class Proposal(Base):
    """A proposal submitted here by a member (alone or jointly) or by a body, from its filing review to its
    closing."""

    __tablename__ = "proposals"
    __audited__ = True

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str | None] = mapped_column(String(40), unique=True)  # given when filed
    year: Mapped[int] = mapped_column(Integer)
    term: Mapped[int] = mapped_column(Integer)  # 届
    session_no: Mapped[int] = mapped_column(Integer)  # 次
    title: Mapped[str] = mapped_column(String(300))
    reasons: Mapped[str] = mapped_column(Text)
    suggestions: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))  # member | body
    body_kind: Mapped[str | None] = mapped_column(String(40))
    body_name: Mapped[str | None] = mapped_column(String(200))
    submitted_by: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), index=True)
    decision: Mapped[str | None] = mapped_column(String(20))
    decision_reason: Mapped[str | None] = mapped_column(Text)
    disposal: Mapped[str | None] = mapped_column(String(20))
    reviewed_by: Mapped[str | None] = mapped_column(String(200))
    reviewed_ms: Mapped[int | None] = mapped_column(BigInteger)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("proposals.id"))
    key: Mapped[bool] = mapped_column(Boolean, default=False)  # 重点提案
    face_to_face: Mapped[bool] = mapped_column(Boolean, default=False)  # 面对面办理
    public_proposal: Mapped[bool] = mapped_column(Boolean, default=False)
    public_reply: Mapped[bool] = mapped_column(Boolean, default=False)
    round: Mapped[int] = mapped_column(Integer, default=1)
    closed_ms: Mapped[int | None] = mapped_column(BigInteger)
    created_ms: Mapped[int] = mapped_column(BigInteger)
    updated_ms: Mapped[int] = mapped_column(BigInteger)
    # Across levels (docs/proposals.md, "Proposals across levels"): the areas it concerns (a JSON list of
    # division codes, for the routing suggestion), the topic it came from, the proposer's consent to
    # forwarding, where it went, and — at the parent — the node and ref it came from.
    areas: Mapped[str | None] = mapped_column(Text)
    source_topic: Mapped[str | None] = mapped_column(String(120), index=True)
    consent_by: Mapped[str | None] = mapped_column(String(200))
    consent_note: Mapped[str | None] = mapped_column(Text)
    consent_ms: Mapped[int | None] = mapped_column(BigInteger)
    forwarded_to: Mapped[str | None] = mapped_column(String(40))
    forwarded_by: Mapped[str | None] = mapped_column(String(200))
    forwarded_ms: Mapped[int | None] = mapped_column(BigInteger)
    origin_node: Mapped[str | None] = mapped_column(String(40), index=True)
    origin_ref: Mapped[str | None] = mapped_column(String(60))
    #: A not-filed proposal disposed of as a social-opinion report (社情民意): the report it became, once
    #: there is one (the opinions feature is a later step; until then only the intent is recorded).
    opinion_ref: Mapped[str | None] = mapped_column(String(120))

    signers: Mapped[list[ProposalSigner]] = relationship(back_populates="proposal", order_by="ProposalSigner.id",
                                                         cascade="all, delete-orphan")
    assignments: Mapped[list[ProposalAssignment]] = relationship(back_populates="proposal",
                                                                 order_by="ProposalAssignment.id",
                                                                 cascade="all, delete-orphan")
    reassignments: Mapped[list[ProposalReassignment]] = relationship(back_populates="proposal",
                                                                     order_by="ProposalReassignment.id",
                                                                     cascade="all, delete-orphan")
    replies: Mapped[list[ProposalReply]] = relationship(back_populates="proposal", order_by="ProposalReply.id",
                                                        cascade="all, delete-orphan")
    contacts: Mapped[list[ProposalContact]] = relationship(back_populates="proposal", order_by="ProposalContact.id",
                                                           cascade="all, delete-orphan")
    ratings: Mapped[list[ProposalRating]] = relationship(back_populates="proposal", order_by="ProposalRating.id",
                                                         cascade="all, delete-orphan")
    supervisions: Mapped[list[ProposalSupervision]] = relationship(back_populates="proposal",
                                                                   order_by="ProposalSupervision.id",
                                                                   cascade="all, delete-orphan")
    upstream_events: Mapped[list[ProposalUpstreamEvent]] = relationship(back_populates="proposal",
                                                                        order_by="ProposalUpstreamEvent.id",
                                                                        cascade="all, delete-orphan")
    merged_into: Mapped[Proposal | None] = relationship(remote_side=[id])

    @property
    def ref(self) -> str:
        """How people name it: its number once filed, else its id."""
        return self.number or str(self.id)

    def area_list(self) -> list[str]:
        return json.loads(self.areas) if self.areas else []

    def upstream(self) -> dict[str, Any] | None:
        """A forwarded proposal's handling at the parent, as the parent told it (None when not forwarded)."""
        if self.forwarded_to is None:
            return None
        last = self.upstream_events[-1] if self.upstream_events else None
        return {"node": self.forwarded_to, "forwarded_by": self.forwarded_by, "forwarded_ms": self.forwarded_ms,
                "number": last.number if last else None, "status": last.status if last else None,
                "round": last.round if last else None,
                "events": [e.as_dict() for e in self.upstream_events]}

    def active_assignments(self) -> list[ProposalAssignment]:
        return [a for a in self.assignments if a.active]

    def as_dict(self) -> dict[str, Any]:
        """The proposal as pages, the API, commands and hooks see it, with everything recorded on it."""
        return {
            "id": self.id, "number": self.number, "ref": self.ref, "year": self.year, "term": self.term,
            "session": self.session_no, "title": self.title, "reasons": self.reasons,
            "suggestions": self.suggestions, "category": self.category, "kind": self.kind,
            "body": None if self.kind != "body" else {"kind": self.body_kind, "name": self.body_name},
            "submitted_by": self.submitted_by, "status": self.status,
            "review": None if self.decision is None else {
                "decision": self.decision, "reason": self.decision_reason, "disposal": self.disposal,
                "by": self.reviewed_by, "at_ms": self.reviewed_ms,
                "merged_into": self.merged_into.ref if self.merged_into is not None else None},
            "key": self.key, "face_to_face": self.face_to_face,
            "publication": {"proposal": self.public_proposal, "reply": self.public_reply},
            "round": self.round, "closed_ms": self.closed_ms, "created_ms": self.created_ms,
            "updated_ms": self.updated_ms,
            "signers": [s.as_dict() for s in self.signers],
            "assignments": [a.as_dict() for a in self.assignments],
            "reassignments": [r.as_dict() for r in self.reassignments],
            "replies": [r.as_dict() for r in self.replies],
            "contacts": [c.as_dict() for c in self.contacts],
            "ratings": [r.as_dict() for r in self.ratings],
            "supervisions": [s.as_dict() for s in self.supervisions],
            "areas": self.area_list(), "source_topic": self.source_topic,
            "consent": None if self.consent_ms is None else {"by": self.consent_by, "note": self.consent_note,
                                                             "at_ms": self.consent_ms},
            "origin": None if self.origin_node is None else {"node": self.origin_node, "ref": self.origin_ref},
            "upstream": self.upstream(),
            "opinion": None if self.disposal != "social_opinion" else {"intended": True, "ref": self.opinion_ref},
        }


class ProposalSigner(Base):
    """A proposer: the lead member (``lead``), a co-signer (``cosigner``, who confirms), the body that
    submitted it (``body``), or a proposer of a proposal merged into this one (``merged``)."""

    __tablename__ = "proposal_signers"
    __audited__ = True

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    confirmed_ms: Mapped[int | None] = mapped_column(BigInteger)

    proposal: Mapped[Proposal] = relationship(back_populates="signers")
    member: Mapped[Member | None] = relationship()

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "member_id": self.member_id,
                "member_no": self.member.member_no if self.member is not None else None, "name": self.name,
                "role": self.role, "confirmed_ms": self.confirmed_ms}


class ProposalAssignment(Base):
    """A handling unit's part: the lead unit (主办) or a co-handling unit (会办), with its deadline;
    ``active`` is False once the office moved it to another unit."""

    __tablename__ = "proposal_assignments"
    __audited__ = True

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("handling_units.id"), index=True)
    role: Mapped[str] = mapped_column(String(10))  # lead | co
    deadline_ms: Mapped[int] = mapped_column(BigInteger)
    assigned_ms: Mapped[int] = mapped_column(BigInteger)
    assigned_by: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    overdue: Mapped[bool] = mapped_column(Boolean, default=False)

    proposal: Mapped[Proposal] = relationship(back_populates="assignments")
    unit: Mapped[HandlingUnit] = relationship()

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "unit_id": self.unit_id, "unit": self.unit.name, "role": self.role,
                "deadline_ms": self.deadline_ms, "assigned_ms": self.assigned_ms, "assigned_by": self.assigned_by,
                "active": self.active, "overdue": self.overdue}


class ProposalReassignment(Base):
    """A unit's request to hand its part to another unit, with its reason, and the office's decision."""

    __tablename__ = "proposal_reassignments"
    __audited__ = True

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"), index=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("proposal_assignments.id"))
    reason: Mapped[str] = mapped_column(Text)
    suggested_unit: Mapped[str | None] = mapped_column(String(100))
    requested_by: Mapped[str] = mapped_column(String(200))
    requested_ms: Mapped[int] = mapped_column(BigInteger)
    decision: Mapped[str | None] = mapped_column(String(20))  # approved | refused
    new_unit_id: Mapped[int | None] = mapped_column(ForeignKey("handling_units.id"))
    note: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decided_ms: Mapped[int | None] = mapped_column(BigInteger)

    proposal: Mapped[Proposal] = relationship(back_populates="reassignments")
    assignment: Mapped[ProposalAssignment] = relationship()
    new_unit: Mapped[HandlingUnit | None] = relationship()

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "assignment_id": self.assignment_id, "unit": self.assignment.unit.name,
                "reason": self.reason, "suggested_unit": self.suggested_unit, "requested_by": self.requested_by,
                "requested_ms": self.requested_ms, "decision": self.decision,
                "new_unit": self.new_unit.name if self.new_unit is not None else None, "note": self.note,
                "decided_by": self.decided_by, "decided_ms": self.decided_ms}


class ProposalReply(Base):
    """A unit's reply (答复) in a handling round, with its classification."""

    __tablename__ = "proposal_replies"
    __audited__ = True

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("handling_units.id"))
    role: Mapped[str] = mapped_column(String(10))
    round: Mapped[int] = mapped_column(Integer)
    classification: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    reasons: Mapped[str | None] = mapped_column(Text)
    replied_by: Mapped[str] = mapped_column(String(200))
    replied_ms: Mapped[int] = mapped_column(BigInteger)

    proposal: Mapped[Proposal] = relationship(back_populates="replies")
    unit: Mapped[HandlingUnit] = relationship()

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "unit": self.unit.name, "role": self.role, "round": self.round,
                "classification": self.classification, "text": self.text, "reasons": self.reasons,
                "replied_by": self.replied_by, "replied_ms": self.replied_ms}


class ProposalContact(Base):
    """A contact between a unit and the proposers: before, during or after handling; a call, a visit, a
    face-to-face talk or a meeting."""

    __tablename__ = "proposal_contacts"
    __audited__ = True

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("handling_units.id"))
    phase: Mapped[str] = mapped_column(String(10))
    kind: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")
    at_ms: Mapped[int] = mapped_column(BigInteger)
    recorded_by: Mapped[str] = mapped_column(String(200))

    proposal: Mapped[Proposal] = relationship(back_populates="contacts")
    unit: Mapped[HandlingUnit | None] = relationship()

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "unit": self.unit.name if self.unit is not None else None, "phase": self.phase,
                "kind": self.kind, "note": self.note, "at_ms": self.at_ms, "recorded_by": self.recorded_by}


class ProposalRating(Base):
    """The proposer's satisfaction with a round's replies: six dimensions and overall."""

    __tablename__ = "proposal_ratings"
    __audited__ = True

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"), index=True)
    round: Mapped[int] = mapped_column(Integer)
    contact: Mapped[str] = mapped_column(String(20))  # 面商: contact before replying
    attitude: Mapped[str] = mapped_column(String(20))
    measures: Mapped[str] = mapped_column(String(20))
    pertinence: Mapped[str] = mapped_column(String(20))
    leader_attention: Mapped[str] = mapped_column(String(20))
    result: Mapped[str] = mapped_column(String(20))
    overall: Mapped[str] = mapped_column(String(20))
    comment: Mapped[str] = mapped_column(Text, default="")
    rated_by: Mapped[str] = mapped_column(String(200))
    rated_ms: Mapped[int] = mapped_column(BigInteger)

    proposal: Mapped[Proposal] = relationship(back_populates="ratings")

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "round": self.round, **{d: getattr(self, d) for d in DIMENSIONS},
                "overall": self.overall, "comment": self.comment, "rated_by": self.rated_by,
                "rated_ms": self.rated_ms}


class ProposalSupervision(Base):
    """督办: a chair's supervision of an overdue or key proposal."""

    __tablename__ = "proposal_supervisions"
    __audited__ = True

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"), index=True)
    chair: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(String(20))  # overdue | key
    at_ms: Mapped[int] = mapped_column(BigInteger)
    recorded_by: Mapped[str] = mapped_column(String(200))

    proposal: Mapped[Proposal] = relationship(back_populates="supervisions")

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "chair": self.chair, "note": self.note, "reason": self.reason, "at_ms": self.at_ms,
                "recorded_by": self.recorded_by}


class ProposalUpstreamEvent(Base):
    """A step in a forwarded proposal's handling at the parent node, as its ``x-proposals.answer`` told it."""

    __tablename__ = "proposal_upstream_events"
    __audited__ = True

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"), index=True)
    node: Mapped[str] = mapped_column(String(40))
    event: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    number: Mapped[str | None] = mapped_column(String(40))
    round: Mapped[int] = mapped_column(Integer, default=1)
    summary: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[str] = mapped_column(Text, default="{}")  # JSON
    at_ms: Mapped[int] = mapped_column(BigInteger)
    received_ms: Mapped[int] = mapped_column(BigInteger)
    message: Mapped[str] = mapped_column(String(100))  # the envelope's id

    proposal: Mapped[Proposal] = relationship(back_populates="upstream_events")

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "node": self.node, "event": self.event, "status": self.status, "number": self.number,
                "round": self.round, "summary": self.summary, "detail": json.loads(self.detail or "{}"),
                "at_ms": self.at_ms, "received_ms": self.received_ms}


class ProposalCounter(Base):
    """The last number given in a year's session (``YEAR-SESSION-NNNN``)."""

    __tablename__ = "proposal_counters"
    __audited__ = True
    __table_args__ = (UniqueConstraint("year", "session_no"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    session_no: Mapped[int] = mapped_column(Integer)
    last: Mapped[int] = mapped_column(Integer, default=0)
