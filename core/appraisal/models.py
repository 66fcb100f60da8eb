"""Democratic appraisal tables (民主评议): the year's appraisal, its subjects, its groups of members, their visits
and findings, the members' ratings, the report to the party committee and government, and the departments'
rectification (整改) with the units' reports and the office's review."""

from __future__ import annotations

import json
from typing import Any

from shangliang.core.members.models import Member
from shangliang.core.models import Base
from shangliang.core.units.models import HandlingUnit
from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

#: 评议政府部门 (a department's work) or 评议重点议题落实 (the implementation of key topics).
KINDS = ("departments", "key_topics")
#: open → reported (the report sent to the party committee and government).
STATUSES = ("open", "reported")
SUBJECT_KINDS = ("unit", "topic")
#: proposed (awaits the office: a practice proposed it) → confirmed or dismissed; the office's own are confirmed.
SUBJECT_STATUSES = ("proposed", "confirmed", "dismissed")
#: 满意, 基本满意, 不满意: one rating per group member and subject.
RATINGS = ("satisfied", "basically_satisfied", "unsatisfied")
RECTIFICATION_STATES = ("assigned", "reporting", "final_reported", "accepted")
REPORT_KINDS = ("progress", "final")
REVIEWS = ("pending", "accepted", "returned")


class Appraisal(Base):
    """One year's democratic appraisal of one kind on this node."""

    __tablename__ = "appraisals"
    __audited__ = True
    __table_args__ = (UniqueConstraint("year", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(120), unique=True)  # <node>:<id>
    year: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(20), default="open")
    created_ms: Mapped[int] = mapped_column(BigInteger)
    created_by: Mapped[str] = mapped_column(String(200))
    # the report to the party committee and government (one per appraisal)
    report_body: Mapped[str | None] = mapped_column(Text)
    report_recipients: Mapped[str | None] = mapped_column(Text)  # JSON list: to whom it was sent
    report_sent_on: Mapped[str | None] = mapped_column(String(10))  # YYYY-MM-DD
    report_recorded_ms: Mapped[int | None] = mapped_column(BigInteger)
    report_recorded_by: Mapped[str | None] = mapped_column(String(200))

    subjects: Mapped[list[AppraisalSubject]] = relationship(back_populates="appraisal",
                                                            order_by="AppraisalSubject.id",
                                                            cascade="all, delete-orphan")
    groups: Mapped[list[AppraisalGroup]] = relationship(back_populates="appraisal", order_by="AppraisalGroup.id",
                                                        cascade="all, delete-orphan")
    visits: Mapped[list[AppraisalVisit]] = relationship(back_populates="appraisal",
                                                        order_by="AppraisalVisit.id",
                                                        cascade="all, delete-orphan")

    def report(self) -> dict[str, Any] | None:
        if self.report_sent_on is None:
            return None
        return {"body": self.report_body, "recipients": json.loads(self.report_recipients or "[]"),
                "sent_on": self.report_sent_on, "recorded_ms": self.report_recorded_ms,
                "recorded_by": self.report_recorded_by}


