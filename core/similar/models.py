"""Similar-matters tables: each topic's keywords and LSH buckets, the suggestions to group topics, and the
originals merged into a primary topic (the merged matter held here)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shangliang.core.models import Base
from shangliang.core.topics.models import Topic

#: open (waiting for staff) → merged, separate (kept separate) or dismissed.
STATES = ("open", "merged", "separate", "dismissed")


class SimilarIndexed(Base):
    """A topic held here as the matcher knows it: its keywords (jieba's TF-IDF extraction of title and text)."""

    __tablename__ = "similar_indexed"

    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id", ondelete="CASCADE"), primary_key=True)
    keywords: Mapped[str] = mapped_column(Text)  # space-separated, in the order jieba ranks them
    indexed_ms: Mapped[int] = mapped_column(BigInteger)


class SimilarBucket(Base):
    """One LSH band of a topic's MinHash signature: topics sharing a bucket key are candidates for matching."""

    __tablename__ = "similar_buckets"
    # (key, topic_id): a bucket's newest topics read from the index alone
    __table_args__ = (Index("ix_similar_buckets_key_topic", "key", "topic_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[int] = mapped_column(BigInteger)
    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id", ondelete="CASCADE"), index=True)


class SimilarSuggestion(Base):
    """A suggestion to group similar topics held here into one matter, with the reasons. Made by the node, not by
    a person, so not in the audit log; a decision is recorded here (``decided_by``, ``decided_ms``) and a merge in
    each topic's history and in ``similar_merged`` (audited)."""

    __tablename__ = "similar_suggestions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    state: Mapped[str] = mapped_column(String(20), default="open", index=True)
    score: Mapped[float] = mapped_column(Float)  # the highest similarity between two of its topics, 0–100
    created_ms: Mapped[int] = mapped_column(BigInteger)
    updated_ms: Mapped[int] = mapped_column(BigInteger)
    decided_ms: Mapped[int | None] = mapped_column(BigInteger)
    decided_by: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text, default="")
    primary_id: Mapped[int | None] = mapped_column(ForeignKey("topics.id", ondelete="SET NULL"))

    members: Mapped[list[SimilarMember]] = relationship(back_populates="suggestion", order_by="SimilarMember.id",
                                                 cascade="all, delete-orphan")
    primary: Mapped[Topic | None] = relationship(foreign_keys=[primary_id])

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "state": self.state, "score": round(self.score, 1), "created_ms": self.created_ms,
                "updated_ms": self.updated_ms, "decided_ms": self.decided_ms, "decided_by": self.decided_by,
                "note": self.note, "primary": self.primary.uid if self.primary else None,
                "topics": [m.as_dict() for m in self.members]}


class SimilarMember(Base):
    """A topic in a suggestion, with why: how similar it is to the topic it matched and the keywords they share."""

    __tablename__ = "similar_members"
    __table_args__ = (UniqueConstraint("suggestion_id", "topic_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    suggestion_id: Mapped[int] = mapped_column(ForeignKey("similar_suggestions.id", ondelete="CASCADE"), index=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id", ondelete="CASCADE"), index=True)
    matched_id: Mapped[int | None] = mapped_column(ForeignKey("topics.id", ondelete="SET NULL"))
    score: Mapped[float | None] = mapped_column(Float)  # similarity to ``matched`` (None for the first topic)
    shared: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of the keywords shared with ``matched``

    suggestion: Mapped[SimilarSuggestion] = relationship(back_populates="members")
    topic: Mapped[Topic] = relationship(foreign_keys=[topic_id])
    matched: Mapped[Topic | None] = relationship(foreign_keys=[matched_id])

    def as_dict(self) -> dict[str, Any]:
        t = self.topic
        return {"uid": t.uid, "title": t.title, "areas": json.loads(t.areas), "from": t.upstream or t.raised_at,
                "raised_at": t.raised_at, "stage": t.stage, "holder": t.holder,
                "matched": self.matched.uid if self.matched else None,
                "score": None if self.score is None else round(self.score, 1), "shared": json.loads(self.shared)}


class SimilarMerged(Base):
    """An original topic merged into a primary one held here: the primary's result is the original's."""

    __tablename__ = "similar_merged"
    __audited__ = True

    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id", ondelete="CASCADE"), primary_key=True)
    primary_id: Mapped[int] = mapped_column(ForeignKey("topics.id", ondelete="CASCADE"), index=True)
    suggestion_id: Mapped[int | None] = mapped_column(ForeignKey("similar_suggestions.id", ondelete="SET NULL"))
    merged_ms: Mapped[int] = mapped_column(BigInteger)
    merged_by: Mapped[str] = mapped_column(String(200))

    topic: Mapped[Topic] = relationship(foreign_keys=[topic_id])
    primary: Mapped[Topic] = relationship(foreign_keys=[primary_id])
