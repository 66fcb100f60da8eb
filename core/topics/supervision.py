"""Supervision of due dates (督办): due dates counted on the node's working calendar, overdue topics marked.

A due date is the end of a day (23:59:59.999 in the node's ``TIMEZONE``): a date, or a number of
working days from today on the node's calendar (``[calendar]`` in node.toml: holidays, 调休
workdays, weekend). A periodic task marks every topic held here whose due date has passed, records
the fact on the topic and tells the office; a topic closed or given a later due date is cleared.
See docs/supervision.md.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
from typing import Any, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from shangliang.core.calendar import WorkingCalendar
from shangliang.core.clock import datetime_of, now_ms as _now_ms
from shangliang.core.errors import InputError
from shangliang.core.i18n import N_
from shangliang.core.notifications import notify

from .models import Assignment, Topic

MAX_WORKING_DAYS = 365
NOTIFY_ROLE = "office"  # the committee office's staff (Role.OFFICE)
FORMATS = "YYYY-MM-DD, +N or Nwd (N working days, 1 to 365)"

_DATE = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})$")
_WORKING_DAYS = re.compile(r"^(?:\+\s*([0-9]{1,9})|([0-9]{1,9})\s*wd)$", re.IGNORECASE)
_END_OF_DAY = dt.time(23, 59, 59, 999000)
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def _zone(config: Mapping[str, Any]) -> ZoneInfo:
    name = config.get("TIMEZONE") or "Asia/Shanghai"
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise InputError(N_("unknown time zone %(name)s (setting: timezone)", name=repr(str(name)[:60]))) from None


def today(config: Mapping[str, Any], now_ms: int | None = None) -> dt.date:
    """The date at ``now_ms`` (default: now) in the node's time zone."""
    now = _now_ms() if now_ms is None else now_ms
    return dt.datetime.fromtimestamp(now / 1000, _zone(config)).date()


def end_of_day_ms(config: Mapping[str, Any], day: dt.date) -> int:
    """23:59:59.999 of ``day`` in the node's time zone, in epoch milliseconds."""
    moment = dt.datetime.combine(day, _END_OF_DAY, tzinfo=_zone(config))
    return (moment - _EPOCH) // dt.timedelta(milliseconds=1)


def due_date(config: Mapping[str, Any], due_ms: int) -> dt.date:
    """The day (in the node's time zone) a due date falls on; the calendar's last day for one beyond it
    (a neighbour may send any moment the protocol allows)."""
    moment = datetime_of(due_ms, _zone(config))
    if moment is None:
        return dt.date.max if due_ms > 0 else dt.date.min
    return moment.date()


def due_in_working_days(config: Mapping[str, Any], days: int, now_ms: int | None = None) -> int:
    """The end of the day ``days`` working days after today (today does not count), in epoch ms."""
    if not isinstance(days, int) or isinstance(days, bool):
        raise InputError(N_("the number of working days must be a whole number"))
    if days < 1:
        raise InputError(N_("a due date is at least 1 working day away, not %(days)s", days=days))
    if days > MAX_WORKING_DAYS:
        raise InputError(N_("a due date is at most %(max_working_days)s working days away, not %(days)s",
                            max_working_days=MAX_WORKING_DAYS, days=days))
    day = WorkingCalendar.from_config(config).add_working_days(today(config, now_ms), days)
    return end_of_day_ms(config, day)


