"""Message kinds (PROTOCOL.md §8): the action each kind's hop 0 carries and the body it must have.

The federation layer defines ``node.key_rotated``; the topics feature registers the ``topic.*`` kinds
(``core/topics/federation.py``), plugins their ``x-<plugin>.<name>`` kinds."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping


from .errors import InvalidBody

# Use fullmatch with these: with match, "$" also matches before a trailing newline.
TOPIC_UID = re.compile(r"^[0-9]{2,12}(-[a-z0-9]{1,16})?:[0-9A-Za-z_-]{1,64}$")
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


def require(body: Mapping[str, Any], field: str, kind: type | tuple, where: str = "body") -> Any:
    """``body[field]``, of type ``kind``; ``InvalidBody`` naming ``where.field`` otherwise."""
    if field not in body:
        raise InvalidBody(f"{where}.{field} is missing")
    value = body[field]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise InvalidBody(f"{where}.{field} has the wrong type")
    return value


def text(body, field, where="body", required=True, empty=False) -> None:
    """A text field: present (unless not ``required``), not blank (unless ``empty``), at most MAX_TEXT long."""
    if not required and field not in body:
        return
    value = require(body, field, str, where)
    if not empty and not value.strip():
        raise InvalidBody(f"{where}.{field} is empty")
    if len(value) > MAX_TEXT:
        raise InvalidBody(f"{where}.{field} is longer than {MAX_TEXT} characters")


def texts(body, field, where="body") -> None:
    """A list of non-blank texts."""
    values = require(body, field, list, where)
    for value in values:
        if not isinstance(value, str) or not value.strip() or len(value) > MAX_TEXT:
            raise InvalidBody(f"{where}.{field} must hold non-empty strings")


def ms(body, field, where="body", required=True) -> None:
    """A time in epoch milliseconds (a non-negative integer)."""
    if not required and field not in body:
        return
    if require(body, field, int, where) < 0:
        raise InvalidBody(f"{where}.{field} must not be negative")


def _key_rotated(body):
    new_key = require(body, "new_key", dict)
    from .signing import KEY_ID

    if not KEY_ID.fullmatch(require(new_key, "id", str, "body.new_key")):
        raise InvalidBody("body.new_key.id is not a key id (ed25519:…)")
    from .errors import Malformed
    from .signing import b64u_decode

    try:
        b64u_decode(require(new_key, "public", str, "body.new_key"), "body.new_key.public", 32)
        b64u_decode(require(body, "proof", str), "body.proof", 64)
    except Malformed as exc:
        raise InvalidBody(str(exc)) from None


#: The kinds of the federation layer itself; features add theirs (``topic.*``) through ``federation_kinds``.
CORE_KINDS: dict[str, Kind] = {"node.key_rotated": Kind("node.key_rotated", "reply", False, _key_rotated)}


def registry(pm=None) -> dict[str, Kind]:
    """The federation's kinds and those the plugins register: built-in plugins may register protocol
    kinds (PROTOCOL.md §8: ``topic.escalate``, …), installed ones only ``x-<plugin>.<name>``."""
    from shangliang.core.plugins import BUILTIN_PLUGINS, builtin_name

    kinds = dict(CORE_KINDS)
    if pm is None or not hasattr(pm.hook, "federation_kinds"):
        return kinds
    builtins = {builtin_name(name) for name in BUILTIN_PLUGINS}
    for impl in pm.hook.federation_kinds.get_hookimpls():
        for kind in impl.function() or []:
            if kind.name in kinds or not (impl.plugin_name in builtins or PLUGIN_KIND.fullmatch(kind.name)):
                raise ValueError(f"a plugin kind must be named x-<plugin>.<name> and be new: {kind.name!r}")
            kinds[kind.name] = kind
    return kinds
