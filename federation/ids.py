"""Message ids: ULIDs (26 characters of Crockford base32, time-ordered), as PROTOCOL.md §3 recommends."""

from __future__ import annotations

import os
import re
import time

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
MESSAGE_ID = re.compile(r"^[0-9A-Za-z_-]{1,64}$")


def ulid(now_ms: int | None = None) -> str:
    value = ((now_ms if now_ms is not None else int(time.time() * 1000)) << 80) | int.from_bytes(os.urandom(10), "big")
    chars = []
    for _ in range(26):
        chars.append(CROCKFORD[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def now_ms() -> int:
    return int(time.time() * 1000)
