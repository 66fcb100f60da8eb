"""The rules of 协商民主之家: the ``homes`` setting and the quarter's reminder."""

from __future__ import annotations

import datetime as dt
from typing import Any, Mapping

NAME = "consultation_home"
SETTING = f"plugins.{NAME}.homes"
MIN_MEMBERS = 3  # "每个协商民主之家至少安排3名以上政协委员参加,并指定一名委员作为负责人"
HOME_KEYS = ("name", "lead", "members")

# Each home: {name = "...", lead = "...", members = ["...", ...]}; the lead is one of the members.
CONFIG_DEFAULTS: dict[str, Any] = {"homes": []}


def check_homes(homes: Any) -> list[str]:
    """Problems with the ``homes`` setting, one line each, naming the home and the setting."""
    if not isinstance(homes, list):
        return [f"must be a list of tables {{name, lead, members}} (setting: {SETTING})"]
    problems = []
    seen: set[str] = set()
    for index, home in enumerate(homes):
        where = f"{SETTING}[{index}]"
        if not isinstance(home, dict):
            problems.append(f"a home must be a table {{name, lead, members}} (setting: {where})")
            continue
        unknown = sorted(set(home) - set(HOME_KEYS))
        if unknown:
            problems.append(f"unknown key(s) {', '.join(unknown)}; known: {', '.join(HOME_KEYS)} (setting: {where})")
        name = home.get("name")
        if not isinstance(name, str) or not name.strip():
            problems.append(f"a home has no name (setting: {where})")
            continue
        if name in seen:
            problems.append(f"home {name!r} is listed twice (setting: {where})")
        seen.add(name)
        members = home.get("members", [])
        if not isinstance(members, list) or not all(isinstance(m, str) and m.strip() for m in members):
            problems.append(f"home {name!r}: members must be a list of names (setting: {where}.members)")
            continue
        distinct = set(members)
        if len(distinct) < MIN_MEMBERS:
            problems.append(f"home {name!r} has {len(distinct)} member(s); a consultation home needs at least "
                            f"{MIN_MEMBERS} (setting: {where}.members)")
        lead = home.get("lead")
        if not isinstance(lead, str) or not lead.strip():
            problems.append(f"home {name!r} has no lead (负责人) (setting: {where}.lead)")
        elif lead not in distinct:
            problems.append(f"home {name!r}: the lead {lead!r} is not one of its members (setting: {where}.lead)")
    return problems


def quarter_of(day: dt.date) -> tuple[int, int]:
    return day.year, (day.month - 1) // 3 + 1


def reminder_text(homes: list[dict[str, Any]], day: dt.date) -> tuple[str, str]:
    """Subject and body of the quarterly reminder: every home holds one consultation this quarter."""
    year, quarter = quarter_of(day)
    subject = f"Consultation homes (协商民主之家): {len(homes)} to hold their Q{quarter} {year} consultation"
    lines = [f"Each consultation home holds one consultation (协商议事活动) in Q{quarter} {year} (seed 002):", ""]
    lines += [f"- {home['name']} (lead: {home['lead']}; {len(home['members'])} members)" for home in homes]
    return subject, "\n".join(lines)


def settings(config: Mapping[str, Any]) -> dict[str, Any]:
    """This practice's settings in a node's configuration (``config["PLUGIN_SETTINGS"]``); empty if not enabled."""
    return config["PLUGIN_SETTINGS"].get(NAME) or {}
