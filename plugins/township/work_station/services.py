"""The rules of 委员工作站: the station's settings and the station against the members on record."""

from __future__ import annotations

from typing import Any, Mapping

from sqlalchemy.orm import Session

from shangliang.core.members.services import members_by_number

NAME = "work_station"
MIN_DEPUTIES, MAX_DEPUTIES = 1, 2  # "副站长由辖区内1~2名政协委员担任"
CO_OPT = "the station head must be co-opted (增补)"

# head: the township's deputy party secretary (站长); deputies: member numbers (Member.member_no).
CONFIG_DEFAULTS: dict[str, Any] = {"head": "", "head_is_member": False, "deputies": []}


def _setting(key: str) -> str:
    return f"plugins.{NAME}.{key}"


def check_settings(settings: Mapping[str, Any]) -> list[str]:
    """Problems with the station's settings, one line each, naming the setting."""
    problems = []
    if not isinstance(settings["head"], str):
        problems.append(f"the station head must be a name (setting: {_setting('head')})")
    if not isinstance(settings["head_is_member"], bool):
        problems.append(f"must be true or false (setting: {_setting('head_is_member')})")
    deputies = settings["deputies"]
    if not isinstance(deputies, list) or not all(isinstance(d, str) and d.strip() for d in deputies):
        problems.append(f"must be a list of member numbers (setting: {_setting('deputies')})")
    elif len(set(deputies)) != len(deputies):
        problems.append(f"a deputy is listed twice (setting: {_setting('deputies')})")
    elif not MIN_DEPUTIES <= len(deputies) <= MAX_DEPUTIES:
        problems.append(f"a work station has {MIN_DEPUTIES} or {MAX_DEPUTIES} deputy heads (副站长), "
                        f"not {len(deputies)} (setting: {_setting('deputies')})")
    return problems


def station_report(session: Session, settings: Mapping[str, Any]) -> dict[str, Any]:
    """The station as configured against the members on record: deputies found or missing, co-option due."""
    numbers = list(settings["deputies"])
    found = members_by_number(session, numbers)
    deputies, problems = [], []
    for number in numbers:
        member = found.get(number)
        if member is None:
            problems.append(f"deputy {number}: no member with this number")
        elif not member.active:
            problems.append(f"deputy {number} ({member.name}): no longer an active member")
        deputies.append({"member_no": number, "name": member.name if member else None,
                         "found": member is not None and member.active})
    if not settings["head"].strip():
        problems.append(f"the station head (站长) is not named (setting: {_setting('head')})")
    if not settings["head_is_member"]:
        problems.append(CO_OPT)
    return {"head": settings["head"], "head_is_member": settings["head_is_member"], "deputies": deputies,
            "problems": problems, "ok": not problems}


def settings(config: Mapping[str, Any]) -> Mapping[str, Any]:
    """This practice's settings in a node's configuration (``config["PLUGIN_SETTINGS"]``)."""
    return config["PLUGIN_SETTINGS"][NAME]
