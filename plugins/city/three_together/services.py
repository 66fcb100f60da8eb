"""The rules of 三个一起 (Ma'anshan): consultation topics planned together, the plan made together and activities
held together with the party committee and the government; the results that can be counted are counted
against the year's targets."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from shangliang.core.activities.models import Activity
from shangliang.core.plans.models import Plan
from shangliang.core.topics.models import Topic

NAME = "three_together"
#: A topic whose result is taken up: the party committee and government have it handled (办理实施) or later.
ADOPTED = ("implementing", "feedback", "closed")
TARGETS = ("topics", "activities", "adopted_results")

# A department is the party committee's when its name holds one of party_markers (市委办公室, 中共马鞍山市委…), the
# government's when it holds one of government_markers (市人民政府, 市财政局, 市发展改革委…); targets: the year's
# numbers counted in the city's annual assessment (纳入全市年度目标考核).
CONFIG_DEFAULTS: dict[str, Any] = {
    "party_markers": ["市委", "区委", "县委", "党委", "党工委"],
    "government_markers": ["政府", "局", "发展改革委", "发改委", "卫健委"],
    "targets": {"topics": 10, "activities": 8, "adopted_results": 6},
}


def _setting(key: str) -> str:
    return f"plugins.{NAME}.{key}"


def check_settings(settings: Mapping[str, Any]) -> list[str]:
    """Problems with the settings, one line each, naming the setting."""
    problems = []
    for key in ("party_markers", "government_markers"):
        value = settings[key]
        if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
            problems.append(f"must be a non-empty list of words a department's name holds (setting: {_setting(key)})")
    targets = settings["targets"]
    if not isinstance(targets, Mapping):
        return problems + [f"must be a table of {', '.join(TARGETS)} (setting: {_setting('targets')})"]
    unknown = sorted(set(targets) - set(TARGETS))
    if unknown:
        problems.append(f"unknown target(s) {', '.join(unknown)}; targets: {', '.join(TARGETS)} "
                        f"(setting: {_setting('targets')})")
    for key in TARGETS:
        value = targets.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            problems.append(f"the target {key} must be a whole number, 0 or more, not {value!r} "
                            f"(setting: {_setting('targets')}.{key})")
    return problems


def settings(config: Mapping[str, Any]) -> Mapping[str, Any]:
    """This practice's settings in a node's configuration (``config["PLUGIN_SETTINGS"]``)."""
    return config["PLUGIN_SETTINGS"][NAME]


# ---------------------------------------------------------------------------------------------
# Who is the party committee, who the government


def sides(names: list[str], settings: Mapping[str, Any]) -> dict[str, list[str]]:
    """The names that are the party committee's and the government's departments."""
    return {"party": [n for n in names if any(m in n for m in settings["party_markers"])],
            "government": [n for n in names if any(m in n for m in settings["government_markers"])]}


def _missing(names: list[str], settings: Mapping[str, Any]) -> list[str]:
    found = sides(names, settings)
    return [side for side in ("party", "government") if not found[side]]


WHO = {"party": ("party committee", "party_markers"), "government": ("government", "government_markers")}


def _reason(side: str, what: str, settings: Mapping[str, Any]) -> str:
    who, key = WHO[side]
    return (f"三个一起: {what} no {who} department (a department whose name holds "
            f"{'、'.join(settings[key])}; setting {_setting(key)})")


def together(participants: Mapping[str, Any], settings: Mapping[str, Any]) -> bool:
    return not _missing(list(participants.get("departments") or []), settings)


def plan_guard(action: str, fields: Mapping[str, Any], settings: Mapping[str, Any]) -> list[str]:
    """An item added to the plan (drafting or by amendment) names the party and government departments taking part."""
    if action == "add_item" or (action == "amend" and fields.get("kind") == "add"):
        names = list((fields.get("participants") or {}).get("departments") or [])
        return [_reason(side, "the plan is made together with the party committee and the government; the item's "
                              "participants name", settings) for side in _missing(names, settings)]
    return []


def activity_guard(activity: Mapping[str, Any], action: str, settings: Mapping[str, Any]) -> list[str]:
    """The roll is taken only with a party and a government department invited; the activity is closed only
    when both attended."""
    departments = [i for i in activity["invitations"] if i["kind"] == "department"]
    if action == "attend":
        return [_reason(side, "activities are held together with the party committee and the government; "
                              "the invitations name", settings)
                for side in _missing([i["name"] for i in departments], settings)]
    if action == "close":
        return [_reason(side, "an activity held together with the party committee and the government closes when "
                              "both took part; attendance shows", settings)
                for side in _missing([i["name"] for i in departments if i["attended"]], settings)]
    return []


# ---------------------------------------------------------------------------------------------
# The year's counts against the targets


def year_bounds(config: Mapping[str, Any], year: int) -> tuple[int, int]:
    zone = ZoneInfo(config.get("TIMEZONE") or "Asia/Shanghai")
    return (int(dt.datetime(year, 1, 1, tzinfo=zone).timestamp() * 1000),
            int(dt.datetime(year + 1, 1, 1, tzinfo=zone).timestamp() * 1000))


def this_year(config: Mapping[str, Any]) -> int:
    return dt.datetime.now(ZoneInfo(config.get("TIMEZONE") or "Asia/Shanghai")).year


def report(session: Session, config: Mapping[str, Any], settings: Mapping[str, Any], year: int) -> dict[str, Any]:
    """For ``year``, counted from the database: plan items made together, activities held together (closed that
    year, a party and a government department attending), and results adopted (a topic of those items or
    activities handled — 办理实施 — or later); each against its target."""
    plan = session.execute(select(Plan).where(Plan.year == year).options(selectinload(Plan.items))).scalar_one_or_none()
    items = [item.as_dict() for item in plan.items] if plan else []
    planned = [item for item in items if together(item["participants"], settings)]
    start, end = year_bounds(config, year)
    closed = session.execute(select(Activity).where(Activity.status == "closed", Activity.closed_ms >= start,
                                                    Activity.closed_ms < end)
                             .options(selectinload(Activity.invitations), selectinload(Activity.topics))
                             .order_by(Activity.closed_ms)).scalars().all()
    held = [a for a in closed if not _missing([i.name for i in a.invitations if i.kind == "department" and i.attended],
                                              settings)]
    uids = sorted({item["topic_uid"] for item in planned} | {t.topic_uid for a in held for t in a.topics})
    adopted = session.execute(select(Topic.uid, Topic.title, Topic.stage).where(Topic.uid.in_(uids),
                                                                               Topic.stage.in_(ADOPTED))
                              .order_by(Topic.uid)).all() if uids else []
    counts = {"topics": len(planned), "activities": len(held), "adopted_results": len(adopted)}
    targets = settings["targets"]
    return {
        "year": year,
        "plan": None if plan is None else {"status": plan.status, "items": len(items)},
        "rows": [{"key": key, "count": counts[key], "target": targets[key], "met": counts[key] >= targets[key],
                  "short": max(0, targets[key] - counts[key])} for key in TARGETS],
        "topics": [{"topic_uid": i["topic_uid"], "title": i["topic_title"], "form": i["form"],
                    "departments": i["participants"]["departments"]} for i in planned],
        "activities": [{"uid": a.uid, "title": a.title, "closed_ms": a.closed_ms} for a in held],
        "adopted_results": [{"topic_uid": uid, "title": title, "stage": stage} for uid, title, stage in adopted],
    }
