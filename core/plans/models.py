"""Plan tables: a node's annual consultation plan (年度协商计划), its items, its approval steps and its
amendments after publication."""

from __future__ import annotations

import json
from typing import Any

from shangliang.core.models import Base
from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

#: A plan is drafted, taken through its approval steps, then published (read-only but for amendments).
STATUSES = ("draft", "in_approval", "published")
DECISIONS = ("approved", "returned")
AMENDMENT_KINDS = ("add", "move")
PARTICIPANT_KINDS = ("departments", "sectors", "members")


class Plan(Base):
    """This node's consultation plan for one year; ``round`` counts approval rounds (a return starts a new one)."""

    __tablename__ = "plans"
    __audited__ = True

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(120), unique=True)  # <node>:<id>
    year: Mapped[int] = mapped_column(Integer, unique=True)  # one plan a year on a node
    title: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(20), default="draft")
    round: Mapped[int] = mapped_column(Integer, default=1)
    created_ms: Mapped[int] = mapped_column(BigInteger)
    updated_ms: Mapped[int] = mapped_column(BigInteger)
    published_ms: Mapped[int | None] = mapped_column(BigInteger)

    items: Mapped[list[PlanItem]] = relationship(back_populates="plan", order_by="PlanItem.position",
                                                 cascade="all, delete-orphan")
    steps: Mapped[list[PlanStep]] = relationship(back_populates="plan", order_by="PlanStep.id",
                                                 cascade="all, delete-orphan")
    amendments: Mapped[list[PlanAmendment]] = relationship(back_populates="plan", order_by="PlanAmendment.id",
                                                           cascade="all, delete-orphan")

    def as_dict(self, full: bool = True) -> dict[str, Any]:
        """The plan as pages, the API, commands and hooks see it (``full``: with items, steps, amendments)."""
        data: dict[str, Any] = {
            "uid": self.uid, "year": self.year, "title": self.title, "status": self.status, "round": self.round,
            "created_ms": self.created_ms, "updated_ms": self.updated_ms, "published_ms": self.published_ms,
            "item_count": len(self.items),
        }
        if full:
            data["items"] = [item.as_dict() for item in self.items]
            data["steps"] = [step.as_dict() for step in self.steps]
            data["amendments"] = [amendment.as_dict() for amendment in self.amendments]
        return data


class PlanItem(Base):
    """One topic of the plan: its consultation form, when (a month, or a date), the lead, who takes part."""

    __tablename__ = "plan_items"
    __audited__ = True
    __table_args__ = (UniqueConstraint("plan_id", "topic_uid"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    topic_uid: Mapped[str] = mapped_column(String(120))
    topic_title: Mapped[str] = mapped_column(String(300))  # the topic's title when it was planned
    form: Mapped[str] = mapped_column(String(40))
    month: Mapped[int] = mapped_column(Integer)  # 1-12; the date's month when a date is planned
    date: Mapped[str | None] = mapped_column(String(10))  # YYYY-MM-DD, when a date is planned
    lead: Mapped[str] = mapped_column(String(200))  # the special committee or office that leads it
    participants: Mapped[str] = mapped_column(Text)  # JSON {"departments": [], "sectors": [], "members": []}
    position: Mapped[int] = mapped_column(Integer)
    added_ms: Mapped[int] = mapped_column(BigInteger)
    by_amendment: Mapped[bool] = mapped_column(default=False)

    plan: Mapped[Plan] = relationship(back_populates="items")

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "topic_uid": self.topic_uid, "topic_title": self.topic_title, "form": self.form,
                "planned_month": self.month, "planned_date": self.date, "lead": self.lead,
                "participants": json.loads(self.participants), "position": self.position,
                "added_ms": self.added_ms, "by_amendment": self.by_amendment}


class PlanStep(Base):
    """One approval step taken: which step, in which round, who approved, when, the document or minute
    reference, the opinion and the decision (``returned`` sends the plan back to draft)."""

    __tablename__ = "plan_steps"
    __audited__ = True

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    round: Mapped[int] = mapped_column(Integer)
    step: Mapped[str] = mapped_column(String(40))
    approver: Mapped[str] = mapped_column(String(200))
    reference: Mapped[str] = mapped_column(String(200), default="")
    opinion: Mapped[str] = mapped_column(Text, default="")
    decision: Mapped[str] = mapped_column(String(20))
    decided_on: Mapped[str] = mapped_column(String(10))  # YYYY-MM-DD, the meeting's day
    at_ms: Mapped[int] = mapped_column(BigInteger)  # when it was recorded
    actor: Mapped[str] = mapped_column(String(200))

    plan: Mapped[Plan] = relationship(back_populates="steps")

    def as_dict(self) -> dict[str, Any]:
        return {"round": self.round, "step": self.step, "approver": self.approver, "reference": self.reference,
                "opinion": self.opinion, "decision": self.decision, "decided_on": self.decided_on,
                "at_ms": self.at_ms, "actor": self.actor}


class PlanAmendment(Base):
    """A change to a published plan: an item added or moved, with the reason, who approved it and the
    document reference; ``changes`` says what changed."""

    __tablename__ = "plan_amendments"
    __audited__ = True

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    item_id: Mapped[int | None] = mapped_column(ForeignKey("plan_items.id", ondelete="SET NULL"))
    topic_uid: Mapped[str] = mapped_column(String(120))
    reason: Mapped[str] = mapped_column(Text)
    approved_by: Mapped[str] = mapped_column(String(200))
    reference: Mapped[str] = mapped_column(String(200))
    changes: Mapped[str] = mapped_column(Text)  # JSON: the item added, or {"planned_month": [old, new], "planned_date": [old, new]}
    at_ms: Mapped[int] = mapped_column(BigInteger)
    actor: Mapped[str] = mapped_column(String(200))

    plan: Mapped[Plan] = relationship(back_populates="amendments")

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "item_id": self.item_id, "topic_uid": self.topic_uid, "reason": self.reason,
                "approved_by": self.approved_by, "reference": self.reference,
                "changes": json.loads(self.changes), "at_ms": self.at_ms, "actor": self.actor}
