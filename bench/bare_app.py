"""The baselines of P2 and P5: a bare Flask inbox (four Ed25519 verifications and one INSERT) and a bare topics API.

It receives the same envelope bytes as the node, rebuilds the same four signing inputs (stdlib
``json`` with sorted keys writes exactly the canonical bytes for these envelopes; p2_inbox.py checks
that), verifies them with PyNaCl — the last hop with the city's pinned key, each earlier hop and the
core with the key the next hop attests — and inserts one row with a psycopg connection per thread.
No profile checks, no shape or route checks, no idempotency, no ORM, no rate limit, no plugins: the
floor under what any inbox must do.

P5's baseline (``create_api_app``) answers ``POST /api/v1/topics``: it validates the body with a
pydantic model of the fields ``TopicIn`` has (the same names, types, defaults and the node's length
limits; unknown fields ignored, as the node ignores them), inserts one row with a psycopg
connection per thread and answers 201 with the row's id. No authentication, no session, no ORM, no
audit, no routing suggestion: the floor under what raising a topic through an API must do.
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
from pydantic import BaseModel, ConfigDict, Field, ValidationError

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


def create_table(conninfo: str, name: str, ddl: str) -> None:
    """``CREATE TABLE IF NOT EXISTS``, once: gunicorn's workers start together, and two concurrent ones can both
    find no table and collide on its type's name (``DuplicateObject``); a session advisory lock orders them."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(hashtext(%s))", (name,))
        conn.execute(ddl)


def _bare(name: str, conninfo: str, table: str, ddl: str):
    """A bare Flask app with ``/healthz``, its table made, and a psycopg connection per thread (autocommit)."""
    app = Flask(name)
    local = threading.local()

    def connection() -> psycopg.Connection:
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = psycopg.connect(conninfo, autocommit=True)
        return conn

    create_table(conninfo, table, ddl)

    @app.get("/healthz")
    def healthz() -> Response:
        return Response("ok", 200, mimetype="text/plain")

    return app, connection


def create_app(conninfo: str, pinned_public_b64: str) -> Flask:
    app, connection = _bare("bare_inbox", conninfo, TABLE, CREATE)
    pinned = _b64(pinned_public_b64)

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


API_TABLE = "bare_topics"
API_CREATE = (f"CREATE TABLE IF NOT EXISTS {API_TABLE} (id bigserial PRIMARY KEY, title varchar(300), "
              "description text, category varchar(100), areas text, raised_by_kind varchar(20), "
              "raised_by_name varchar(200), raised_ms bigint)")


class TopicBody(BaseModel):
    """The fields of the node's ``TopicIn`` (core/topics/schemas.py), with the lengths its services allow."""

    model_config = ConfigDict(extra="ignore")

    title: str = Field(min_length=1, max_length=300)
    description: str | None = Field("", max_length=20000)
    category: str = Field(min_length=1, max_length=100)
    areas: list[str] = Field(min_length=1, max_length=50)
    raised_by_kind: str = ""
    raised_by_name: str = Field("", max_length=200)


def create_api_app(conninfo: str) -> Flask:
    app, connection = _bare("bare_api", conninfo, API_TABLE, API_CREATE)

    @app.post("/api/v1/topics")
    def create_topic() -> Response:
        if request.mimetype != "application/json":
            return Response('{"error":{"code":"unsupported_media_type"}}', 415, mimetype="application/json")
        try:
            body = TopicBody.model_validate_json(request.get_data())
        except ValidationError as exc:
            return Response(json.dumps({"error": {"code": "invalid_input", "message": str(exc)[:500]}}), 400,
                            mimetype="application/json")
        row = connection().execute(
            f"INSERT INTO {API_TABLE} (title, description, category, areas, raised_by_kind, raised_by_name, raised_ms) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id",
            (body.title, body.description, body.category, json.dumps(sorted(set(body.areas))), body.raised_by_kind,
             body.raised_by_name, int(time.time() * 1000))).fetchone()
        return Response(json.dumps({"topic": {"id": row[0]}}), 201, mimetype="application/json")

    return app
