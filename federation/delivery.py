"""Delivery (PROTOCOL.md §7): Celery tasks POST outbox rows, with retry classes, backoff and per-destination hold."""

from __future__ import annotations

import logging
import random
from typing import TYPE_CHECKING

from celery import shared_task
from flask import current_app
from sqlalchemy import and_, select, text, update

from shangliang.core.db import get_session, transaction

from .ids import now_ms
from .models import OutboxMessage, Peer

if TYPE_CHECKING:
    import requests

log = logging.getLogger("shangliang.federation.delivery")

PERMANENT = {400, 403, 409, 410, 413, 422}
CONNECT_TIMEOUT, READ_TIMEOUT = 5, 30


def _setting(name: str) -> float:
    # PROTOCOL.md §7's timings are the defaults (core/config.py); tests shorten them.
    return float(current_app.config[name])


def backoff_ms(attempts: int) -> int:
    """``min(30 s × 2^n, 6 h) × uniform(0.8, 1.4)`` after the n-th failure (n from 0)."""
    base, cap = _setting("FEDERATION_BACKOFF_BASE_SECONDS"), _setting("FEDERATION_BACKOFF_MAX_SECONDS")
    return int(min(base * 2 ** attempts, cap) * random.uniform(0.8, 1.4) * 1000)


def _blocked(session, row: OutboxMessage) -> bool:
    """Ordering per (topic, destination): an older undelivered row goes first."""
    topic_match = OutboxMessage.topic.is_(None) if row.topic is None else OutboxMessage.topic == row.topic
    older = session.execute(
        select(OutboxMessage.id).where(and_(OutboxMessage.destination == row.destination, topic_match,
                                            OutboxMessage.id < row.id, OutboxMessage.status == "pending")).limit(1)
    ).scalar()
    return older is not None


def _claim(session, outbox_id: int, now: int) -> bool:
    if session.get_bind().dialect.name == "postgresql":
        # The lease is advisory: if a crash loses it, the row is delivered again and the receiver's per-transfer
        # idempotency absorbs the repeat (PROTOCOL.md §7). Its COMMIT need not wait for the WAL flush.
        session.execute(text("SET LOCAL synchronous_commit TO OFF"))
    result = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == outbox_id, OutboxMessage.status == "pending", OutboxMessage.next_attempt_ms <= now)
        .values(next_attempt_ms=now + int(_setting("FEDERATION_LEASE_SECONDS") * 1000))
    )
    session.commit()
    return result.rowcount == 1


@shared_task(name="shangliang.federation.deliver")
def deliver(outbox_id: int) -> str:
    """Try to deliver one outbox row now, if it is due, first in its order and its destination not held."""
    session = get_session()
    now = now_ms()
    row = session.get(OutboxMessage, outbox_id)
    if row is None or row.status != "pending":
        return "gone"
    peer = session.get(Peer, row.destination)
    if peer is None:
        return _finish(outbox_id, "dead", None, f"{row.destination} is no longer a peer")
    if peer.delivery == "bundle":
        return "by bundle"  # it waits for `bundle export` (docs/bundles.md)
    if peer.held_until_ms and peer.held_until_ms > now:
        return "held"
    if row.next_attempt_ms > now or _blocked(session, row):
        return "waiting"
    if row.expires_ms <= now:
        return _finish(outbox_id, "dead", None, "the transfer expired before it could be delivered")
    if not _claim(session, outbox_id, now):
        return "claimed elsewhere"
    url, body = peer.url + "/federation/v1/inbox", row.envelope.encode("utf-8")
    return _attempt(outbox_id, url, body, allow_refetch=True)


def _attempt(outbox_id: int, url: str, body: bytes, allow_refetch: bool) -> str:
    import requests  # here, not at the top: a node's web processes never send, and its import costs each ~0.1 s

    try:
        response = requests.post(url, data=body, headers={"Content-Type": "application/json"},
                                 timeout=(CONNECT_TIMEOUT, READ_TIMEOUT))
    except requests.RequestException as exc:
        return _failed(outbox_id, None, f"network: {type(exc).__name__}")
    status = response.status_code
    if 200 <= status < 300:
        return _finish(outbox_id, "sent", status, None)
    reason = _reason(response)
    if status in PERMANENT:
        return _finish(outbox_id, "dead", status, reason)
    if status == 401:
        if allow_refetch and _refetch_descriptor(outbox_id):
            return _attempt(outbox_id, url, body, allow_refetch=False)
        return _finish(outbox_id, "dead", status, reason)
    if status == 429 or status >= 500:
        return _failed(outbox_id, status, reason, retry_after=response.headers.get("Retry-After"))
    return _finish(outbox_id, "dead", status, reason)


def _reason(response: requests.Response) -> str:
    try:
        error = response.json()["error"]
        return f"{error['code']}: {error['message']}"[:500]
    except Exception:
        return f"HTTP {response.status_code}"


