"""HTTP binding (PROTOCOL.md §6): the node descriptor and the inbox, with a per-peer rate limit."""

from __future__ import annotations

import json
import logging
import threading
import time

from flask import Blueprint, Response, current_app, request

from shangliang.core.context import node_context
from shangliang.core.db import get_session

from . import anchors, canonical, descriptor
from .errors import Busy, Malformed, ProtocolError, TooLarge
from .inbox import receive

bp = Blueprint("federation", __name__, url_prefix="/federation/v1")
log = logging.getLogger("shangliang.federation")


def _json(body: dict, status: int, headers: dict | None = None) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status=status, headers=headers or {},
                    mimetype="application/json")


@bp.get("/node")
def node() -> Response:
    return _json(descriptor.build(current_app, get_session()), 200)


@bp.get("/anchors/<child>")
def anchor(child: str) -> Response:
    """The last audit anchor ``child`` sent here, signed by this node (docs/protocol.md, "Audit anchors")."""
    found = anchors.receipt(get_session(), node_context(), child[:40])
    if found is None:
        return _json({"error": {"code": "not_found", "message": f"no anchor of {child[:40]!r} is kept here"}}, 404)
    return _json(found, 200)


class RateLimiter:
    """A token bucket per claimed sender, per process: ``rate`` messages a minute, bursts of ``burst``."""

    def __init__(self, rate_per_minute: int, burst: int):
        self.rate = rate_per_minute / 60.0
        self.burst = burst
        self.buckets: dict[str, tuple[float, float]] = {}
        self.lock = threading.Lock()

    MAX_BUCKETS = 4096

    def take(self, key: str) -> float:
        """0 when allowed; otherwise seconds until a token is free."""
        now = time.monotonic()
        with self.lock:
            if len(self.buckets) > self.MAX_BUCKETS:  # forget the buckets that have refilled
                self.buckets = {k: v for k, v in self.buckets.items()
                                if min(self.burst, v[0] + (now - v[1]) * self.rate) < self.burst}
            tokens, last = self.buckets.get(key, (float(self.burst), now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens >= 1:
                self.buckets[key] = (tokens - 1, now)
                return 0.0
            self.buckets[key] = (tokens, now)
            return (1 - tokens) / self.rate if self.rate else 60.0


def _limiter() -> RateLimiter:
    limiter = current_app.extensions.get("shangliang.federation.limiter")
    if limiter is None:
        config = current_app.config
        limiter = RateLimiter(int(config["FEDERATION_RATE_PER_MINUTE"]), int(config["FEDERATION_BURST"]))
        current_app.extensions["shangliang.federation.limiter"] = limiter
    return limiter


def _peer_ids() -> frozenset[str]:
    """This node's peer ids, re-read every few seconds (per process)."""
    cached = current_app.extensions.get("shangliang.federation.peer_ids")
    now = time.monotonic()
    if cached is None or now - cached[0] > 5:
        from sqlalchemy import select

        from .models import Peer

        cached = (now, frozenset(get_session().execute(select(Peer.node_id)).scalars()))
        current_app.extensions["shangliang.federation.peer_ids"] = cached
    return cached[1]


def _bucket(data: bytes) -> str:
    """The rate-limit bucket: the claimed last-hop sender (before verification) when it is one of our
    peers; every other claim shares one bucket, so strangers can neither grow the table nor pass as
    many senders."""
    marker = data.rfind(b'"from":"')
    if marker < 0:
        return "?"
    end = data.find(b'"', marker + 8)
    claimed = data[marker + 8:end][:40].decode("ascii", "replace") if end > 0 else "?"
    return claimed if claimed in _peer_ids() else "?"


@bp.post("/inbox")
def inbox() -> Response:
    data = b""
    try:
        if request.content_length is not None and request.content_length > canonical.MAX_BYTES:
            raise TooLarge(f"a message is at most {canonical.MAX_BYTES} bytes")
        if request.mimetype != "application/json":
            raise Malformed("Content-Type must be application/json")
        data = request.stream.read(canonical.MAX_BYTES + 1)
        if len(data) > canonical.MAX_BYTES:
            raise TooLarge(f"a message is at most {canonical.MAX_BYTES} bytes")
        wait = _limiter().take(_bucket(data))
        if wait:
            raise Busy("too many messages from this peer; retry later", retry_after=max(1, int(wait + 0.999)))
        answer = receive(current_app, get_session(), data)
        return _json(answer.body, answer.status)
    except Busy as exc:
        _refused(exc, data)
        return _json(exc.as_body(), exc.status, {"Retry-After": str(exc.retry_after)})
    except ProtocolError as exc:
        get_session().rollback()
        _refused(exc, data)
        return _json(exc.as_body(), exc.status)


def _refused(exc: ProtocolError, data: bytes) -> None:
    """A refused message, logged with the peer it claims to come from (one of ours, or ``?``)."""
    log.info("inbox: refused (%s): %s", exc.code, exc, extra={
        "event": "federation.inbox", "outcome": "refused", "code": exc.code, "status": exc.status,
        "peer": _bucket(data) if data else "?"})
