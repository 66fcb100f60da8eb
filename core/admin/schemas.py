"""Administration request and answer shapes (peers, outbox, audit log). Models are named ``Peer…``, ``Outbox…``
and ``Audit…`` (the OpenAPI document needs names unique across features)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from shangliang.core.db import ROW_ID_MAX
from shangliang.core.web.api import PageQuery, Request

# ---------------------------------------------------------------------------------------------
# Requests


class PeerPath(BaseModel):
    node_id: str = Field(description="the neighbour's node id (its division code)")


class PeerIn(Request):
    """Pin a neighbour from its pairing line."""

    pairing: str = Field(description="the neighbour's pairing line, as its `shangliang keys show` prints it: "
                                     "ID URL PUBLIC_KEY [NAME] (the name quoted when it holds a space)")
    relation: str | None = Field(None, description="parent or child: only for a non-standard id")
    name: str | None = Field(None, description="its committee's name, instead of the line's")
    delivery: str | None = Field(None, description="http (the default) or bundle: reached by bundle files only "
                                                   "(docs/bundles.md)")


class PeerDelivery(Request):
    delivery: str = Field(description="http (the worker POSTs to its URL) or bundle (bundle files only)")


class PeerRename(Request):
    name: str | None = Field(description="its committee's name; null or empty forgets it")


class OutboxPath(BaseModel):
    outbox_id: int = Field(le=ROW_ID_MAX, description="the outbox message's id")


class OutboxQuery(PageQuery):
    status: str | None = Field(None, description="pending, sent or dead")
    to: str | None = Field(None, max_length=40, pattern=r"^[^\x00-\x1f\x7f]*$",
                           description="only messages to this neighbour")


class AuditQuery(PageQuery):
    action: str | None = Field(None, max_length=100, pattern=r"^[^\x00-\x1f\x7f]*$", description="only rows of this action (insert, update, "
                                                                 "delete, outbox.retry, members.import, …)")


class AuditVerifyQuery(BaseModel):
    against_parent: bool = Field(False, description="also check the chain against the head the parent keeps")


# ---------------------------------------------------------------------------------------------
# Answers


class PeerKeyView(BaseModel):
    id: str
    expired_ms: int | None


class PeerView(BaseModel):
    id: str
    url: str
    relation: str = Field(description="parent or child")
    name: str | None
    key: str | None = Field(description="the current pinned key, ed25519:<id>:<base64url>")
    old_keys: list[PeerKeyView]
    last_success_ms: int | None
    last_failure_ms: int | None
    failures: int
    held_until_ms: int | None
    delivery: str = Field(description="http (the worker POSTs to its URL) or bundle (bundle files only)")


class PeerOwn(BaseModel):
    id: str
    url: str
    key: str
    name: str
    line: str = Field(description="the pairing line to give a neighbour")
    old: list[dict[str, Any]]


class PeerList(BaseModel):
    own: PeerOwn = Field(description="this node's own pairing data")
    peers: list[PeerView]


class PeerDetail(BaseModel):
    peer: PeerView


class PeerRemoved(BaseModel):
    removed: str


class PeerSkew(BaseModel):
    latest_ms: int | None = Field(description="received − the neighbour's hop time of the latest transfer from it")
    max_abs_ms: int | None = Field(description="the largest |skew| among the sampled transfers")
    sampled: int
    warn: bool = Field(description="true when the largest skew is over 5 minutes")


class PeerHealthView(BaseModel):
    id: str
    name: str | None
    relation: str
    url: str
    delivery: str = Field(description="http (the worker POSTs to its URL) or bundle (bundle files only)")
    last_received_ms: int | None = Field(description="the last transfer received from it")
    last_delivered_ms: int | None = Field(description="the last message delivered to it")
    last_contact_ms: int | None
    pending: int = Field(description="outbox messages waiting to be delivered to it")
    dead: int = Field(description="dead-lettered messages to it")
    sent: int
    failures: int = Field(description="delivery failures in a row")
    last_failure_ms: int | None
    held_until_ms: int | None = Field(description="delivery held back until then after failures (null: not held)")
    key_age_ms: int | None = Field(description="how long its current key has been pinned")
    clock_skew: PeerSkew
    ok: bool
    problems: list[str] = Field(description="dead_letters, held, failing, clock_skew")


class PeerHealthList(BaseModel):
    peers: list[PeerHealthView]


class OutboxView(BaseModel):
    id: int
    origin: str
    message_id: str
    kind: str
    topic: str | None
    to: str
    status: str = Field(description="pending, sent or dead")
    attempts: int
    next_attempt_ms: int
    last_status: int | None
    last_error: str | None
    created_ms: int
    delivered_ms: int | None
    expires_ms: int


class OutboxDetailView(OutboxView):
    envelope: dict[str, Any] = Field(description="origin, id, kind, topic, created_ms, body_fields, bytes, and "
                                                 "each hop's from, to, action, at_ms, expires_ms, note")


class OutboxList(BaseModel):
    messages: list[OutboxView] = Field(description="the newest first")
    next_cursor: str | None


class OutboxDetail(BaseModel):
    message: OutboxDetailView


class AuditRow(BaseModel):
    seq: int
    at_ms: int
    actor: str
    action: str
    entity: str
    entity_id: str
    data: Any
    hash: str


class AuditList(BaseModel):
    events: list[AuditRow] = Field(description="the newest first")
    next_cursor: str | None


class AuditVerified(BaseModel):
    ok: bool
    rows: int
    head_seq: int
    kind: str | None = Field(description="edited, inserted, deleted, broken, cut or rewritten")
    seq: int | None = Field(description="the first row found wrong")
    problem: str | None
    anchor: dict[str, Any] | None = Field(description="the head the parent keeps, when checked against it")


# ---------------------------------------------------------------------------------------------
# Bundle files (docs/bundles.md)


class BundleExportIn(Request):
    """Write the messages waiting for a neighbour into a bundle file."""

    to: str = Field(max_length=40, pattern=r"^[^\x00-\x1f\x7f]*$", description="the neighbour the bundle is for")
    again: bool = Field(False, description="also the messages handed over in an earlier bundle (not expired)")


class BundleEntry(BaseModel):
    transfer: str = Field(description="the transfer id: hex SHA-256 of the message's last hop")
    origin: str
    id: str
    kind: str
    topic: str | None
    sha256: str = Field(description="hex SHA-256 of the message's UTF-8 bytes")


class BundleManifest(BaseModel):
    format: str = Field(description="shangliang-bundle")
    v: int
    bundle: str = Field(description="the bundle's id (a ULID)")
    from_: str = Field(alias="from", description="the node that wrote it")
    to: str = Field(description="the neighbour it is for")
    created_ms: int
    messages: list[BundleEntry]


class BundleSig(BaseModel):
    key: str
    value: str = Field(description="Ed25519 signature of the canonical manifest, purpose bundle, base64url")


class BundleFile(BaseModel):
    """A bundle file, as `shangliang bundle export` writes it."""

    format: str
    v: int
    manifest: BundleManifest
    sig: BundleSig
    messages: list[str] = Field(description="each message's envelope with its hops, canonical JSON as text")


class BundleMessageReport(BaseModel):
    origin: str
    id: str
    kind: str
    topic: str | None
    transfer: str
    status: str = Field(description="accepted, duplicate (accepted before: nothing applied again) or refused")
    code: str | None = Field(None, description="for a refused message: the protocol's error code")
    message: str | None = Field(None, description="for a refused message: why")


class BundleReport(BaseModel):
    bundle: str
    from_: str = Field(alias="from")
    to: str
    created_ms: int
    accepted: int
    duplicate: int
    refused: int
    messages: list[BundleMessageReport]
