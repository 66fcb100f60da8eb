"""The transactional outbox (PROTOCOL.md §7): an envelope to send is a row written with the decision it carries."""

from __future__ import annotations

import json
from typing import Any, Iterable, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from shangliang.core import audit
from shangliang.core.context import NodeContext
from shangliang.core.db import ROW_ID_MAX, after_commit
from shangliang.core.errors import InputError

from . import canonical, envelope as env_mod, hops, keys
from .ids import now_ms
from .models import OutboxMessage
from .peers import PinnedPeers, require_peer
from .signing import b64u_encode


#: The most a hop adds to an envelope: its fixed fields, signature and key names, and a note of
#: ``hops.MAX_NOTE`` characters of four UTF-8 bytes each (a generous bound, checked by a test).
HOP_ROOM = 1024 + 4 * hops.MAX_NOTE
#: A new envelope with its first hop is at most this large, so that it can still take every hop the
#: protocol allows (``envelope.MAX_HOPS``) and stay within ``canonical.MAX_BYTES``: no neighbour on its
#: route refuses it as too large.
MAX_START_BYTES = canonical.MAX_BYTES - (env_mod.MAX_HOPS - 1) * HOP_ROOM


def _fits(encoded: bytes, hop_count: int) -> None:
    """Refuse (nothing stored) an envelope that could not travel the rest of its route."""
    room = canonical.MAX_BYTES - (env_mod.MAX_HOPS - hop_count) * HOP_ROOM
    if len(encoded) > room:
        raise InputError(f"the message would be {len(encoded)} bytes; with {hop_count} hop(s) taken it may be at most "
                         f"{room} bytes to reach any node on its route ({canonical.MAX_BYTES} bytes at the last "
                         "of its hops): make its text shorter")


def enqueue(session: Session, envelope: Mapping[str, Any], destination: str) -> OutboxMessage:
    """Store ``envelope`` (its last hop addressed to ``destination``) for delivery after the commit; refuse one
    too large to travel on."""
    last = envelope["hops"][-1]
    encoded = canonical.dumps(envelope)
    _fits(encoded, len(envelope["hops"]))
    row = OutboxMessage(
        transfer_id=hops.transfer_id(last), origin=envelope["origin"], message_id=envelope["id"],
        kind=envelope["kind"], topic=envelope["topic"], destination=destination,
        envelope=encoded.decode("utf-8"), created_ms=now_ms(), expires_ms=last["expires_ms"],
        status="pending", attempts=0, next_attempt_ms=now_ms(),
    )
    session.add(row)
    session.flush()
    _deliver_after_commit(session, row.id)
    return row


def _deliver_after_commit(session: Session, outbox_id: int) -> None:
    """Hand the row to a worker once it is committed (the pump picks it up if this fails)."""

    def kick() -> None:
        from .delivery import deliver

        deliver.delay(outbox_id)

    after_commit(session, kick)


def lifetime_ms(node: NodeContext) -> int:
    """The lifetime of a transfer this node writes (a hop's ``expires_ms`` − ``at_ms``)."""
    return int(node.config["FEDERATION_TRANSFER_DAYS"]) * 24 * 3600 * 1000


def originate(session: Session, node: NodeContext, kind: str, body: Mapping[str, Any], destination: str,
              action: str, topic: str | None = None, note: str | None = None,
              in_reply_to: Mapping[str, str] | None = None) -> tuple[dict[str, Any], OutboxMessage]:
    """Write a new envelope from this node and send it one hop to ``destination``."""
    require_peer(session, destination)
    key = keys.current(session, node.node_dir)
    envelope = env_mod.create(key, node.id, kind, body, topic=topic, in_reply_to=in_reply_to)
    envelope = hops.append(envelope, key, node.id, destination, action, note=note, lifetime_ms=lifetime_ms(node))
    return envelope, enqueue(session, envelope, destination)


def forward(session: Session, node: NodeContext, received: Mapping[str, Any], destination: str, action: str,
            note: str | None = None) -> tuple[dict[str, Any], OutboxMessage]:
    """Pass a received envelope on: append our hop, attesting the key we verified its last hop with."""
    require_peer(session, destination)
    last = received["hops"][-1]
    if last["to"] != node.id:
        raise InputError("only an envelope addressed to this node can be passed on")
    pinned = PinnedPeers(session).key(last["from"], last["key"], last["at_ms"])
    if pinned is None:
        raise InputError(f"no pinned key {last['key']} of {last['from']}")
    key = keys.current(session, node.node_dir)
    prev_key = {"node": last["from"], "id": last["key"], "public": b64u_encode(pinned)}
    envelope = hops.append(received, key, node.id, destination, action, prev_key=prev_key, note=note,
                           lifetime_ms=lifetime_ms(node))
    return envelope, enqueue(session, envelope, destination)


