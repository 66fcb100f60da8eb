"""The node descriptor (PROTOCOL.md §6, ``GET /federation/v1/node``), self-signed with purpose ``node``."""

from __future__ import annotations

from typing import Any, Mapping

from flask import Flask
from sqlalchemy.orm import Session

from . import keys
from .errors import BadSignature, Malformed
from .signing import b64u_decode, verify


def build(app: Flask, session: Session) -> dict[str, Any]:
    config = app.config
    rows = keys.all_rows(session)
    current = keys.current(session, config["NODE_DIR"])
    descriptor = {
        "id": config["NODE_ID"],
        "level": config["NODE_LEVEL"],
        "name": config["NODE_NAME"],
        "parent": config["NODE_PARENT"],
        "url": config["PUBLIC_URL"],
        "protocol": 1,
        "keys": {
            "current": {"id": current.key_id, "public": current.public_b64},
            "old": [{"id": r.key_id, "public": r.public, "expired_ms": r.expired_ms} for r in rows if r.expired_ms is not None],
        },
    }
    descriptor["sig"] = {"key": current.key_id, "value": current.sign("node", descriptor)}
    return descriptor


def check(descriptor: Mapping[str, Any], expected_id: str, pinned_public: bytes) -> None:
    """Raise unless ``descriptor`` is ``expected_id``'s, signed by the key pinned for it."""
    if not isinstance(descriptor, dict) or descriptor.get("id") != expected_id:
        raise Malformed(f"not the descriptor of {expected_id}")
    sig, keys_ = descriptor.get("sig"), descriptor.get("keys")
    if not isinstance(sig, dict) or not isinstance(keys_, dict) or not isinstance(keys_.get("current"), dict):
        raise Malformed("a descriptor has sig {key, value} and keys {current, old}")
    body = {k: v for k, v in descriptor.items() if k != "sig"}
    verify(pinned_public, "node", body, sig.get("value"), "descriptor")
    b64u_decode(keys_["current"].get("public"), "descriptor key", 32)


__all__ = ["build", "check", "BadSignature"]