class AppraisalSubject(Base):
    """What is appraised: a handling unit, or a topic with its result (and the units that implemented it)."""

    __tablename__ = "appraisal_subjects"
    __audited__ = True

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    appraisal_id: Mapped[int] = mapped_column(ForeignKey("appraisals.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("handling_units.id", ondelete="RESTRICT"), index=True)
    topic_uid: Mapped[str | None] = mapped_column(String(120))
    title: Mapped[str] = mapped_column(String(300))
    result: Mapped[str | None] = mapped_column(Text)  # JSON: the topic's result when it became a subject
    units: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of the handling units' names
    group_id: Mapped[int | None] = mapped_column(ForeignKey("appraisal_groups.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(100))  # "office", or the practice that proposed it
    note: Mapped[str] = mapped_column(Text, default="")
    added_ms: Mapped[int] = mapped_column(BigInteger)
    decided_ms: Mapped[int | None] = mapped_column(BigInteger)
    decided_by: Mapped[str | None] = mapped_column(String(200))

    appraisal: Mapped[Appraisal] = relationship(back_populates="subjects")
    unit: Mapped[HandlingUnit | None] = relationship()
    group: Mapped[AppraisalGroup | None] = relationship()
    ratings: Mapped[list[AppraisalRating]] = relationship(back_populates="subject", order_by="AppraisalRating.id",
                                                          cascade="all, delete-orphan")
    rectification: Mapped[AppraisalRectification | None] = relationship(back_populates="subject",
                                                                         cascade="all, delete-orphan")


class AppraisalGroup(Base):
    """An appraisal group (评议小组) of members, with its leader (组长) among them."""

    __tablename__ = "appraisal_groups"
    __audited__ = True
    __table_args__ = (UniqueConstraint("appraisal_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    appraisal_id: Mapped[int] = mapped_column(ForeignKey("appraisals.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    leader_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="RESTRICT"))
    created_ms: Mapped[int] = mapped_column(BigInteger)

    appraisal: Mapped[Appraisal] = relationship(back_populates="groups")
    leader: Mapped[Member] = relationship()
    members: Mapped[list[AppraisalGroupMember]] = relationship(back_populates="group",
                                                               order_by="AppraisalGroupMember.id",
                                                               cascade="all, delete-orphan")


class AppraisalGroupMember(Base):
    """A member of an appraisal group; a member sits in one group of an appraisal."""

    __tablename__ = "appraisal_group_members"
    __audited__ = True
    __table_args__ = (UniqueConstraint("appraisal_id", "member_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    appraisal_id: Mapped[int] = mapped_column(ForeignKey("appraisals.id", ondelete="CASCADE"), index=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("appraisal_groups.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="RESTRICT"))

    group: Mapped[AppraisalGroup] = relationship(back_populates="members")
    member: Mapped[Member] = relationship()


class AppraisalVisit(Base):
    """A group's visit (走访, 调研, 座谈): when, where, which subject, what was found."""

    __tablename__ = "appraisal_visits"
    __audited__ = True

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    appraisal_id: Mapped[int] = mapped_column(ForeignKey("appraisals.id", ondelete="CASCADE"), index=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("appraisal_groups.id", ondelete="CASCADE"), index=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("appraisal_subjects.id", ondelete="CASCADE"), index=True)
    visited_on: Mapped[str] = mapped_column(String(10))  # YYYY-MM-DD
    place: Mapped[str] = mapped_column(String(200))
    findings: Mapped[str] = mapped_column(Text)
    recorded_ms: Mapped[int] = mapped_column(BigInteger)
    recorded_by: Mapped[str] = mapped_column(String(200))

    appraisal: Mapped[Appraisal] = relationship(back_populates="visits")
    group: Mapped[AppraisalGroup] = relationship()
    subject: Mapped[AppraisalSubject] = relationship()


class AppraisalRating(Base):
    """A group member's rating of a subject (测评): 满意, 基本满意 or 不满意, with an optional comment."""

    __tablename__ = "appraisal_ratings"
    __audited__ = True
    __table_args__ = (UniqueConstraint("subject_id", "member_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("appraisal_subjects.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="RESTRICT"))
    rating: Mapped[str] = mapped_column(String(30))
    comment: Mapped[str] = mapped_column(Text, default="")
    recorded_ms: Mapped[int] = mapped_column(BigInteger)
    recorded_by: Mapped[str] = mapped_column(String(200))

    subject: Mapped[AppraisalSubject] = relationship(back_populates="ratings")
    member: Mapped[Member] = relationship()


class AppraisalRectification(Base):
    """A unit's rectification (整改) of what the appraisal found in a subject: its requirements and deadline
    (working days on the node's calendar, kept as ``due_ms``, the end of the deadline's day)."""

    __tablename__ = "appraisal_rectifications"
    __audited__ = True

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("appraisal_subjects.id", ondelete="CASCADE"), unique=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("handling_units.id", ondelete="RESTRICT"), index=True)
    requirements: Mapped[str] = mapped_column(Text)
    working_days: Mapped[int | None] = mapped_column(Integer)
    due_ms: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(String(20), default="assigned")
    overdue: Mapped[bool] = mapped_column(default=False)
    assigned_ms: Mapped[int] = mapped_column(BigInteger)
    assigned_by: Mapped[str] = mapped_column(String(200))

    subject: Mapped[AppraisalSubject] = relationship(back_populates="rectification")
    unit: Mapped[HandlingUnit] = relationship()
    reports: Mapped[list[AppraisalRectificationReport]] = relationship(
        back_populates="rectification", order_by="AppraisalRectificationReport.id", cascade="all, delete-orphan")


class AppraisalRectificationReport(Base):
    """A unit's progress or final rectification report, and the office's review of it."""

    __tablename__ = "appraisal_rectification_reports"
    __audited__ = True

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rectification_id: Mapped[int] = mapped_column(ForeignKey("appraisal_rectifications.id", ondelete="CASCADE"),
                                                  index=True)
    kind: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text)
    submitted_ms: Mapped[int] = mapped_column(BigInteger)
    submitted_by: Mapped[str] = mapped_column(String(200))
    review: Mapped[str] = mapped_column(String(20), default="pending")
    comment: Mapped[str | None] = mapped_column(Text)
    reviewed_ms: Mapped[int | None] = mapped_column(BigInteger)
    reviewed_by: Mapped[str | None] = mapped_column(String(200))

    rectification: Mapped[AppraisalRectification] = relationship(back_populates="reports")
