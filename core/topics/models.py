"""Topic tables: the topic as this node knows it, its stage history, its attachments."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shangliang.core.models import Base
from shangliang.core.units.models import HandlingUnit

#: The six steps (六步议事: 收集议题, 确定议题, 议前调研, 协商议事, 办理实施, 结果反馈) and the close.
STAGES = ("collected", "determined", "researching", "consulting", "implementing", "feedback", "closed")
#: Who may raise a topic (``001`` 7).
RAISED_BY_KINDS = ("public", "member", "sector", "special_committee", "party_committee", "government", "lower_level")
#: Stages in which a topic may still move between nodes: research has not started.
MOVABLE = ("collected", "determined")


class Topic(Base):
    """A matter to consult on (协商议题), as this node knows it; ``holder`` is the node responsible now."""

    __tablename__ = "topics"
    __audited__ = True

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(120), unique=True)  # <node where raised>:<local id>
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(100))
    areas: Mapped[str] = mapped_column(Text)  # JSON list of division codes
    raised_by_kind: Mapped[str] = mapped_column(String(30))
    raised_by_name: Mapped[str] = mapped_column(String(200))
    raised_ms: Mapped[int] = mapped_column(BigInteger)
    stage: Mapped[str] = mapped_column(String(20), default="collected")
    holder: Mapped[str] = mapped_column(String(40), index=True)
    # Where answers about the topic go from here: the node before this one on its route (None where raised).
    upstream: Mapped[str | None] = mapped_column(String(40))
    # When the holder accepted it (受理); None while a transfer waits for the receiver's decision.
    accepted_ms: Mapped[int | None] = mapped_column(BigInteger)
    instructions: Mapped[str | None] = mapped_column(Text)  # the delegating node's instructions, if any
    closed_ms: Mapped[int | None] = mapped_column(BigInteger)
    due_ms: Mapped[int | None] = mapped_column(BigInteger)
    overdue: Mapped[bool] = mapped_column(default=False)
    result: Mapped[str | None] = mapped_column(Text)  # JSON: kind, title, summary, measures, handling_units
    updated_ms: Mapped[int] = mapped_column(BigInteger)

    events: Mapped[list[TopicEvent]] = relationship(back_populates="topic", order_by="TopicEvent.id",
                                                    cascade="all, delete-orphan")
    attachments: Mapped[list[TopicAttachment]] = relationship(back_populates="topic", cascade="all, delete-orphan")

    def record(self, action: str, actor: str, node: str, at_ms: int, note: str = "",
               to_stage: str | None = None) -> TopicEvent:
        """Add an event to the topic's history (a stage change from the current stage when ``to_stage`` is given)."""
        event = TopicEvent(at_ms=at_ms, actor=actor, action=action, node=node,
                           from_stage=self.stage if to_stage else None, to_stage=to_stage, note=note)
        self.events.append(event)
        self.updated_ms = max(self.updated_ms or 0, at_ms)
        return event

    def as_dict(self, events: bool = False) -> dict[str, Any]:
        """The topic as pages, the API, commands and hooks see it (``events``: with its history)."""
        data = {
            "uid": self.uid, "title": self.title, "description": self.description, "category": self.category,
            "areas": json.loads(self.areas), "raised_by": {"kind": self.raised_by_kind, "name": self.raised_by_name},
            "raised_ms": self.raised_ms, "stage": self.stage, "holder": self.holder, "due_ms": self.due_ms,
            "overdue": self.overdue, "result": json.loads(self.result) if self.result else None,
            "updated_ms": self.updated_ms, "upstream": self.upstream, "accepted_ms": self.accepted_ms,
            "awaiting_acceptance": self.accepted_ms is None, "instructions": self.instructions,
            "closed_ms": self.closed_ms,
            "attachments": [{"name": a.name, "size": a.size, "sha256": a.sha256} for a in self.attachments],
        }
        if events:
            data["events"] = [{"at_ms": e.at_ms, "actor": e.actor, "action": e.action, "node": e.node,
                               "from_stage": e.from_stage, "to_stage": e.to_stage, "note": e.note} for e in self.events]
        return data

    @property
    def raised_at(self) -> str:
        """The node where the topic was raised (its uid's prefix)."""
        return self.uid.split(":", 1)[0]


