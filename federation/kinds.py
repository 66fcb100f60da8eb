"""Message kinds (PROTOCOL.md §8): the action each kind's hop 0 carries and the body it must have."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from shangliang.core import divisions

from .errors import InvalidBody, echo

TOPIC_UID = re.compile(r"^[0-9]{2,12}(-[a-z0-9]{1,16})?:[0-9A-Za-z_-]{1,64}$")
STAGES = ("collected", "determined", "researching", "consulting", "implementing", "feedback", "closed")
RAISED_BY_KINDS = ("public", "member", "sector", "special_committee", "party_committee", "government", "lower_level")
ACTIONS = ("escalate", "delegate", "return", "reply")
PLUGIN_KIND = re.compile(r"^x-[a-z0-9_]{1,32}\.[a-z0-9_.]{1,64}$")
MAX_TEXT = 20000


@dataclass(frozen=True)
class Kind:
    """A message kind: its name, its hop 0 action, whether it is about a topic, and its body check."""

    name: str
    action: str
    about_topic: bool
    validate: Callable[[Mapping[str, Any]], None]


def _require(body: Mapping[str, Any], field: str, kind: type | tuple, where: str = "body") -> Any:
    if field not in body:
        raise InvalidBody(f"{where}.{field} is missing")
    value = body[field]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise InvalidBody(f"{where}.{field} has the wrong type")
    return value


def _text(body, field, where="body", required=True, empty=False) -> None:
    if not required and field not in body:
        return
    value = _require(body, field, str, where)
    if not empty and not value.strip():
        raise InvalidBody(f"{where}.{field} is empty")
    if len(value) > MAX_TEXT:
        raise InvalidBody(f"{where}.{field} is longer than {MAX_TEXT} characters")


def _texts(body, field, where="body") -> None:
    values = _require(body, field, list, where)
    for value in values:
        if not isinstance(value, str) or not value.strip() or len(value) > MAX_TEXT:
            raise InvalidBody(f"{where}.{field} must hold non-empty strings")


def _ms(body, field, where="body", required=True) -> None:
    if not required and field not in body:
        return
    if _require(body, field, int, where) < 0:
        raise InvalidBody(f"{where}.{field} must not be negative")


def _topic_snapshot(body: Mapping[str, Any]) -> None:
    topic = _require(body, "topic", dict)
    where = "body.topic"
    uid = _require(topic, "uid", str, where)
    if not TOPIC_UID.match(uid):
        raise InvalidBody(f"{where}.uid is not a topic uid: {echo(uid)}")
    for field in ("title", "category"):
        _text(topic, field, where)
    _text(topic, "description", where, empty=True)
    areas = _require(topic, "areas", list, where)
    if not areas:
        raise InvalidBody(f"{where}.areas is empty")
    for area in areas:
        if not isinstance(area, str) or not divisions.is_standard(area):
            raise InvalidBody(f"{where}.areas holds {echo(area)}, not a division code")
    raised_by = _require(topic, "raised_by", dict, where)
    if _require(raised_by, "kind", str, where + ".raised_by") not in RAISED_BY_KINDS:
        raise InvalidBody(f"{where}.raised_by.kind must be one of {', '.join(RAISED_BY_KINDS)}")
    _text(raised_by, "name", where + ".raised_by")
    _ms(topic, "raised_ms", where)
    if _require(topic, "stage", str, where) not in STAGES:
        raise InvalidBody(f"{where}.stage must be one of {', '.join(STAGES)}")


def _escalate(body):
    _topic_snapshot(body)
    _text(body, "reason")


def _delegate(body):
    _topic_snapshot(body)
    _text(body, "instructions")
    _ms(body, "due_ms", required=False)


def _accept(body):
    if _require(body, "decision", str) != "consult":
        raise InvalidBody("body.decision must be 'consult'")


def _progress(body):
    if _require(body, "stage", str) not in STAGES:
        raise InvalidBody(f"body.stage must be one of {', '.join(STAGES)}")
    _text(body, "summary")


def _result(body):
    result = _require(body, "result", dict)
    for field in ("kind", "title", "summary"):
        _text(result, field, "body.result")
    _texts(result, "measures", "body.result")
    _texts(result, "handling_units", "body.result")
    _ms(body, "closed_ms")


def _key_rotated(body):
    new_key = _require(body, "new_key", dict)
    from .signing import KEY_ID

    if not KEY_ID.match(_require(new_key, "id", str, "body.new_key")):
        raise InvalidBody("body.new_key.id is not a key id (ed25519:…)")
    from .errors import Malformed
    from .signing import b64u_decode

    try:
        b64u_decode(_require(new_key, "public", str, "body.new_key"), "body.new_key.public", 32)
        b64u_decode(_require(body, "proof", str), "body.proof", 64)
    except Malformed as exc:
        raise InvalidBody(str(exc)) from None


CORE_KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind("topic.escalate", "escalate", True, _escalate),
        Kind("topic.delegate", "delegate", True, _delegate),
        Kind("topic.accept", "reply", True, _accept),
        Kind("topic.progress", "reply", True, _progress),
        Kind("topic.result", "reply", True, _result),
        Kind("node.key_rotated", "reply", False, _key_rotated),
    )
}


def registry(pm=None) -> dict[str, Kind]:
    """The core kinds and those plugins register (names ``x-<plugin>.<name>``)."""
    kinds = dict(CORE_KINDS)
    if pm is not None and hasattr(pm.hook, "federation_kinds"):
        for found in pm.hook.federation_kinds():
            for kind in found or []:
                if not PLUGIN_KIND.match(kind.name) or kind.name in kinds:
                    raise ValueError(f"a plugin kind must be named x-<plugin>.<name> and be new: {kind.name!r}")
                kinds[kind.name] = kind
    return kinds
