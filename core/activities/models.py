"""Activity tables: a consultation activity (协商活动) with its topics, invitations, materials, research
and opinions.

An activity is held by one node (``held_by``); invitations and opinions carry the node a participant
comes from (``node_id``), so that a higher level joining a lower one's consultation (issue 11, item 5)
adds rows here without a new table.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shangliang.core.models import Base

STATUSES = ("planned", "open", "closed", "cancelled")
#: Still changing: not closed, not cancelled.
ACTIVE = ("planned", "open")
INVITEE_KINDS = ("member", "department", "public", "node")
REPLIES = ("pending", "attend", "decline", "leave")
OPINION_KINDS = ("speech", "written", "online")
INVITATIONS_MAX, OPINIONS_MAX = 2_000, 20_000  # the most an activity has


class Activity(Base):
    """A consultation activity or meeting (协商活动) held by this node."""

    __tablename__ = "activities"
    __audited__ = True

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(120), unique=True)  # <node where held>:<local id>
    form: Mapped[str] = mapped_column(String(40))  # a consultation form's key (core/plans/forms.py)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    starts_ms: Mapped[int] = mapped_column(BigInteger)
    ends_ms: Mapped[int] = mapped_column(BigInteger)
    place: Mapped[str] = mapped_column(String(300))
    organiser: Mapped[str] = mapped_column(String(200))
    held_by: Mapped[str] = mapped_column(String(40), index=True)
    status: Mapped[str] = mapped_column(String(20), default="planned")
    window_opens_ms: Mapped[int | None] = mapped_column(BigInteger)
    window_closes_ms: Mapped[int | None] = mapped_column(BigInteger)
    consensus: Mapped[str | None] = mapped_column(Text)
    consensus_counts: Mapped[str | None] = mapped_column(Text)  # JSON: the opinion counts it was reached on
    consensus_ms: Mapped[int | None] = mapped_column(BigInteger)
    minutes: Mapped[str | None] = mapped_column(Text)
    minutes_approved_by: Mapped[str | None] = mapped_column(String(200))
    minutes_approved_ms: Mapped[int | None] = mapped_column(BigInteger)
    closed_ms: Mapped[int | None] = mapped_column(BigInteger)
    cancelled_reason: Mapped[str | None] = mapped_column(Text)
    created_ms: Mapped[int] = mapped_column(BigInteger)
    updated_ms: Mapped[int] = mapped_column(BigInteger)

    topics: Mapped[list[ActivityTopic]] = relationship(back_populates="activity", order_by="ActivityTopic.id",
                                                       cascade="all, delete-orphan")
    invitations: Mapped[list[Invitation]] = relationship(back_populates="activity", order_by="Invitation.id",
                                                         cascade="all, delete-orphan")
    materials: Mapped[list[Material]] = relationship(back_populates="activity", order_by="Material.id",
                                                     cascade="all, delete-orphan")
    research: Mapped[list[Research]] = relationship(back_populates="activity", order_by="Research.id",
                                                    cascade="all, delete-orphan")
    opinions: Mapped[list[Opinion]] = relationship(back_populates="activity", order_by="Opinion.id",
                                                   cascade="all, delete-orphan", foreign_keys="Opinion.activity_id")

    def window_open(self, now_ms: int) -> bool:
        """Whether the online window (网络协商) is open at ``now_ms``."""
        return (self.status in ACTIVE and self.window_opens_ms is not None and self.window_closes_ms is not None
                and self.window_opens_ms <= now_ms < self.window_closes_ms)

    def counts(self) -> dict[str, Any]:
        """The opinions counted: in all, shown, hidden, merged, and the shown ones by kind."""
        shown = [o for o in self.opinions if not o.hidden and o.merged_into_id is None]
        return {"total": len(self.opinions), "shown": len(shown),
                "hidden": sum(1 for o in self.opinions if o.hidden),
                "merged": sum(1 for o in self.opinions if o.merged_into_id is not None),
                "by_kind": {kind: sum(1 for o in shown if o.kind == kind) for kind in OPINION_KINDS}}

    def as_dict(self, full: bool = True) -> dict[str, Any]:
        """The activity as pages, the API, commands and hooks see it (``full``: with its invitations,
        materials, research and opinions)."""
        data: dict[str, Any] = {
            "uid": self.uid, "form": self.form, "title": self.title, "description": self.description,
            "starts_ms": self.starts_ms, "ends_ms": self.ends_ms, "place": self.place, "organiser": self.organiser,
            "held_by": self.held_by, "status": self.status,
            "window": {"opens_ms": self.window_opens_ms, "closes_ms": self.window_closes_ms},
            "consensus": None if self.consensus is None else {
                "text": self.consensus, "at_ms": self.consensus_ms,
                "counts": json.loads(self.consensus_counts) if self.consensus_counts else None},
            "minutes": None if self.minutes is None else {
                "text": self.minutes, "approved_by": self.minutes_approved_by, "approved_ms": self.minutes_approved_ms},
            "closed_ms": self.closed_ms, "cancelled_reason": self.cancelled_reason,
            "created_ms": self.created_ms, "updated_ms": self.updated_ms,
            "topics": [t.topic_uid for t in self.topics],
            "counts": self.counts(),
        }
        if full:
            data["invitations"] = [i.as_dict() for i in self.invitations]
            data["materials"] = [m.as_dict() for m in self.materials]
            data["research"] = [r.as_dict() for r in self.research]
            data["opinions"] = [o.as_dict() for o in self.opinions]
        return data


class ActivityTopic(Base):
    """A topic consulted at an activity (by the topic's uid)."""

    __tablename__ = "activity_topics"
    __audited__ = True
    __table_args__ = (UniqueConstraint("activity_id", "topic_uid"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"), index=True)
    topic_uid: Mapped[str] = mapped_column(String(120), index=True)

    activity: Mapped[Activity] = relationship(back_populates="topics")


class Invitation(Base):
    """An invitation to an activity: a member, a department, a person of the public, or a participant from
    another node (``node_id``); the reply and the attendance taken."""

    __tablename__ = "activity_invitations"
    __audited__ = True

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    node_id: Mapped[str | None] = mapped_column(String(40))  # the node a participant comes from (None: here)
    invited_ms: Mapped[int] = mapped_column(BigInteger)
    reply: Mapped[str] = mapped_column(String(20), default="pending")
    reason: Mapped[str | None] = mapped_column(Text)  # why leave was asked (请假)
    replied_ms: Mapped[int | None] = mapped_column(BigInteger)
    attended: Mapped[bool | None] = mapped_column(Boolean)  # None: attendance not taken yet

    activity: Mapped[Activity] = relationship(back_populates="invitations")

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "name": self.name, "member_id": self.member_id,
                "node_id": self.node_id, "invited_ms": self.invited_ms, "reply": self.reply, "reason": self.reason,
                "replied_ms": self.replied_ms, "attended": self.attended}


class Material(Base):
    """A file sent before the activity: its name, size and SHA-256 (the bytes are kept as topics keep theirs)."""

    __tablename__ = "activity_materials"
    __audited__ = True

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(300))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    added_ms: Mapped[int] = mapped_column(BigInteger)

    activity: Mapped[Activity] = relationship(back_populates="materials")

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "size": self.size, "sha256": self.sha256, "added_ms": self.added_ms}


