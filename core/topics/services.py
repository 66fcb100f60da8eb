"""Topic services: raise a topic, list and show topics, move them through the six stages."""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import unicodedata
from pathlib import Path
from typing import Any, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from shangliang.core import divisions
from shangliang.core.db import after_commit
from shangliang.core.errors import InputError

from .models import RAISED_BY_KINDS, STAGES, Topic, TopicAttachment, TopicEvent
from .routing import Route


def _now_ms() -> int:
    from shangliang.federation.ids import now_ms

    return now_ms()


def _text(value: Any, name: str, limit: int, required: bool = True) -> str:
    value = (value or "").strip() if isinstance(value, str) or value is None else None
    if value is None:
        raise InputError(f"{name} must be text")
    if required and not value:
        raise InputError(f"{name} is empty")
    if len(value) > limit:
        raise InputError(f"{name} is longer than {limit} characters")
    return value


def create_topic(session: Session, config: Mapping[str, Any], title: str, description: str, category: str,
                 areas: list[str], raised_by_kind: str, raised_by_name: str, due_ms: int | None = None,
                 actor: str = "system") -> Topic:
    """Raise a topic on this node (收集议题): stage ``collected``, held here."""
    from shangliang.federation.ids import ulid

    title = _text(title, "title", 300)
    description = _text(description, "description", 20000, required=False)
    category = _text(category, "category", 100)
    raised_by_name = _text(raised_by_name, "raised-by name", 200)
    if raised_by_kind not in RAISED_BY_KINDS:
        raise InputError(f"raised-by kind {str(raised_by_kind)[:40]!r}; kinds: {', '.join(RAISED_BY_KINDS)}")
    if not areas:
        raise InputError("a topic concerns at least one area (--area CODE)")
    for area in areas:
        try:
            divisions.validate_code(area, "area")
        except divisions.DivisionCodeError as exc:
            raise InputError(str(exc).replace(" (setting: area)", "")) from None
    node_id = config["NODE_ID"]
    outside = [a for a in areas if not (a == node_id or divisions.is_ancestor(a, node_id)
                                       or divisions.is_ancestor(node_id, a) or _shares_province(a, node_id))]
    if outside:
        raise InputError(f"area {outside[0]} is outside this node's province")
    now = _now_ms()
    topic = Topic(uid=f"{node_id}:{ulid(now)}", title=title, description=description, category=category,
                  areas=json.dumps(sorted(set(areas))), raised_by_kind=raised_by_kind, raised_by_name=raised_by_name,
                  raised_ms=now, stage="collected", holder=node_id, due_ms=due_ms, overdue=False, updated_ms=now,
                  accepted_ms=now)
    topic.events.append(TopicEvent(at_ms=now, actor=actor, action="raised", node=node_id, from_stage=None,
                                   to_stage="collected", note=""))
    session.add(topic)
    session.flush()
    return topic


def _shares_province(a: str, b: str) -> bool:
    return a[:2] == b[:2]


def get_topic(session: Session, uid: str, for_update: bool = False) -> Topic:
    """The topic ``uid``; ``for_update`` locks its row (PostgreSQL) so two actions on it never interleave."""
    query = select(Topic).where(Topic.uid == uid).options(selectinload(Topic.events), selectinload(Topic.attachments))
    if for_update:
        query = query.with_for_update(of=Topic)
    topic = session.execute(query).scalar_one_or_none()
    if topic is None:
        raise InputError(f"no topic {uid[:120]!r} on this node")
    return topic


def list_topics(session: Session, stage: str | None = None, holder: str | None = None) -> list[Topic]:
    """Overdue topics first, then the most recently changed."""
    query = select(Topic).order_by(Topic.overdue.desc(), Topic.updated_ms.desc(), Topic.id.desc())
    if stage is not None:
        if stage not in STAGES:
            raise InputError(f"unknown stage {stage[:40]!r}; stages: {', '.join(STAGES)}")
        query = query.where(Topic.stage == stage)
    if holder is not None:
        query = query.where(Topic.holder == holder)
    return list(session.execute(query).scalars())


def suggest_route(pm, config: Mapping[str, Any], topic: Topic) -> Route:
    return pm.hook.route_topic(topic=topic_dict(topic), config=config)


def advance(session: Session, pm, config: Mapping[str, Any], topic: Topic, to_stage: str, note: str = "",
            actor: str = "system") -> Topic:
    """Move a topic held here to ``to_stage``, if no guard objects; observers hear of it after the commit."""
    if to_stage not in STAGES:
        raise InputError(f"unknown stage {str(to_stage)[:40]!r}; stages: {', '.join(STAGES)}")
    if topic.holder != config["NODE_ID"]:
        raise InputError(f"topic {topic.uid} is held by {topic.holder}, not by this node")
    if topic.accepted_ms is None:
        raise InputError(f"topic {topic.uid} was sent here and is not accepted yet: accept it (topics accept) "
                         "or return it first")
    from_stage = topic.stage
    if to_stage == from_stage:
        raise InputError(f"topic {topic.uid} is already {to_stage}")
    snapshot = topic_dict(topic, events=True)
    reasons = [r for found in pm.hook.topic_transition_guard(topic=snapshot, from_stage=from_stage, to_stage=to_stage)
               for r in (found or [])]
    if reasons:
        raise InputError("refused: " + "; ".join(reasons))
    note = _text(note, "note", 2000, False)
    now = _now_ms()
    topic.stage, topic.updated_ms = to_stage, now
    if to_stage == "closed":
        topic.closed_ms, topic.overdue = now, False
    topic.events.append(TopicEvent(at_ms=now, actor=actor, action="advanced", node=config["NODE_ID"],
                                   from_stage=from_stage, to_stage=to_stage, note=note))
    session.flush()
    from .actions import progress

    progress(session, topic, to_stage, note)
    after_commit(session, lambda: pm.hook.topic_stage_changed(topic=topic_dict(topic), from_stage=from_stage,
                                                              to_stage=to_stage, actor=actor))
    return topic