def parse_due(text: str, config: Mapping[str, Any], now_ms: int | None = None) -> int:
    """A due date as a person writes it, in epoch ms at the end of its day in the node's time zone.

    ``YYYY-MM-DD`` (today or later), ``+N`` or ``Nwd`` (N working days from today on the node's
    calendar, 1 ≤ N ≤ 365). Full-width characters (＋５, ２０２６－１０－０９) are read as their ASCII forms.
    """
    if not isinstance(text, str):
        raise InputError(N_("a due date must be text: %(formats)s", formats=FORMATS))
    value = unicodedata.normalize("NFKC", text).strip()
    if not value:
        raise InputError(N_("the due date is empty; give %(formats)s", formats=FORMATS))
    now = _now_ms() if now_ms is None else now_ms
    match = _WORKING_DAYS.fullmatch(value)
    if match:
        return due_in_working_days(config, int(match.group(1) or match.group(2)), now)
    if _DATE.fullmatch(value):
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            raise InputError(N_("due date %(text)s is not a calendar date", text=repr(text[:40]))) from None
        current = today(config, now)
        if day < current:
            raise InputError(N_("due date %(isoformat)s has passed (today is %(isoformat2)s)",
                                isoformat=day.isoformat(), isoformat2=current.isoformat()))
        return end_of_day_ms(config, day)
    raise InputError(N_("due date %(text)s is not understood; give %(formats)s", text=repr(text[:40]), formats=FORMATS))


def mark_overdue(session: Session, config: Mapping[str, Any], now_ms: int | None = None,
                 pm: Any = None) -> list[Topic]:
    """Mark the topics held here whose due date has passed; clear those closed or now due later.

    Each change is recorded as a topic event by ``system``; each newly overdue topic is notified to the
    office (role ``office``, source ``topics``). Returns the topics newly marked; a second run at the
    same time marks nothing. The caller commits. Each newly overdue topic is also handed to the
    ``item_overdue`` hook of ``pm`` (default: the app's plugin manager) in this transaction.
    """
    node_id = config["NODE_ID"]
    now = _now_ms() if now_ms is None else now_ms

    # FOR UPDATE SKIP LOCKED (PostgreSQL; ignored by SQLite): two workers never mark one topic twice.
    overdue = session.execute(
        select(Topic)
        .where(Topic.holder == node_id, Topic.stage != "closed", Topic.due_ms.is_not(None),
               Topic.due_ms < now, Topic.overdue.is_(False))
        .order_by(Topic.due_ms, Topic.id)
        .with_for_update(skip_locked=True)
    ).scalars().all()
    for topic in overdue:
        day = due_date(config, topic.due_ms).isoformat()
        topic.overdue = True
        topic.record("overdue", "system", node_id, now, f"due {day} passed")
        notify(session, subject=_subject(config, topic, day), body=_body(config, topic, day), role=NOTIFY_ROLE,
               source="topics")
        if pm is None:
            from shangliang.core.plugins import get_plugin_manager

            pm = get_plugin_manager()
        pm.hook.item_overdue(session=session, config=config, item={
            "kind": "topic", "ref": topic.uid, "title": topic.title, "due_ms": topic.due_ms, "unit": None,
            "areas": json.loads(topic.areas or "[]")})

    cleared = session.execute(
        select(Topic)
        .where(Topic.overdue.is_(True),
               or_(Topic.stage == "closed", Topic.due_ms.is_(None), Topic.due_ms >= now, Topic.holder != node_id))
        .order_by(Topic.id)
        .with_for_update(skip_locked=True)
    ).scalars().all()
    for topic in cleared:
        topic.overdue = False
        if topic.stage == "closed":
            note = "closed"
        elif topic.holder != node_id:
            note = f"held by {topic.holder}"
        elif topic.due_ms is None:
            note = "no due date"
        else:
            note = f"due {due_date(config, topic.due_ms).isoformat()} not passed"
        topic.record("overdue_cleared", "system", node_id, now, note)

    session.flush()
    mark_overdue_assignments(session, config, now, pm)
    return list(overdue)


# ---------------------------------------------------------------------------------------------
# Implementation: a unit's assignment past its deadline without an accepted final report


