"""协商民主之家 consultation homes (Lianyungang, seed 002): at least 3 members and a lead each, one consultation a quarter."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import flask  # not `from flask import current_app`: `plugins list` probes module attributes outside any app
from celery import shared_task
from celery.schedules import crontab
from flask import Blueprint, render_template

from shangliang.core.db import transaction
from shangliang.core.notifications import notify
from shangliang.core.plugins import hookimpl

NAME = "consultation_home"
SETTING = f"plugins.{NAME}.homes"
TASK = f"shangliang.plugins.{NAME}.quarterly_reminder"
MIN_MEMBERS = 3  # "每个协商民主之家至少安排3名以上政协委员参加,并指定一名委员作为负责人"
HOME_KEYS = ("name", "lead", "members")

# Each home: {name = "...", lead = "...", members = ["...", ...]}; the lead is one of the members.
CONFIG_DEFAULTS: dict[str, Any] = {"homes": []}


# ---------------------------------------------------------------------------
# Services
# ---------------------------------------------------------------------------


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


def _settings() -> dict[str, Any]:
    return flask.current_app.config["PLUGIN_SETTINGS"].get(NAME) or {}


def _node_today() -> dt.date:
    return dt.datetime.now(ZoneInfo(flask.current_app.config["TIMEZONE"])).date()


# ---------------------------------------------------------------------------
# Hooks
# ---------------------------------------------------------------------------


@hookimpl
def node_configured(config, plugin_config):
    return check_homes(plugin_config[NAME]["homes"]) or None


@hookimpl
def register_blueprints(app):
    return bp


@hookimpl
def beat_schedule(config):
    # 09:00 (the node's time zone) on the first day of each quarter.
    return {f"{NAME}.quarterly_reminder": {
        "task": TASK, "schedule": crontab(minute=0, hour=9, day_of_month=1, month_of_year="1,4,7,10")}}


# ---------------------------------------------------------------------------
# Tasks
# ---------------------------------------------------------------------------


@shared_task(name=TASK)
def quarterly_reminder(today: str | None = None) -> int | None:
    """Tell the office which homes must hold this quarter's consultation; the notification's id, or None."""
    homes = _settings().get("homes") or []
    if not homes:
        return None
    day = dt.date.fromisoformat(today) if today else _node_today()
    subject, body = reminder_text(homes, day)
    with transaction(actor="worker") as session:
        notification = notify(session, subject=subject, body=body, role="office", source=NAME)
    return notification.id


# ---------------------------------------------------------------------------
# Web
# ---------------------------------------------------------------------------

bp = Blueprint(NAME, __name__, url_prefix="/practices/consultation-homes", template_folder="templates")


@bp.route("/")
def index():
    return render_template("consultation_home.html", homes=_settings().get("homes") or [], min_members=MIN_MEMBERS)