class TopicEvent(Base):
    """One step in a topic's life on this node: a stage change, a transfer, an answer."""

    __tablename__ = "topic_events"
    __audited__ = True

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id", ondelete="CASCADE"), index=True)
    at_ms: Mapped[int] = mapped_column(BigInteger)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(40))  # raised, advanced, escalated, delegated, accepted, …
    node: Mapped[str] = mapped_column(String(40))  # where it happened
    from_stage: Mapped[str | None] = mapped_column(String(20))
    to_stage: Mapped[str | None] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")

    topic: Mapped[Topic] = relationship(back_populates="events")


class TopicAttachment(Base):
    """A file named with a topic: its name, size and SHA-256 (the bytes are kept elsewhere)."""

    __tablename__ = "topic_attachments"
    __audited__ = True

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(300))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))

    topic: Mapped[Topic] = relationship(back_populates="attachments")


# ---------------------------------------------------------------------------------------------
# Implementation of a result (办理实施): units assigned with deadlines, leaders' instructions, reports

#: 牵头单位 and 参加单位.
ROLES = ("lead", "participating")
#: assigned → reporting (a progress report filed) → final_reported (a final report awaits review) → accepted.
ASSIGNMENT_STATES = ("assigned", "reporting", "final_reported", "accepted")
REPORT_KINDS = ("progress", "final")
REVIEWS = ("pending", "accepted", "returned")


class Assignment(Base):
    """A handling unit's part in implementing a topic's result: its role and its deadline (working days on
    the node's calendar, kept as ``due_ms``, the end of the deadline's day)."""

    __tablename__ = "topic_assignments"
    __audited__ = True
    __table_args__ = (UniqueConstraint("topic_id", "unit_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("handling_units.id", ondelete="RESTRICT"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    working_days: Mapped[int | None] = mapped_column(Integer)
    due_ms: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(String(20), default="assigned")
    overdue: Mapped[bool] = mapped_column(default=False)
    assigned_ms: Mapped[int] = mapped_column(BigInteger)
    assigned_by: Mapped[str] = mapped_column(String(200))

    topic: Mapped[Topic] = relationship()
    unit: Mapped[HandlingUnit] = relationship()
    reports: Mapped[list[Report]] = relationship(back_populates="assignment", order_by="Report.id",
                                                 cascade="all, delete-orphan")

    def as_dict(self, reports: bool = True) -> dict[str, Any]:
        data = {"id": self.id, "topic": self.topic.uid, "title": self.topic.title, "unit": self.unit.name,
                "unit_id": self.unit_id, "role": self.role, "working_days": self.working_days, "due_ms": self.due_ms,
                "state": self.state, "overdue": self.overdue, "assigned_ms": self.assigned_ms,
                "assigned_by": self.assigned_by, "stage": self.topic.stage}
        if reports:
            data["reports"] = [r.as_dict() for r in self.reports]
        return data


class Instruction(Base):
    """A party or government leader's instruction (批示) on a topic's implementation."""

    __tablename__ = "topic_instructions"
    __audited__ = True

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id", ondelete="CASCADE"), index=True)
    leader: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    given_on: Mapped[str] = mapped_column(String(10))  # YYYY-MM-DD
    recorded_ms: Mapped[int] = mapped_column(BigInteger)
    recorded_by: Mapped[str] = mapped_column(String(200))

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "leader": self.leader, "body": self.body, "date": self.given_on,
                "recorded_ms": self.recorded_ms, "recorded_by": self.recorded_by}


class Report(Base):
    """A unit's progress or final report on its assignment, and the office's review of it."""

    __tablename__ = "topic_reports"
    __audited__ = True

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("topic_assignments.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text)
    submitted_ms: Mapped[int] = mapped_column(BigInteger)
    submitted_by: Mapped[str] = mapped_column(String(200))
    review: Mapped[str] = mapped_column(String(20), default="pending")
    comment: Mapped[str | None] = mapped_column(Text)
    reviewed_ms: Mapped[int | None] = mapped_column(BigInteger)
    reviewed_by: Mapped[str | None] = mapped_column(String(200))

    assignment: Mapped[Assignment] = relationship(back_populates="reports")

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "unit": self.assignment.unit.name, "role": self.assignment.role, "kind": self.kind,
                "body": self.body, "submitted_ms": self.submitted_ms, "submitted_by": self.submitted_by,
                "review": self.review, "comment": self.comment, "reviewed_ms": self.reviewed_ms,
                "reviewed_by": self.reviewed_by}
