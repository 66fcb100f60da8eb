"""Federation tables: the node's own keys, its pinned peers and their keys, the inbox, the outbox, alerts."""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shangliang.core.models import Base


class OwnKey(Base):
    """One of this node's signing keys; the private half is a 0600 file in the node directory."""

    __tablename__ = "fed_own_keys"
    __audited__ = True

    key_id: Mapped[str] = mapped_column(String(48), primary_key=True)
    public: Mapped[str] = mapped_column(String(64))
    created_ms: Mapped[int] = mapped_column(BigInteger)
    expired_ms: Mapped[int | None] = mapped_column(BigInteger)  # None: the current key


class Peer(Base):
    """A neighbour pinned by an administrator (parent or child), with its delivery health."""

    __tablename__ = "fed_peers"
    __audited__ = True
    # Delivery health changes with every message; the audit log records who pinned what, not that.
    __audit_ignore__ = frozenset({"last_success_ms", "last_failure_ms", "failures", "held_until_ms", "hold_window_ms"})

    node_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    url: Mapped[str] = mapped_column(String(300))
    relation: Mapped[str] = mapped_column(String(10))  # parent or child
    name: Mapped[str | None] = mapped_column(String(200))  # its committee's name, as its `keys show` gives it
    # "http": the delivery worker POSTs to ``url``; "bundle": reached only by bundle files (docs/bundles.md), never
    # tried over HTTP, its messages wait in the outbox for `bundle export`.
    delivery: Mapped[str] = mapped_column(String(10), default="http", server_default="http")
    added_ms: Mapped[int] = mapped_column(BigInteger)
    last_success_ms: Mapped[int | None] = mapped_column(BigInteger)
    last_failure_ms: Mapped[int | None] = mapped_column(BigInteger)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    held_until_ms: Mapped[int | None] = mapped_column(BigInteger)
    hold_window_ms: Mapped[int] = mapped_column(BigInteger, default=0)

    keys: Mapped[list[PeerKey]] = relationship(back_populates="peer", cascade="all, delete-orphan")


class PeerKey(Base):
    """A pinned public key of a peer; ``expired_ms`` set once the peer rotated away from it."""

    __tablename__ = "fed_peer_keys"
    __audited__ = True

    node_id: Mapped[str] = mapped_column(ForeignKey("fed_peers.node_id", ondelete="CASCADE"), primary_key=True)
    key_id: Mapped[str] = mapped_column(String(48), primary_key=True)
    public: Mapped[str] = mapped_column(String(64))
    expired_ms: Mapped[int | None] = mapped_column(BigInteger)

    peer: Mapped[Peer] = relationship(back_populates="keys")


class InboxTransfer(Base):
    """An accepted transfer (§5.5): named by the hash of its last hop, kept verbatim and re-verifiable."""

    __tablename__ = "fed_inbox"
    __table_args__ = (Index("ix_fed_inbox_message", "origin", "message_id"),)

    transfer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    origin: Mapped[str] = mapped_column(String(40))
    message_id: Mapped[str] = mapped_column(String(64))
    core_hash: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(100))
    topic: Mapped[str | None] = mapped_column(String(120), index=True)
    sender: Mapped[str] = mapped_column(String(40))
    received_ms: Mapped[int] = mapped_column(BigInteger)
    expires_ms: Mapped[int] = mapped_column(BigInteger)
    envelope: Mapped[str] = mapped_column(Text)  # canonical JSON, as received


class OutboxMessage(Base):
    """An envelope to deliver to one destination, written in the transaction of the decision it carries."""

    __tablename__ = "fed_outbox"
    __table_args__ = (
        UniqueConstraint("transfer_id"),
        Index("ix_fed_outbox_due", "status", "next_attempt_ms"),
        Index("ix_fed_outbox_order", "destination", "topic", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    transfer_id: Mapped[str] = mapped_column(String(64))
    origin: Mapped[str] = mapped_column(String(40))
    message_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(100))
    topic: Mapped[str | None] = mapped_column(String(120))
    destination: Mapped[str] = mapped_column(String(40))
    envelope: Mapped[str] = mapped_column(Text)
    created_ms: Mapped[int] = mapped_column(BigInteger)
    expires_ms: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(10), default="pending")  # pending, sent, dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_ms: Mapped[int] = mapped_column(BigInteger)
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(500))
    delivered_ms: Mapped[int | None] = mapped_column(BigInteger)
    bundled_ms: Mapped[int | None] = mapped_column(BigInteger)  # last written into a bundle file (docs/bundles.md)


class FederationAlert(Base):
    """Something an administrator should look at: a conflicting message id, a peer sending garbage."""

    __tablename__ = "fed_alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at_ms: Mapped[int] = mapped_column(BigInteger)
    code: Mapped[str] = mapped_column(String(40))
    sender: Mapped[str | None] = mapped_column(String(40))
    origin: Mapped[str | None] = mapped_column(String(40))
    message_id: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(String(500))


class AuditAnchor(Base):
    """A child's audit-chain head as the child signed and sent it (``x-audit.anchor``): kept by the parent,
    so that the child's ``audit verify --against-parent`` detects a chain cut, wiped or rewritten since."""

    __tablename__ = "fed_audit_anchors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    child: Mapped[str] = mapped_column(String(40), index=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))
    anchored_ms: Mapped[int] = mapped_column(BigInteger)  # the child's time of the head
    received_ms: Mapped[int] = mapped_column(BigInteger)
    transfer_id: Mapped[str] = mapped_column(String(64))
