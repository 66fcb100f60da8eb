"""The inbox (PROTOCOL.md §5.5–§5.6): idempotent per transfer; effect and record in one transaction."""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass
from typing import Any, Iterable

from flask import Flask
from sqlalchemy import select
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
    """Verify ``data`` and accept it once; raise ``ProtocolError`` (nothing stored) when it is refused."""
    pm = get_plugin_manager(app)
    kinds = app.extensions.get("shangliang.federation.kinds")
    if kinds is None:
        kinds = app.extensions["shangliang.federation.kinds"] = registry(pm)
    receiver = app.config["NODE_ID"]
    verified = verify(data, receiver, PinnedPeers(session), kinds)
    envelope = verified.envelope
    check_body(verified)

    begin_write(session)  # on SQLite, hold the write lock from the duplicate check to the commit
    seen = session.get(InboxTransfer, verified.transfer_id) is not None
    known = None if seen else session.execute(
        select(InboxTransfer.core_hash).where(InboxTransfer.origin == envelope["origin"],
                                              InboxTransfer.message_id == envelope["id"]).limit(1)
    ).scalar()
    verdict = judge_repeat(seen, known, verified.core_hash)
    event = {"event": "federation.inbox", "message_id": envelope["id"], "origin": envelope["origin"],
             "transfer_id": verified.transfer_id, "kind": envelope["kind"], "peer": verified.sender}
    if verdict == "duplicate":
        _inbound_success(session, verified.sender, now_ms())
        session.commit()
        log.info("inbox: %s/%s from %s again (duplicate)", envelope["origin"], envelope["id"], verified.sender,
                 extra={**event, "outcome": "duplicate"})
        return Answer(200, {"status": "duplicate", "transfer": verified.transfer_id})
    if verdict == "conflict":
        session.rollback()
        _alert(session, "conflict", verified, "same (origin, id) with different content")
        raise Conflict(f"message {envelope['origin']}/{envelope['id']} is known with other content")

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
        session.add(InboxTransfer(
            transfer_id=verified.transfer_id, origin=envelope["origin"], message_id=envelope["id"],
            core_hash=verified.core_hash, kind=envelope["kind"], topic=envelope["topic"], sender=verified.sender,
            received_ms=received, expires_ms=envelope["hops"][-1]["expires_ms"],
            envelope=canonical.dumps(envelope).decode("utf-8"),
        ))
        _inbound_success(session, verified.sender, received)
        session.commit()
    except IntegrityError:
        # The same transfer, accepted by another process a moment ago.
        session.rollback()
        if session.get(InboxTransfer, verified.transfer_id) is not None:
            return Answer(200, {"status": "duplicate", "transfer": verified.transfer_id})
        raise
    except ProtocolError:
        session.rollback()
        raise
    log.info("inbox: %s %s/%s accepted from %s", envelope["kind"], envelope["origin"], envelope["id"], verified.sender,
             extra={**event, "outcome": "accepted"})
    return Answer(202, {"status": "accepted", "transfer": verified.transfer_id})


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


def _inbound_success(session: Session, sender: str, at: int) -> None:
    """A valid message from a peer lifts any hold on deliveries to it (§7)."""
    peer = session.get(Peer, sender)
    if peer is not None and (peer.held_until_ms or peer.hold_window_ms):
        peer.held_until_ms = None
        peer.hold_window_ms = 0


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
