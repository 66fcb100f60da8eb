"""The rules of 季协商座谈会: the research lead time and the quarter's reminder."""

from __future__ import annotations

import datetime as dt
from typing import Any

NAME = "quarterly_forum"
SETTING = f"plugins.{NAME}.research_lead_days"

# Days of research by a special committee (专门委员会) before the forum: "会前……深入开展调研".
CONFIG_DEFAULTS: dict[str, Any] = {"research_lead_days": 20}


def check_lead_days(value: Any) -> list[str]:
    # bool is an int in Python; `true` in node.toml is not a number of days.
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        return [f"research lead time {value!r} must be a positive whole number of days (setting: {SETTING})"]
    return []


def quarter_bounds(day: dt.date) -> tuple[int, int, dt.date, dt.date]:
    """Year, quarter number, first and last day of the quarter holding ``day``."""
    quarter = (day.month - 1) // 3 + 1
    first = dt.date(day.year, 3 * quarter - 2, 1)
    next_first = dt.date(day.year + 1, 1, 1) if quarter == 4 else dt.date(day.year, 3 * quarter + 1, 1)
    return day.year, quarter, first, next_first - dt.timedelta(days=1)


def reminder_text(day: dt.date, lead_days: int) -> tuple[str, str]:
    """Subject and body of the quarter's reminder: choose the topic, start the research in time."""
    year, quarter, _first, last = quarter_bounds(day)
    research_by = last - dt.timedelta(days=lead_days)
    subject = f"Quarterly forum (季协商座谈会) Q{quarter} {year}: plan the topic and the research"
    when = ("start it now: the quarter has fewer days left than the lead time" if research_by < day
            else f"for a forum on the quarter's last day ({last}) it must start by {research_by}")
    body = "\n".join([
        f"This quarter's forum (Q{quarter} {year}) needs a topic from the annual consultation plan "
        "(年度协商计划), or one raised by the party committee, the government or a department.",
        f"A special committee (专门委员会) researches the topic with members and experts at least "
        f"{lead_days} days before the forum; {when}.",
        "The chair presides; afterwards the consensus and the main opinions go to the party committee "
        "and the government as a special report (seed 001 §13).",
    ])
    return subject, body
