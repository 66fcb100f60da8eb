"""The rules of 季协商座谈会: the settings, the quarter's reminder and warning, what a forum activity needs
(a planned topic or one raised by the party committee or the government; a special committee's research in
time) and what the year's plan needs (a forum in each quarter)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shangliang.core.activities.models import Activity
from shangliang.core.i18n import N_
from shangliang.core.plans.forms import PlanCheck
from shangliang.core.plans.models import Plan
from shangliang.core.topics.models import RAISED_BY_KINDS, Topic

NAME = "quarterly_forum"
SETTING = f"plugins.{NAME}.research_lead_days"
#: The consultation form (core/plans/forms.py) this practice holds its rules on.
FORM = "forum"
DAY_MS = 86_400_000

CONFIG_DEFAULTS: dict[str, Any] = {
    # Days of research by a special committee (专门委员会) before the forum: "会前……深入开展调研".
    "research_lead_days": 20,
    # The special committees whose research counts; empty: any name with 委员会 or 专委会 in it.
    "special_committees": [],
    # Who may raise a forum topic outside the year's published plan: "也可由县委、政府……提出协商议题".
    "outside_plan_raised_by": ["party_committee", "government"],
    # Whether a quarter without a forum in the plan refuses the plan's publication.
    "plan_check_blocks": False,
}


def setting(name: str) -> str:
    return f"plugins.{NAME}.{name}"


def check_lead_days(value: Any) -> list[str]:
    # bool is an int in Python; `true` in node.toml is not a number of days.
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        return [f"research lead time {value!r} must be a positive whole number of days (setting: {SETTING})"]
    return []


def check_settings(values: Mapping[str, Any]) -> list[str]:
    """Problems with this practice's settings, one line each, naming the setting."""
    problems = check_lead_days(values["research_lead_days"])
    committees = values["special_committees"]
    if not isinstance(committees, list) or not all(isinstance(c, str) and c.strip() for c in committees):
        problems.append(f"special committees must be a list of names, e.g. [\"提案委员会\"] "
                        f"(setting: {setting('special_committees')})")
    kinds = values["outside_plan_raised_by"]
    if not isinstance(kinds, list) or not all(isinstance(k, str) for k in kinds):
        problems.append(f"must be a list of who raised a topic, from {', '.join(RAISED_BY_KINDS)} "
                        f"(setting: {setting('outside_plan_raised_by')})")
    else:
        unknown = [k for k in kinds if k not in RAISED_BY_KINDS]
        if unknown:
            problems.append(f"unknown kind(s) {', '.join(map(repr, unknown))}; kinds: {', '.join(RAISED_BY_KINDS)} "
                            f"(setting: {setting('outside_plan_raised_by')})")
    if not isinstance(values["plan_check_blocks"], bool):
        problems.append(f"must be true or false (setting: {setting('plan_check_blocks')})")
    return problems


def settings(config: Mapping[str, Any]) -> dict[str, Any]:
    """This practice's settings in a node's configuration; the defaults where it is not enabled."""
    return {**CONFIG_DEFAULTS, **(config.get("PLUGIN_SETTINGS", {}).get(NAME) or {})}


# ---------------------------------------------------------------------------------------------
# Quarters


def quarter_bounds(day: dt.date) -> tuple[int, int, dt.date, dt.date]:
    """Year, quarter number, first and last day of the quarter holding ``day``."""
    quarter = (day.month - 1) // 3 + 1
    first = dt.date(day.year, 3 * quarter - 2, 1)
    next_first = dt.date(day.year + 1, 1, 1) if quarter == 4 else dt.date(day.year, 3 * quarter + 1, 1)
    return day.year, quarter, first, next_first - dt.timedelta(days=1)


def _zone(config: Mapping[str, Any]) -> ZoneInfo:
    return ZoneInfo(config.get("TIMEZONE") or "Asia/Shanghai")


def _ms(day: dt.date, config: Mapping[str, Any]) -> int:
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=_zone(config)).timestamp() * 1000)


def local_day(ms: int, config: Mapping[str, Any]) -> dt.date:
    return dt.datetime.fromtimestamp(ms / 1000, _zone(config)).date()


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


def forums_in_quarter(session: Session, day: dt.date, config: Mapping[str, Any]) -> int:
    """Activities of the forum form, not cancelled, starting in the quarter that holds ``day``."""
    _year, _quarter, first, last = quarter_bounds(day)
    return session.scalar(select(func.count()).select_from(Activity).where(
        Activity.form == FORM, Activity.status != "cancelled",
        Activity.starts_ms >= _ms(first, config), Activity.starts_ms < _ms(last + dt.timedelta(days=1), config))) or 0


