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


class ActivityInviteLevelAction(Request):
    """Invite a higher level — this node's parent, or an ancestor through the nodes between, each relaying —
    over signed messages (`x-activities.invite`, carrying the activity's summary)."""

    action: Literal["invite_level"]
    node_id: str = Field(description="the level invited: the parent or an ancestor of this node")
    note: str | None = Field("", description="a note to the level invited, at most 2,000 characters")


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
                        ActivityCancelAction, ActivityInviteLevelAction, key="action")
ACTIONS = ("invite", "invite_level", "reply", "attend", "research", "opinion", "open_window", "close_window", "moderate",
           "consensus", "minutes", "close", "cancel")


class ActivityActionIn(RootModel[ActivityAction]):
    """One action on an activity; `action` names it and decides the other fields."""


class ActivityRemoteParticipant(Request):
    """A participant of this level: a member or a department, by name."""

    name: str = Field(description="at most 200 characters")
    kind: Literal["member", "department"] = "department"


class ActivityRemoteJoinAction(Request):
    """Accept an invitation (`accept`) or ask to join (`ask`) a lower node's activity with this level's
    participants (`x-activities.join`, down to the host)."""

    action: Literal["join"]
    mode: Literal["accept", "ask"] = "accept"
    participants: list[ActivityRemoteParticipant] = Field(description="1 to 200 members or departments")
    note: str | None = Field("", description="a note to the host, at most 2,000 characters")


class ActivityRemoteOpinion(Request):
    speaker: str = Field(description="who spoke or wrote, at most 200 characters")
    text: str = Field(description="the opinion, at most 20,000 characters")
    kind: Literal["speech", "written"] = "written"


class ActivityRemoteOpinionsAction(Request):
    """Send this level's opinions to the host of an activity it joined (`x-activities.opinions`)."""

    action: Literal["send_opinions"]
    opinions: list[ActivityRemoteOpinion] = Field(description="1 to 100 opinions")


ActivityRemoteAction = one_of(ActivityRemoteJoinAction, ActivityRemoteOpinionsAction, key="action")


class ActivityRemoteActionIn(RootModel[ActivityRemoteAction]):
    """One action on a lower node's activity from this level; `action` names it."""


class ActivityRemotePath(BaseModel):
    uid: str = Field(description="the lower node's activity uid, `<host node>:<id>`")


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


class ActivityLevelInvited(BaseModel):
    node_id: str = Field(description="the higher level invited")
    note: str
    at_ms: int
    via: str = Field(description="the neighbour the invitation was sent to (the parent)")
    delivery: str = Field(description="pending, sent, dead (the outbox row's status)")


class ActivityLevelJoined(BaseModel):
    node_id: str = Field(description="the higher level that joined")
    mode: str = Field(description="accept (an invitation) or ask (to join)")
    at_ms: int
    received_ms: int
    note: str
    participants: list[str]


class ActivityLevels(BaseModel):
    """The higher levels invited to the activity and those that joined (issue 11, item 5)."""

    invited: list[ActivityLevelInvited]
    joined: list[ActivityLevelJoined]
    parent: str | None = Field(description="this node's parent by its configuration")


class ActivityDetail(ActivitySummary):
    invitations: list[ActivityInvitation]
    materials: list[ActivityMaterial]
    research: list[ActivityResearch]
    opinions: list[ActivityOpinion]
    window_open: bool = Field(description="whether the online window is open now")
    levels: ActivityLevels | None = Field(description="higher levels invited and joined")


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


# ---------------------------------------------------------------------------------------------
# A lower node's activity, as a higher level sees it


class ActivityRemoteSummary(BaseModel):
    """The activity's summary as its host's messages carry it."""

    uid: str
    title: str
    form: str
    starts_ms: int
    ends_ms: int
    place: str
    organiser: str
    host: str
    status: str
    topics: list[str] = Field(description="the titles of its topics")


class ActivityRemoteInvitation(BaseModel):
    by: str = Field(description="the node that invited this level (the host)")
    message: dict[str, str] = Field(description="the invitation's envelope: origin and id")
    at_ms: int
    received_ms: int
    note: str


class ActivityRemoteJoin(BaseModel):
    mode: str
    participants: list[ActivityRemoteParticipant]
    note: str
    at_ms: int
    delivery: str = Field(description="pending, sent, dead")


class ActivityRemoteOpinionSent(ActivityRemoteOpinion):
    at_ms: int
    delivery: str = Field(description="pending, sent, dead")


class ActivityRemoteParticipantRecorded(BaseModel):
    node_id: str
    name: str
    reply: str
    attended: bool | None


class ActivityRemoteUpdate(BaseModel):
    event: str = Field(description="what the host's last update told: joined, opinions, attend, consensus, "
                                   "minutes, closed, cancelled")
    at_ms: int
    received_ms: int


class ActivityRemoteMinutes(BaseModel):
    text: str
    approved_by: str
    approved_ms: int
    complete: bool = Field(description="false when only the first 20,000 characters travelled")


class ActivityRemote(BaseModel):
    uid: str
    host: str = Field(description="the node that holds the activity")
    state: str = Field(description="invited, join_sent (not confirmed by the host yet), joined, informed")
    status: str | None = Field(description="the activity's status at the host as last heard")
    activity: ActivityRemoteSummary | None = Field(description="null until an invitation or an update arrives")
    invitation: ActivityRemoteInvitation | None
    joins: list[ActivityRemoteJoin]
    opinions_sent: list[ActivityRemoteOpinionSent]
    participants: list[ActivityRemoteParticipantRecorded] = Field(description="this level's, as the host recorded them")
    opinions_recorded: int = Field(description="this level's opinions recorded at the host (not hidden)")
    consensus: str | None
    minutes: ActivityRemoteMinutes | None
    last_update: ActivityRemoteUpdate | None


class ActivityRemoteList(BaseModel):
    activities: list[ActivityRemote] = Field(description="the latest start first")


class ActivityRemoteSent(BaseModel):
    kind: str = Field(description="x-activities.join or x-activities.opinions")
    id: str = Field(description="the message id")
    to: str = Field(description="the neighbour it was sent to (the next node down)")
    host: str


class ActivityRemoteActed(BaseModel):
    sent: ActivityRemoteSent
    activity: ActivityRemote