def _refetch_descriptor(outbox_id: int) -> bool:
    """On 401, fetch the destination's descriptor once; retry only if it is still the peer we pinned."""
    from . import descriptor
    from .peers import PinnedPeers

    import requests

    session = get_session()
    row = session.get(OutboxMessage, outbox_id)
    pinned = PinnedPeers(session).current(row.destination)
    peer = session.get(Peer, row.destination)
    if pinned is None or peer is None:
        return False
    try:
        response = requests.get(peer.url + "/federation/v1/node", timeout=(CONNECT_TIMEOUT, READ_TIMEOUT))
        descriptor.check(response.json(), row.destination, pinned[1])
        return True
    except Exception as exc:
        log.warning("descriptor of %s did not check out: %s", row.destination, exc)
        return False


def _finish(outbox_id: int, status: str, http_status: int | None, error: str | None) -> str:
    with transaction(actor="worker") as session:
        row = session.get(OutboxMessage, outbox_id)
        row.status, row.last_status, row.last_error = status, http_status, error
        row.attempts += 1
        peer = session.get(Peer, row.destination)
        if status == "sent":
            row.delivered_ms = now_ms()
            if peer is not None:
                peer.last_success_ms, peer.failures, peer.held_until_ms, peer.hold_window_ms = now_ms(), 0, None, 0
        elif peer is not None:
            peer.last_failure_ms = now_ms()
        event = {"event": "federation.delivery", "outbox_id": outbox_id, "message_id": row.message_id,
                 "transfer_id": row.transfer_id, "kind": row.kind, "peer": row.destination, "outcome": status,
                 "http_status": http_status, "attempts": row.attempts}
    if status == "dead":
        log.warning("outbox %s dead-lettered: %s %s", outbox_id, http_status, error, extra={**event, "error": error})
    else:
        log.info("outbox %s delivered to %s", outbox_id, event["peer"], extra=event)
    if status == "sent":
        _kick_next(outbox_id)
    return status


def _failed(outbox_id: int, http_status: int | None, error: str, retry_after: str | None = None) -> str:
    now = now_ms()
    with transaction(actor="worker") as session:
        row = session.get(OutboxMessage, outbox_id)
        delay = backoff_ms(row.attempts)
        if retry_after and retry_after.isdigit():
            delay = max(delay, int(retry_after) * 1000)
        row.attempts += 1
        row.last_status, row.last_error = http_status, error
        if now + delay >= row.expires_ms:
            row.status, row.last_error = "dead", f"{error}; the transfer expires before another attempt"
        else:
            row.next_attempt_ms = now + delay
        peer = session.get(Peer, row.destination)
        if peer is not None:
            peer.failures += 1
            peer.last_failure_ms = now
            start, cap = int(_setting("FEDERATION_HOLD_START_SECONDS") * 1000), int(_setting("FEDERATION_HOLD_MAX_SECONDS") * 1000)
            peer.hold_window_ms = min(max(peer.hold_window_ms * 2, start), cap)
            peer.held_until_ms = now + peer.hold_window_ms
        outcome = "dead" if row.status == "dead" else "retry"
        event = {"event": "federation.delivery", "outbox_id": outbox_id, "message_id": row.message_id,
                 "transfer_id": row.transfer_id, "kind": row.kind, "peer": row.destination, "outcome": outcome,
                 "http_status": http_status, "attempts": row.attempts, "error": row.last_error}
    if outcome == "dead":
        log.warning("outbox %s dead-lettered: %s %s", outbox_id, http_status, event["error"], extra=event)
    else:
        log.info("outbox %s to %s failed, retrying: %s %s", outbox_id, event["peer"], http_status, error, extra=event)
    return "retry"


def _kick_next(outbox_id: int) -> None:
    """After a delivery, the next row of the same (topic, destination) need not wait for the pump."""
    session = get_session()
    row = session.get(OutboxMessage, outbox_id)
    topic_match = OutboxMessage.topic.is_(None) if row.topic is None else OutboxMessage.topic == row.topic
    following = session.execute(
        select(OutboxMessage.id).where(OutboxMessage.destination == row.destination, topic_match,
                                       OutboxMessage.status == "pending", OutboxMessage.id > row.id)
        .order_by(OutboxMessage.id).limit(1)
    ).scalar()
    if following is not None:
        deliver.delay(following)


@shared_task(name="shangliang.federation.pump")
def pump() -> int:
    """Hand every due row (first of its order, destination not held) to ``deliver``; run by beat."""
    session = get_session()
    now = now_ms()
    held = set(session.execute(select(Peer.node_id).where(Peer.held_until_ms > now)).scalars())
    held |= set(session.execute(select(Peer.node_id).where(Peer.delivery == "bundle")).scalars())  # bundle files only
    due = session.execute(
        select(OutboxMessage.id, OutboxMessage.destination, OutboxMessage.topic)
        .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_ms <= now)
        .order_by(OutboxMessage.id).limit(500)
    ).all()
    seen, sent = set(), 0
    for outbox_id, destination, topic in due:
        if destination in held or (destination, topic) in seen:
            continue
        seen.add((destination, topic))
        deliver.delay(outbox_id)
        sent += 1
    return sent


def pump_seconds() -> float:
    return float(current_app.config["FEDERATION_PUMP_SECONDS"])
