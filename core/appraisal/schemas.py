"""Appraisal request and answer shapes (民主评议). Every model is named ``Appraisal…`` (the OpenAPI document needs
names unique across features). The shapes say which fields exist; the services hold the rules and refuse with
named errors (an unknown kind or rating, a member in no group, a report before every subject is rated, a unit
reporting on a rectification not its own)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from shangliang.core.db import ROW_ID_MAX
from shangliang.core.web.api import Request

from .models import KINDS, RATINGS, REPORT_KINDS

# ---------------------------------------------------------------------------------------------
# Paths and queries


class AppraisalPath(BaseModel):
    appraisal_id: int = Field(le=ROW_ID_MAX, description="the appraisal's id")


class AppraisalSubjectPath(AppraisalPath):
    subject_id: int = Field(le=ROW_ID_MAX, description="the subject's id")


class AppraisalRectificationPath(BaseModel):
    rectification_id: int = Field(le=ROW_ID_MAX, description="the rectification's id")


class AppraisalReportPath(AppraisalRectificationPath):
    report_id: int = Field(le=ROW_ID_MAX, description="the report's id")


class AppraisalListQuery(BaseModel):
    year: int | None = Field(None, description="only this year's appraisals")


class AppraisalCandidatesQuery(BaseModel):
    year: int = Field(description="the appraisal's year: the key topics of the year before are proposed")


# ---------------------------------------------------------------------------------------------
# Requests


class AppraisalIn(Request):
    """Create the year's appraisal (one a year of each kind)."""

    year: int = Field(description="the year appraised in (1949 to 2999)")
    kind: str = Field(description=f"one of {', '.join(KINDS)} (government departments, key topics' implementation)")
    title: str = Field(description="at most 300 characters")


class AppraisalSubjectIn(Request):
    """A subject the office adds (confirmed): a handling unit, or a topic with a result (optionally with its unit)."""

    unit: str | None = Field(None, description="a handling unit's name or id")
    topic: str | None = Field(None, description="a topic's uid; the topic has a result")
    note: str | None = Field(None, description="at most 2000 characters")


class AppraisalDecisionIn(Request):
    """The office's decision on a proposed subject."""

    decision: str = Field(description="confirm or dismiss")
    note: str | None = Field(None, description="why (required to dismiss)")


class AppraisalGroupIn(Request):
    """An appraisal group of members with its leader."""

    name: str = Field(description="unique in the appraisal, at most 100 characters")
    leader: str = Field(description="the leader's member number or id (a member of the group)")
    members: list[str] = Field(default_factory=list, description="member numbers or ids (each in one group)")
    subjects: list[int] = Field(default_factory=list, description="ids of the confirmed subjects it appraises")


class AppraisalVisitIn(Request):
    """A group's visit to a subject and what it found."""

    group: int = Field(description="the group's id")
    subject: int = Field(description="the subject's id")
    date: str = Field(description="YYYY-MM-DD, not in the future")
    place: str = Field(description="at most 200 characters")
    findings: str = Field(description="what was found, at most 10000 characters")


class AppraisalRatingIn(Request):
    """A group member's rating of a subject, entered by the office from the ballot."""

    subject: int = Field(description="the subject's id")
    member: str = Field(description="the member's number or id")
    rating: str = Field(description=f"one of {', '.join(RATINGS)} (满意, 基本满意, 不满意)")
    comment: str | None = Field(None, description="at most 2000 characters")


class AppraisalReportIn(Request):
    """The report sent to the party committee and government."""

    body: str = Field(description="the report's text")
    sent_on: str | None = Field(None, description="YYYY-MM-DD, default today, not in the future")
    recipients: list[str] = Field(description="to whom it was sent (e.g. 区委, 区政府), 1 to 20")


class AppraisalRectificationIn(Request):
    """A subject's rectification assigned to a unit with a deadline."""

    subject: int = Field(description="the subject's id")
    unit: str | None = Field(None, description="the unit's name or id (default: the subject's unit)")
    requirements: str = Field(description="what to rectify")
    working_days: int | None = Field(None, description="the deadline in working days on the node's calendar")
    due: str | None = Field(None, description="or the deadline as YYYY-MM-DD, +N or Nwd")


class AppraisalRectificationReportIn(Request):
    """The unit's progress or final rectification report."""

    kind: str = Field(description=f"one of {', '.join(REPORT_KINDS)}")
    body: str = Field(description="the report's text")


class AppraisalReviewIn(Request):
    """The office's review of a rectification report."""

    decision: str = Field(description="accept or return")
    comment: str | None = Field(None, description="why (required to return)")


class AppraisalProposeIn(Request):
    """Candidates proposed by a practice (or by hand) as subjects awaiting the office's confirmation."""

    candidates: list[dict[str, Any]] = Field(description="each with topic or unit, source, and optionally note")


# ---------------------------------------------------------------------------------------------
# Answers


class AppraisalSummaryView(BaseModel):
    id: int
    uid: str
    year: int
    kind: str
    title: str
    status: str = Field(description="open or reported")
    subjects: dict[str, int] = Field(description="how many subjects are proposed, confirmed, dismissed")
    report_sent_on: str | None


class AppraisalList(BaseModel):
    appraisals: list[AppraisalSummaryView] = Field(description="the latest year first")


class AppraisalView(BaseModel):
    id: int
    uid: str
    year: int
    kind: str
    title: str
    status: str
    created_ms: int
    created_by: str
    subjects: list[dict[str, Any]] = Field(description="each with its status, source, tally of ratings (who rated "
                                           "what for the office only), result, group and rectification")
    groups: list[dict[str, Any]]
    visits: list[dict[str, Any]]
    report: dict[str, Any] | None = Field(description="body, recipients, sent_on; null before it is sent")


class AppraisalAnswer(BaseModel):
    appraisal: AppraisalView


class AppraisalCandidateList(BaseModel):
    candidates: list[dict[str, Any]] = Field(description="last year's key topics with their results and units")


class AppraisalRectificationView(BaseModel):
    id: int
    appraisal: int
    year: int
    subject: int
    title: str
    unit: str
    unit_id: int
    requirements: str
    working_days: int | None
    due_ms: int
    state: str
    overdue: bool
    assigned_ms: int
    assigned_by: str
    reports: list[dict[str, Any]]


class AppraisalRectificationAnswer(BaseModel):
    rectification: AppraisalRectificationView


class AppraisalRectificationList(BaseModel):
    rectifications: list[AppraisalRectificationView] = Field(description="overdue first, then by deadline; a "
                                                             "handling unit's user sees its own unit's only")
