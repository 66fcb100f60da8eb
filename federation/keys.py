"""The node's own signing keys (PROTOCOL.md §1): one current, old ones kept; private halves in 0600 files."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from shangliang.core.errors import ConfigError, ShangliangError

from .ids import now_ms
from .models import OwnKey
from .signing import NodeKey, b64u_encode

KEY_DIR = "keys"
PASSPHRASE_ENV = "SHANGLIANG_KEY_PASSPHRASE"


def _path(node_dir: str | Path, key_id: str) -> Path:
    return Path(node_dir) / KEY_DIR / (key_id.split(":", 1)[1] + ".pem")


def _passphrase() -> bytes | None:
    value = os.environ.get(PASSPHRASE_ENV)
    return value.encode("utf-8") if value else None


def generate(session: Session, node_dir: str | Path, at_ms: int | None = None) -> NodeKey:
    """Make a new current key: its private half in ``keys/<id>.pem`` (0600, encrypted when
    ``SHANGLIANG_KEY_PASSPHRASE`` is set), its public half in the database."""
    key_id = "ed25519:k" + secrets.token_hex(6)
    private = Ed25519PrivateKey.generate()
    passphrase = _passphrase()
    encryption = (serialization.BestAvailableEncryption(passphrase) if passphrase else serialization.NoEncryption())
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    path = _path(node_dir, key_id)
    path.parent.mkdir(mode=0o700, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    seed = private.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                 serialization.NoEncryption())
    key = NodeKey(key_id, seed)
    session.add(OwnKey(key_id=key_id, public=key.public_b64, created_ms=at_ms or now_ms(), expired_ms=None))
    session.flush()
    return key


def load(node_dir: str | Path, key_id: str) -> NodeKey:
    path = _path(node_dir, key_id)
    try:
        pem = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"the private key file {path} is missing", "keys") from None
    try:
        private = serialization.load_pem_private_key(pem, password=_passphrase())
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"cannot read {path}: {exc} (is {PASSPHRASE_ENV} right?)", PASSPHRASE_ENV) from None
    if not isinstance(private, Ed25519PrivateKey):
        raise ConfigError(f"{path} is not an Ed25519 key", "keys")
    seed = private.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                 serialization.NoEncryption())
    return NodeKey(key_id, seed)


def current_row(session: Session) -> OwnKey:
    row = session.execute(select(OwnKey).where(OwnKey.expired_ms.is_(None))).scalar_one_or_none()
    if row is None:
        raise ShangliangError("this node has no signing key: run shangliang keys rotate")
    return row


_cache: dict[tuple[str, str, bytes | None], NodeKey] = {}


def current(session: Session, node_dir: str | Path) -> NodeKey:
    """The current key, loaded once per process and key id."""
    row = current_row(session)
    cache_key = (str(node_dir), row.key_id, _passphrase())
    if cache_key not in _cache:
        _cache[cache_key] = load(node_dir, row.key_id)
    return _cache[cache_key]


def all_rows(session: Session) -> list[OwnKey]:
    return list(session.execute(select(OwnKey).order_by(OwnKey.created_ms)).scalars())


def public_line(key: NodeKey) -> str:
    """``<key id>:<public key>``: how a key is written on the command line."""
    return f"{key.key_id}:{key.public_b64}"


def rotate(session: Session, node_dir: str | Path) -> tuple[NodeKey, NodeKey, int]:
    """Make a new current key; the old one is kept (``expired_ms`` set) to verify what it signed.

    Returns the old key, the new key, and the moment (ms) the old one stopped being current."""
    old = current(session, node_dir)
    at = now_ms()
    current_row(session).expired_ms = at
    session.flush()
    new = generate(session, node_dir, at)
    return old, new, at


__all__ = ["generate", "load", "current", "rotate", "public_line", "b64u_encode"]


def pairing(session: Session, node) -> dict:
    """What ``keys show`` prints for a neighbour to pin: this node's id, URL and current key, and its old keys."""
    key = current(session, node.node_dir)
    return {"id": node.id, "url": node.url, "key": public_line(key), "name": node.name,
            "old": [{"id": r.key_id, "expired_ms": r.expired_ms} for r in all_rows(session) if r.expired_ms]}


def pairing_line(data: dict) -> str:
    """The pairing line of ``pairing(...)``: ``ID URL KEY NAME``, the name quoted as a shell word when it holds a
    space or a character a shell reads (``peers add`` and the peers page split it with ``shlex``)."""
    import re
    import shlex

    name = data["name"] or ""
    shown = name if re.fullmatch(r"[^\s'\"\\$`;&|<>()*?!#~]+", name) else shlex.quote(name)
    return f"{data['id']} {data['url']} {data['key']} {shown}".rstrip()
