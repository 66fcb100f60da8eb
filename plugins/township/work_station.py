"""委员工作站 member work station (Gansu, seed 004): a head (deputy party secretary) and 1-2 member deputies."""

from __future__ import annotations

from typing import Any, Mapping

import click
import flask  # not `from flask import current_app`: `plugins list` probes module attributes outside any app
from flask import Blueprint, render_template
from sqlalchemy.orm import Session

from shangliang.core.cli import emit, with_appcontext
from shangliang.core.db import get_session
from shangliang.core.members.services import members_by_number
from shangliang.core.plugins import hookimpl

NAME = "work_station"
MIN_DEPUTIES, MAX_DEPUTIES = 1, 2  # "副站长由辖区内1~2名政协委员担任"
CO_OPT = "the station head must be co-opted (增补)"

# head: the township's deputy party secretary (站长); deputies: member numbers (Member.member_no).
CONFIG_DEFAULTS: dict[str, Any] = {"head": "", "head_is_member": False, "deputies": []}


def _setting(key: str) -> str:
    return f"plugins.{NAME}.{key}"


# ---------------------------------------------------------------------------
# Services
# ---------------------------------------------------------------------------


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


def _settings() -> Mapping[str, Any]:
    return flask.current_app.config["PLUGIN_SETTINGS"][NAME]


# ---------------------------------------------------------------------------
# Hooks
# ---------------------------------------------------------------------------


@hookimpl
def node_configured(config, plugin_config):
    return check_settings(plugin_config[NAME]) or None


@hookimpl
def register_commands(cli):
    return station


@hookimpl
def register_blueprints(app):
    return bp


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------


@click.group()
def station() -> None:
    """The member work station (委员工作站): its head and deputy heads."""


@station.command("check")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def station_check(as_json: bool) -> None:
    """Check the deputies against the members and whether the head must be co-opted (exit 1 if so)."""
    report = station_report(get_session(), _settings())

    def text(r: dict[str, Any]) -> str:
        head = r["head"] or "(not named)"
        lines = [f"head: {head} ({'member' if r['head_is_member'] else 'not a member'})"]
        lines += [f"deputy {d['member_no']}: {d['name']}" for d in r["deputies"] if d["found"]]
        lines += r["problems"]
        lines.append("station complete" if r["ok"] else f"{len(r['problems'])} problem(s)")
        return "\n".join(lines)

    emit(report, as_json, text)
    if not report["ok"]:
        click.get_current_context().exit(1)


# ---------------------------------------------------------------------------
# Web
# ---------------------------------------------------------------------------

bp = Blueprint(NAME, __name__, url_prefix="/practices/work-station", template_folder="templates")


@bp.route("/")
def index():
    return render_template("work_station.html", station=station_report(get_session(), _settings()))
