"""Audit anchors: a node signs the head of its audit chain (sequence number and hash) and sends it to its
parent, at least daily and on demand (``shangliang audit anchor``); the parent keeps each child's anchors
and answers the last one, signed, at ``GET /federation/v1/anchors/<child>``. ``audit verify
--against-parent`` checks the chain against it, so deleting the last rows and moving the head back,
wiping the log and beginning again, or rewriting rows before the anchor are detected — which the chain
alone cannot show (docs/audit.md).

The message is ``x-audit.anchor`` (PROTOCOL.md §8's extension space), one ``reply`` hop from the child to
its parent; the parent's receipt is signed with the signing purpose ``anchor``.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

from celery import shared_task
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shangliang.core import audit
from shangliang.core.context import NodeContext, node_context
from shangliang.core.db import transaction
from shangliang.core.errors import InputError, ServiceUnavailable

from . import keys, outbox, peers
from .errors import BadSignature, InvalidBody, Malformed, ProtocolError
from .kinds import Kind, ms, require
from .models import AuditAnchor, FederationAlert
from .signing import verify

KIND = "x-audit.anchor"
HASH = re.compile(r"[0-9a-f]{64}")
TIMEOUT = (3.05, 10)


def _body(body: Mapping[str, Any]) -> None:
    seq = require(body, "seq", int)
    if isinstance(seq, bool) or seq < 0:
        raise InvalidBody("body.seq must be a whole number from 0")
    if not HASH.fullmatch(require(body, "hash", str)):
        raise InvalidBody("body.hash must be 64 lower-case hex digits")
    ms(body, "at_ms")


KINDS = (Kind(KIND, "reply", False, _body),)


# -- the child ----------------------------------------------------------------------------------------------


def send(session: Session, node: NodeContext) -> dict[str, Any]:
    """Sign this node's audit head now and queue it for the parent; returns the body sent."""
    if not node.parent:
        raise InputError(f"{node.id} has no parent to anchor its audit log with")
    peers.require_peer(session, node.parent, "parent")
    seq, digest = audit.head(session)
    body = {"seq": seq, "hash": digest, "at_ms": node.now_ms()}
    outbox.originate(session, node, KIND, body, node.parent, "reply")
    return body


def fetch(session: Session, node: NodeContext) -> dict[str, Any] | None:
    """The last anchor the parent keeps for this node, its receipt's signature checked against the key
    pinned for the parent; None when this node has no parent."""
    if not node.parent:
        return None
    parent = peers.require_peer(session, node.parent, "parent")
    url = f"{parent.url.rstrip('/')}/federation/v1/anchors/{node.id}"
    import requests  # here: only the command that fetches an anchor sends (see federation/delivery.py)

    try:
        response = requests.get(url, timeout=TIMEOUT)
    except requests.RequestException as exc:
        raise ServiceUnavailable("parent", url, type(exc).__name__, "peers") from None
    if response.status_code == 404:
        raise InputError(f"{node.parent} keeps no anchor of this node's audit log yet (shangliang audit anchor)")
    try:
        receipt = response.json()
        check_receipt(session, receipt, node.parent, node.id)
    except (ValueError, ProtocolError) as exc:
        raise InputError(f"{node.parent}'s answer about this node's anchor cannot be trusted: {exc}") from None
    return {"seq": receipt["seq"], "hash": receipt["hash"], "anchored_ms": receipt["anchored_ms"],
            "received_ms": receipt["received_ms"], "holder": node.parent}


def check_receipt(session: Session, receipt: Any, parent: str, child: str) -> None:
    if not isinstance(receipt, dict) or receipt.get("node") != parent or receipt.get("child") != child:
        raise Malformed(f"not {parent}'s receipt of an anchor of {child}")
    sig = receipt.get("sig")
    if not isinstance(sig, dict) or not isinstance(sig.get("key"), str):
        raise Malformed("a receipt has sig {key, value}")
    public = peers.PinnedPeers(session).key(parent, sig["key"], receipt.get("received_ms", 0))
    if public is None:
        raise BadSignature(f"{sig['key']} is not a key pinned for {parent}")
    verify(public, "anchor", {k: v for k, v in receipt.items() if k != "sig"}, sig.get("value"), "receipt")
    if not isinstance(receipt.get("seq"), int) or not HASH.fullmatch(str(receipt.get("hash"))):
        raise Malformed("a receipt names the anchor's seq and hash")


