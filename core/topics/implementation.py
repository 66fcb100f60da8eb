"""Implementation of a topic's result (办理实施): the rules.

At the ``implementing`` stage the office assigns exactly one lead unit (牵头单位) and any participating
units (参加单位) from the node's handling units, each with a deadline in working days on the node's
calendar; it records the instructions of party and government leaders (批示). A unit's contact user
files progress and final reports for the unit's own assignment only; the office accepts or returns each
(a return says why). The topic moves on to ``feedback`` only once the lead unit's final report is
accepted (``services.advance``), and its result names the assigned units. Accepted reports travel back
to where the topic was raised as ``topic.progress`` (the stage unchanged, the report as its summary).
See docs/implementation.md.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from shangliang.core.context import NodeContext
from shangliang.core.errors import Conflict, InputError, NotFound
from shangliang.core.i18n import N_
from shangliang.core.units import services as units
from shangliang.core.work import count_and_first

from . import services
from .models import REPORT_KINDS, ROLES, Assignment, Instruction, Report, Topic
from .supervision import due_date, due_in_working_days, parse_due, today

LEADER = 200
INSTRUCTION = 5_000
REPORT = 10_000
COMMENT = 2_000
#: Stages at which leaders' instructions are recorded (they may come while the units work or at feedback).
INSTRUCTED_AT = ("implementing", "feedback")


class NotAssigned(InputError):
    """A report from a user who acts for no unit, or for a unit not assigned to the topic: nothing is stored."""


def _at_implementing(session: Session, node: NodeContext, uid: str, stages: Iterable[str] = ("implementing",)) -> Topic:
    topic = services.get_topic(session, uid, lock=True)
    services._held_here(node, topic)
    services._accepted(topic)
    stages = tuple(stages)
    if topic.stage not in stages:
        raise Conflict(N_("topic %(uid)s is %(stage)s: this is done at the stage %(stages)s", uid=topic.uid,
                          stage=topic.stage, stages=' or '.join(stages)))
    return topic


def assignments(session: Session, topic: Topic, unit_id: int | None = None) -> list[Assignment]:
    """The topic's assignments, the lead unit first (only ``unit_id``'s when given)."""
    query = select(Assignment).where(Assignment.topic_id == topic.id)
    if unit_id is not None:
        query = query.where(Assignment.unit_id == unit_id)
    return list(session.execute(query.order_by(Assignment.role != "lead", Assignment.id)).scalars())


def _due(node: NodeContext, working_days: Any, due: Any, now: int) -> tuple[int, int | None]:
    """The deadline's end in epoch ms, and its number of working days when given so."""
    given_days = working_days is not None
    given_due = isinstance(due, str) and due.strip() != ""
    if given_days == given_due:
        raise InputError(N_("give the deadline either as working days or as a due date (YYYY-MM-DD, +N)"),
                         field="working_days")
    if given_days:
        return due_in_working_days(node.config, working_days, now), working_days
    return parse_due(due, node.config, now), None


def assign(session: Session, node: NodeContext, uid: str, items: Iterable[Any], actor: str) -> list[Assignment]:
    """Assign units to implement the topic (each item: ``unit``, ``role``, ``working_days`` or ``due``).

    All or nothing. Afterwards the topic has exactly one lead unit; a unit is assigned once; a unit
    unknown or inactive here, a deadline in the past or not understood is refused by name.
    """
    topic = _at_implementing(session, node, uid)
    items = list(items)
    if not items:
        raise InputError(N_("no unit to assign"), field="assignments")
    existing = assignments(session, topic)
    taken = {a.unit_id: a for a in existing}
    leads = sum(1 for a in existing if a.role == "lead")
    now = node.now_ms()
    made: list[Assignment] = []
    for item in items:
        role = getattr(item, "role", None)
        if role not in ROLES:
            raise InputError(N_("unknown role %(role)s; roles: %(roles)s", role=repr(str(role)[:40]),
                                roles=', '.join(ROLES)), field="role")
        (unit,) = units.resolve(session, [getattr(item, "unit", "")], field="unit")
        if unit.id in taken:
            raise InputError(N_("%(name)s is assigned to topic %(uid)s already (once per unit)", name=unit.name,
                                uid=topic.uid), field="unit")
        due_ms, days = _due(node, getattr(item, "working_days", None), getattr(item, "due", None), now)
        if due_ms <= now:
            raise InputError(N_("the deadline has passed"), field="due")
        if role == "lead":
            leads += 1
        assignment = Assignment(topic_id=topic.id, unit_id=unit.id, role=role, working_days=days, due_ms=due_ms,
                                state="assigned", overdue=False, assigned_ms=now, assigned_by=actor)
        assignment.topic, assignment.unit = topic, unit
        taken[unit.id] = assignment
        made.append(assignment)
    if leads != 1:
        raise InputError(N_("a topic's implementation has exactly one lead unit (牵头单位), not %(leads)s",
                            leads=leads), field="role")
    for assignment in made:
        session.add(assignment)
        day = due_date(node.config, assignment.due_ms).isoformat()
        topic.record("assigned", actor, node.id, now, f"{assignment.role} {assignment.unit.name}, due {day}")
    session.flush()
    return made


