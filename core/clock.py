"""The node's one clock: wall time in epoch milliseconds, as the protocol and every table count it."""

from __future__ import annotations

import time
from typing import Callable

#: A clock is a function returning epoch milliseconds; services get theirs from the node context, so
#: a test can give a node a fixed or moving time without touching the system clock.
Clock = Callable[[], int]


def now_ms() -> int:
    """Now, in milliseconds since 1970-01-01 UTC."""
    return time.time_ns() // 1_000_000
