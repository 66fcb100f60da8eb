"""The rules of 协商民主之家: the settings, the quarter's reminder and warning, and what a home's
consultation (an activity) needs: a configured home holding it, public invitees from the listed groups."""

from __future__ import annotations

import datetime as dt
from typing import Any, Mapping, Sequence
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from shangliang.core.activities.models import Activity
from shangliang.core.plans.forms import KEY_CHARS, Form

NAME = "consultation_home"
SETTING = f"plugins.{NAME}.homes"
MIN_MEMBERS = 3  # "每个协商民主之家至少安排3名以上政协委员参加,并指定一名委员作为负责人"
HOME_KEYS = ("name", "lead", "members")
#: The consultation form this practice offers: a home's consultation (协商议事活动).
FORM_KEY = "consultation_home"
FORM = Form(FORM_KEY, _l("Consultation home consultation"), "协商民主之家协商议事活动")
#: "参加协商的人员主要是村民居民代表、离退休老同志、党员代表,包括一些有诉求的群众代表" (seed 002 三).
PUBLIC_GROUPS = ["村民", "居民", "退休人员", "党员代表", "信访人"]

CONFIG_DEFAULTS: dict[str, Any] = {
    # Each home: {name = "...", lead = "...", members = ["...", ...]}; the lead is one of the members.
    "homes": [],
    # The groups a public invitee of a home's consultation comes from; the invitation's name says which.
    "public_groups": PUBLIC_GROUPS,
    # The consultation forms whose activities are a home's consultations.
    "forms": [FORM_KEY],
}


def setting(name: str) -> str:
    return f"plugins.{NAME}.{name}"


def check_settings(values: Mapping[str, Any]) -> list[str]:
    """Problems with every setting of this practice, one line each, naming the setting."""
    problems = check_homes(values["homes"])
    groups = values["public_groups"]
    if not isinstance(groups, list) or not groups or not all(isinstance(g, str) and g.strip() for g in groups):
        problems.append(f"must be a non-empty list of groups, e.g. {PUBLIC_GROUPS} (setting: {setting('public_groups')})")
    forms = values["forms"]
    if not isinstance(forms, list) or not forms or not all(
            isinstance(f, str) and f and set(f) <= KEY_CHARS for f in forms):
        problems.append(f"must be a non-empty list of consultation form keys (a-z, 0-9, _), e.g. [\"{FORM_KEY}\"] "
                        f"(setting: {setting('forms')})")
    return problems


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


def _values(config: Mapping[str, Any]) -> dict[str, Any]:
    return {**CONFIG_DEFAULTS, **settings(config)}


# ---------------------------------------------------------------------------------------------
# A home's consultation: an activity of one of ``forms`` whose organiser (or else place) is a home


def home_of(activity: Mapping[str, Any], homes: Sequence[Mapping[str, Any]]) -> str | None:
    """The configured home an activity names: its organiser, or else its place, is the home's name."""
    names = {home["name"] for home in homes}
    for field in ("organiser", "place"):
        value = (activity.get(field) or "").strip()
        if value in names:
            return value
    return None


def guard(activity: Mapping[str, Any], action: str, fields: Mapping[str, Any], config: Mapping[str, Any]) -> list[str]:
    """Reasons that refuse ``action`` on a home's consultation: created without naming a configured home
    (organiser or place); a public invitee whose name says none of ``public_groups``."""
    values = _values(config)
    if activity.get("form") not in values["forms"]:
        return []
    homes = values["homes"]
    if action == "create" and home_of(activity, homes) is None:
        names = ", ".join(home["name"] for home in homes) or "none is configured"
        return [f"consultation home (协商民主之家): a home's consultation is held by a configured home — its "
                f"organiser or its place is the home's name ({names}; setting: {SETTING}); "
                f"organiser {activity.get('organiser')!r} and place {activity.get('place')!r} name none"]
    if action == "invite" and fields.get("kind") == "public":
        name = str(fields.get("name") or "")
        groups = values["public_groups"]
        if not any(group in name for group in groups):
            return [f"consultation home (协商民主之家): a public invitee comes from one of the groups "
                    f"{', '.join(groups)} and the invitation's name says which (setting: {setting('public_groups')}); "
                    f"{name.strip()!r} names none"]
    return []


def _zone(config: Mapping[str, Any]) -> ZoneInfo:
    return ZoneInfo(config.get("TIMEZONE") or "Asia/Shanghai")


def _ms(day: dt.date, config: Mapping[str, Any]) -> int:
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=_zone(config)).timestamp() * 1000)


def quarter_days(day: dt.date) -> tuple[dt.date, dt.date]:
    """The first day of the quarter holding ``day`` and the first day after it."""
    _year, quarter = quarter_of(day)
    first = dt.date(day.year, 3 * quarter - 2, 1)
    return first, (dt.date(day.year + 1, 1, 1) if quarter == 4 else dt.date(day.year, 3 * quarter + 1, 1))


def consultations(session: Session, config: Mapping[str, Any], first: dt.date,
                  after: dt.date) -> dict[str, list[Activity]]:
    """Each configured home's consultations (not cancelled) starting from ``first`` until before ``after``,
    by start, from the activities table."""
    values = _values(config)
    homes = values["homes"]
    found: dict[str, list[Activity]] = {home["name"]: [] for home in homes}
    rows = session.execute(select(Activity).where(
        Activity.form.in_(values["forms"]), Activity.status != "cancelled",
        Activity.starts_ms >= _ms(first, config), Activity.starts_ms < _ms(after, config))
        .order_by(Activity.starts_ms, Activity.id)).scalars()
    for activity in rows:
        home = home_of({"organiser": activity.organiser, "place": activity.place}, homes)
        if home is not None:
            found[home].append(activity)
    return found


def homes_without(session: Session, config: Mapping[str, Any], day: dt.date) -> list[dict[str, Any]]:
    """The configured homes with no consultation (planned or held, not cancelled) in the quarter of ``day``."""
    first, after = quarter_days(day)
    held = consultations(session, config, first, after)
    return [home for home in _values(config)["homes"] if not held[home["name"]]]


def warning_text(homes: list[dict[str, Any]], day: dt.date) -> tuple[str, str]:
    """Subject and body of the warning: these homes have no consultation this quarter yet."""
    year, quarter = quarter_of(day)
    subject = f"Consultation homes (协商民主之家): {len(homes)} without a Q{quarter} {year} consultation"
    lines = [f"These homes have no consultation (协商议事活动) planned or held in Q{quarter} {year}, which ends "
             f"with this month; each home holds one a quarter (seed 002 五):", ""]
    lines += [f"- {home['name']} (lead: {home['lead']})" for home in homes]
    return subject, "\n".join(lines)