def instruct(session: Session, node: NodeContext, uid: str, leader: str, body: str, date: str | None,
             actor: str) -> Instruction:
    """Record a leader's instruction (批示) on the topic's implementation; ``date`` (YYYY-MM-DD, default today)
    may not be in the future."""
    topic = _at_implementing(session, node, uid, INSTRUCTED_AT)
    leader = services.text(leader, "leader", LEADER)
    body = services.text(body, "instruction", INSTRUCTION)
    current = today(node.config, node.now_ms())
    if date is None or not str(date).strip():
        day = current
    else:
        try:
            day = dt.date.fromisoformat(str(date).strip())
        except ValueError:
            raise InputError(N_("date %(date)s is not a date (YYYY-MM-DD)",
                                date=repr(str(date)[:40])), field="date") from None
        if day > current:
            raise InputError(N_("the instruction's date %(isoformat)s is in the future (today is %(isoformat2)s)",
                                isoformat=day.isoformat(), isoformat2=current.isoformat()), field="date")
    now = node.now_ms()
    instruction = Instruction(topic_id=topic.id, leader=leader, body=body, given_on=day.isoformat(), recorded_ms=now,
                              recorded_by=actor)
    session.add(instruction)
    topic.record("instruction", actor, node.id, now, f"{leader} ({day.isoformat()}): {body}"[:2000])
    session.flush()
    return instruction


def file_report(session: Session, node: NodeContext, uid: str, user_id: int | None, kind: str, body: str,
                actor: str) -> Report:
    """A unit's contact user files a progress or final report on the unit's own assignment."""
    unit = units.unit_of_user(session, user_id)
    if unit is None:
        raise NotAssigned(N_("you act for no handling unit: only a unit's contact user files its reports"), field="unit")
    topic = _at_implementing(session, node, uid)
    if kind not in REPORT_KINDS:
        raise InputError(N_("unknown report kind %(kind)s; kinds: %(report_kinds)s", kind=repr(str(kind)[:40]),
                            report_kinds=', '.join(REPORT_KINDS)), field="kind")
    body = services.text(body, "report", REPORT)
    found = assignments(session, topic, unit.id)
    if not found:
        raise NotAssigned(N_("%(name)s is not assigned to topic %(uid)s: a unit reports on its own assignment only",
                             name=unit.name, uid=topic.uid), field="unit")
    assignment = found[0]
    if assignment.state == "accepted":
        raise Conflict(N_("the final report of %(name)s on topic %(uid)s was accepted already", name=unit.name,
                          uid=topic.uid))
    if kind == "final" and assignment.state == "final_reported":
        raise Conflict(N_("the final report of %(name)s on topic %(uid)s awaits the office's review", name=unit.name,
                          uid=topic.uid))
    now = node.now_ms()
    report = Report(kind=kind, body=body, submitted_ms=now, submitted_by=actor, review="pending")
    assignment.reports.append(report)
    if kind == "final":
        assignment.state = "final_reported"
    elif assignment.state == "assigned":
        assignment.state = "reporting"
    topic.record("report", actor, node.id, now, f"{kind} {unit.name}")
    session.flush()
    return report