def warning_text(day: dt.date, lead_days: int) -> tuple[str, str]:
    """Subject and body of the warning sent when the quarter has no forum planned or held."""
    year, quarter, _first, last = quarter_bounds(day)
    subject = f"Quarterly forum (季协商座谈会) Q{quarter} {year}: no forum planned or held"
    body = "\n".join([
        f"No activity of the forum form (季度协商座谈会) is planned or held in Q{quarter} {year}, which ends "
        f"on {last} (seed 001 §13: one forum a quarter).",
        f"Plan it on a topic of the published annual plan, or one raised by the party committee or the "
        f"government, after a special committee's research at least {lead_days} days before it.",
    ])
    return subject, body


# ---------------------------------------------------------------------------------------------
# What a forum activity needs


def is_special_committee(who: str, committees: Sequence[str]) -> bool:
    """Whether a research record's ``who`` names a special committee (专门委员会): one of ``committees``
    when some are configured; otherwise a name with 委员会 (提案委员会, 经济委员会…) or 专委会 in it."""
    if committees:
        return any(name.strip() in who for name in committees)
    return "委员会" in who or "专委会" in who


def topic_reasons(session: Session, activity: Mapping[str, Any], config: Mapping[str, Any]) -> list[str]:
    """At ``create``: each topic is an item of the published plan of the year the forum starts in, or was
    raised by one of ``outside_plan_raised_by`` (the party committee, the government)."""
    values = settings(config)
    year = local_day(activity["starts_ms"], config).year
    plan = session.execute(select(Plan).where(Plan.year == year)).scalar_one_or_none()
    planned = {item.topic_uid for item in plan.items} if plan is not None and plan.status == "published" else set()
    allowed = set(values["outside_plan_raised_by"])
    raised = dict(session.execute(select(Topic.uid, Topic.raised_by_kind)
                                  .where(Topic.uid.in_(activity["topics"]))).all()) if activity["topics"] else {}
    wrong = [uid for uid in activity["topics"] if uid not in planned and raised.get(uid) not in allowed]
    if not wrong:
        return []
    where = (f"the {year} plan is {plan.status}, not published" if plan is not None and plan.status != "published"
             else f"there is no {year} plan" if plan is None else f"not items of the published {year} plan")
    return [f"quarterly forum (季协商座谈会): a forum consults a topic of the year's published consultation plan, "
            f"or one raised by {', '.join(sorted(allowed)) or 'nobody else'} (setting: "
            f"{setting('outside_plan_raised_by')}); topic(s) {', '.join(wrong)}: {where} and raised by "
            f"{', '.join(sorted({raised.get(uid) or 'unknown' for uid in wrong}))}"]


def research_reasons(activity: Mapping[str, Any], action: str, config: Mapping[str, Any]) -> list[str]:
    """Before ``attend`` or ``close``: a special committee's research dated ``research_lead_days`` or more
    days before the day the forum starts."""
    values = settings(config)
    lead = values["research_lead_days"]
    by = local_day(activity["starts_ms"], config) - dt.timedelta(days=lead)
    found = [r for r in activity.get("research") or () if is_special_committee(r["who"], values["special_committees"])]
    if any(local_day(r["done_ms"], config) <= by for r in found):
        return []
    doing = "attendance is taken" if action == "attend" else "the forum is closed"
    seen = "; ".join(f"{r['who']} on {local_day(r['done_ms'], config)}" for r in found) or "none"
    return [f"quarterly forum (季协商座谈会): research by a special committee (专门委员会) dated on or before {by} "
            f"({lead} days before the forum, setting: {SETTING}) is recorded before {doing}; a special "
            f"committee's research found: {seen}"]


def guard(session_of: Any, activity: Mapping[str, Any], action: str, config: Mapping[str, Any]) -> list[str]:
    """Reasons that refuse ``action`` on a forum activity (``session_of()`` gives the change's session)."""
    if activity.get("form") != FORM:
        return []
    if action == "create":
        return topic_reasons(session_of(), activity, config)
    if action in ("attend", "close"):
        return research_reasons(activity, action, config)
    return []


# ---------------------------------------------------------------------------------------------
# What the year's plan needs


MONTHS = {1: N_("January-March"), 2: N_("April-June"), 3: N_("July-September"), 4: N_("October-December")}


def plan_checks(plan: Mapping[str, Any], config: Mapping[str, Any]) -> list[PlanCheck]:
    """One check a quarter: the plan has an item of the forum form planned in that quarter's months."""
    blocks = bool(settings(config)["plan_check_blocks"])
    checks = []
    for quarter in (1, 2, 3, 4):
        months = range(3 * quarter - 2, 3 * quarter + 1)
        found: Iterable[Mapping[str, Any]] = [i for i in plan.get("items") or ()
                                              if i.get("form") == FORM and i.get("planned_month") in months]
        titles = [i.get("topic_title") or i.get("topic_uid") for i in found]
        checks.append(PlanCheck(
            N_("季协商座谈会 quarterly forum Q%(quarter)s (%(months)s)", quarter=quarter, months=MONTHS[quarter]),
            bool(titles),
            N_("%(count)s planned: %(titles)s", count=len(titles), titles=", ".join(titles)) if titles
            else N_("no forum planned in Q%(quarter)s", quarter=quarter),
            blocks, NAME))
    return checks
