"""Proposal request and response shapes: what the API accepts and answers, and what pages and commands hand
the services. The shapes say which fields exist and their types; the services hold the rules and refuse
with named errors. Every model name starts with ``Proposal`` so that it is unique in the OpenAPI document.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from shangliang.core.db import ROW_ID_MAX
from shangliang.core.web.api import PageQuery, Request

from .models import BODY_KINDS, CLASSIFICATIONS, CONTACT_KINDS, DISPOSALS, PHASES, STATUSES

Level = Literal["satisfied", "basically", "unsatisfied"]

# ---------------------------------------------------------------------------------------------
# Requests


class ProposalPath(BaseModel):
    ref: str = Field(description="the proposal's number (`2027-1-0001`) or, before it is filed, its id")


class ProposalReassignmentPath(ProposalPath):
    request_id: int = Field(le=ROW_ID_MAX, description="the reassignment request's id")


class ProposalListQuery(PageQuery):
    status: str | None = Field(None, description="only proposals with this status: " + ", ".join(STATUSES))


class ProposalIn(Request):
    """Submit a proposal: a member's own (alone or with co-signers, who confirm), or a body's, entered by the
    office."""

    title: str = Field(description="at most 300 characters")
    reasons: str = Field(description="the case and its reasons (案由), at most 20,000 characters")
    suggestions: str = Field(description="what is proposed (建议), at most 20,000 characters")
    category: str = Field(description="e.g. 经济建设, 社会事业, at most 100 characters")
    term: int = Field(description="the committee's term (届)")
    session: int = Field(description="the session of the term (次)")
    year: int | None = Field(None, description="the session's year (default: this year)")
    cosigners: list[str] = Field(default_factory=list, description="co-signers' member numbers (联名); each confirms")
    proposer: str | None = Field(None, description="the lead member's number, when the office enters a member's "
                                                   "proposal (a member submitting is the proposer)")
    body_kind: str | None = Field(None, description="a body's proposal (office only): " + ", ".join(BODY_KINDS))
    body_name: str | None = Field(None, description="the body's name, e.g. 民革 or 经济委员会")
    areas: list[str] = Field(default_factory=list, description="the division codes of the areas it concerns (for "
                                                               "the routing suggestion when it is forwarded)")


class ProposalRevisionIn(Request):
    """Revise a proposal returned for revision (退回修改) and submit it again; fields not given stay."""

    title: str | None = None
    reasons: str | None = None
    suggestions: str | None = None
    category: str | None = None


class ProposalReviewIn(Request):
    """The filing review (立案审查): file it (立案, it gets its number), not file it with the reason and what
    becomes of it (不立案), merge it into another proposal (并案), or return it for revision (退回修改)."""

    decision: Literal["filed", "not_filed", "merged", "returned"]
    reason: str | None = Field("", description="why (required unless filed), at most 2,000 characters")
    disposal: str | None = Field(None, description="not filed: " + ", ".join(DISPOSALS))
    into: str | None = Field(None, description="merged: the number of the proposal it joins")


class ProposalFlagsIn(Request):
    """Key proposal (重点提案) and face-to-face handling (面对面办理)."""

    key: bool | None = None
    face_to_face: bool | None = None


class ProposalAssignmentIn(Request):
    """Assign the lead unit (主办) and the co-handling units (会办), with a deadline."""

    lead: str = Field(description="the lead unit's name or id")
    co: list[str] = Field(default_factory=list, description="co-handling units' names or ids")
    deadline: str | None = Field(None, description="`YYYY-MM-DD` (default: `[proposals] default_deadline_months` "
                                                   "from today); not in the past")


class ProposalReassignmentIn(Request):
    """A unit asks to hand its part to another unit, with the reason."""

    reason: str = Field(description="at most 2,000 characters")
    suggested_unit: str | None = Field(None, description="the unit it suggests instead")


class ProposalDecisionIn(Request):
    """The office decides a reassignment request: approve (to ``unit``) or refuse."""

    decision: Literal["approved", "refused"]
    unit: str | None = Field(None, description="approved: the unit that takes the part over")
    deadline: str | None = Field(None, description="approved: its deadline, `YYYY-MM-DD` (default as assigning)")
    note: str | None = Field("", description="at most 2,000 characters")


class ProposalReplyIn(Request):
    """A unit's reply (答复) with its classification."""

    classification: str = Field(description=", ".join(CLASSIFICATIONS))
    text: str = Field(description="the reply, at most 20,000 characters")
    reasons: str | None = Field("", description="why it cannot be solved now (required for `cannot_now`)")


