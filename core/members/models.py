"""Member tables: members (委员) with their sector (界别), special committee (专委会) and township group."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shangliang.core.models import Base, utcnow


class Sector(Base):
    """界别: a member's sector; sectors form sector groups (界别联组)."""

    __tablename__ = "sectors"
    __audited__ = True

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    group_name: Mapped[str | None] = mapped_column(String(100))


class SpecialCommittee(Base):
    """专门委员会 (专委会)."""

    __tablename__ = "special_committees"
    __audited__ = True

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)


class TownshipGroup(Base):
    """A township group (乡镇委员小组) to which county members are assigned."""

    __tablename__ = "township_groups"
    __audited__ = True

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)


class Member(Base):
    """委员: one member identity, three channels — sector, special committee, township group."""

    __tablename__ = "members"
    __audited__ = True

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_no: Mapped[str | None] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(40))
    sector_id: Mapped[int] = mapped_column(ForeignKey("sectors.id"))
    special_committee_id: Mapped[int | None] = mapped_column(ForeignKey("special_committees.id"))
    township_group_id: Mapped[int | None] = mapped_column(ForeignKey("township_groups.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    sector: Mapped[Sector] = relationship()
    special_committee: Mapped[SpecialCommittee | None] = relationship()
    township_group: Mapped[TownshipGroup | None] = relationship()
