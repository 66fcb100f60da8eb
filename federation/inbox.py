"""The inbox (PROTOCOL.md §5.5–§5.6): idempotent per transfer; effect and record in one transaction."""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass
from typing import Any, Iterable

from flask import Flask
from sqlalchemy import exists, literal, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shangliang.core.db import begin_write
from shangliang.core.context import node_context
from shangliang.core.plugins import get_plugin_manager

from . import anchors, canonical
from .errors import BadRoute, BadSignature, Conflict, InvalidBody, Malformed, ProtocolError
from .ids import now_ms
from .kinds import registry
from .models import FederationAlert, InboxTransfer, Peer, PeerKey
from .peers import PinnedPeers
from .signing import b64u_decode, verify_bytes, PREFIX
from .verify import Verified, verify

log = logging.getLogger("shangliang.federation")


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]


def receive(app: Flask, session: Session, data: bytes) -> Answer:
    """Verify ``data`` and accept it once; raise ``ProtocolError`` (nothing stored) when it is refused.

    An accepted transfer costs two statements besides its effect's own: the peers with their keys (one
    join) and one ``INSERT … SELECT … WHERE NOT EXISTS (another core) ON CONFLICT
    DO NOTHING RETURNING`` that stores the transfer only if it is new and its ``(origin, id)`` not
    known with other content. When that insert stores nothing, the effect is rolled back and the
    repeat judged (duplicate or conflict) by reading what is held."""
    pm = get_plugin_manager(app)
    kinds = app.extensions.get("shangliang.federation.kinds")
    if kinds is None:
        kinds = app.extensions["shangliang.federation.kinds"] = registry(pm)
    receiver = app.config["NODE_ID"]
    # PostgreSQL locks nothing to begin a transaction: the peers are read in the one that writes. SQLite's
    # BEGIN IMMEDIATE takes the database's write lock, so there it begins after the signatures are checked.
    early = session.get_bind().dialect.name != "sqlite"
    if early:
        begin_write(session)
    pinned = PinnedPeers(session)
    verified = verify(data, receiver, pinned, kinds)
    envelope = verified.envelope
    check_body(verified)
    if not early:
        begin_write(session)  # on SQLite, hold the write lock from the effect to the commit
    event = {"event": "federation.inbox", "message_id": envelope["id"], "origin": envelope["origin"],
             "transfer_id": verified.transfer_id, "kind": envelope["kind"], "peer": verified.sender}

    received = now_ms()
    transfer = {"transfer_id": verified.transfer_id, "sender": verified.sender, "kind": envelope["kind"],
                "topic": envelope["topic"], "received_ms": received}
    try:
        if envelope["kind"] == "node.key_rotated":
            _pin_rotated_key(session, verified)
        elif envelope["kind"] == anchors.KIND:
            anchors.store(session, node_context(app), envelope, transfer)
        pm.hook.federation_message_accepted(session=session, envelope=envelope, transfer=transfer,
                                            node=node_context(app))
        stored = _store(session, verified, received)
    except (IntegrityError, ProtocolError):
        # The effect refused it, or met what another process accepted a moment ago: a repeat is answered as one.
        session.rollback()
        repeat = _repeat(session, verified, event)
        if repeat is not None:
            return repeat
        raise
    if not stored:
        session.rollback()  # the effect is undone: this transfer, or this message with other content, is held
        repeat = _repeat(session, verified, event)
        if repeat is not None:
            return repeat
        raise RuntimeError(f"inbox: transfer {verified.transfer_id} was neither stored nor found held")
    _inbound_success(session, verified.sender, pinned.held(verified.sender) or not early)
    session.commit()
    log.info("inbox: %s %s/%s accepted from %s", envelope["kind"], envelope["origin"], envelope["id"], verified.sender,
             extra={**event, "outcome": "accepted"})
    return Answer(202, {"status": "accepted", "transfer": verified.transfer_id})


def _store(session: Session, verified: Verified, received: int) -> bool:
    """Insert the transfer unless it is held, or its ``(origin, id)`` is held with another core: one statement."""
    envelope = verified.envelope
    text = (verified.received or canonical.dumps(envelope)).decode("utf-8")
    values = {"transfer_id": verified.transfer_id, "origin": envelope["origin"], "message_id": envelope["id"],
              "core_hash": verified.core_hash, "kind": envelope["kind"], "topic": envelope["topic"],
              "sender": verified.sender, "received_ms": received, "expires_ms": envelope["hops"][-1]["expires_ms"],
              "envelope": text}
    table = InboxTransfer.__table__
    other_core = select(table.c.transfer_id).where(
        table.c.origin == envelope["origin"], table.c.message_id == envelope["id"],
        table.c.core_hash != verified.core_hash)
    source = select(*[literal(value, table.c[name].type).label(name) for name, value in values.items()]) \
        .where(~exists(other_core))
    dialect = session.get_bind().dialect.name
    insert_ = sqlite_insert if dialect == "sqlite" else pg_insert
    statement = insert_(table).from_select(list(values), source) \
        .on_conflict_do_nothing(index_elements=[table.c.transfer_id]).returning(table.c.transfer_id)
    return session.execute(statement).first() is not None