def topic_dict(topic: Topic, events: bool = False) -> dict[str, Any]:
    data = {
        "uid": topic.uid, "title": topic.title, "description": topic.description, "category": topic.category,
        "areas": json.loads(topic.areas), "raised_by": {"kind": topic.raised_by_kind, "name": topic.raised_by_name},
        "raised_ms": topic.raised_ms, "stage": topic.stage, "holder": topic.holder, "due_ms": topic.due_ms,
        "overdue": topic.overdue, "result": json.loads(topic.result) if topic.result else None,
        "updated_ms": topic.updated_ms, "upstream": topic.upstream, "accepted_ms": topic.accepted_ms,
        "awaiting_acceptance": topic.accepted_ms is None, "instructions": topic.instructions,
        "closed_ms": topic.closed_ms,
        "attachments": [{"name": a.name, "size": a.size, "sha256": a.sha256} for a in topic.attachments],
    }
    if events:
        data["events"] = [{"at_ms": e.at_ms, "actor": e.actor, "action": e.action, "node": e.node,
                           "from_stage": e.from_stage, "to_stage": e.to_stage, "note": e.note} for e in topic.events]
    return data


# ---------------------------------------------------------------------------------------------
# Attachments: the bytes are kept in the node directory under their SHA-256; the topic names them

ATTACHMENT_MAX_BYTES = 20 * 1024 * 1024
MAX_ATTACHMENTS = 50
SHA256 = re.compile(r"^[0-9a-f]{64}$")


def attachment_limit(config: Mapping[str, Any]) -> Any:
    return config.get("TOPICS_ATTACHMENT_MAX_BYTES", ATTACHMENT_MAX_BYTES)


def attachment_path(config: Mapping[str, Any], sha256: str) -> Path:
    """Where this node keeps the bytes with this SHA-256 (``<node dir>/attachments/ab/abcd…``)."""
    if not SHA256.fullmatch(sha256):
        raise InputError(f"{sha256[:70]!r} is not a SHA-256 (64 lower-case hex digits)")
    if not config.get("NODE_DIR"):
        raise InputError("this node has no node directory to keep attachments in")
    return Path(config["NODE_DIR"]) / "attachments" / sha256[:2] / sha256


def file_name(name: Any) -> str:
    if not isinstance(name, str):
        raise InputError("the file name must be text")
    name = unicodedata.normalize("NFC", name.replace("\\", "/").rsplit("/", 1)[-1].strip())
    if not name or name in (".", ".."):
        raise InputError("the file has no name")
    if len(name) > 300:
        raise InputError("the file name is longer than 300 characters")
    if any(unicodedata.category(c) in ("Cc", "Cf") for c in name):
        raise InputError("the file name holds control characters")
    return name


def add_attachment(session: Session, config: Mapping[str, Any], topic: Topic, name: Any, data: bytes,
                   actor: str = "system") -> TopicAttachment:
    """Attach a file to a topic held here: its name, size and SHA-256 are recorded, its bytes kept on this
    node. Checked before anything is written; the same bytes twice on one topic are refused."""
    if topic.holder != config["NODE_ID"]:
        raise InputError(f"topic {topic.uid} is held by {topic.holder}, not by this node")
    if topic.stage == "closed":
        raise InputError(f"topic {topic.uid} is closed")
    name = file_name(name)
    limit = attachment_limit(config)
    if not data:
        raise InputError(f"{name} is empty")
    if len(data) > limit:
        raise InputError(f"{name} is {len(data)} bytes; an attachment may have at most {limit}")
    if len(topic.attachments) >= MAX_ATTACHMENTS:
        raise InputError(f"topic {topic.uid} already has {MAX_ATTACHMENTS} attachments, the most it may have")
    digest = hashlib.sha256(data).hexdigest()
    same = next((a for a in topic.attachments if a.sha256 == digest), None)
    if same is not None:
        raise InputError(f"these bytes are already attached to topic {topic.uid} as {same.name}")
    path = attachment_path(config, digest)
    if not path.exists():  # content-addressed: bytes kept once, whichever topic names them
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    attachment = TopicAttachment(name=name, size=len(data), sha256=digest)
    topic.attachments.append(attachment)
    now = _now_ms()
    topic.events.append(TopicEvent(at_ms=now, actor=actor, action="attached", node=config["NODE_ID"],
                                   from_stage=None, to_stage=None, note=f"{name} ({len(data)} bytes, sha256 {digest})"))
    topic.updated_ms = max(topic.updated_ms, now)
    session.flush()
    return attachment


def attachment_file(config: Mapping[str, Any], topic: Topic, sha256: str) -> tuple[TopicAttachment, Path | None]:
    """A topic's attachment and the path of its bytes here (None where only its name, size and hash came,
    from the node that keeps the file)."""
    found = next((a for a in topic.attachments if a.sha256 == sha256), None)
    if found is None:
        raise InputError(f"topic {topic.uid} has no attachment with SHA-256 {sha256[:70]}")
    path = attachment_path(config, sha256)
    return found, path if path.is_file() else None


def mark_kept(config: Mapping[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """Add ``kept_here`` to each attachment of a topic dict: whether this node has the bytes."""
    for item in data["attachments"]:
        try:
            item["kept_here"] = attachment_path(config, item["sha256"]).is_file()
        except InputError:
            item["kept_here"] = False
    return data
