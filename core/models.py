"""Core models: the declarative base, roles, node settings, the audit log, notifications, worker heartbeats.

Each feature keeps its own tables in ``core/<feature>/models.py``."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import BigInteger, DateTime, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    """Declarative base; models with ``__audited__ = True`` write an audit row for every change."""

    __audited__ = False
    __audit_exclude__: frozenset[str] = frozenset()  # recorded as changed, value hidden
    __audit_ignore__: frozenset[str] = frozenset()  # bookkeeping: changes to these alone are not recorded


class Role(str, enum.Enum):
    """What a signed-in person may do; the node's vocabulary for permissions (accounts are the users feature's)."""

    ADMIN = "admin"
    OFFICE = "office"  # office staff, 政协办公室
    MEMBER = "member"  # 委员
    HANDLING_UNIT = "handling_unit"  # 承办单位
    PUBLIC = "public"  # 群众


class NodeSetting(Base):
    """A setting the node keeps in its database (not in node.toml): worker heartbeat, for one."""

    __tablename__ = "node_settings"
    __audited__ = True

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class AuditEvent(Base):
    """Append-only, hash-chained record of every state change (never audited itself)."""

    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at_ms: Mapped[int] = mapped_column(BigInteger)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100))
    entity: Mapped[str] = mapped_column(String(100))
    entity_id: Mapped[str] = mapped_column(String(200))
    data: Mapped[str] = mapped_column(Text)  # canonical JSON
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditHead(Base):
    """The chain's last row, updated with every append; a deleted or appended tail shows against it."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))


class Notification(Base):
    """A message for a role or a user; delivered by the notification hook's implementations."""

    __tablename__ = "notifications"
    __audited__ = True

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recipient_role: Mapped[str | None] = mapped_column(String(20))
    recipient_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(100), default="core")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    channels: Mapped[str] = mapped_column(String(300), default="")
    read_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class Heartbeat(Base):
    """The last time each worker of this node ran its heartbeat task (not audited: it is not a decision)."""

    __tablename__ = "heartbeats"

    worker: Mapped[str] = mapped_column(String(200), primary_key=True)
    at_ms: Mapped[int] = mapped_column(BigInteger)


class FormSubmission(Base):
    """A page form's one-time token, spent by the unit of work it started: the same form sent again
    (a double click) gets the first outcome instead of running twice (not audited: bookkeeping)."""

    __tablename__ = "form_submissions"

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_ms: Mapped[int] = mapped_column(BigInteger, index=True)
    outcome: Mapped[str] = mapped_column(Text, default="")  # JSON: what the first submission answered


class ThrottleCounter(Base):
    """A fixed-window counter of the ``limits`` library kept in the node's database."""

    __tablename__ = "throttle_counters"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[float] = mapped_column(Float)  # epoch seconds
