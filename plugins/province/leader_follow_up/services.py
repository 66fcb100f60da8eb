"""The rules of 领导包抓: the ``leaders`` setting and who follows a unit."""

from __future__ import annotations

from typing import Any, Mapping

from shangliang.core.divisions import is_ancestor, level_of, validate_code
from shangliang.core.errors import DivisionCodeError

NAME = "leader_follow_up"
SETTING = f"plugins.{NAME}.leaders"

# leader's name -> division codes of the lower units that leader follows (包抓).
CONFIG_DEFAULTS: dict[str, Any] = {"leaders": {}}


def check_leaders(node_id: str, leaders: Any) -> list[str]:
    """Problems with the ``leaders`` setting: each unit must be a standard code strictly below ``node_id``."""
    if not isinstance(leaders, Mapping):
        return [f"must be a table of leader name = [division codes] (setting: {SETTING})"]
    problems = []
    for leader, codes in leaders.items():
        if not str(leader).strip():
            problems.append(f"a leader's name is empty (setting: {SETTING})")
            continue
        if not isinstance(codes, list) or not codes:
            problems.append(f"leader {leader!r}: expected a non-empty list of division codes (setting: {SETTING})")
            continue
        for code in codes:
            try:
                validate_code(code, SETTING)
            except DivisionCodeError as exc:
                problems.append(f"leader {leader!r}: {exc}")
                continue
            if not is_ancestor(node_id, code):
                problems.append(f"leader {leader!r}: unit {code!r} is not below this node {node_id!r} "
                                f"(setting: {SETTING})")
    return problems


def follow_up_rows(leaders: Mapping[str, list[str]]) -> list[dict[str, Any]]:
    """One row per leader: the units followed, each with its level."""
    return [{"leader": leader, "units": [{"code": code, "level": level_of(code)} for code in codes]}
            for leader, codes in leaders.items()]


def leaders_for(leaders: Mapping[str, list[str]], code: str) -> list[str]:
    """The leaders who follow the unit ``code`` or a unit above it: who an overdue item there goes to."""
    return [leader for leader, codes in leaders.items()
            if any(unit == code or is_ancestor(unit, code) for unit in codes)]


def settings(config: Mapping[str, Any]) -> Mapping[str, Any]:
    """This practice's settings in a node's configuration (``config["PLUGIN_SETTINGS"]``)."""
    return config["PLUGIN_SETTINGS"][NAME]
