"""Ed25519 signing (PyNaCl/libsodium, the fastest verifier measured here) and base64url, as PROTOCOL.md §1–§2 use them."""

from __future__ import annotations

import base64
import binascii
import functools
import re
from typing import Any

from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from . import canonical
from .errors import BadSignature, Malformed, echo

PREFIX = b"shangliang/v1/"
PURPOSES = frozenset({"envelope", "hop", "node", "rotate"})
KEY_ID = re.compile(r"^ed25519:[A-Za-z0-9_]{1,32}$")
_B64URL = re.compile(r"^[A-Za-z0-9_-]*$")


def b64u_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64u_decode(text: Any, what: str, length: int | None = None) -> bytes:
    """Strict base64url without padding (RFC 4648 §5); ``Malformed`` names ``what`` otherwise."""
    if not isinstance(text, str) or not _B64URL.match(text) or len(text) % 4 == 1:
        raise Malformed(f"{what} is not unpadded base64url: {echo(text)}")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise Malformed(f"{what} is not unpadded base64url: {echo(text)}") from None
    if b64u_encode(data) != text:  # non-canonical trailing bits
        raise Malformed(f"{what} is not canonical base64url: {echo(text)}")
    if length is not None and len(data) != length:
        raise Malformed(f"{what} must decode to {length} bytes, not {len(data)}")
    return data


def signing_input(purpose: str, obj: Any) -> bytes:
    """``shangliang/v1/`` + purpose + NUL + canonical bytes of ``obj`` (§2)."""
    if purpose not in PURPOSES:
        raise ValueError(f"unknown signing purpose {purpose!r}")
    return PREFIX + purpose.encode("ascii") + b"\x00" + canonical.dumps(obj)


# -- raw Ed25519 (RFC 8032), the path every signature of the project takes -------------------------


def sign_bytes(seed: bytes, message: bytes) -> bytes:
    return _signing_key(seed).sign(message).signature


def verify_bytes(public: bytes, message: bytes, signature: bytes) -> bool:
    try:
        _verify_key(public).verify(message, signature)
        return True
    except (BadSignatureError, ValueError):
        return False


def public_from_seed(seed: bytes) -> bytes:
    return bytes(_signing_key(seed).verify_key)


@functools.lru_cache(maxsize=64)
def _signing_key(seed: bytes) -> SigningKey:
    return SigningKey(seed)


@functools.lru_cache(maxsize=1024)
def _verify_key(public: bytes) -> VerifyKey:
    return VerifyKey(public)


# -- protocol-level signing --------------------------------------------------------------------------


class NodeKey:
    """A node's signing key: its id (``ed25519:…``) and seed. The seed never leaves the node."""

    def __init__(self, key_id: str, seed: bytes):
        if not KEY_ID.match(key_id):
            raise ValueError(f"bad key id {key_id!r}")
        self.key_id = key_id
        self._seed = seed
        self.public = public_from_seed(seed)

    @property
    def public_b64(self) -> str:
        return b64u_encode(self.public)

    def sign(self, purpose: str, obj: Any) -> str:
        return b64u_encode(sign_bytes(self._seed, signing_input(purpose, obj)))

    def sign_input(self, message: bytes) -> str:
        return b64u_encode(sign_bytes(self._seed, message))

    def __repr__(self) -> str:
        return f"NodeKey({self.key_id!r})"


def verify(public: bytes, purpose: str, obj: Any, signature: Any, what: str) -> None:
    """Raise ``BadSignature`` unless ``signature`` (base64url) signs ``obj`` for ``purpose`` under ``public``."""
    raw = b64u_decode(signature, f"{what} signature", 64)
    if not verify_bytes(public, signing_input(purpose, obj), raw):
        raise BadSignature(f"{what}: the signature does not verify")
