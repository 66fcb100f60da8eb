"""Ed25519 signing (PyNaCl/libsodium, the fastest verifier measured here) and base64url, as PROTOCOL.md §1–§2 use them.

Verification calls libsodium's ``crypto_sign_verify_detached`` directly, in the very library PyNaCl
loaded (its bundled libsodium, or the system one it links), through cffi's ABI mode: PyNaCl's
``nacl.bindings`` does not expose the detached call (1.6.2), and ``VerifyKey.verify`` goes through
``crypto_sign_open``, which first copies signature and message into one buffer and the message out
again. Both end in the same libsodium check, so they accept exactly the same signatures; where the
symbol cannot be found, ``VerifyKey.verify`` is used.
"""

from __future__ import annotations

import binascii
import functools
import re
from collections.abc import Callable
from typing import Any

from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from . import canonical
from .errors import BadSignature, Malformed, echo

PREFIX = b"shangliang/v1/"
# "anchor": a parent's receipt of a child's audit anchor (docs/protocol.md, "Audit anchors"), an addition to §2.
# "bundle": a bundle file's manifest, signed by the node that wrote it (docs/bundles.md), another addition.
PURPOSES = frozenset({"envelope", "hop", "node", "rotate", "anchor", "bundle"})
# Use fullmatch: with match, "$" also matches before a trailing newline ("ed25519:k1\n").
KEY_ID = re.compile(r"^ed25519:[A-Za-z0-9_]{1,32}$")
_B64URL = re.compile(r"[A-Za-z0-9_-]*")
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_PADDING = ("", "", "==", "=")
# The last character of an unpadded group of 2 (or 3) characters carries 4 (or 2) unused bits,
# which canonical base64 sets to zero (RFC 4648 §3.5): these are the characters where they are.
_CANONICAL_LAST = {2: frozenset(c for i, c in enumerate(_ALPHABET) if i & 0b1111 == 0),
                   3: frozenset(c for i, c in enumerate(_ALPHABET) if i & 0b11 == 0)}
# The canonical encodings of 32 and 64 bytes (keys and hashes, signatures) as one pattern each: every
# character in the alphabet, the right count, the last one with its unused bits zero. What they match,
# the general checks below accept too; the verifier decodes seven of them per three-hop envelope.
EXACT_B64U = {length: re.compile("[A-Za-z0-9_-]{%d}[%s]" % (  # noqa: UP031 (the regex's own braces)
    (4 * length + 2) // 3 - 1, "".join(sorted(_CANONICAL_LAST[(4 * length + 2) // 3 % 4])).replace("-", "\\-")))
    for length in (32, 64)}


def b64u_encode(data: bytes) -> str:
    return binascii.b2a_base64(data, newline=False).decode("ascii").rstrip("=").replace("+", "-").replace("/", "_")


def b64u_decode(text: Any, what: str, length: int | None = None) -> bytes:
    """Strict base64url without padding (RFC 4648 §5); ``Malformed`` names ``what`` otherwise."""
    exact = EXACT_B64U.get(length)  # type: ignore[arg-type]
    if exact is not None and type(text) is str and exact.fullmatch(text) is not None:
        return binascii.a2b_base64(text.replace("-", "+").replace("_", "/") + _PADDING[len(text) % 4])
    if not isinstance(text, str) or len(text) % 4 == 1 or not _B64URL.fullmatch(text):
        raise Malformed(f"{what} is not unpadded base64url: {echo(text)}")
    rest = len(text) % 4
    if rest and text[-1] not in _CANONICAL_LAST[rest]:  # non-zero unused bits
        raise Malformed(f"{what} is not canonical base64url: {echo(text)}")
    try:
        data = binascii.a2b_base64(text.replace("-", "+").replace("_", "/") + _PADDING[rest], strict_mode=True)
    except (binascii.Error, ValueError):  # defensive: the checks above leave nothing it refuses
        raise Malformed(f"{what} is not unpadded base64url: {echo(text)}") from None
    if length is not None and len(data) != length:
        raise Malformed(f"{what} must decode to {length} bytes, not {len(data)}")
    return data


def is_b64u(text: Any, length: int) -> bool:
    """Whether ``b64u_decode(text, …, length)`` would succeed, without decoding."""
    exact = EXACT_B64U.get(length)
    if exact is not None:
        return type(text) is str and exact.fullmatch(text) is not None
    chars = (4 * length + 2) // 3
    if type(text) is not str or len(text) != chars or _B64URL.fullmatch(text) is None:
        return False
    rest = chars % 4
    return not rest or text[-1] in _CANONICAL_LAST[rest]


def signing_input(purpose: str, obj: Any) -> bytes:
    """``shangliang/v1/`` + purpose + NUL + canonical bytes of ``obj`` (§2)."""
    if purpose not in PURPOSES:
        raise ValueError(f"unknown signing purpose {purpose!r}")
    return PREFIX + purpose.encode("ascii") + b"\x00" + canonical.dumps(obj)


# -- raw Ed25519 (RFC 8032), the path every signature of the project takes -------------------------


def sign_bytes(seed: bytes, message: bytes) -> bytes:
    return _signing_key(seed).sign(message).signature


def _load_detached() -> Callable[[bytes, bytes, int, bytes], int] | None:
    """libsodium's ``crypto_sign_verify_detached(sig, m, mlen, pk)`` (0 when it verifies), or None."""
    try:
        import nacl._sodium
        from cffi import FFI

        ffi = FFI()
        ffi.cdef("int crypto_sign_verify_detached(const unsigned char *sig, const unsigned char *m, "
                 "unsigned long long mlen, const unsigned char *pk);")
        return ffi.dlopen(nacl._sodium.__file__).crypto_sign_verify_detached
    except (ImportError, OSError, AttributeError):
        return None


_detached = _load_detached()


def verify_bytes(public: bytes, message: bytes, signature: bytes) -> bool:
    """True when ``signature`` (64 bytes) signs ``message`` under ``public`` (32 bytes)."""
    if _detached is not None:
        # libsodium reads exactly 64 and 32 bytes behind these pointers: the lengths are checked here.
        if type(public) is not bytes or type(signature) is not bytes or type(message) is not bytes:
            public, signature, message = bytes(public), bytes(signature), bytes(message)
        if len(signature) != 64 or len(public) != 32:
            return False
        return _detached(signature, message, len(message), public) == 0
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
        if not KEY_ID.fullmatch(key_id):
            raise ValueError(f"bad key id {key_id!r}")
        self.key_id = key_id
        self._seed = seed
        self._signing_key = _signing_key(seed)  # held, so that a process holding many nodes signs without the cache
        self.public = bytes(self._signing_key.verify_key)

    @property
    def public_b64(self) -> str:
        return b64u_encode(self.public)

    def sign(self, purpose: str, obj: Any) -> str:
        return self.sign_input(signing_input(purpose, obj))

    def sign_input(self, message: bytes) -> str:
        return b64u_encode(self.sign_raw(message))

    def sign_raw(self, message: bytes) -> bytes:
        """The 64-byte Ed25519 signature of ``message`` (``sign_bytes`` with this key)."""
        return self._signing_key.sign(message).signature

    def __repr__(self) -> str:
        return f"NodeKey({self.key_id!r})"


def verify(public: bytes, purpose: str, obj: Any, signature: Any, what: str) -> None:
    """Raise ``BadSignature`` unless ``signature`` (base64url) signs ``obj`` for ``purpose`` under ``public``."""
    raw = b64u_decode(signature, f"{what} signature", 64)
    if not verify_bytes(public, signing_input(purpose, obj), raw):
        raise BadSignature(f"{what}: the signature does not verify")
