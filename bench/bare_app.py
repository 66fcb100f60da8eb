"""P2's baseline: a bare Flask inbox doing only the four Ed25519 verifications and one INSERT.

It receives the same envelope bytes as the node, rebuilds the same four signing inputs (stdlib
``json`` with sorted keys writes exactly the canonical bytes for these envelopes; p2_inbox.py checks
that), verifies them with PyNaCl — the last hop with the city's pinned key, each earlier hop and the
core with the key the next hop attests — and inserts one row with a psycopg connection per thread.
No profile checks, no shape or route checks, no idempotency, no ORM, no rate limit, no plugins: the
floor under what any inbox must do.
"""

from __future__ import annotations

import base64
import json
import threading
import time

import psycopg
from flask import Flask, Response, request
from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

HOP = b"shangliang/v1/hop\x00"
ENVELOPE = b"shangliang/v1/envelope\x00"
TABLE = "bare_inbox"
CREATE = (f"CREATE TABLE IF NOT EXISTS {TABLE} (origin varchar(40), message_id varchar(64), received_ms bigint, "
          "envelope text, PRIMARY KEY (origin, message_id))")


def _b64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _dumps(value) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def signing_inputs(env: dict, pinned: bytes) -> list[tuple[bytes, bytes, bytes]]:
    """(public key, signing input, signature) for the last hop, each earlier hop, and the core."""
    hops = env["hops"]
    out, key = [], pinned
    for hop in reversed(hops):
        out.append((key, HOP + _dumps({k: v for k, v in hop.items() if k != "sig"}), _b64(hop["sig"])))
        key = _b64(hop["prev_key"]["public"]) if "prev_key" in hop else None
    core = {k: v for k, v in env.items() if k not in ("sig", "hops")}
    out.append((_b64(hops[1]["prev_key"]["public"]), ENVELOPE + _dumps(core), _b64(env["sig"]["value"])))
    return out


def create_app(conninfo: str, pinned_public_b64: str) -> Flask:
    app = Flask("bare_inbox")
    pinned = _b64(pinned_public_b64)
    local = threading.local()

    def connection() -> psycopg.Connection:
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = psycopg.connect(conninfo, autocommit=True)
        return conn

    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(CREATE)

    @app.get("/healthz")
    def healthz() -> Response:
        return Response("ok", 200, mimetype="text/plain")

    @app.post("/federation/v1/inbox")
    def inbox() -> Response:
        data = request.get_data()
        env = json.loads(data)
        try:
            for public, message, signature in signing_inputs(env, pinned):
                VerifyKey(public).verify(message, signature)
        except BadSignatureError:
            return Response('{"error":{"code":"bad_signature"}}', 401, mimetype="application/json")
        connection().execute(f"INSERT INTO {TABLE} (origin, message_id, received_ms, envelope) VALUES (%s, %s, %s, %s)",
                             (env["origin"], env["id"], int(time.time() * 1000), data.decode("utf-8")))
        return Response('{"status":"accepted"}', 202, mimetype="application/json")

    return app
