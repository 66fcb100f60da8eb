"""Each neighbour's health, as an administrator reads it (``shangliang peers health``, /admin/peers,
``GET /api/v1/peers/health``): when it was last heard from and last reached, what waits for it in the outbox
and what was dead-lettered, whether delivery to it is held back after failures, how old its pinned key is,
and the clock skew its hops show. Read-only: nothing here changes a row."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .models import InboxTransfer, OutboxMessage, Peer
from .peers import list_peers

#: How many of a neighbour's latest transfers the clock skew is read from.
SKEW_SAMPLE = 20
#: A skew (|received − the hop's time|) above this is flagged: the two clocks, or the delivery, are off by more
#: than a delivery normally takes.
SKEW_WARN_MS = 5 * 60 * 1000


def _counts(session: Session) -> dict[tuple[str, str], int]:
    rows = session.execute(select(OutboxMessage.destination, OutboxMessage.status, func.count())
                           .group_by(OutboxMessage.destination, OutboxMessage.status))
    return {(destination, status): count for destination, status, count in rows}


def _last(session: Session, column, where) -> int | None:
    return session.execute(select(func.max(column)).where(where)).scalar()


def clock_skew(session: Session, sender: str, sample: int = SKEW_SAMPLE) -> dict[str, Any]:
    """The skew the latest ``sample`` transfers from ``sender`` show: for each, the time this node received it
    minus the time ``sender`` signed its hop (``at_ms``) — positive when the hop was signed earlier by this
    node's clock (delivery time, retries, or the neighbour's clock behind), negative when the neighbour's
    clock runs ahead. ``latest_ms`` and ``max_abs_ms`` (None when nothing was received)."""
    rows = session.execute(select(InboxTransfer.received_ms, InboxTransfer.envelope)
                           .where(InboxTransfer.sender == sender)
                           .order_by(InboxTransfer.received_ms.desc()).limit(sample)).all()
    skews = []
    for received_ms, text in rows:
        try:
            hops = json.loads(text).get("hops") or []
        except (ValueError, AttributeError):
            continue
        last = hops[-1] if hops else None
        if isinstance(last, dict) and last.get("from") == sender and isinstance(last.get("at_ms"), int):
            skews.append(received_ms - last["at_ms"])
    if not skews:
        return {"latest_ms": None, "max_abs_ms": None, "sampled": 0, "warn": False}
    worst = max(skews, key=abs)
    return {"latest_ms": skews[0], "max_abs_ms": abs(worst), "sampled": len(skews), "warn": abs(worst) > SKEW_WARN_MS}


def key_age_ms(peer: Peer, now_ms: int) -> int | None:
    """How long the neighbour's current key has been pinned here: since it was paired, or since its last
    rotation (when the key before it expired)."""
    current = [k for k in peer.keys if k.expired_ms is None]
    if not current:
        return None
    since = max([peer.added_ms] + [k.expired_ms for k in peer.keys if k.expired_ms is not None])
    return max(0, now_ms - since)


def peer_health(session: Session, peer: Peer, now_ms: int, counts: dict[tuple[str, str], int]) -> dict[str, Any]:
    received = _last(session, InboxTransfer.received_ms, InboxTransfer.sender == peer.node_id)
    delivered = _last(session, OutboxMessage.delivered_ms, OutboxMessage.destination == peer.node_id)
    contacts = [t for t in (received, delivered, peer.last_success_ms) if t is not None]
    held = peer.held_until_ms is not None and peer.held_until_ms > now_ms
    pending = counts.get((peer.node_id, "pending"), 0)
    dead = counts.get((peer.node_id, "dead"), 0)
    skew = clock_skew(session, peer.node_id)
    problems = []
    if dead:
        problems.append("dead_letters")
    if held:
        problems.append("held")
    if peer.failures:
        problems.append("failing")
    if skew["warn"]:
        problems.append("clock_skew")
    return {
        "id": peer.node_id, "name": peer.name, "relation": peer.relation, "url": peer.url,
        "delivery": peer.delivery or "http",
        "last_received_ms": received, "last_delivered_ms": delivered,
        "last_contact_ms": max(contacts) if contacts else None,
        "pending": pending, "dead": dead, "sent": counts.get((peer.node_id, "sent"), 0),
        "failures": peer.failures, "last_failure_ms": peer.last_failure_ms,
        "held_until_ms": peer.held_until_ms if held else None,
        "key_age_ms": key_age_ms(peer, now_ms), "clock_skew": skew,
        "ok": not problems, "problems": problems,
    }


def health(session: Session, now_ms: int) -> list[dict[str, Any]]:
    """Every pinned neighbour's health, by id."""
    counts = _counts(session)
    return [peer_health(session, peer, now_ms, counts) for peer in list_peers(session)]