def sent_about(session: Session, topic: str, kinds: Iterable[str] | None = None) -> list[OutboxMessage]:
    """The messages this node wrote or passed on about ``topic`` (of ``kinds``), oldest first."""
    query = select(OutboxMessage).where(OutboxMessage.topic == topic)
    if kinds is not None:
        query = query.where(OutboxMessage.kind.in_(list(kinds)))
    return list(session.execute(query.order_by(OutboxMessage.created_ms, OutboxMessage.id)).scalars())


def list_messages(session: Session, dead_only: bool = False, limit: int = 100) -> list[OutboxMessage]:
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    if dead_only:
        query = query.where(OutboxMessage.status == "dead")
    return list(session.execute(query).scalars())


STATUSES = ("pending", "sent", "dead")


def page_messages(session: Session, status: str | None = None, destination: str | None = None,
                  limit: int | None = 50, cursor: str | None = None):
    """A page of outbox messages, the newest first (``status``: pending, sent or dead; ``destination``: a peer)."""
    from shangliang.core.pagination import page

    query = select(OutboxMessage)
    if status is not None:
        if status not in STATUSES:
            raise InputError(f"status {status[:20]!r} is not one of {', '.join(STATUSES)}", field="status")
        query = query.where(OutboxMessage.status == status)
    if destination:
        query = query.where(OutboxMessage.destination == destination)
    return page(session, query, [OutboxMessage.id], lambda r: [r.id], limit, cursor)


def get_message(session: Session, outbox_id: int) -> OutboxMessage:
    from shangliang.core.errors import NotFound

    row = session.get(OutboxMessage, outbox_id) if 0 < outbox_id <= ROW_ID_MAX else None
    if row is None:
        raise NotFound(f"no outbox message {outbox_id}")
    return row


def envelope_summary(row: OutboxMessage) -> dict[str, Any]:
    """What a person inspecting a message reads of its envelope: origin, id, kind, topic, the body's fields,
    and each hop (from, to, action, time, note) — not the signatures."""
    try:
        envelope = envelope_of(row)
    except ValueError:
        return {"unreadable": True}
    body = envelope.get("body") if isinstance(envelope.get("body"), dict) else {}
    return {
        "origin": envelope.get("origin"), "id": envelope.get("id"), "kind": envelope.get("kind"),
        "topic": envelope.get("topic"), "created_ms": envelope.get("created_ms"),
        "body_fields": sorted(body), "bytes": len(row.envelope.encode("utf-8")),
        "hops": [{"from": h.get("from"), "to": h.get("to"), "action": h.get("action"), "at_ms": h.get("at_ms"),
                  "expires_ms": h.get("expires_ms"), "note": h.get("note")} for h in envelope.get("hops") or []],
    }


def retry(session: Session, outbox_id: int) -> OutboxMessage:
    """Re-drive a dead letter after the cause is fixed; refused once its transfer has expired."""
    row = session.get(OutboxMessage, outbox_id) if 0 < outbox_id <= ROW_ID_MAX else None
    if row is None:
        raise InputError(f"no outbox message {outbox_id}")
    if row.status != "dead":
        raise InputError(f"outbox message {outbox_id} is {row.status}, not dead")
    if row.expires_ms <= now_ms():
        raise InputError(f"outbox message {outbox_id} expired at {row.expires_ms}; write a new decision instead")
    row.status, row.next_attempt_ms, row.last_error = "pending", now_ms(), None
    session.flush()
    audit.record(session, "outbox.retry", "fed_outbox", str(row.id),
                 {"kind": row.kind, "to": row.destination, "origin": row.origin, "message_id": row.message_id,
                  "attempts": row.attempts})
    _deliver_after_commit(session, row.id)
    return row


def message_dict(row: OutboxMessage) -> dict[str, Any]:
    return {"id": row.id, "origin": row.origin, "message_id": row.message_id, "kind": row.kind, "topic": row.topic,
            "to": row.destination, "status": row.status, "attempts": row.attempts,
            "next_attempt_ms": row.next_attempt_ms, "last_status": row.last_status, "last_error": row.last_error,
            "created_ms": row.created_ms, "delivered_ms": row.delivered_ms, "expires_ms": row.expires_ms}


def envelope_of(row: OutboxMessage) -> dict[str, Any]:
    return json.loads(row.envelope)