def review_report(session: Session, node: NodeContext, uid: str, report_id: int, decision: str, comment: str | None,
                  actor: str) -> Report:
    """The office accepts or returns (with the reason) a unit's report; an accepted report travels back to
    where the topic was raised, and an accepted final report completes the unit's assignment."""
    topic = _at_implementing(session, node, uid)
    report = session.get(Report, report_id) if isinstance(report_id, int) else None
    if report is None or report.assignment.topic_id != topic.id:
        raise NotFound(N_("topic %(uid)s has no report %(report_id)s", uid=topic.uid, report_id=str(report_id)[:20]))
    if decision not in ("accept", "return"):
        raise InputError(N_("unknown decision %(decision)s; decisions: accept, return",
                            decision=repr(str(decision)[:40])), field="decision")
    comment = services.text(comment, "comment", COMMENT, required=decision == "return")
    if report.review != "pending":
        raise Conflict(N_("report %(id)s was %(review)s already", id=report.id, review=report.review))
    now = node.now_ms()
    assignment = report.assignment
    report.review = "accepted" if decision == "accept" else "returned"
    report.comment, report.reviewed_ms, report.reviewed_by = comment or None, now, actor
    if report.kind == "final":
        assignment.state = "accepted" if decision == "accept" else "reporting"
        if decision == "accept":
            assignment.overdue = False
    topic.record("report_accepted" if decision == "accept" else "report_returned", actor, node.id, now,
                 f"{report.kind} {assignment.unit.name}" + (f": {comment}" if comment else ""))
    if report.kind == "final" and decision == "accept" and assignment.role == "lead":
        # the record the six-step rule (plugins/province/six_step) asks of the implementing stage
        topic.record("final_report_accepted", actor, node.id, now, assignment.unit.name)
    session.flush()
    if decision == "accept":
        services.answer(session, node, topic, "topic.progress", {
            "stage": topic.stage, "summary": summary(node, report),
            "implementation": {"unit": assignment.unit.name, "role": assignment.role, "kind": report.kind,
                               "body": report.body}})
    return report


def summary(node: NodeContext, report: Report) -> str:
    """The report as the topic's history shows it where the topic was raised."""
    assignment = report.assignment
    chinese = str(node.config.get("LOCALE") or "zh_CN").startswith("zh")
    if chinese:
        role = "牵头单位" if assignment.role == "lead" else "参加单位"
        kind = "最终办理报告" if report.kind == "final" else "办理进展报告"
        text = f"{kind}({role} {assignment.unit.name}):{report.body}"
    else:
        role = "lead unit" if assignment.role == "lead" else "participating unit"
        text = f"{report.kind} implementation report ({role} {assignment.unit.name}): {report.body}"
    return text[:services.limits.PROGRESS_SUMMARY]


def state(session: Session, node: NodeContext, uid: str, scope: services.Scope = services.EVERYTHING) -> dict[str, Any]:
    """The topic's implementation: assignments with their reports (a handling unit's user, whose ``scope``
    admits only topics assigned to the unit, sees its unit's only), the leaders' instructions, and whether the
    topic may move on to feedback."""
    topic = services.get_topic(session, uid, scope=scope)
    rows = assignments(session, topic, scope.unit_id if scope.unit_only else None)
    instructions = session.execute(select(Instruction).where(Instruction.topic_id == topic.id)
                                   .order_by(Instruction.id)).scalars()
    pending = services.implementation_pending(session, topic)
    return {"topic": topic.uid, "title": topic.title, "stage": topic.stage, "holder": topic.holder,
            "assignments": [a.as_dict() for a in rows], "instructions": [i.as_dict() for i in instructions],
            "waiting": pending, "ready_for_feedback": topic.stage == "implementing" and pending is None}


def list_assignments(session: Session, scope: services.Scope = services.EVERYTHING) -> list[Assignment]:
    """Assignments on this node, overdue first then by deadline (a unit's ``scope``: its unit's only)."""
    query = select(Assignment)
    if scope.unit_only:
        query = query.where(Assignment.unit_id == scope.unit_id)
    return list(session.execute(query.order_by(Assignment.overdue.desc(), Assignment.due_ms, Assignment.id)).scalars())


def reports_to_review(session: Session) -> tuple[int, list[Report]]:
    """Handling units' reports the office has not yet accepted or returned, oldest first (the workbench)."""
    return count_and_first(session, select(Report).where(Report.review == "pending").order_by(Report.submitted_ms, Report.id))


def open_assignments(session: Session, scope: services.Scope) -> tuple[int, list[Assignment]]:
    """What a unit still has to do (its final report not yet accepted), overdue first then by deadline."""
    if not scope.unit_only or scope.unit_id is None:
        return 0, []
    return count_and_first(session, select(Assignment).where(Assignment.unit_id == scope.unit_id,
                                                             Assignment.state != "accepted")
                           .order_by(Assignment.overdue.desc(), Assignment.due_ms, Assignment.id))
