"""Topic request and response shapes: what the API accepts and answers, and what pages and commands
hand the services (an action is one of the ``*Action`` models, whoever asks for it).

The shapes say which fields exist and their types; the services hold the rules (lengths, stages, who
may do what) and refuse with named errors.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, RootModel

from shangliang.core.db import ROW_ID_MAX
from shangliang.core.web.api import PageQuery, Request, one_of

from .models import RAISED_BY_KINDS, STAGES

# ---------------------------------------------------------------------------------------------
# Requests


class TopicPath(BaseModel):
    uid: str = Field(description="the topic's uid, `<node where it was raised>:<id>`")


class AttachmentPath(TopicPath):
    sha256: str = Field(description="the file's SHA-256, 64 lower-case hex digits")


class TopicListQuery(PageQuery):
    stage: str | None = Field(None, description="only topics at this stage: " + ", ".join(STAGES))
    holder: str | None = Field(None, description="only topics held by this node id")


class AttachQuery(BaseModel):
    name: str = Field(min_length=1, description="the file's name, as people will see it")


class TopicIn(Request):
    """Raise a topic here (收集议题): stage `collected`, held by this node."""

    title: str = Field(description="at most 300 characters")
    description: str | None = Field("", description="at most 20,000 characters")
    category: str = Field(description="at most 100 characters")
    areas: list[str] = Field(description="one or more division codes the matter concerns, in this node's province")
    raised_by_kind: str = Field("", description="who raised it: " + ", ".join(RAISED_BY_KINDS) + "; required of the "
                                "office; a member raises as `member` and the public as `public`, whatever is sent")
    raised_by_name: str = Field("", description="who raised it, at most 200 characters; required of the office; for a "
                                "member their name and member number, for the public their user name, whatever is sent")


class AdvanceAction(Request):
    """Move a topic held and accepted here to its next stage (plugins may refuse, saying why)."""

    action: Literal["advance"]
    to_stage: str = Field(description="the next stage: " + ", ".join(STAGES))
    note: str | None = ""


class EscalateAction(Request):
    """上交: send the topic to this node's paired parent."""

    action: Literal["escalate"]
    note: str = Field(description="why it belongs higher up")


class DelegateAction(Request):
    """下放: send the topic one level down, to a paired child."""

    action: Literal["delegate"]
    to: str = Field(description="the child node's id")
    instructions: str
    due: str | None = Field("", description="`YYYY-MM-DD`, or `+N` / `Nwd`: N working days on this node's calendar")


class AcceptAction(Request):
    """受理: take responsibility for a topic sent here."""

    action: Literal["accept"]


class ReturnAction(Request):
    """退回: send the topic back to the node it came from."""

    action: Literal["return"]
    reason: str


class ResultAction(Request):
    """反馈: record the result at stage `feedback` and close the topic; it travels back to where it was raised."""

    action: Literal["result"]
    kind: str | None = Field("consultation", description="what kind of result: consultation opinion, proposal, report…")
    title: str
    summary: str
    measures: list[str] = Field(default_factory=list)
    handling_units: list[str] = Field(default_factory=list)


Action = one_of(AdvanceAction, EscalateAction, DelegateAction, AcceptAction, ReturnAction, ResultAction, key="action")
ACTIONS = ("advance", "escalate", "delegate", "accept", "return", "result")


class ActionIn(RootModel[Action]):
    """One action on a topic; `action` names it and decides the other fields."""


# ---------------------------------------------------------------------------------------------
# Answers


class RaisedBy(BaseModel):
    kind: str
    name: str


class Attachment(BaseModel):
    name: str
    size: int
    sha256: str
    kept_here: bool | None = Field(None, description="whether this node has the file's bytes (topic pages only)")


class TopicResult(BaseModel):
    kind: str
    title: str
    summary: str
    measures: list[str]
    handling_units: list[str]


class Event(BaseModel):
    at_ms: int
    actor: str
    action: str = Field(description="raised, advanced, escalated, delegated, accepted, returned, progress, result, "
                                    "attached, overdue, overdue_cleared; implementation: assigned, instruction, "
                                    "report, report_accepted, report_returned, assignment_overdue, "
                                    "assignment_overdue_cleared, implementation_report")
    node: str
    from_stage: str | None
    to_stage: str | None
    note: str


class Topic(BaseModel):
    uid: str
    title: str
    description: str
    category: str
    areas: list[str]
    raised_by: RaisedBy
    raised_ms: int
    stage: str
    holder: str = Field(description="the node responsible for it now")
    due_ms: int | None
    overdue: bool
    result: TopicResult | None
    updated_ms: int
    upstream: str | None = Field(description="where answers about it go from here (null where it was raised)")
    accepted_ms: int | None
    awaiting_acceptance: bool
    instructions: str | None
    closed_ms: int | None
    attachments: list[Attachment]


class TopicWithEvents(Topic):
    events: list[Event]