class ProposalContactIn(Request):
    """A contact with the proposers: when (before, during, after handling) and how."""

    phase: str = Field(description=", ".join(PHASES))
    kind: str = Field(description=", ".join(CONTACT_KINDS))
    note: str | None = Field("", description="at most 2,000 characters")
    date: str | None = Field(None, description="`YYYY-MM-DD` (default: now)")


class ProposalRatingIn(Request):
    """The proposer's satisfaction: six dimensions and overall, each satisfied, basically or unsatisfied."""

    contact: Level = Field(description="contact before replying (面商)")
    attitude: Level
    measures: Level
    pertinence: Level
    leader_attention: Level
    result: Level
    overall: Level
    comment: str | None = Field("", description="at most 2,000 characters")


class ProposalSupervisionIn(Request):
    """督办: a chair supervises an overdue or key proposal."""

    chair: str = Field(description="the chair (主席, 副主席) who supervises, at most 200 characters")
    note: str = Field(description="at most 2,000 characters")


class ProposalPublicationIn(Request):
    """What of the proposal is public."""

    proposal: bool
    reply: bool = False


class ProposalCloseIn(Request):
    """Close the proposal (办结)."""

    note: str | None = Field("", description="at most 2,000 characters")


class ProposalConsentIn(Request):
    """The proposer consents to forwarding the proposal to the parent node; the office records the proposer's
    written consent (a note saying where it is, required)."""

    note: str | None = Field("", description="the office: where the proposer's written consent is; at most 2,000 "
                                             "characters")


class ProposalForwardIn(Request):
    """The office forwards a proposal the proposer consented to forward to the parent node."""

    note: str | None = Field("", description="for the parent's office, at most 2,000 characters")
    areas: list[str] | None = Field(None, description="the areas it concerns (division codes), if not given when "
                                                      "it was submitted")


class ProposalFromTopicIn(Request):
    """A proposal made from a closed topic's result: the text is prefilled from the result; fields given
    replace it. The link to the topic (``source_topic``) is kept."""

    topic: str = Field(description="the topic's uid (e.g. 620302:12), closed with its result here")
    term: int = Field(description="the committee's term (届)")
    session: int = Field(description="the session of the term (次)")
    year: int | None = None
    title: str | None = Field(None, description="default: the result's title")
    reasons: str | None = Field(None, description="default: the topic's description and the result's summary")
    suggestions: str | None = Field(None, description="default: the result's measures")
    category: str | None = Field(None, description="default: the topic's category")
    proposer: str | None = Field(None, description="the office enters it for a member (member number)")
    body_kind: str | None = Field(None, description="or for a body: " + ", ".join(BODY_KINDS))
    body_name: str | None = None
    cosigners: list[str] = Field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# Answers


class ProposalSummary(BaseModel):
    id: int
    number: str | None
    ref: str
    title: str
    category: str
    status: str
    key: bool
    face_to_face: bool
    proposers: list[str]


class ProposalList(BaseModel):
    proposals: list[ProposalSummary]
    next_cursor: str | None


class ProposalDetail(BaseModel):
    """A proposal with its signers, review, assignments, reassignment requests, replies, contacts, ratings and
    supervision (fields as in `Proposal.as_dict`)."""

    id: int
    number: str | None
    ref: str
    status: str
    title: str
    signers: list[dict[str, Any]]
    assignments: list[dict[str, Any]]
    replies: list[dict[str, Any]]
    ratings: list[dict[str, Any]]

    model_config = {"extra": "allow"}


class ProposalAnswer(BaseModel):
    proposal: ProposalDetail


class ProposalRoute(BaseModel):
    belongs_to: str
    action: str
    to: str | None
    reason: str


class ProposalForwardAnswer(BaseModel):
    proposal: ProposalDetail
    sent: dict[str, Any] = Field(description="the message sent: kind, id, to")
    route: ProposalRoute | None = Field(description="the routing suggestion from its areas (as for topics)")


class ProposalPublic(BaseModel):
    number: str
    title: str
    category: str
    proposers: list[str] | None = Field(description="null where the node publishes proposals anonymously")
    reasons: str | None
    suggestions: str | None
    replies: list[dict[str, Any]] | None


class ProposalPublicList(BaseModel):
    proposals: list[ProposalPublic]


class ProposalStandards(BaseModel):
    standards: list[str] = Field(description="the filing standards (立案标准), one line each")
