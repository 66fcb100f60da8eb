"""Duty tables: the items of a member's duty record that the node does not already know elsewhere.

An item is either recorded by hand by the office (good deeds 好事实事, training 培训, research 调研, …), always
with evidence (a text, an attached file or both), or reported for a member of this committee by a lower node
over a signed ``x-duty.items`` message (``reported_by`` is that node, ``ref`` its id there). Everything else
in a record (attendance, speeches, proposals, …) is read from the features that keep it, through the
``duty_record_items`` hook, never typed twice.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shangliang.core.models import Base

#: The kinds the office records by hand (a plugin's rule may count any kind; these are offered on the form).
HAND_KINDS = ("good_deed", "training", "research", "development_idea", "speech", "visit", "other")


class DutyItem(Base):
    """One item of a member's duty record kept here: recorded by hand (with evidence) or reported by a lower node."""

    __tablename__ = "duty_items"
    __audited__ = True
    __audit_exclude__ = frozenset({"evidence_data"})  # the file itself; its name, size and sha256 are kept
    __table_args__ = (UniqueConstraint("member_id", "reported_by", "ref", name="uq_duty_items_reported"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    kind: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300))
    date: Mapped[str] = mapped_column(String(10))  # YYYY-MM-DD
    detail: Mapped[str] = mapped_column(Text, default="")
    evidence_text: Mapped[str | None] = mapped_column(Text)
    evidence_name: Mapped[str | None] = mapped_column(String(300))
    evidence_type: Mapped[str | None] = mapped_column(String(100))
    evidence_size: Mapped[int | None] = mapped_column(BigInteger)
    evidence_sha256: Mapped[str | None] = mapped_column(String(64))
    evidence_data: Mapped[bytes | None] = mapped_column(LargeBinary)
    reported_by: Mapped[str | None] = mapped_column(String(40))  # the lower node that reported it (None: by hand)
    ref: Mapped[str | None] = mapped_column(String(120))  # its id at the reporting node
    message: Mapped[str | None] = mapped_column(String(100))  # the envelope it came in
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_ms: Mapped[int] = mapped_column(BigInteger)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "member_id": self.member_id, "year": self.year, "kind": self.kind,
                "title": self.title, "date": self.date, "detail": self.detail,
                "evidence": ({"text": self.evidence_text, "file": self.evidence_name, "type": self.evidence_type,
                              "size": self.evidence_size, "sha256": self.evidence_sha256}
                             if self.reported_by is None else None),
                "reported_by": self.reported_by, "ref": self.ref, "recorded_by": self.recorded_by,
                "recorded_ms": self.recorded_ms}
