"""领导包抓 leader follow-up (Gansu, seed 004): each leader of this committee follows named lower units."""

from __future__ import annotations

from typing import Any, Mapping

import click
import flask  # not `from flask import current_app`: `plugins list` probes module attributes outside any app

from shangliang.core.cli import emit, table, with_appcontext
from shangliang.core.divisions import is_ancestor, level_of, validate_code
from shangliang.core.errors import DivisionCodeError
from shangliang.core.plugins import hookimpl

NAME = "leader_follow_up"
SETTING = f"plugins.{NAME}.leaders"

# leader's name -> division codes of the lower units that leader follows (包抓).
CONFIG_DEFAULTS: dict[str, Any] = {"leaders": {}}


# ---------------------------------------------------------------------------
# Services
# ---------------------------------------------------------------------------


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


def _settings() -> dict[str, Any]:
    return flask.current_app.config["PLUGIN_SETTINGS"][NAME]


# ---------------------------------------------------------------------------
# Hooks
# ---------------------------------------------------------------------------


@hookimpl
def node_configured(config, plugin_config):
    return check_leaders(config["NODE_ID"], plugin_config[NAME]["leaders"]) or None


@hookimpl
def register_commands(cli):
    return leaders


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------


@click.group()
def leaders() -> None:
    """Leader follow-up (领导包抓): which leader follows which lower units."""


@leaders.command("list")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def leaders_list(as_json: bool) -> None:
    """Each leader and the units that leader follows."""
    emit(follow_up_rows(_settings()["leaders"]), as_json, lambda rs: table(
        [[r["leader"], ", ".join(f"{u['code']} ({u['level']})" for u in r["units"])] for r in rs],
        ["leader", "units"]) if rs else f"no leaders configured (setting: {SETTING})")
