"""Social-opinion report request and answer shapes: what the API accepts and answers, and what pages and
commands hand the services. The services hold the rules; every model name starts with ``SocialOpinion``."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from shangliang.core.web.api import PageQuery, Request

from .models import AUTHOR_KINDS, DECISIONS, REPORT_TO, STATUSES


class OpinionPath(BaseModel):
    ref: str = Field(description="the report's id on this node")


class OpinionListQuery(PageQuery):
    status: str | None = Field(None, description="only reports with this status: " + ", ".join(STATUSES))
    year: int | None = Field(None, ge=1949, le=9999, description="only reports of this year")


class OpinionIn(Request):
    """Write a report: a member's own, or (the office) a body's or a member's on their behalf."""

    title: str = Field(description="at most 300 characters")
    sentiment: str = Field(description="the public sentiment observed (社情), at most 20,000 characters")
    analysis: str = Field("", description="the analysis, at most 20,000 characters")
    suggestion: str = Field(description="what is suggested, at most 20,000 characters")
    category: str = Field(description="e.g. 社会民生, at most 100 characters")
    year: int | None = Field(None, description="default: this year on the node's time zone")
    author_kind: str = Field("member", description="who wrote it: " + ", ".join(AUTHOR_KINDS))
    author_name: str | None = Field(None, description="the office: the body's name, or the member's name when "
                                                      "the member is of a higher committee (author_node)")
    member_no: str | None = Field(None, description="the office: the member's number")
    author_node: str | None = Field(None, description="the author's home committee when it is a level above "
                                                      "this node (a county member writing through a township "
                                                      "work station); default: this node")


class OpinionFromProposalIn(Request):
    """Write the report a proposal not filed with the disposal ``social_opinion`` becomes (转社情民意)."""

    proposal: str = Field(description="the proposal's number or id")


class OpinionEditIn(Request):
    """The office edits a report before it is forwarded (fields not given stay)."""

    title: str | None = None
    sentiment: str | None = None
    analysis: str | None = None
    suggestion: str | None = None
    category: str | None = None


class OpinionDecisionIn(Request):
    """A decision on a report: used here (采用), forwarded to the parent node, reported to the party committee or
    government (报送, with the body), not used (with the reason), adopted by a named body (采用), or a leader's
    instruction (批示: leader, text, date)."""

    decision: Literal["used", "forwarded", "reported", "not_used", "adopted", "instruction"]
    body: str | None = Field(None, description="reported: the body it was sent to; adopted: the body that "
                                               "adopted it (default for adopted: this committee)")
    body_kind: str | None = Field(None, description="reported: " + ", ".join(REPORT_TO))
    leader: str | None = Field(None, description="instruction: the leader who gave it")
    text: str | None = Field(None, description="instruction: its text; not_used: the reason; otherwise a note")
    date: str | None = Field(None, description="instruction: its date, YYYY-MM-DD")


class OpinionIssueIn(Request):
    """Compile reports into an issue (期) of the periodical."""

    year: int = Field(description="the issue's year")
    number: int = Field(description="the issue's number in the year (第N期)")
    title: str = Field("", description="at most 200 characters")
    opinions: list[int] = Field(description="the reports' ids")


# ---------------------------------------------------------------------------------------------
# Answers


class OpinionAuthor(BaseModel):
    kind: str
    name: str
    member_no: str | None
    node: str = Field(description="the author's home committee (node id)")


class OpinionWritten(BaseModel):
    node: str = Field(description="where it was written")
    at_ms: int
    by: str


class OpinionEventOut(BaseModel):
    id: int
    kind: str = Field(description="a decision (" + ", ".join(DECISIONS) + ") or edited")
    node: str = Field(description="the node where it was decided")
    level: str | None
    body: str | None
    body_kind: str | None
    leader: str | None
    text: str
    date: str | None
    actor: str
    at_ms: int
    remote: bool = Field(description="decided at a level above, told back down")


class OpinionIssueRef(BaseModel):
    id: int
    ref: str
    year: int
    number: int
    title: str
    label: str
    compiled_by: str
    compiled_ms: int


class OpinionOrigin(BaseModel):
    node: str
    ref: str


class OpinionOut(BaseModel):
    id: int
    ref: str
    year: int
    title: str
    sentiment: str
    analysis: str
    suggestion: str
    category: str
    author: OpinionAuthor
    written: OpinionWritten
    status: str
    issue: OpinionIssueRef | None
    forwarded_to: str | None
    origin: OpinionOrigin | None
    created_ms: int
    updated_ms: int
    events: list[OpinionEventOut]


class OpinionAnswer(BaseModel):
    opinion: OpinionOut


class OpinionSummary(BaseModel):
    id: int
    title: str
    category: str
    author: str
    status: str
    year: int
    origin: str | None = Field(description="the child node it was forwarded from")


class OpinionList(BaseModel):
    opinions: list[OpinionSummary]
    next_cursor: str | None


class OpinionIssueItem(BaseModel):
    id: int
    title: str
    author: str


class OpinionIssueOut(OpinionIssueRef):
    opinions: list[OpinionIssueItem]


class OpinionIssueAnswer(BaseModel):
    issue: OpinionIssueOut


class OpinionIssueList(BaseModel):
    issues: list[OpinionIssueOut]


class OpinionStatisticsQuery(BaseModel):
    year: int | None = Field(None, ge=1949, le=9999, description="default: this year on the node's time zone")


class OpinionCounts(BaseModel):
    written: int = Field(description="reports of the year")
    used: int = Field(description="reports used (采用) by a committee, at any level")
    forwarded: int = Field(description="reports forwarded up, from any level")
    reported: int = Field(description="reports sent to a party committee or government")
    not_used: int
    adopted: int = Field(description="reports adopted at any level (used by a committee or adopted by a body)")
    instructions: int = Field(description="leaders' instructions (批示)")


class OpinionMemberCounts(OpinionCounts):
    name: str
    member_no: str | None
    home: str = Field(description="the member's home committee")
    adopted_by_level: dict[str, int] = Field(description="reports adopted at each level")


class OpinionNodeCounts(BaseModel):
    node: str = Field(description="where decided")
    level: str | None
    used: int
    forwarded: int
    reported: int
    not_used: int
    adopted: int
    instructions: int


class OpinionLevelCounts(BaseModel):
    level: str
    adopted: int
    instructions: int


class OpinionYearCounts(BaseModel):
    year: int
    written: int
    adopted: int
    instructions: int


class OpinionStatistics(BaseModel):
    year: int
    totals: OpinionCounts
    by_member: list[OpinionMemberCounts]
    by_node: list[OpinionNodeCounts]
    by_level: list[OpinionLevelCounts]
    by_year: list[OpinionYearCounts]


class OpinionForwardSent(BaseModel):
    kind: str
    id: str
    to: str


class OpinionDecisionAnswer(BaseModel):
    opinion: OpinionOut
    sent: list[OpinionForwardSent] = Field(description="the messages this decision sent (a forward up, a "
                                                       "decision down)")

