"""Handling-unit tables: the units (承办单位) a node assigns results and proposals to, and their contact users."""

from __future__ import annotations

from typing import Any

from shangliang.core.models import Base
from shangliang.core.users.models import User
from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

#: 党委部门, 政府部门 (incl. their bureaus), other bodies (人大, 法院, 检察院, 群团组织, 企事业单位).
KINDS = ("party", "government", "other")


class HandlingUnit(Base):
    """A handling unit this node works with; its name is how people and commands refer to it."""

    __tablename__ = "handling_units"
    __audited__ = True

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    phone: Mapped[str | None] = mapped_column(String(40))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_ms: Mapped[int] = mapped_column(BigInteger)

    contacts: Mapped[list[UnitContact]] = relationship(back_populates="unit", order_by="UnitContact.id",
                                                       cascade="all, delete-orphan")

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "kind": self.kind, "phone": self.phone, "active": self.active,
                "contacts": [c.user.username for c in self.contacts]}


class UnitContact(Base):
    """A user with the ``handling_unit`` role who acts for a unit: one unit per user."""

    __tablename__ = "unit_contacts"
    __audited__ = True

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("handling_units.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)

    unit: Mapped[HandlingUnit] = relationship(back_populates="contacts")
    user: Mapped[User] = relationship()

