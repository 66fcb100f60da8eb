"""Bundle files (docs/bundles.md): a neighbour's outbox messages carried by hand where there is no network, and
their import through the very inbox the HTTP binding feeds (the same checks, the same idempotency)."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from typing import Any

from flask import Flask
from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from shangliang.core import audit, divisions
from shangliang.core.context import NodeContext
from shangliang.core.errors import InputError

from . import keys
from .errors import (BundleBadSignature, BundleForAnotherNode, BundleMalformed, BundleNotFromAPeer, BundleReplayed,
                     BundleTampered, ProtocolError)
from .ids import MESSAGE_ID, now_ms, ulid
from .inbox import receive
from .kinds import TOPIC_UID
from .models import OutboxMessage
from .peers import PinnedPeers, require_peer
from .signing import KEY_ID, verify as verify_signature

FORMAT = "shangliang-bundle"
VERSION = 1
#: A bundle file is read whole: at most this many bytes (a USB stick carries far more; a mail gateway may not).
MAX_BYTES = 64 * 1024 * 1024
#: At most this many messages go in one bundle; the rest wait for the next export.
MAX_MESSAGES = 2000
_FIELDS = frozenset({"format", "v", "manifest", "sig", "messages"})
_MANIFEST_FIELDS = frozenset({"format", "v", "bundle", "from", "to", "created_ms", "messages"})
_ENTRY_FIELDS = frozenset({"transfer", "origin", "id", "kind", "topic", "sha256"})


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# -- export ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Exported:
    """A bundle written: its bytes, its manifest, the outbox rows handed over, and those found expired."""

    data: bytes
    manifest: dict[str, Any]
    outbox_ids: list[int]
    expired_ids: list[int]
    more: bool  # messages beyond ``MAX_MESSAGES`` still wait

    @property
    def empty(self) -> bool:
        """Nothing waited: no file is to be written (the expired rows found were dead-lettered all the same)."""
        return not self.manifest["messages"]

    def nothing_waits(self, again: bool) -> InputError:
        """The refusal to give when :attr:`empty`, once the dead-lettering is committed."""
        return InputError(f"no message waits for {self.manifest['to']}" + ("" if again else
                          " (give --again to write those already handed over in a bundle once more)"), field="to")

    def summary(self) -> dict[str, Any]:
        manifest = self.manifest
        return {"bundle": manifest["bundle"], "from": manifest["from"], "to": manifest["to"],
                "created_ms": manifest["created_ms"], "messages": len(manifest["messages"]),
                "outbox": self.outbox_ids, "expired": self.expired_ids, "more_waiting": self.more,
                "bytes": len(self.data)}


def export(session: Session, node: NodeContext, to: str, again: bool = False) -> Exported:
    """Write the messages waiting in the outbox for neighbour ``to`` into one signed bundle and mark them handed
    over (``sent``, ``bundled_ms``); with ``again`` also those handed over in an earlier bundle and not expired.
    A message whose transfer expired is dead-lettered as the worker would, not exported. The marks belong to the
    caller's unit of work: the command line writes the file before it commits (a failed write leaves the messages
    waiting); the page and the API answer the bytes once committed. The rows are locked (PostgreSQL) so that two
    exports at once do not both hand the same message over."""
    require_peer(session, to)
    now = now_ms()
    waiting = OutboxMessage.status == "pending"
    if again:
        waiting = or_(waiting, and_(OutboxMessage.status == "sent", OutboxMessage.bundled_ms.is_not(None)))
    expired = list(session.execute(
        select(OutboxMessage.id).where(OutboxMessage.destination == to, OutboxMessage.status == "pending",
                                       OutboxMessage.expires_ms <= now).with_for_update()
    ).scalars())
    if expired:
        session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(expired), OutboxMessage.status == "pending")
                        .values(status="dead", last_error="the transfer expired before it was handed over in a bundle"))
    live = list(session.execute(
        select(OutboxMessage).where(OutboxMessage.destination == to, waiting, OutboxMessage.expires_ms > now)
        .order_by(OutboxMessage.id).limit(MAX_MESSAGES + 1).with_for_update()
    ).scalars())
    more = len(live) > MAX_MESSAGES
    live = live[:MAX_MESSAGES]
    if not live:
        session.flush()
        return Exported(b"", {"bundle": None, "from": node.id, "to": to, "created_ms": now, "messages": []}, [],
                        expired, False)
    key = keys.current(session, node.node_dir)
    manifest = {
        "format": FORMAT, "v": VERSION, "bundle": ulid(now), "from": node.id, "to": to, "created_ms": now,
        "messages": [{"transfer": row.transfer_id, "origin": row.origin, "id": row.message_id, "kind": row.kind,
                      "topic": row.topic, "sha256": _sha256(row.envelope)} for row in live],
    }
    document = {"format": FORMAT, "v": VERSION, "manifest": manifest,
                "sig": {"key": key.key_id, "value": key.sign("bundle", manifest)},
                "messages": [row.envelope for row in live]}
    for row in live:
        if row.status == "pending":
            row.status, row.delivered_ms = "sent", now
        row.bundled_ms, row.last_status, row.last_error = now, None, None
        row.attempts += 1
    session.flush()
    audit.record(session, "bundle.export", "fed_outbox", manifest["bundle"],
                 {"to": to, "messages": len(live), "outbox": [row.id for row in live], "again": again})
    data = (json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")
    return Exported(data, manifest, [row.id for row in live], expired, more)


def file_name(exported: Exported) -> str:
    """The file name a download of the bundle suggests: from, to and its id."""
    manifest = exported.manifest
    return f"{manifest['from']}-to-{manifest['to']}-{manifest['bundle']}.bundle"


# -- import ---------------------------------------------------------------------------------------------------


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise BundleMalformed("the bundle repeats a key in an object")
    return result


def _refuse_constant(text: str):
    raise BundleMalformed(f"the bundle holds {text}, which JSON does not allow")


_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_KIND = re.compile(r"^[a-z0-9_.-]{1,100}$")


def _encodable(text: str) -> bool:
    """No lone surrogate (JSON's ``\\ud800``): the text has UTF-8 bytes to hash and to hand to the inbox."""
    try:
        text.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def _entry_ok(entry: Any) -> bool:
    """A manifest entry of the right shape, every text one this node can echo in a report."""
    if not isinstance(entry, dict) or set(entry) != _ENTRY_FIELDS:
        return False
    texts = [entry[f] for f in ("transfer", "origin", "id", "kind", "sha256")]
    if not all(isinstance(t, str) for t in texts):
        return False
    topic = entry["topic"]
    return (bool(_HEX64.fullmatch(entry["transfer"])) and bool(_HEX64.fullmatch(entry["sha256"]))
            and bool(divisions.NODE_ID.fullmatch(entry["origin"])) and bool(MESSAGE_ID.fullmatch(entry["id"]))
            and bool(_KIND.fullmatch(entry["kind"])) and (topic is None or (isinstance(topic, str)
                                                                            and bool(TOPIC_UID.fullmatch(topic)))))


def read(data: bytes) -> dict[str, Any]:
    """The bundle document, its shape checked; ``BundleMalformed`` otherwise (nothing is looked up yet)."""
    if not isinstance(data, (bytes, bytearray)):
        raise BundleMalformed("a bundle is a file of bytes")
    if len(data) > MAX_BYTES:
        raise BundleMalformed(f"a bundle is at most {MAX_BYTES} bytes, this one {len(data)}")
    try:
        document = json.loads(bytes(data).decode("utf-8"), object_pairs_hook=_no_duplicate_keys,
                              parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise BundleMalformed("this file is not a bundle: not JSON in UTF-8") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise BundleMalformed(f"this file is not a bundle (its format is not {FORMAT!r})")
    if document.get("v") != VERSION or type(document.get("v")) is not int:
        raise BundleMalformed(f"bundle version {str(document.get('v'))[:20]!r} is not supported (only {VERSION})")
    if set(document) != _FIELDS:
        raise BundleMalformed(f"a bundle has exactly the fields {', '.join(sorted(_FIELDS))}")
    manifest, sig, messages = document["manifest"], document["sig"], document["messages"]
    if not isinstance(manifest, dict) or set(manifest) != _MANIFEST_FIELDS:
        raise BundleMalformed(f"a manifest has exactly the fields {', '.join(sorted(_MANIFEST_FIELDS))}")
    if manifest["format"] != FORMAT or manifest["v"] != VERSION or type(manifest["v"]) is not int:
        raise BundleMalformed("the manifest's format or version is not the bundle's")
    if not isinstance(manifest["bundle"], str) or not MESSAGE_ID.fullmatch(manifest["bundle"]):
        raise BundleMalformed("manifest.bundle is not a bundle id")
    for field in ("from", "to"):
        if not isinstance(manifest[field], str) or not divisions.NODE_ID.fullmatch(manifest[field]):
            raise BundleMalformed(f"manifest.{field} is not a node id")
    if type(manifest["created_ms"]) is not int or manifest["created_ms"] < 0:
        raise BundleMalformed("manifest.created_ms is not a time in milliseconds")
    entries = manifest["messages"]
    if not isinstance(entries, list) or len(entries) > MAX_MESSAGES:
        raise BundleMalformed(f"manifest.messages is a list of at most {MAX_MESSAGES} entries")
    for index, entry in enumerate(entries):
        if not _entry_ok(entry):
            raise BundleMalformed(f"manifest.messages[{index}] is not an entry: {', '.join(sorted(_ENTRY_FIELDS))}, "
                                  "with a node id, a message id, a kind, a topic uid or null, and hex SHA-256s")
    if (not isinstance(sig, dict) or set(sig) != {"key", "value"} or not isinstance(sig["key"], str)
            or not KEY_ID.fullmatch(sig["key"]) or not isinstance(sig["value"], str)):
        raise BundleMalformed("the bundle's sig is not {key, value}")
    if not isinstance(messages, list) or not all(isinstance(m, str) and _encodable(m) for m in messages):
        raise BundleMalformed("the bundle's messages are a list of texts")
    return document


def check(session: Session, node_id: str, document: dict[str, Any]) -> None:
    """The whole bundle, before any message is applied: addressed to this node, from a pinned neighbour, its
    manifest signed with that neighbour's key, every message the one the manifest lists (by SHA-256)."""
    manifest, sig = document["manifest"], document["sig"]
    if manifest["to"] != node_id:
        raise BundleForAnotherNode(f"this bundle is for {manifest['to']}, not for this node ({node_id}); "
                                   "nothing was imported")
    peers = PinnedPeers(session)
    if peers.relation(manifest["from"]) is None:
        raise BundleNotFromAPeer(f"this bundle comes from {manifest['from']}, which is not a neighbour pinned here; "
                                 "nothing was imported")
    public = peers.key(manifest["from"], sig["key"], manifest["created_ms"])
    if public is None:
        raise BundleBadSignature(f"the manifest is signed with {sig['key']}, not a key of {manifest['from']} "
                                 "pinned here; nothing was imported")
    try:
        verify_signature(public, "bundle", manifest, sig["value"], "the bundle's manifest")
    except ProtocolError:  # a bad signature, or a manifest outside the canonical profile (which no node signs)
        raise BundleBadSignature(f"the manifest's signature does not verify with the pinned key of "
                                 f"{manifest['from']}: the bundle was altered or not written by it; "
                                 "nothing was imported") from None
    entries, messages = manifest["messages"], document["messages"]
    if len(entries) != len(messages):
        raise BundleTampered(f"the manifest lists {len(entries)} message(s), the bundle holds {len(messages)}; "
                             "nothing was imported")
    for index, (entry, message) in enumerate(zip(entries, messages)):
        if not hmac.compare_digest(_sha256(message), entry["sha256"]):
            raise BundleTampered(f"message {index + 1} ({entry['origin']}/{entry['id']}) is not the one the "
                                 "manifest signed (its SHA-256 differs); nothing was imported")


def import_bundle(app: Flask, session: Session, data: bytes) -> dict[str, Any]:
    """Import a bundle: refuse it whole (a named ``BundleRefused``, nothing applied) unless :func:`check`
    passes; then feed each message, in order, through the inbox HTTP feeds (``inbox.receive``) and report each
    as ``accepted``, ``duplicate`` (accepted before, nothing applied again) or ``refused`` with its protocol
    error code. When every message was a duplicate, ``BundleReplayed`` carries the report."""
    node_id = app.config["NODE_ID"]
    document = read(data)
    check(session, node_id, document)
    session.rollback()  # the checks' reads end here; receive() holds its own transaction per message
    manifest = document["manifest"]
    results = []
    for entry, message in zip(manifest["messages"], document["messages"]):
        item = {"origin": entry["origin"], "id": entry["id"], "kind": entry["kind"], "topic": entry["topic"],
                "transfer": entry["transfer"]}
        try:
            answer = receive(app, session, message.encode("utf-8"))
            item.update(status=answer.body["status"], transfer=answer.body["transfer"])
        except ProtocolError as exc:
            session.rollback()
            item.update(status="refused", code=exc.code, message=exc.message)
        results.append(item)
    counts = {status: sum(1 for r in results if r["status"] == status) for status in ("accepted", "duplicate", "refused")}
    report = {"bundle": manifest["bundle"], "from": manifest["from"], "to": manifest["to"],
              "created_ms": manifest["created_ms"], **counts, "messages": results}
    replayed = bool(results) and counts["duplicate"] == len(results)
    audit.record(session, "bundle.replayed" if replayed else "bundle.import", "fed_inbox", manifest["bundle"],
                 {"from": manifest["from"], **counts})
    session.commit()
    if replayed:
        raise BundleReplayed(f"every message of bundle {manifest['bundle']} ({len(results)}) was imported before; "
                             "nothing was applied again", report)
    return report