def _repeat(session: Session, verified: Verified, event: dict) -> Answer | None:
    """After a rollback: the answer to a transfer already held (200), a ``Conflict`` (raised, alert kept) for
    its message held with other content, or None when it is neither."""
    envelope = verified.envelope
    seen = session.get(InboxTransfer, verified.transfer_id) is not None
    known = None if seen else session.execute(
        select(InboxTransfer.core_hash).where(InboxTransfer.origin == envelope["origin"],
                                              InboxTransfer.message_id == envelope["id"],
                                              InboxTransfer.core_hash != verified.core_hash).limit(1)
    ).scalar()
    verdict = judge_repeat(seen, known, verified.core_hash)
    if verdict == "duplicate":
        begin_write(session)
        _inbound_success(session, verified.sender, True)
        session.commit()
        log.info("inbox: %s/%s from %s again (duplicate)", envelope["origin"], envelope["id"], verified.sender,
                 extra={**event, "outcome": "duplicate"})
        return Answer(200, {"status": "duplicate", "transfer": verified.transfer_id})
    if verdict == "conflict":
        session.rollback()
        _alert(session, "conflict", verified, "same (origin, id) with different content")
        raise Conflict(f"message {envelope['origin']}/{envelope['id']} is known with other content")
    return None


def check_body(verified: Verified) -> None:
    """The 422 answers (§6): a kind about a topic names one (and no other kind does); the body fits its kind."""
    kind, envelope = verified.kind, verified.envelope
    if kind.about_topic != isinstance(envelope["topic"], str):
        raise InvalidBody(f"{kind.name} must {'' if kind.about_topic else 'not '}name a topic")
    kind.validate(envelope["body"])


def judge_repeat(seen: bool, known_core_hash: str | bytes | None, core_hash: str | bytes) -> str | None:
    """Idempotency (§5.5) on what the node holds: ``duplicate`` when this transfer (its last hop's hash)
    was accepted before, ``conflict`` when its ``(origin, id)`` is known with another core hash, None
    for a new transfer. ``seen`` is whether the transfer id is stored; ``known_core_hash`` the core
    hash stored for the same ``(origin, id)``, if any, in the form ``core_hash`` is given in."""
    if seen:
        return "duplicate"
    if known_core_hash is not None and not hmac.compare_digest(known_core_hash, core_hash):
        return "conflict"
    return None


def _inbound_success(session: Session, sender: str, maybe_held: bool) -> None:
    """A valid message from a peer lifts any hold on deliveries to it (§7): one UPDATE, only when the peers read
    in this transaction showed a hold (``maybe_held``; always True when they were read before it)."""
    if maybe_held:
        session.execute(update(Peer).where(Peer.node_id == sender, or_(Peer.held_until_ms.is_not(None),
                                                                      Peer.hold_window_ms != 0))
                        .values(held_until_ms=None, hold_window_ms=0))


def _pin_rotated_key(session: Session, verified: Verified) -> None:
    """``node.key_rotated``: check the new key's proof, pin it, keep the old key for what it signed."""
    envelope = verified.envelope
    if len(envelope["hops"]) != 1 or envelope["origin"] != verified.sender:
        raise BadRoute("node.key_rotated travels one hop, from the node whose key it is")
    body = envelope["body"]
    new_id, new_public = body["new_key"]["id"], b64u_decode(body["new_key"]["public"], "body.new_key.public", 32)
    proof = b64u_decode(body["proof"], "body.proof", 64)
    core = {k: envelope[k] for k in ("v", "id", "kind", "origin", "created_ms", "topic", "in_reply_to")}
    core["body"] = {k: v for k, v in body.items() if k != "proof"}
    if not verify_bytes(new_public, PREFIX + b"rotate\x00" + canonical.dumps(core), proof):
        raise BadSignature("body.proof does not verify with the new key")
    keys = {k.key_id: k for k in session.execute(select(PeerKey).where(PeerKey.node_id == verified.sender)).scalars()}
    if new_id in keys:
        raise InvalidBody(f"{new_id} is already a key of {verified.sender}")
    # The old key keeps verifying what it signed up to and including this announcement (whose
    # retries resend the same hop, with the same at_ms).
    expired = max(envelope["created_ms"], envelope["hops"][0]["at_ms"]) + 1
    for key in keys.values():
        if key.expired_ms is None:
            key.expired_ms = expired
    session.add(PeerKey(node_id=verified.sender, key_id=new_id, public=body["new_key"]["public"], expired_ms=None))


def _alert(session: Session, code: str, verified: Verified, detail: str) -> None:
    envelope = verified.envelope
    log.warning("federation alert %s from %s: %s/%s %s", code, verified.sender, envelope["origin"], envelope["id"], detail)
    session.add(FederationAlert(at_ms=now_ms(), code=code, sender=verified.sender, origin=envelope["origin"],
                                message_id=envelope["id"], detail=detail[:500]))
    session.commit()


def received_about(session: Session, topic: str, kinds: Iterable[str] | None = None) -> list[InboxTransfer]:
    """The transfers this node accepted about ``topic`` (of ``kinds``), in the order they arrived."""
    query = select(InboxTransfer).where(InboxTransfer.topic == topic)
    if kinds is not None:
        query = query.where(InboxTransfer.kind.in_(list(kinds)))
    return list(session.execute(query.order_by(InboxTransfer.received_ms, InboxTransfer.transfer_id)).scalars())


def latest_transfers(session: Session, limit: int = 100) -> list[InboxTransfer]:
    """Accepted transfers, newest first."""
    return list(session.execute(select(InboxTransfer).order_by(InboxTransfer.received_ms.desc()).limit(limit)).scalars())


def transfer_dict(row: InboxTransfer) -> dict[str, Any]:
    return {"transfer": row.transfer_id, "origin": row.origin, "id": row.message_id, "kind": row.kind,
            "topic": row.topic, "from": row.sender, "received_ms": row.received_ms, "expires_ms": row.expires_ms}


__all__ = ["receive", "Answer", "check_body", "judge_repeat", "transfer_dict", "Malformed"]
