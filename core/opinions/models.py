"""Social-opinion report tables: a report (社情民意信息) with its author, its decisions (here and, told back
down, at the levels above), and the issues of the periodical (期) reports are compiled into.

A report written here has no ``origin_node``; one forwarded here by a child keeps the child's id and its ref
there (``origin_node``, ``origin_ref``) and the node where it was first written (``written_node``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shangliang.core.models import Base

#: Who wrote it: a member (alone), or a body — a sector (界别), a special committee (专门委员会), a grassroots
#: station or work station (基层工作站/委员工作站), or a party group (党派团体: a body's proposal not filed that
#: became a report).
AUTHOR_KINDS = ("member", "sector", "special_committee", "station", "party_group")
BODY_AUTHOR_KINDS = AUTHOR_KINDS[1:]
#: pending: no decision here yet; decided: one or more decisions here; not_used: the office did not use it.
STATUSES = ("pending", "decided", "not_used")
#: What a level decides on a report: used by that committee (采用), forwarded to its parent (上报),
#: sent to the party committee or government (报送党委政府), not used (with the reason), adopted by a named
#: body (采用, e.g. 市委办公室), a leader's instruction (批示).
DECISIONS = ("used", "forwarded", "reported", "not_used", "adopted", "instruction")
#: The decisions that are the author's credit: an adoption at some level, or an instruction.
ADOPTIONS = ("used", "adopted")
#: Where a report may be sent (报送): the party committee or the government.
REPORT_TO = ("party_committee", "government")


class OpinionIssue(Base):
    """An issue (期) of the node's social-opinion periodical: ``2026年第3期``."""

    __tablename__ = "opinion_issues"
    __audited__ = True
    __table_args__ = (UniqueConstraint("year", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200), default="")
    compiled_by: Mapped[str] = mapped_column(String(200))
    compiled_ms: Mapped[int] = mapped_column(BigInteger)

    opinions: Mapped[list[SocialOpinion]] = relationship(back_populates="issue", order_by="SocialOpinion.id")

    @property
    def ref(self) -> str:
        return f"{self.year}-{self.number}"

    def as_dict(self, with_opinions: bool = True) -> dict[str, Any]:
        data = {"id": self.id, "ref": self.ref, "year": self.year, "number": self.number, "title": self.title,
                "label": f"{self.year}年第{self.number}期", "compiled_by": self.compiled_by,
                "compiled_ms": self.compiled_ms}
        if with_opinions:
            data["opinions"] = [{"id": o.id, "title": o.title, "author": o.author_name} for o in self.opinions]
        return data


class SocialOpinion(Base):
    """A social-opinion report: written here by a member or a body, or forwarded here by a child node."""

    __tablename__ = "opinions"
    __audited__ = True

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    title: Mapped[str] = mapped_column(String(300))
    sentiment: Mapped[str] = mapped_column(Text)  # 社情: what was observed
    analysis: Mapped[str] = mapped_column(Text)
    suggestion: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(100))
    author_kind: Mapped[str] = mapped_column(String(20))
    author_name: Mapped[str] = mapped_column(String(200))
    member_no: Mapped[str | None] = mapped_column(String(40), index=True)
    #: The author's home committee: the node whose member register holds the member (a county member may
    #: write through a township work station: written at the township, author node the county).
    author_node: Mapped[str] = mapped_column(String(40))
    written_node: Mapped[str] = mapped_column(String(40))
    written_ms: Mapped[int] = mapped_column(BigInteger)
    written_by: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), index=True)
    issue_id: Mapped[int | None] = mapped_column(ForeignKey("opinion_issues.id"), index=True)
    forwarded_to: Mapped[str | None] = mapped_column(String(40))
    origin_node: Mapped[str | None] = mapped_column(String(40), index=True)
    origin_ref: Mapped[str | None] = mapped_column(String(60))
    created_ms: Mapped[int] = mapped_column(BigInteger)
    updated_ms: Mapped[int] = mapped_column(BigInteger)

    issue: Mapped[OpinionIssue | None] = relationship(back_populates="opinions")
    events: Mapped[list[SocialOpinionEvent]] = relationship(back_populates="opinion", order_by="SocialOpinionEvent.id",
                                                      cascade="all, delete-orphan")

    @property
    def ref(self) -> str:
        return str(self.id)

    def decisions(self) -> list[SocialOpinionEvent]:
        return [e for e in self.events if e.kind in DECISIONS]

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "ref": self.ref, "year": self.year, "title": self.title, "sentiment": self.sentiment,
            "analysis": self.analysis, "suggestion": self.suggestion, "category": self.category,
            "author": {"kind": self.author_kind, "name": self.author_name, "member_no": self.member_no,
                       "node": self.author_node},
            "written": {"node": self.written_node, "at_ms": self.written_ms, "by": self.written_by},
            "status": self.status,
            "issue": self.issue.as_dict(with_opinions=False) if self.issue is not None else None,
            "forwarded_to": self.forwarded_to,
            "origin": None if self.origin_node is None else {"node": self.origin_node, "ref": self.origin_ref},
            "created_ms": self.created_ms, "updated_ms": self.updated_ms,
            "events": [e.as_dict() for e in self.events],
        }


class SocialOpinionEvent(Base):
    """A decision on a report, here or (``remote``) at a level above, told back down; or an edit here."""

    __tablename__ = "opinion_events"
    __audited__ = True

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    opinion_id: Mapped[int] = mapped_column(ForeignKey("opinions.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # a decision, or ``edited``
    node: Mapped[str] = mapped_column(String(40))  # the node where it was decided
    level: Mapped[str | None] = mapped_column(String(20))
    body: Mapped[str | None] = mapped_column(String(200))  # reported to / adopted by
    body_kind: Mapped[str | None] = mapped_column(String(40))
    leader: Mapped[str | None] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text, default="")  # the instruction, the reason, or the edit's fields
    date: Mapped[str | None] = mapped_column(String(10))  # YYYY-MM-DD: the instruction's, else the day decided
    actor: Mapped[str] = mapped_column(String(200))
    at_ms: Mapped[int] = mapped_column(BigInteger)
    remote: Mapped[bool] = mapped_column(Boolean, default=False)
    message: Mapped[str | None] = mapped_column(String(100))  # the envelope that told it here

    opinion: Mapped[SocialOpinion] = relationship(back_populates="events")

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "node": self.node, "level": self.level, "body": self.body,
                "body_kind": self.body_kind, "leader": self.leader, "text": self.text, "date": self.date,
                "actor": self.actor, "at_ms": self.at_ms, "remote": self.remote}
