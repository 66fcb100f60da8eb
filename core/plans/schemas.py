"""Plan request and answer shapes: what the API accepts and answers, and what pages and commands hand the
services. Every model is named ``Plan…`` (the OpenAPI document needs names unique across features).

The shapes say which fields exist and their types; the services hold the rules (lengths, order of the
approval steps, what a published plan allows) and refuse with named errors.
"""

from __future__ import annotations

from pydantic import BaseModel, Field
from shangliang.core.topics.schemas import TopicIn
from shangliang.core.db import ROW_ID_MAX
from shangliang.core.web.api import PageQuery, Request

from .models import AMENDMENT_KINDS, DECISIONS, STATUSES

# ---------------------------------------------------------------------------------------------
# Requests


class PlanPath(BaseModel):
    year: int = Field(description="the plan's year")


class PlanItemPath(PlanPath):
    item_id: int = Field(le=ROW_ID_MAX, description="the item's id (`id` of an item in the plan)")


class PlanListQuery(PageQuery):
    year: int | None = Field(None, description="only the plan of this year")


class PlanIn(Request):
    """Draft this node's consultation plan for a year (one plan a year)."""

    year: int = Field(description="the year, 1949 to 2999")
    title: str | None = Field("", description="at most 300 characters; default `<year>年度政协协商计划`")


class PlanParticipants(Request):
    """Who is expected to take part: party committee and government departments, sectors, members."""

    departments: list[str] = Field(default_factory=list)
    sectors: list[str] = Field(default_factory=list)
    members: list[str] = Field(default_factory=list)


class PlanItemIn(Request):
    """One item: an existing topic held here (`topic_uid`) or a new one raised from the plan (`topic`),
    its consultation form, a planned month or date, the lead and the participants expected."""

    topic_uid: str | None = Field(None, description="a topic held on this node")
    topic: TopicIn | None = Field(None, description="a topic to raise here from the plan (instead of topic_uid)")
    form: str = Field(description="the consultation form's key (`GET /api/v1/plans/forms`)")
    planned_month: int | None = Field(None, description="the planned month, 1 to 12")
    planned_date: str | None = Field(None, description="the planned date, `YYYY-MM-DD` in the plan's year")
    lead: str = Field(description="the special committee or office that leads it, at most 200 characters")
    participants: PlanParticipants = Field(default_factory=PlanParticipants)


class PlanStepIn(Request):
    """Record the next approval step: who approved, the reference, the opinion and the decision."""

    step: str = Field(description="the step's key; steps are taken in order (`approval.next` of the plan)")
    approver: str = Field(description="who took the step (the meeting or the person), at most 200 characters")
    decision: str = Field(description="what was decided: " + ", ".join(DECISIONS) + " (a return sends the plan "
                                      "back to draft and a new round of steps starts)")
    reference: str | None = Field("", description="the document or minute number; required where the step says")
    opinion: str | None = Field("", description="the opinion given; required when the plan is returned")
    decided_on: str | None = Field("", description="the meeting's day, `YYYY-MM-DD` (default: today)")


class PlanPublishIn(Request):
    """Publish the plan: after its last approval step, with no blocking check unmet."""


class PlanAmendmentIn(Request):
    """Amend a published plan: add an item (`item`) or move one (`item_id` with a new `planned_month` or `planned_date`);
    the reason, who approved the change and the document reference are required."""

    kind: str = Field(description="what changes: " + ", ".join(AMENDMENT_KINDS))
    reason: str | None = ""
    approved_by: str | None = Field("", description="who approved the amendment")
    reference: str | None = Field("", description="the document or minute number of the approval")
    item: PlanItemIn | None = Field(None, description="kind `add`: the item added")
    item_id: int | None = Field(None, description="kind `move`: the item moved")
    planned_month: int | None = Field(None, description="kind `move`: the new month, 1 to 12")
    planned_date: str | None = Field(None, description="kind `move`: the new date, `YYYY-MM-DD`")


# ---------------------------------------------------------------------------------------------
# Answers


class PlanSummary(BaseModel):
    uid: str
    year: int
    title: str
    status: str = Field(description=", ".join(STATUSES))
    round: int = Field(description="the approval round (a return starts a new one)")
    created_ms: int
    updated_ms: int
    published_ms: int | None
    item_count: int


class PlanList(BaseModel):
    plans: list[PlanSummary] = Field(description="the latest year first")
    next_cursor: str | None = Field(description="the cursor of the next page; null on the last")


class PlanItemView(BaseModel):
    id: int
    topic_uid: str
    topic_title: str
    form: str
    planned_month: int
    planned_date: str | None
    lead: str
    participants: PlanParticipants
    position: int
    added_ms: int
    by_amendment: bool


class PlanStepView(BaseModel):
    round: int
    step: str
    approver: str
    reference: str
    opinion: str
    decision: str
    decided_on: str
    at_ms: int
    actor: str


class PlanAmendmentView(BaseModel):
    kind: str
    item_id: int | None
    topic_uid: str
    reason: str
    approved_by: str
    reference: str
    changes: dict = Field(description="kind add: the item added; kind move: `{field: [old, new]}`")
    at_ms: int
    actor: str


class PlanApprovalStepView(BaseModel):
    key: str
    label: str
    body: str
    reference_required: bool
    state: str | None = Field(None, description="done (approved in this round), next, or todo; a plan's steps only")


class PlanApproval(BaseModel):
    steps: list[PlanApprovalStepView] = Field(description="the steps of the current round, in order")
    next: str | None = Field(description="the key of the step to take next (null: every step taken)")
    can_publish: bool = Field(description="every step approved, no blocking check unmet, not yet published")


class PlanCheckView(BaseModel):
    rule: str
    met: bool
    detail: str
    blocks: bool = Field(description="publication waits until it is met")
    source: str


class PlanTopicResult(BaseModel):
    kind: str
    title: str
    summary: str
    measures: list[str]
    handling_units: list[str]


class PlanItemProgress(BaseModel):
    item_id: int
    topic_uid: str
    title: str
    stage: str | None = Field(description="the topic's stage (null: the topic is no longer known here)")
    holder: str | None
    consulted: bool = Field(description="the topic reached the consulting stage or was recorded as consulted")
    result: PlanTopicResult | None
    implementation: str | None = Field(description="implementing, feedback or closed; null before")


class PlanOutsideTopic(BaseModel):
    """A topic consulted in the plan's year that is not in the plan (allowed, `001` 9)."""

    uid: str
    title: str
    stage: str
    consulted_ms: int


class PlanDetail(PlanSummary):
    items: list[PlanItemView]
    steps: list[PlanStepView] = Field(description="every step taken, every round")
    amendments: list[PlanAmendmentView]
    approval: PlanApproval
    checks: list[PlanCheckView]
    progress: list[PlanItemProgress]
    outside: list[PlanOutsideTopic]


class PlanFormView(BaseModel):
    key: str
    label: str
    description: str
    per_year: int | None


class PlanForms(BaseModel):
    forms: list[PlanFormView]
    steps: list[PlanApprovalStepView] = Field(description="the approval steps a plan takes on this node")


class PlanPublished(BaseModel):
    plan: PlanDetail
    determined: list[str] = Field(description="the plan's topics moved from collected to determined")