class Research(Base):
    """议前调研: research before consulting — who went, where, when, what they found."""

    __tablename__ = "activity_research"
    __audited__ = True

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"), index=True)
    who: Mapped[str] = mapped_column(String(300))
    place: Mapped[str] = mapped_column(String(300))
    done_ms: Mapped[int] = mapped_column(BigInteger)
    findings: Mapped[str] = mapped_column(Text)
    recorded_ms: Mapped[int] = mapped_column(BigInteger)
    recorded_by: Mapped[str] = mapped_column(String(200))

    activity: Mapped[Activity] = relationship(back_populates="research")

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "who": self.who, "place": self.place, "done_ms": self.done_ms,
                "findings": self.findings, "recorded_ms": self.recorded_ms, "recorded_by": self.recorded_by}


class Opinion(Base):
    """A speech, a written opinion or an online opinion, per speaker; moderation (hidden, or merged into
    another opinion) is recorded with its reason and moderator."""

    __tablename__ = "activity_opinions"
    __audited__ = True

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"), index=True)
    speaker: Mapped[str] = mapped_column(String(200))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    kind: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    at_ms: Mapped[int] = mapped_column(BigInteger)
    posted_by: Mapped[str] = mapped_column(String(200))  # who entered it (web:<user>, cli:<os user>)
    node_id: Mapped[str] = mapped_column(String(40))  # the node the opinion came from
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("activity_opinions.id"))
    moderation_reason: Mapped[str | None] = mapped_column(Text)
    moderated_by: Mapped[str | None] = mapped_column(String(200))
    moderated_ms: Mapped[int | None] = mapped_column(BigInteger)

    activity: Mapped[Activity] = relationship(back_populates="opinions", foreign_keys=[activity_id])

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "speaker": self.speaker, "member_id": self.member_id, "kind": self.kind,
                "text": self.text, "at_ms": self.at_ms, "posted_by": self.posted_by, "node_id": self.node_id,
                "hidden": self.hidden, "merged_into": self.merged_into_id,
                "moderation": None if self.moderated_ms is None else {
                    "reason": self.moderation_reason, "by": self.moderated_by, "at_ms": self.moderated_ms}}
