"""Duty request and response shapes (the API; the OpenAPI document is generated from them). Every model name
starts with ``Duty`` so that it is unique in the document."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from shangliang.core.web.api import Request

# ---------------------------------------------------------------------------------------------
# Requests


class DutyMemberPath(BaseModel):
    ref: str = Field(description="the member's id or member number (委员编号)")


class DutyYearQuery(BaseModel):
    year: int | None = Field(None, description="the calendar year (default: this year on the node's time zone)")


class DutyItemIn(Request):
    """An item of a member's duty recorded by hand by the office, with its evidence (refused without)."""

    member: str = Field(description="the member's id or member number")
    kind: str = Field(description="a short word: good_deed (好事实事), training (培训), research (调研), "
                                  "development_idea (发展建言), speech, visit, other, …")
    title: str = Field(description="at most 300 characters")
    date: str = Field(description="YYYY-MM-DD; the item counts in that year")
    detail: str | None = Field("", description="at most 20,000 characters")
    evidence: str | None = Field(None, description="the evidence as text (a file is attached on the page or with "
                                                   "`shangliang duty add --file`); required here")


class DutyReportItemIn(BaseModel):
    kind: str = Field(description="a short word, as for an item recorded by hand")
    title: str
    date: str = Field(description="YYYY-MM-DD, in the year reported")
    detail: str | None = ""
    ref: str | None = Field(None, description="the item's id here (default: a new one)")


class DutyReportIn(Request):
    """Report items of a higher committee's member who takes part here to the member's committee node."""

    target: str = Field(description="the node id of the member's committee (the parent or a node above it)")
    member_no: str = Field(description="the member's number at the target")
    name: str = Field(description="the member's name, as the target keeps it")
    year: int | None = Field(None, description="the year of every item (default: the items' year)")
    items: list[DutyReportItemIn] = Field(description="1 to 200 items")


class DutyRemindIn(Request):
    year: int | None = Field(None, description="default: this year")


# ---------------------------------------------------------------------------------------------
# Answers


class DutyMember(BaseModel):
    id: int
    member_no: str | None
    name: str


class DutyRecordItem(BaseModel, extra="allow"):
    kind: str
    title: str
    date: str
    source: str | None
    ref: str | None
    detail: str
    reported_by: str | None = Field(description="the lower node that reported it, or null")


class DutyOutcome(BaseModel):
    rule: str
    label: str
    source: str
    met: bool
    failed: bool = Field(description="the rule raised: a rule failure, reported (met is false)")
    reason: str


class DutyStanding(BaseModel):
    member: DutyMember
    year: int
    standing: str = Field(description="met, behind or no_rules")
    outcomes: list[DutyOutcome]
    missing: list[str]
    failures: list[str] = Field(description="the rules that failed for this member")
    months_left: int
    items: int
    counts: dict[str, int]


class DutyRecordAnswer(BaseModel):
    member: DutyMember
    year: int
    items: list[DutyRecordItem]
    counts: dict[str, int]
    assessment: DutyStanding


class DutyRule(BaseModel):
    rule: str
    label: str
    source: str


class DutyAssessmentAnswer(BaseModel):
    year: int
    months_left: int
    rules: list[DutyRule]
    members: list[DutyStanding]
    counts: dict[str, int]


class DutyItemAnswer(BaseModel):
    item: dict[str, Any] = Field(description="the item kept: id, member_id, year, kind, title, date, detail, "
                                             "evidence (text, file, type, size, sha256), recorded_by, recorded_ms")


class DutyReportAnswer(BaseModel):
    sent: dict[str, Any] = Field(description="the message sent: kind, id, to, target, items")


class DutyRemindAnswer(BaseModel):
    year: int
    reminded: list[str]
    without_account: list[str]
