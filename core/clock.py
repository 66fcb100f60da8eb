"""The node's one clock: wall time in epoch milliseconds, as the protocol and every table count it."""

from __future__ import annotations

import datetime as dt
import time
from typing import Callable

#: A clock is a function returning epoch milliseconds; services get theirs from the node context, so
#: a test can give a node a fixed or moving time without touching the system clock.
Clock = Callable[[], int]


def now_ms() -> int:
    """Now, in milliseconds since 1970-01-01 UTC."""
    return time.time_ns() // 1_000_000


#: The moments a calendar can show: 0001-01-01 to 9999-12-31 (UTC). The protocol allows integers up
#: to 2^53 (about the year 285,000); such a moment is kept as sent but shown as beyond the calendar.
FIRST_READABLE_MS = -62_135_596_800_000
LAST_READABLE_MS = 253_402_300_799_999


def datetime_of(ms: int, zone: dt.tzinfo = dt.UTC) -> dt.datetime | None:
    """``ms`` as a datetime in ``zone``, or None when no calendar date shows it."""
    if isinstance(ms, bool) or not isinstance(ms, int) or not FIRST_READABLE_MS + 86_400_000 <= ms <= \
            LAST_READABLE_MS - 86_400_000:  # a day's margin: time zones move a moment across midnight
        return None
    return dt.datetime.fromtimestamp(ms / 1000, zone)
