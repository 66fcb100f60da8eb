"""Activity request and response shapes: what the API accepts and answers, and what pages and commands hand
the services (an action is one of the ``Activity*Action`` models, whoever asks for it).

The shapes say which fields exist and their types; the services hold the rules and refuse with named
errors. Every model name starts with ``Activity`` so that it is unique in the node's OpenAPI document.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, RootModel

from shangliang.core.web.api import PageQuery, Request, one_of

from .models import INVITEE_KINDS, STATUSES

MOMENT = "`YYYY-MM-DD HH:MM` in the node's time zone (or ISO 8601 with an offset)"

# ---------------------------------------------------------------------------------------------
# Requests


class ActivityPath(BaseModel):
    uid: str = Field(description="the activity's uid, `<node where it is held>:<id>`")


class ActivityMaterialPath(ActivityPath):
    sha256: str = Field(description="the file's SHA-256, 64 lower-case hex digits")


class ActivityListQuery(PageQuery):
    status: str | None = Field(None, description="only activities with this status: " + ", ".join(STATUSES))


class ActivityMaterialQuery(BaseModel):
    name: str = Field(min_length=1, description="the file's name, as people will see it")


class ActivityIn(Request):
    """Plan a consultation activity (协商活动) here on topics this node holds."""

    form: str = Field(description="the consultation form's key (协商形式), e.g. `forum`, `special`, `online`")
    title: str = Field(description="at most 300 characters")
    description: str | None = Field("", description="at most 20,000 characters")
    topics: list[str] = Field(description="the uids of the topics consulted, held by this node")
    starts: str = Field(description="when it starts: " + MOMENT)
    ends: str = Field(description="when it ends: " + MOMENT)
    place: str = Field(description="where, at most 300 characters")
    organiser: str = Field(description="who organises it (a special committee, the office…), at most 200 characters")


class ActivityInviteAction(Request):
    """Invite a member (by member number), a department, a person of the public, or a participant from
    another node."""

    action: Literal["invite"]
    kind: str = Field(description="who is invited: " + ", ".join(INVITEE_KINDS))
    name: str | None = Field("", description="the invitee's name (a member's is taken from the member list)")
    member_no: str | None = Field(None, description="a member's number (kind `member`)")
    node_id: str | None = Field(None, description="the node a participant comes from (kind `node`)")


class ActivityReplyAction(Request):
    """Record an invitee's reply: attend, decline, or ask for leave (请假) with a reason."""

    action: Literal["reply"]
    invitation: int = Field(description="the invitation's id")
    reply: Literal["attend", "decline", "leave"]
    reason: str | None = Field("", description="why leave is asked (required for `leave`)")


class ActivityAttendAction(Request):
    """Take attendance: the invitees present, by name or member number; every other invitee is marked
    absent. A person not invited refuses the whole roll."""

    action: Literal["attend"]
    present: list[str] = Field(description="names or member numbers of the invitees present")


class ActivityResearchAction(Request):
    """议前调研: record research before consulting; topics at `determined` move to `researching`."""

    action: Literal["research"]
    who: str = Field(description="who researched, at most 300 characters")
    place: str = Field(description="where, at most 300 characters")
    date: str = Field(description="when: `YYYY-MM-DD`")
    findings: str = Field(description="what they found, at most 20,000 characters")


class ActivityOpinionAction(Request):
    """Record a speech or a written opinion per speaker (office staff)."""

    action: Literal["opinion"]
    speaker: str = Field(description="who spoke or wrote, at most 200 characters")
    kind: Literal["speech", "written"] = "speech"
    text: str = Field(description="the opinion, at most 20,000 characters")
    member_no: str | None = Field(None, description="the speaker's member number, when a member")


class ActivityOpenWindowAction(Request):
    """网络协商: open the online window, during which signed-in members and the public post opinions."""

    action: Literal["open_window"]
    closes: str = Field(description="when the window closes: " + MOMENT)
    opens: str | None = Field("", description="when it opens (default: now): " + MOMENT)


class ActivityCloseWindowAction(Request):
    """Close the online window now."""

    action: Literal["close_window"]


class ActivityModerateAction(Request):
    """Hide an opinion or merge it into another, with the reason; recorded with the moderator."""

    action: Literal["moderate"]
    opinion: int = Field(description="the opinion's id")
    decision: Literal["hide", "merge"]
    into: int | None = Field(None, description="the opinion it is merged into (decision `merge`)")
    reason: str = Field(description="why, at most 2,000 characters")


class ActivityConsensusAction(Request):
    """Record the consensus reached (协商共识), with the opinion counts it was reached on."""

    action: Literal["consensus"]
    text: str = Field(description="the consensus, at most 20,000 characters")


