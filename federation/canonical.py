"""Canonical form (PROTOCOL.md §2): the JCS profile, its parser and its serialiser.

The profile is RFC 8785 (JSON Canonicalization Scheme) restricted to values where JCS and Matrix
canonical JSON agree: object keys are ASCII, numbers are integers with |n| <= 2^53 - 1 (decimals
travel as strings), no floats, no ``-0``, no NaN or Infinity, strings are valid Unicode (no lone
surrogates), nesting is at most 32 levels (a top-level object or array is level 1) and a document is
at most 256 KiB.

Both directions keep the work in the standard library's C code:

- ``dumps`` checks the value against the profile with one walk, then lets orjson write it (the
  same bytes, checked in ``tests/federation/test_fast_path.py``; ``json``'s C encoder where orjson refuses a
  value, so that errors read as before). For in-profile values that output *is* JCS: ``json`` escapes exactly ``\\"``, ``\\\\``,
  ``\\b``, ``\\f``, ``\\n``, ``\\r``, ``\\t`` and the other U+0000..U+001F as lowercase ``\\u00xx``
  and writes everything else literally (``ensure_ascii=False``); integers print as their decimal
  digits, as ECMAScript does below 2^53; keys sort by code point, which for ASCII keys is the
  UTF-16 code unit order JCS asks for. ``tests/federation/test_canonical.py`` checks this against the
  ``rfc8785`` package. A lone surrogate surfaces as the ``UnicodeEncodeError`` of the final
  UTF-8 encoding.
- ``loads`` runs ``json``'s C scanner with hooks that refuse what the profile excludes (floats,
  ``-0``, out-of-range integers, NaN and Infinity, duplicate and non-ASCII keys). Depth and escaped
  lone surrogates (``"\\ud800"``, which ``json`` turns into a lone surrogate code point) are
  checked after parsing, and only when a cheap scan of the raw text says they might matter: a
  document with at most 32 brackets cannot be nested deeper than 32, and one without a ``\\uD8``
  to ``\\uDF`` escape cannot hold a surrogate (raw surrogates cannot survive UTF-8 decoding).

For documents that arrive already canonical (every envelope a node writes is), ``roundtrip`` parses
with orjson and answers whether the bytes are exactly orjson's re-encoding with sorted keys and
integers within 2^53. Within the profile that encoding is byte-identical to RFC 8785 (orjson escapes
the same characters with the same lowercase ``\\u00xx``, writes everything else literally, and sorts
ASCII keys by code point; ``tests/federation/test_fast_path.py`` checks it against ``dumps`` and the
``rfc8785`` package). Equality already excludes duplicate keys, ``-0``, whitespace, a byte order
mark, escapes JCS would not write, and integers beyond 2^53 (refused by the encoder, or parsed as
floats); orjson refuses NaN, Infinity, invalid UTF-8 and lone surrogates. What equality cannot
exclude is checked by ``in_profile``: floats, non-ASCII keys, nesting deeper than 32.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

import orjson
from shangliang.federation.errors import Malformed, TooLarge, echo

__all__ = ["MAX_BYTES", "MAX_DEPTH", "MAX_INT", "digest", "dumps", "in_profile", "loads", "roundtrip"]

MAX_BYTES = 256 * 1024
MAX_DEPTH = 32
MAX_INT = 2**53 - 1

_MAX_INT_DIGITS = len(str(MAX_INT))  # 16
_BOM = "\ufeff"
# A \u escape of a UTF-16 surrogate (U+D800..U+DFFF), in either case. It may sit behind an escaped
# backslash ("\\ud800" is the six characters \ud800, not a surrogate): a hit only means "look".
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


# --- loads ---------------------------------------------------------------------------------------


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise Malformed(f"duplicate object key {echo(key)}")
            seen.add(key)
    if not "".join(obj).isascii():
        key = next(k for k in obj if not k.isascii())
        raise Malformed(f"object key is not ASCII: {echo(key)}")
    return obj


def _int(text: str) -> int:
    if len(text) > _MAX_INT_DIGITS + 1:  # also keeps int() away from its 4300-digit limit
        raise Malformed(f"integer out of range (|n| <= 2^53-1): {echo(text)}")
    if text == "-0":
        raise Malformed("-0 is not allowed")
    number = int(text)
    if -MAX_INT <= number <= MAX_INT:
        return number
    raise Malformed(f"integer out of range (|n| <= 2^53-1): {echo(text)}")


def _float(text: str) -> None:
    raise Malformed(f"number with a fraction or an exponent (integers only): {echo(text)}")


def _constant(text: str) -> None:
    raise Malformed(f"{text} is not allowed")


_DECODER = json.JSONDecoder(
    object_pairs_hook=_object, parse_float=_float, parse_int=_int, parse_constant=_constant
)
_decode = _DECODER.decode


def _check_parsed(value: Any, depth: bool, surrogates: bool) -> None:
    """Depth (if ``depth``) and lone surrogates in strings (if ``surrogates``) of a parsed value."""
    strings: list[str] = []
    if type(value) is str:
        strings.append(value)
    elif type(value) is dict or type(value) is list:
        stack = [(value, 1)]
        pop, push, add = stack.pop, stack.append, strings.append
        while stack:
            container, level = pop()
            if depth and level > MAX_DEPTH:
                raise Malformed(f"nesting deeper than {MAX_DEPTH} levels")
            for item in container.values() if type(container) is dict else container:
                kind = type(item)
                if kind is dict or kind is list:
                    push((item, level + 1))
                elif surrogates and kind is str:
                    add(item)
    if surrogates:
        for text in strings:
            try:
                text.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise Malformed(
                    f"lone surrogate in a string: {echo(text[max(0, exc.start - 20) : exc.end + 20])}"
                ) from None


def loads(data: bytes | str) -> Any:
    """Parse a JSON document under the profile.

    Raises ``TooLarge`` when the document is over ``MAX_BYTES`` bytes (checked first, before
    decoding), ``Malformed`` for invalid UTF-8, a byte order mark, text that is not one JSON value
    (trailing garbage included), duplicate or non-ASCII object keys, numbers with a fraction or
    an exponent, ``-0``, NaN and Infinity, integers beyond ±(2^53-1), lone surrogates (escaped or
    raw) and nesting deeper than ``MAX_DEPTH``. Messages never quote more than 60 characters of
    the input.
    """
    if isinstance(data, str):
        text = data
        if len(text) > MAX_BYTES:
            raise TooLarge(f"document larger than {MAX_BYTES} bytes")
        if not text.isascii():  # O(1) in CPython; ASCII text is as long in bytes as in characters
            try:
                size = len(text.encode("utf-8"))
            except UnicodeEncodeError as exc:
                if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
                    raise TooLarge(f"document larger than {MAX_BYTES} bytes") from None
                raise Malformed(f"lone surrogate at character {exc.start}") from None
            if size > MAX_BYTES:
                raise TooLarge(f"document larger than {MAX_BYTES} bytes")
    else:
        if not isinstance(data, bytes):
            if not isinstance(data, (bytearray, memoryview)):
                raise TypeError(f"loads() takes bytes or str, not {type(data).__name__}")
            data = bytes(data)
        if len(data) > MAX_BYTES:
            raise TooLarge(f"document larger than {MAX_BYTES} bytes")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise Malformed(f"invalid UTF-8 at byte {exc.start}: {exc.reason}") from None
    if text.startswith(_BOM):
        raise Malformed("byte order mark at the start of the document")
    try:
        value = _decode(text)
    except RecursionError:
        raise Malformed(f"nesting deeper than {MAX_DEPTH} levels") from None
    except json.JSONDecodeError as exc:
        raise Malformed(f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except ValueError as exc:  # defensive: anything else the scanner may raise
        raise Malformed(f"not JSON: {echo(str(exc))}") from None
    deep = text.count("{") + text.count("[") > MAX_DEPTH
    escaped = _SURROGATE_ESCAPE.search(text) is not None
    if deep or escaped:
        _check_parsed(value, deep, escaped)
    return value


# --- dumps ---------------------------------------------------------------------------------------


def _refuse(value: Any) -> Malformed:
    if isinstance(value, float):
        return Malformed(f"float not allowed (decimals travel as strings): {echo(value)}")
    if isinstance(value, int):
        return Malformed(f"integer out of range (|n| <= 2^53-1): {echo(value)}")
    return Malformed(f"value of type {type(value).__name__} not allowed")


def _walk(container: Any, depth: int) -> None:
    """Check the members of a dict, list or tuple at nesting level ``depth``, recursively."""
    if depth > MAX_DEPTH:
        raise Malformed(f"nesting deeper than {MAX_DEPTH} levels")
    if isinstance(container, dict):
        try:
            keys = "".join(container)
        except TypeError:
            key = next(k for k in container if not isinstance(k, str))
            raise Malformed(f"object key is not a string: {echo(key)}") from None
        if not keys.isascii():
            key = next(k for k in container if not k.isascii())
            raise Malformed(f"object key is not ASCII: {echo(key)}")
        container = container.values()
    for item in container:
        kind = type(item)
        if kind is str or kind is bool or item is None:
            continue
        if kind is int:
            if -MAX_INT <= item <= MAX_INT:
                continue
            raise _refuse(item)
        if kind is dict or kind is list or kind is tuple:
            _walk(item, depth + 1)
            continue
        _other(item, depth)


def _other(item: Any, depth: int) -> None:
    """Subclasses of the allowed types (say a ``StrEnum``), which ``json`` writes as their base."""
    if isinstance(item, float):
        raise _refuse(item)
    if isinstance(item, str):
        return
    if isinstance(item, int):
        if -MAX_INT <= int(item) <= MAX_INT:
            return
        raise _refuse(item)
    if isinstance(item, (dict, list, tuple)):
        _walk(item, depth + 1)
        return
    raise _refuse(item)


_ENCODER = json.JSONEncoder(
    ensure_ascii=False,
    sort_keys=True,
    separators=(",", ":"),
    allow_nan=False,
    check_circular=False,  # the walk bounds the depth, so a cycle is refused before encoding
)
_encode = _ENCODER.encode
_ORJSON_CANONICAL = orjson.OPT_SORT_KEYS | orjson.OPT_STRICT_INTEGER


def dumps(value: Any) -> bytes:
    """Canonical bytes of ``value``: RFC 8785 (JCS) serialisation, restricted to the profile.

    ``value`` is made of dict (ASCII str keys), list (or tuple), str, int within ±(2^53-1), bool
    and None. Anything else raises ``Malformed``: floats, integers out of range, non-str or
    non-ASCII keys, lone surrogates in strings, nesting deeper than ``MAX_DEPTH``, other types.
    """
    kind = type(value)
    if kind is dict or kind is list or kind is tuple:
        _walk(value, 1)
    elif value is not None and kind is not bool:
        _other(value, 0)  # scalars, and subclasses (a container one is walked at level 1)
    try:
        # The walk admitted only what the profile allows, where orjson writes JCS (see above).
        return orjson.dumps(value, option=_ORJSON_CANONICAL)
    except orjson.JSONEncodeError:
        pass  # a lone surrogate, or a subclass orjson does not write (a named tuple): say it as before
    text = _encode(value)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise Malformed(
            f"lone surrogate in a string: {echo(text[max(0, exc.start - 20) : exc.end + 20])}"
        ) from None


def digest(value: Any) -> bytes:
    """SHA-256 of ``dumps(value)``."""
    return hashlib.sha256(dumps(value)).digest()


# --- already canonical ---------------------------------------------------------------------------


def roundtrip(data: bytes) -> Any:
    """The value ``data`` encodes if ``data`` is exactly its canonical encoding, else None.

    Nothing is raised: a document that is not canonical, or not JSON at all, is for ``loads`` to
    judge. The caller still checks ``in_profile`` (floats, non-ASCII keys, depth) on whatever part of
    the value no stricter check covers.
    """
    if type(data) is not bytes or len(data) > MAX_BYTES:
        return None
    try:
        value = orjson.loads(data)
        if orjson.dumps(value, option=_ORJSON_CANONICAL) != data:
            return None
    except (orjson.JSONDecodeError, orjson.JSONEncodeError):
        return None
    return value


def in_profile(container: Any, level: int = 1) -> bool:
    """Whether a parsed dict or list at nesting ``level`` holds no float, no non-ASCII key and nothing
    deeper than ``MAX_DEPTH`` (what ``roundtrip`` equality leaves open)."""
    if level > MAX_DEPTH:
        return False
    if type(container) is dict:
        if not "".join(container).isascii():
            return False
        container = container.values()
    for item in container:
        kind = type(item)
        if kind is float:
            return False
        if (kind is dict or kind is list) and not in_profile(item, level + 1):
            return False
    return True
