"""The rules of 领导包抓: the ``leaders`` setting, who follows an overdue item, and telling that leader.

A leader (``[[plugins.leader_follow_up.leaders]]``) has a ``name``, the ``user`` (a node user name) who gets
the notices, the ``areas`` (division codes strictly below this node) and the handling ``units`` (names) the
leader follows. An overdue item whose handling unit is one of the leader's units, or which concerns an area
at or below one of the leader's areas, is notified to that leader's user.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from shangliang.core.divisions import is_ancestor, level_of, validate_code
from shangliang.core.errors import DivisionCodeError
from shangliang.core.notifications import notify
from shangliang.core.units.models import HandlingUnit
from shangliang.core.users.models import User
from sqlalchemy import select
from sqlalchemy.orm import Session

NAME = "leader_follow_up"
SETTING = f"plugins.{NAME}.leaders"
KEYS = ("name", "user", "areas", "units")
MAX_TEXT = 100

# A list of leaders: each {name, user, areas: [division codes], units: [handling unit names]}.
CONFIG_DEFAULTS: dict[str, Any] = {"leaders": []}

log = logging.getLogger(__name__)


def _text_list(leader: str, key: str, value: Any) -> tuple[list[str], list[str]]:
    if value is None:
        return [], []
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        return [], [f"leader {leader!r}: {key} must be a list of non-empty texts (setting: {SETTING})"]
    return [v.strip() for v in value], []


def check_leaders(node_id: str, leaders: Any) -> list[str]:
    """Problems with the ``leaders`` setting as written (the node refuses to start with any): each leader a
    table with a name (unique), a user, and areas strictly below ``node_id`` and/or handling unit names."""
    if isinstance(leaders, Mapping):
        return [f"must be a list of tables [[{SETTING}]], each with name, user, areas and units "
                f"(the form `name = [codes]` is no longer read) (setting: {SETTING})"]
    if not isinstance(leaders, list):
        return [f"must be a list of tables [[{SETTING}]] (setting: {SETTING})"]
    problems: list[str] = []
    seen: set[str] = set()
    for number, leader in enumerate(leaders, 1):
        if not isinstance(leader, Mapping):
            problems.append(f"leader {number}: expected a table with name, user, areas, units (setting: {SETTING})")
            continue
        unknown = [key for key in leader if key not in KEYS]
        if unknown:
            problems.append(f"leader {number}: unknown key {str(unknown[0])[:40]!r}; keys: {', '.join(KEYS)} "
                            f"(setting: {SETTING})")
        name = leader.get("name")
        if not isinstance(name, str) or not name.strip() or len(name.strip()) > MAX_TEXT:
            problems.append(f"leader {number}: a leader's name is empty, not text or over {MAX_TEXT} characters "
                            f"(setting: {SETTING})")
            continue
        name = name.strip()
        if name in seen:
            problems.append(f"leader {name!r} is named twice (setting: {SETTING})")
        seen.add(name)
        user = leader.get("user")
        if not isinstance(user, str) or not user.strip():
            problems.append(f"leader {name!r}: user (the user name who gets the notices) is missing "
                            f"(setting: {SETTING})")
        areas, wrong_areas = _text_list(name, "areas", leader.get("areas"))
        units, wrong_units = _text_list(name, "units", leader.get("units"))
        problems += wrong_areas + wrong_units
        if not wrong_areas and not wrong_units and not areas and not units:
            problems.append(f"leader {name!r}: follows nothing; give areas (division codes) or units "
                            f"(handling unit names) (setting: {SETTING})")
        for code in areas:
            try:
                validate_code(code, SETTING)
            except DivisionCodeError as exc:
                problems.append(f"leader {name!r}: {exc}")
                continue
            if not is_ancestor(node_id, code):
                problems.append(f"leader {name!r}: area {code!r} is not below this node {node_id!r} "
                                f"(setting: {SETTING})")
    return problems


def leaders_of(config: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The leaders of a node's settings, each with ``name``, ``user``, ``areas`` and ``units`` (lists)."""
    return [{"name": str(leader["name"]).strip(), "user": str(leader.get("user") or "").strip(),
             "areas": [a.strip() for a in leader.get("areas") or []],
             "units": [u.strip() for u in leader.get("units") or []]}
            for leader in settings(config)["leaders"]]


