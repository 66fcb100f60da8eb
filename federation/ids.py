"""Message ids: ULIDs (26 characters of Crockford base32, time-ordered), as PROTOCOL.md §3 recommends."""

from __future__ import annotations

import os
import re

from shangliang.core.clock import now_ms

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
# Use fullmatch: with match, "$" also matches before a trailing newline.
MESSAGE_ID = re.compile(r"^[0-9A-Za-z_-]{1,64}$")


def ulid(at_ms: int | None = None) -> str:
    value = ((at_ms if at_ms is not None else now_ms()) << 80) | int.from_bytes(os.urandom(10), "big")
    chars = []
    for _ in range(26):
        chars.append(CROCKFORD[value & 31])
        value >>= 5
    return "".join(reversed(chars))


__all__ = ["CROCKFORD", "MESSAGE_ID", "ulid", "now_ms"]