class ActivityMinutesAction(Request):
    """Approve and publish the minutes."""

    action: Literal["minutes"]
    text: str = Field(description="the minutes, at most 100,000 characters")
    approved_by: str = Field(description="who approved them, at most 200 characters")


class ActivityCloseAction(Request):
    """Close the activity (its minutes published): each topic's loop records the consultation."""

    action: Literal["close"]


class ActivityCancelAction(Request):
    """Cancel an activity that has not closed, with the reason."""

    action: Literal["cancel"]
    reason: str


ActivityAction = one_of(ActivityInviteAction, ActivityReplyAction, ActivityAttendAction, ActivityResearchAction,
                        ActivityOpinionAction, ActivityOpenWindowAction, ActivityCloseWindowAction,
                        ActivityModerateAction, ActivityConsensusAction, ActivityMinutesAction, ActivityCloseAction,
                        ActivityCancelAction, key="action")
ACTIONS = ("invite", "reply", "attend", "research", "opinion", "open_window", "close_window", "moderate",
           "consensus", "minutes", "close", "cancel")


class ActivityActionIn(RootModel[ActivityAction]):
    """One action on an activity; `action` names it and decides the other fields."""


class ActivityOnlineOpinionIn(Request):
    """An opinion posted online by a signed-in member or person of the public, while the window is open."""

    text: str = Field(description="the opinion, at most 5,000 characters")


# ---------------------------------------------------------------------------------------------
# Answers


class ActivityWindow(BaseModel):
    opens_ms: int | None
    closes_ms: int | None


class ActivityCounts(BaseModel):
    total: int
    shown: int = Field(description="neither hidden nor merged")
    hidden: int
    merged: int
    by_kind: dict[str, int] = Field(description="shown opinions by kind: speech, written, online")


class ActivityConsensus(BaseModel):
    text: str
    at_ms: int | None
    counts: ActivityCounts | None = Field(description="the opinion counts when the consensus was recorded")


class ActivityMinutes(BaseModel):
    text: str
    approved_by: str | None
    approved_ms: int | None


class ActivityInvitation(BaseModel):
    id: int
    kind: str
    name: str
    member_id: int | None
    node_id: str | None = Field(description="the node a participant comes from (null: this node)")
    invited_ms: int
    reply: str = Field(description="pending, attend, decline, leave")
    reason: str | None
    replied_ms: int | None
    attended: bool | None = Field(description="null until attendance is taken")


class ActivityMaterial(BaseModel):
    name: str
    size: int
    sha256: str
    added_ms: int


class ActivityResearch(BaseModel):
    id: int
    who: str
    place: str
    done_ms: int
    findings: str
    recorded_ms: int
    recorded_by: str


class ActivityModeration(BaseModel):
    reason: str | None
    by: str | None
    at_ms: int


class ActivityOpinion(BaseModel):
    id: int
    speaker: str
    member_id: int | None
    kind: str = Field(description="speech, written, online")
    text: str
    at_ms: int
    posted_by: str
    node_id: str = Field(description="the node the opinion came from")
    hidden: bool
    merged_into: int | None
    moderation: ActivityModeration | None


class ActivitySummary(BaseModel):
    uid: str
    form: str
    title: str
    description: str
    starts_ms: int
    ends_ms: int
    place: str
    organiser: str
    held_by: str
    status: str = Field(description=", ".join(STATUSES))
    window: ActivityWindow
    consensus: ActivityConsensus | None
    minutes: ActivityMinutes | None
    closed_ms: int | None
    cancelled_reason: str | None
    created_ms: int
    updated_ms: int
    topics: list[str]
    counts: ActivityCounts


class ActivityDetail(ActivitySummary):
    invitations: list[ActivityInvitation]
    materials: list[ActivityMaterial]
    research: list[ActivityResearch]
    opinions: list[ActivityOpinion]
    window_open: bool = Field(description="whether the online window is open now")


class ActivityList(BaseModel):
    activities: list[ActivitySummary] = Field(description="the soonest first")
    next_cursor: str | None = Field(description="the cursor of the next page; null on the last")


class ActivityParticipation(BaseModel):
    """One member's part in the activity, for the member's duty record (履职档案)."""

    member_id: int
    name: str
    invited: bool
    reply: str | None
    attended: bool | None
    opinions: int = Field(description="opinions recorded, not hidden")


class ActivityActed(BaseModel):
    activity: ActivityDetail
    participation: list[ActivityParticipation] | None = Field(
        description="per member, when the action closed the activity (null otherwise)")


class ActivityOpinionPosted(BaseModel):
    opinion: ActivityOpinion


class ActivityMaterialAdded(BaseModel):
    material: ActivityMaterial