# -- the parent ---------------------------------------------------------------------------------------------


def store(session: Session, node: NodeContext, envelope: Mapping[str, Any], transfer: Mapping[str, Any]) -> None:
    """Keep a child's anchor; refuse (422, nothing stored, an alert kept) one from a node that is not a
    child, or one whose chain went back."""
    sender = transfer["sender"]
    if envelope["origin"] != sender or len(envelope["hops"]) != 1:
        raise InvalidBody(f"{KIND} travels one hop, from the node whose audit log it anchors")
    if peers.relation_of(session, sender) != "child":
        raise InvalidBody(f"{sender} is not a child of {node.id}: only a child anchors its audit log here")
    body = envelope["body"]
    last = latest(session, sender)
    if last is not None and (body["seq"] < last.seq or (body["seq"] == last.seq and body["hash"] != last.hash)):
        detail = (f"{sender}'s audit head went back: row {body['seq']} after row {last.seq} "
                  f"(anchored {last.anchored_ms})")
        session.add(FederationAlert(at_ms=transfer["received_ms"], code="audit_went_back", sender=sender,
                                    origin=sender, message_id=envelope["id"], detail=detail[:500]))
        session.commit()
        raise InvalidBody(detail + ": its chain was cut or rewritten; the earlier anchor is kept")
    if last is not None and body["seq"] == last.seq:
        return  # the same head anchored again (two `audit anchor` at once, or beat and a person): kept once
    session.add(AuditAnchor(child=sender, seq=body["seq"], hash=body["hash"], anchored_ms=body["at_ms"],
                            received_ms=transfer["received_ms"], transfer_id=transfer["transfer_id"]))


def latest(session: Session, child: str) -> AuditAnchor | None:
    return session.execute(select(AuditAnchor).where(AuditAnchor.child == child)
                           .order_by(AuditAnchor.seq.desc(), AuditAnchor.id.desc()).limit(1)).scalar()


def receipt(session: Session, node: NodeContext, child: str) -> dict[str, Any] | None:
    """The last anchor of ``child``, signed by this node; None when there is none."""
    found = latest(session, child)
    if found is None:
        return None
    body = {"node": node.id, "child": child, "seq": found.seq, "hash": found.hash, "anchored_ms": found.anchored_ms,
            "received_ms": found.received_ms}
    key = keys.current(session, node.node_dir)
    return {**body, "sig": {"key": key.key_id, "value": key.sign("anchor", body)}}


def children(session: Session, node: NodeContext) -> list[dict[str, Any]]:
    """Each child with its last anchor and its age (None where none came yet), by id."""
    now = node.now_ms()
    found_by = {child: latest(session, child) for child in peers.child_ids(session)}
    # Counted after the latest anchors were read: an anchor arriving between the two reads is counted, never
    # shown with a count that leaves it out (the two reads are not one snapshot on every database).
    counts = dict(session.execute(select(AuditAnchor.child, func.count()).group_by(AuditAnchor.child)).all())
    out = []
    for child, found in found_by.items():
        out.append({"child": child, "anchors": counts.get(child, 0),
                    "seq": found.seq if found else None, "hash": found.hash if found else None,
                    "anchored_ms": found.anchored_ms if found else None,
                    "age_hours": round((now - found.received_ms) / 3_600_000, 1) if found else None})
    return out


# -- the daily anchor ----------------------------------------------------------------------------------------


@shared_task(name="shangliang.federation.anchor")
def anchor_task() -> dict[str, Any] | None:
    """Beat's daily anchor (``[federation] anchor_hours``): sent when the node has a paired parent."""
    node = node_context()
    with transaction(actor="worker") as session:
        if not node.parent or peers.relation_of(session, node.parent) != "parent":
            return None
        return send(session, node)
