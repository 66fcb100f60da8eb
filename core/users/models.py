"""User accounts: who signs in to this node, with which role, linked to a member where they are one."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shangliang.core.members.models import Member
from shangliang.core.models import Base, utcnow


class User(Base):
    __tablename__ = "users"
    __audited__ = True
    __audit_exclude__ = frozenset({"password_hash"})

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(20))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    member: Mapped[Member | None] = relationship()

    # Flask-Login's user protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    # The signed-in session this object was loaded for (``services.start_session``), if any.
    session_id = None  # type: str | None

    def get_id(self) -> str:
        return self.session_id or str(self.id)


class SignIn(Base):
    """A signed-in session, kept on the node: the session cookie names it, and signing out (or an ended
    account) deletes it, so a copied cookie stops working at once (not audited: it is not a decision)."""

    __tablename__ = "sign_ins"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 of the cookie's token
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_ms: Mapped[int] = mapped_column(BigInteger)
    expires_ms: Mapped[int] = mapped_column(BigInteger)