class Suggestion(BaseModel):
    """Where the matter belongs and what this node should do about it; staff decide."""

    belongs_to: str
    action: Literal["keep", "escalate", "delegate"]
    to: str | None
    reason: str


class Hop(BaseModel):
    from_: str = Field(alias="from")
    to: str
    action: str
    at_ms: int
    note: str
    key: str
    verified: bool
    problem: str | None


class RouteEntry(BaseModel):
    """One envelope about the topic this node received or sent, re-verified now."""

    direction: Literal["received", "sent"]
    at_ms: int
    transfer: str
    kind: str
    origin: str
    id: str
    delivery: str | None = Field(description="a sent envelope's outbox status: pending, sent, dead")
    verified: bool
    core_problem: str | None
    hops: list[Hop]


class TopicDetail(TopicWithEvents):
    suggestion: Suggestion
    route: list[RouteEntry]
    route_verified: bool = Field(description="every envelope and every hop verifies (true for a topic never sent)")
    returns_to: str | None = Field(description="the node a return would go to (null: raised here and not sent here since)")
    attachments_travel: bool = Field(description="whether a file attached now would travel with the topic")


class TopicList(BaseModel):
    topics: list[Topic] = Field(description="overdue first, then the most recently changed")
    next_cursor: str | None = Field(description="the cursor of the next page; null on the last")


class Raised(BaseModel):
    topic: TopicWithEvents
    suggestion: Suggestion


class Sent(BaseModel):
    kind: str
    id: str
    to: str
    hops: int


class Acted(BaseModel):
    topic: TopicWithEvents
    sent: Sent | None = Field(description="the envelope the action sent (null when none, and for every advance)")


class AttachmentAdded(BaseModel):
    name: str
    size: int
    sha256: str
    travels: bool = Field(description="whether the file's name, size and hash will go with the topic")


class Attached(BaseModel):
    attachment: AttachmentAdded


# ---------------------------------------------------------------------------------------------
# Implementation of a result (办理实施)


class ReportPath(TopicPath):
    report_id: int = Field(le=ROW_ID_MAX, description="the report's id")


class AssignmentItem(Request):
    """One unit's part: its role and its deadline, as working days or as a due date."""

    unit: str = Field(description="a handling unit of this node, by name or id")
    role: str = Field(description="`lead` (牵头单位, exactly one per topic) or `participating` (参加单位)")
    working_days: int | None = Field(None, description="the deadline: this many working days from today on this "
                                                       "node's calendar (1 to 365)")
    due: str | None = Field(None, description="or the deadline as `YYYY-MM-DD` (not past), `+N` or `Nwd`")


class AssignIn(Request):
    """Units to assign, all or none; afterwards the topic has exactly one lead unit."""

    assignments: list[AssignmentItem]


class InstructionIn(Request):
    """A party or government leader's instruction (批示)."""

    leader: str = Field(description="the leader's name and office, at most 200 characters")
    body: str = Field(description="the instruction, at most 5,000 characters")
    date: str | None = Field(None, description="when it was given, `YYYY-MM-DD`, not in the future (default today)")


class ReportIn(Request):
    """A unit's report on its own assignment, filed by the unit's contact user."""

    kind: str = Field(description="`progress` or `final`")
    body: str = Field(description="the report, at most 10,000 characters")


class ReviewIn(Request):
    """The office's review of a unit's report."""

    decision: str = Field(description="`accept` or `return`")
    comment: str | None = Field(None, description="the office's comment; required for `return`")


class ReportOut(BaseModel):
    id: int
    unit: str
    role: str
    kind: str
    body: str
    submitted_ms: int
    submitted_by: str
    review: str = Field(description="pending, accepted or returned")
    comment: str | None
    reviewed_ms: int | None
    reviewed_by: str | None


class AssignmentOut(BaseModel):
    id: int
    topic: str
    title: str
    unit: str
    unit_id: int
    role: str
    working_days: int | None
    due_ms: int
    state: str = Field(description="assigned, reporting, final_reported or accepted")
    overdue: bool
    assigned_ms: int
    assigned_by: str
    stage: str = Field(description="the topic's stage")
    reports: list[ReportOut] | None = None


class InstructionOut(BaseModel):
    id: int
    leader: str
    body: str
    date: str
    recorded_ms: int
    recorded_by: str


class Implementation(BaseModel):
    """A topic's implementation; a handling unit's user sees its own unit's assignment only."""

    topic: str
    title: str
    stage: str
    holder: str
    assignments: list[AssignmentOut] = Field(description="the lead unit first")
    instructions: list[InstructionOut]
    waiting: str | None = Field(description="why the topic cannot move on to feedback yet (null: it can, or no "
                                            "unit was assigned)")
    ready_for_feedback: bool


class ReportFiled(BaseModel):
    report: ReportOut
    implementation: Implementation


class AssignmentList(BaseModel):
    assignments: list[AssignmentOut] = Field(description="overdue first, then by deadline")