def mark_overdue_assignments(session: Session, config: Mapping[str, Any], now_ms: int | None = None,
                             pm: Any = None) -> list[Assignment]:
    """Mark the assignments of topics held here whose deadline has passed and whose final report is not
    accepted; clear those whose final report was accepted since.

    Each change is a topic event by ``system``; each newly overdue assignment is notified to the office, to
    the unit's contact users and to hook ``item_overdue`` (kind ``implementation``), in the caller's transaction. Returns those newly
    marked; a second run at the same time marks nothing.
    """
    node_id = config["NODE_ID"]
    now = _now_ms() if now_ms is None else now_ms
    overdue = session.execute(
        select(Assignment).join(Topic, Assignment.topic_id == Topic.id)
        .where(Topic.holder == node_id, Topic.stage != "closed", Assignment.state != "accepted",
               Assignment.due_ms < now, Assignment.overdue.is_(False))
        .order_by(Assignment.due_ms, Assignment.id)
        .with_for_update(skip_locked=True, of=Assignment)
    ).scalars().all()
    if overdue and pm is None:
        from shangliang.core.plugins import get_plugin_manager

        pm = get_plugin_manager()
    for assignment in overdue:
        topic, unit = assignment.topic, assignment.unit.name
        day = due_date(config, assignment.due_ms).isoformat()
        assignment.overdue = True
        topic.record("assignment_overdue", "system", node_id, now, f"{unit}: due {day} passed")
        subject, body = _unit_subject(config, topic, unit), _unit_body(config, topic, unit, day)
        notify(session, subject=subject, body=body, role=NOTIFY_ROLE, source="topics")
        for contact in assignment.unit.contacts:  # and the unit's own contact users (督办)
            notify(session, subject=subject, body=body, user_id=contact.user_id, source="topics")
        pm.hook.item_overdue(session=session, item={
            "kind": "implementation", "ref": topic.uid, "title": topic.title, "due_ms": assignment.due_ms,
            "unit": unit, "areas": json.loads(topic.areas)}, config=config)

    cleared = session.execute(
        select(Assignment).where(Assignment.overdue.is_(True), Assignment.state == "accepted")
        .order_by(Assignment.id).with_for_update(skip_locked=True)
    ).scalars().all()
    for assignment in cleared:
        assignment.overdue = False
        assignment.topic.record("assignment_overdue_cleared", "system", node_id, now,
                                f"{assignment.unit.name}: final report accepted")
    session.flush()
    return list(overdue)


def as_of_ms(config: Mapping[str, Any], day: str, now_ms: int | None = None) -> int:
    """The moment a marking "as of" ``day`` (YYYY-MM-DD, today or later) runs at: now for today, the start of
    that day (in the node's time zone) for a later one."""
    try:
        date = dt.date.fromisoformat(str(day).strip())
    except ValueError:
        raise InputError(N_("%(day)s is not a date (YYYY-MM-DD)", day=repr(str(day)[:40])), field="as_of") from None
    now = _now_ms() if now_ms is None else now_ms
    current = today(config, now)
    if date < current:
        raise InputError(N_("%(isoformat)s has passed (today is %(isoformat2)s): supervision runs as of today or a "
                            "later day", isoformat=date.isoformat(), isoformat2=current.isoformat()), field="as_of")
    if date == current:
        return now
    return end_of_day_ms(config, date - dt.timedelta(days=1)) + 1


def _unit_subject(config: Mapping[str, Any], topic: Topic, unit: str) -> str:
    if _chinese(config):
        return f"承办逾期:{unit} · {topic.title}"
    return f"Implementation overdue: {unit} · {topic.title}"


def _unit_body(config: Mapping[str, Any], topic: Topic, unit: str, day: str) -> str:
    if _chinese(config):
        return f"议题 {topic.uid}「{topic.title}」的承办单位 {unit} 办理期限 {day} 已过,最终办理报告尚未通过审核。"
    return f"{unit} was due to report on topic {topic.uid} “{topic.title}” by {day}; its final report is not accepted."


def _chinese(config: Mapping[str, Any]) -> bool:
    return str(config.get("LOCALE") or "zh_CN").startswith("zh")


def _subject(config: Mapping[str, Any], topic: Topic, day: str) -> str:
    if _chinese(config):
        return f"议题逾期:{topic.title}"
    return f"Topic overdue: {topic.title}"


def _body(config: Mapping[str, Any], topic: Topic, day: str) -> str:
    if _chinese(config):
        return f"议题 {topic.uid}「{topic.title}」办理期限 {day} 已过,当前阶段:{topic.stage}。"
    return f"Topic {topic.uid} “{topic.title}” was due on {day} and is still {topic.stage}."