def check_against_node(session: Session, leaders: list[dict[str, Any]]) -> list[str]:
    """What the settings name that this node does not hold: unknown or inactive users, unknown or inactive
    handling units (``shangliang leaders check``)."""
    problems = []
    for leader in leaders:
        user = session.execute(select(User).where(User.username == leader["user"])).scalar_one_or_none()
        if user is None:
            problems.append(f"leader {leader['name']!r}: no user {leader['user'][:80]!r} on this node "
                            f"(setting: {SETTING})")
        elif not user.active:
            problems.append(f"leader {leader['name']!r}: user {user.username!r} is deactivated (setting: {SETTING})")
        for name in leader["units"]:
            unit = session.execute(select(HandlingUnit).where(HandlingUnit.name == name)).scalar_one_or_none()
            if unit is None:
                problems.append(f"leader {leader['name']!r}: no handling unit {name[:100]!r} on this node "
                                f"(see: shangliang units list) (setting: {SETTING})")
            elif not unit.active:
                problems.append(f"leader {leader['name']!r}: handling unit {name!r} is inactive (setting: {SETTING})")
    return problems


def follow_up_rows(leaders: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per leader: the user, the areas followed (each with its level) and the units."""
    return [{"leader": leader["name"], "user": leader["user"],
             "areas": [{"code": code, "level": level_of(code)} for code in leader["areas"]],
             "units": list(leader["units"])} for leader in leaders]


def leaders_for(leaders: list[dict[str, Any]], unit: str | None = None, areas: list[str] | tuple = ()) -> list[dict]:
    """The leaders who follow the handling unit ``unit`` or one of ``areas`` (an area at or below one
    the leader follows): who an overdue item there goes to, each once, in the settings' order."""
    found = []
    for leader in leaders:
        by_unit = unit is not None and unit in leader["units"]
        by_area = any(code == area or is_ancestor(code, area) for code in leader["areas"] for area in areas
                      if isinstance(area, str))
        if by_unit or by_area:
            found.append(leader)
    return found


KIND_WORDS = {"topic": ("议题", "topic"), "implementation": ("成果落实", "result implementation"),
              "proposal": ("提案", "proposal"), "rectification": ("评议整改", "appraisal rectification")}


def notify_leaders(session: Session, item: Mapping[str, Any], config: Mapping[str, Any]) -> list[str]:
    """Tell each leader who follows an overdue ``item`` (the ``item_overdue`` hook); the user names told.
    A leader whose user is not on the node is skipped with a warning (``shangliang leaders check`` names it)."""
    chinese = str(config.get("LOCALE") or "zh_CN").startswith("zh")
    kind = str(item.get("kind") or "")
    words = KIND_WORDS.get(kind, (kind, kind))
    areas = [a for a in item.get("areas") or [] if isinstance(a, str)]
    told = []
    for leader in leaders_for(leaders_of(config), item.get("unit"), areas):
        user = session.execute(select(User).where(User.username == leader["user"])).scalar_one_or_none()
        if user is None or not user.active:
            log.warning("leader %s: no active user %r to tell of overdue %s %s (setting: %s)", leader["name"],
                        leader["user"], kind, item.get("ref"), SETTING)
            continue
        why = item.get("unit") if item.get("unit") in leader["units"] else "、".join(areas)
        if chinese:
            subject = f"领导包抓督办：{words[0]}逾期：{item.get('title')}"
            body = (f"{leader['name']}：您包抓的{why}有{words[0]}逾期未办结（{item.get('ref')}）"
                    f"：{item.get('title')}。请督促办理。")
        else:
            subject = f"Leader follow-up: overdue {words[1]}: {item.get('title')}"
            body = (f"{leader['name']}: a {words[1]} of {why}, which you follow, is overdue ({item.get('ref')}): "
                    f"{item.get('title')}.")
        notify(session, subject=subject, body=body, user_id=user.id, source=NAME)
        told.append(user.username)
    return told


def settings(config: Mapping[str, Any]) -> Mapping[str, Any]:
    """This practice's settings in a node's configuration (``config["PLUGIN_SETTINGS"]``)."""
    return config["PLUGIN_SETTINGS"][NAME]
