"""Plan services: the rules of a node's annual consultation plan (年度协商计划) — drafting it, its items,
the approval steps taken in order, publication and amendments — and what it shows (checks, progress per
item, topics consulted outside it), for pages, the API and commands alike.

Every function takes a session and the node's context and either returns a value or raises a named error
(``InputError``, ``NotFound``, ``Conflict``); the caller's transaction stores all of a change or none of
it. A change locks the plan's row first (:func:`get_plan` with ``lock``) and decides on what it reads then.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from shangliang.core.context import NodeContext
from shangliang.core.db import after_commit
from shangliang.core.errors import ConfigError, Conflict, InputError, NotFound
from shangliang.core.i18n import N_
from shangliang.core.models import Role
from shangliang.core.pagination import Page, page
from shangliang.core.plugins import flatten
from shangliang.core.topics import services as topics
from shangliang.core.topics.models import STAGES, Topic, TopicEvent
from shangliang.federation.ids import ulid
from sqlalchemy import false, or_, select
from sqlalchemy.orm import Session, selectinload

from .forms import ApprovalStep, PlanCheck, approval_steps, form_of, registry
from .models import (
    AMENDMENT_KINDS,
    DECISIONS,
    PARTICIPANT_KINDS,
    Plan,
    PlanAmendment,
    PlanItem,
    PlanStep,
)
from .schemas import PlanAmendmentIn, PlanIn, PlanItemIn, PlanStepIn

#: Roles that may change plans; every signed-in user may read them.
WRITERS = frozenset({Role.ADMIN.value, Role.OFFICE.value})
FIRST_YEAR, LAST_YEAR = 1949, 2999  # from the CPPCC's founding
TITLE, NAME, REFERENCE, OPINION, REASON, PARTICIPANT = 300, 200, 200, 5000, 2000, 200
PARTICIPANTS = 100  # at most this many of each kind
ITEMS = 500  # at most this many items in a plan
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
#: Stages at and after which a topic counts as consulted; a ``consulted`` event (activities) counts too.
CONSULTED = STAGES[STAGES.index("consulting"):]
IMPLEMENTATION = ("implementing", "feedback", "closed")

text = topics.text


# ---------------------------------------------------------------------------------------------
# Finding plans


def get_plan(session: Session, year: int, lock: bool = False) -> Plan:
    """The plan of ``year``; ``lock`` takes its row (PostgreSQL) so that two changes to it never interleave."""
    if not isinstance(year, int) or not FIRST_YEAR <= year <= LAST_YEAR:  # nor sent to the database: it may not fit
        raise NotFound(N_("no plan for %(year)s on this node: plans are for the years %(first_year)s to %(last_year)s",
                          year=str(year)[:20], first_year=FIRST_YEAR, last_year=LAST_YEAR))
    query = select(Plan).where(Plan.year == year).options(
        selectinload(Plan.items), selectinload(Plan.steps), selectinload(Plan.amendments))
    if lock:
        query = query.with_for_update(of=Plan)
    plan = session.execute(query).scalar_one_or_none()
    if plan is None:
        raise NotFound(N_("no plan for %(year)s on this node", year=year))
    return plan


def list_plans(session: Session, year: int | None = None, limit: int | None = None,
               cursor: str | None = None) -> Page[Plan]:
    """The node's plans, the latest year first; a page of ``limit`` after ``cursor`` (all: None)."""
    query = select(Plan).options(selectinload(Plan.items))
    if year is not None:  # a year no plan can have is not sent to the database (an integer it cannot hold)
        query = query.where(Plan.year == year) if FIRST_YEAR <= year <= LAST_YEAR else query.where(false())
    return page(session, query, [Plan.year], lambda p: [p.year], limit, cursor)


def candidate_topics(session: Session, node: NodeContext, plan: Plan) -> list[dict[str, Any]]:
    """Topics held here, not closed and not in the plan: what an item may name."""
    planned = {item.topic_uid for item in plan.items}
    rows = session.execute(select(Topic.uid, Topic.title, Topic.stage).where(Topic.holder == node.id,
                                                                             Topic.stage != "closed")
                           .order_by(Topic.raised_ms.desc())).all()
    return [{"uid": uid, "title": title, "stage": stage} for uid, title, stage in rows if uid not in planned]


def label(value: Any) -> str:
    """A form's or step's label as text: translated where there is a locale (a page, the API, a command), its
    English msgid where Flask-Babel has none (a task, a service called outside a request)."""
    try:
        return str(value)
    except RuntimeError:  # no request to choose a language from
        return str(getattr(value, "_args", (value,))[0])


def step_dict(step: ApprovalStep) -> dict[str, Any]:
    return {"key": step.key, "label": label(step.label), "body": step.body,
            "reference_required": step.reference_required}


def forms_and_steps(node: NodeContext) -> dict[str, Any]:
    """The consultation forms this node offers and the approval steps its plans take."""
    return {"forms": [{"key": form.key, "label": label(form.label), "description": form.description,
                       "per_year": form.per_year} for form in registry(node.pm).values()],
            "steps": [step_dict(step) for step in approval_steps(node.pm, node.config)]}


# ---------------------------------------------------------------------------------------------
# Drafting


def _year(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not FIRST_YEAR <= value <= LAST_YEAR:
        raise InputError(N_("the year must be a whole number from %(first_year)s to %(last_year)s",
                            first_year=FIRST_YEAR, last_year=LAST_YEAR), field="year")
    return value


def create_plan(session: Session, node: NodeContext, data: PlanIn, actor: str) -> Plan:
    """Draft this node's plan for a year: one plan a year (``Conflict`` when there is one)."""
    year = _year(data.year)
    title = text(data.title, "title", TITLE, required=False) or f"{year}年度政协协商计划"
    if session.execute(select(Plan.id).where(Plan.year == year)).first() is not None:
        raise Conflict(N_("this node already has a plan for %(year)s: one plan a year (amend it, or show it with "
                          "plans show %(year)s)", year=year))
    now = node.now_ms()
    plan = Plan(uid=f"{node.id}:{ulid(now)}", year=year, title=title, status="draft", round=1, created_ms=now,
                updated_ms=now)
    session.add(plan)
    session.flush()
    return plan


def _day(value: str, field: str) -> dt.date:
    if not DATE.fullmatch(value):
        raise InputError(N_("%(field)s %(value)s is not a date written YYYY-MM-DD", field=field,
                            value=repr(value[:20])), field=field)
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InputError(N_("%(field)s %(value)s is not a day of the calendar", field=field,
                            value=value), field=field) from None


def _when(plan: Plan, month: Any, date: Any) -> tuple[int, str | None]:
    """The planned month and date: a month 1-12, or a date in the plan's year (its month then)."""
    date = (date or "").strip() if isinstance(date, str) else date
    if date:
        if not isinstance(date, str):
            raise InputError(N_("planned_date must be text, YYYY-MM-DD"), field="planned_date")
        day = _day(date, "planned_date")
        if day.year != plan.year:
            raise InputError(N_("the planned date %(date)s is not in %(year)s, the plan's year", date=date,
                                year=plan.year), field="planned_date")
        if month not in (None, "", day.month):
            raise InputError(N_("planned month %(month)s and planned date %(date)s disagree: give one of them",
                                month=month, date=date),
                             field="planned_month")
        return day.month, date
    if month in (None, ""):
        raise InputError(N_("give a planned month (1 to 12) or a planned date (YYYY-MM-DD)"), field="planned_month")
    if isinstance(month, bool) or not isinstance(month, int) or not 1 <= month <= 12:
        raise InputError(N_("the planned month must be a whole number from 1 to 12"), field="planned_month")
    return month, None


def _participants(value: Any) -> dict[str, list[str]]:
    data = value.model_dump() if hasattr(value, "model_dump") else dict(value or {})
    found: dict[str, list[str]] = {}
    for kind in PARTICIPANT_KINDS:
        names = data.get(kind) or []
        if len(names) > PARTICIPANTS:
            raise InputError(N_("participants %(kind)s holds %(count)s names; at most %(participants)s", kind=kind,
                                count=len(names), participants=PARTICIPANTS),
                             field="participants")
        cleaned = [text(name, f"a name in participants {kind}", PARTICIPANT) for name in names]
        found[kind] = list(dict.fromkeys(cleaned))
    return found


def _item_fields(session: Session, node: NodeContext, plan: Plan, data: PlanItemIn) -> dict[str, Any]:
    """An item's fields checked, its topic found (not yet raised when it is new); nothing written."""
    form = form_of(node.pm, data.form).key
    month, date = _when(plan, data.planned_month, data.planned_date)
    lead = text(data.lead, "lead", NAME)
    participants = _participants(data.participants)
    if len(plan.items) >= ITEMS:
        raise InputError(N_("plan %(year)s already has %(items)s items, the most a plan may have", year=plan.year,
                            items=ITEMS))
    if (data.topic_uid is None) == (data.topic is None):
        raise InputError(N_("give either topic_uid (a topic held here) or topic (a new topic raised from the plan)"),
                         field="topic_uid")
    topic = None
    if data.topic_uid is not None:
        uid = text(data.topic_uid, "topic_uid", 120)
        try:
            topic = topics.get_topic(session, uid, lock=True)
        except NotFound:
            raise InputError(N_("no topic %(uid)s on this node", uid=repr(uid)), field="topic_uid") from None
        if topic.holder != node.id:
            raise InputError(N_("topic %(uid)s is held by %(holder)s, not by this node: a plan holds topics this "
                                "node consults", uid=uid, holder=topic.holder), field="topic_uid")
        if topic.stage == "closed":
            raise InputError(N_("topic %(uid)s is closed", uid=uid), field="topic_uid")
        if any(item.topic_uid == uid for item in plan.items):
            raise Conflict(N_("topic %(uid)s is already in the plan for %(year)s", uid=uid, year=plan.year))
    return {"form": form, "planned_month": month, "planned_date": date, "lead": lead, "participants": participants,
            "topic": topic, "topic_uid": topic.uid if topic else None,
            "new_topic": data.topic.model_dump() if data.topic is not None else None}


def _place_item(session: Session, node: NodeContext, plan: Plan, fields: Mapping[str, Any], new_topic: Any,
                actor: str, by_amendment: bool = False) -> PlanItem:
    """Raise the new topic if there is one, and add the item at the end of the plan."""
    topic = fields["topic"]
    if topic is None:
        topic, _route = topics.raise_topic(session, node, new_topic, actor)
    now = node.now_ms()
    item = PlanItem(topic_uid=topic.uid, topic_title=topic.title, form=fields["form"], month=fields["planned_month"],
                    date=fields["planned_date"], lead=fields["lead"],
                    participants=json.dumps(fields["participants"], ensure_ascii=False),
                    position=max((i.position for i in plan.items), default=0) + 1, added_ms=now,
                    by_amendment=by_amendment)
    plan.items.append(item)
    plan.updated_ms = now
    session.flush()
    return item


def _guard_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if k != "topic"}


def add_item(session: Session, node: NodeContext, year: int, data: PlanItemIn, actor: str) -> PlanItem:
    """Add an item to a draft plan: an existing topic held here, or a topic raised from the plan."""
    plan = get_plan(session, year, lock=True)
    _draft(plan, "items are added")
    fields = _item_fields(session, node, plan, data)
    _guard(node, plan, "add_item", None, _guard_fields(fields))
    return _place_item(session, node, plan, fields, data.topic, actor)


def remove_item(session: Session, node: NodeContext, year: int, item_id: int, actor: str) -> PlanItem:
    """Take an item out of a draft plan (the topic stays)."""
    plan = get_plan(session, year, lock=True)
    _draft(plan, "items are removed")
    item = _item(plan, item_id)
    plan.items.remove(item)
    plan.updated_ms = node.now_ms()
    session.flush()
    return item


def _item(plan: Plan, item_id: Any) -> PlanItem:
    found = next((i for i in plan.items if i.id == item_id), None)
    if found is None:
        raise NotFound(N_("the plan for %(year)s has no item %(item_id)s", year=plan.year, item_id=item_id))
    return found


def _draft(plan: Plan, what: str) -> None:
    if plan.status != "draft":
        later = "a published plan changes only by amendment" if plan.status == "published" else \
            "return it at an approval step to change it"
        raise Conflict(N_("the plan for %(year)s is %(status)s: %(what)s only while it is a draft (%(later)s)",
                          year=plan.year, status=plan.status, what=what, later=later))


def _guard(node: NodeContext, plan: Plan, action: str, step: str | None, fields: Mapping[str, Any]) -> None:
    reasons = flatten(node.pm.hook.plan_guard(plan=plan.as_dict(), action=action, step=step, fields=dict(fields),
                                              config=node.config))
    if reasons:
        raise InputError("refused: " + "; ".join(str(r) for r in reasons))


# ---------------------------------------------------------------------------------------------
# Approval


def next_step(plan: Plan, steps: list[ApprovalStep]) -> ApprovalStep | None:
    """The first step not approved in the plan's current round (None: every step approved)."""
    approved = {s.step for s in plan.steps if s.round == plan.round and s.decision == "approved"}
    return next((s for s in steps if s.key not in approved), None)


def approval(node: NodeContext, plan: Plan, checks: list[PlanCheck] | None = None) -> dict[str, Any]:
    """The current round's steps with their state, the next step, and whether the plan may be published."""
    steps = approval_steps(node.pm, node.config)
    following = next_step(plan, steps) if plan.status != "published" else None
    approved = {s.step for s in plan.steps if s.round == plan.round and s.decision == "approved"}
    shown = [{**step_dict(s), "state": "done" if s.key in approved or plan.status == "published" else
              "next" if following is not None and s.key == following.key else "todo"} for s in steps]
    if checks is None:
        checks = plan_checks(node, plan)
    can_publish = (plan.status != "published" and following is None and bool(plan.items)
                   and not any(c.blocks and not c.met for c in checks))
    return {"steps": shown, "next": following.key if following else None, "can_publish": can_publish}


def take_step(session: Session, node: NodeContext, year: int, data: PlanStepIn, actor: str) -> PlanStep:
    """Record the plan's next approval step; steps are taken strictly in order. ``returned`` sends the plan
    back to draft and starts a new round."""
    plan = get_plan(session, year, lock=True)
    if plan.status == "published":
        raise Conflict(N_("the plan for %(year)s is published: its approval is over (amend it instead)", year=year))
    steps = approval_steps(node.pm, node.config)
    keys = [s.key for s in steps]
    if data.step not in keys:
        raise InputError(N_("unknown approval step %(step)s; steps: %(keys)s", step=repr(str(data.step)[:40]),
                            keys=', '.join(keys)), field="step")
    expected = next_step(plan, steps)
    if expected is None:
        raise Conflict(N_("every approval step of the plan for %(year)s is taken: publish it", year=year))
    if data.step != expected.key:
        raise InputError(N_("step %(step)s is out of order: the next step of the plan for %(year)s is %(key)s "
                            "(%(label)s)", step=data.step, year=year, key=expected.key, label=label(expected.label)), field="step")
    if not plan.items:
        raise InputError(N_("the plan for %(year)s has no items: add its topics before its approval",
                            year=year), field="step")
    approver = text(data.approver, "approver", NAME)
    if data.decision not in DECISIONS:
        raise InputError(N_("unknown decision %(decision)s; decisions: %(decisions)s",
                            decision=repr(str(data.decision)[:40]), decisions=', '.join(DECISIONS)),
                         field="decision")
    reference = text(data.reference, "reference", REFERENCE, required=False)
    if expected.reference_required and not reference:
        raise InputError(N_("step %(key)s (%(label)s) cites its document or minute: the reference is empty",
                            key=expected.key, label=label(expected.label)), field="reference")
    opinion = text(data.opinion, "opinion", OPINION, required=False)
    if data.decision == "returned" and not opinion:
        raise InputError(N_("a plan returned at an approval step says why: the opinion is empty"), field="opinion")
    decided_on = (data.decided_on or "").strip()
    if decided_on:
        day = _day(decided_on, "decided_on")
        if day > _today(node):
            raise InputError(N_("decided_on %(decided_on)s is in the future",
                                decided_on=decided_on), field="decided_on")
    else:
        decided_on = _today(node).isoformat()
    fields = {"approver": approver, "reference": reference, "opinion": opinion, "decision": data.decision,
              "decided_on": decided_on}
    _guard(node, plan, "step", expected.key, fields)
    now = node.now_ms()
    step = PlanStep(round=plan.round, step=expected.key, at_ms=now, actor=actor, **fields)
    plan.steps.append(step)
    if data.decision == "returned":
        plan.status, plan.round = "draft", plan.round + 1
    else:
        plan.status = "in_approval"
    plan.updated_ms = now
    session.flush()
    return step


def _today(node: NodeContext) -> dt.date:
    """Today in the node's time zone."""
    from shangliang.core.topics.supervision import today

    return today(node.config, node.now_ms())


# ---------------------------------------------------------------------------------------------
# Checks and publication


def plan_checks(node: NodeContext, plan: Plan) -> list[PlanCheck]:
    """What the plan lacks: the practices' checks (hook ``plan_checks``), each form's own check, and each
    form's number a year (shown, never blocking)."""
    data = plan.as_dict()
    found: list[PlanCheck] = []
    for check in flatten(node.pm.hook.plan_checks(plan=data, config=node.config)):
        if not isinstance(check, PlanCheck):
            raise ConfigError(N_("a plugin answered plan_checks with %(check)s; a check is a "
                                 "shangliang.core.plans.forms.PlanCheck", check=repr(check)), "plugins.enabled")
        found.append(check)
    for form in registry(node.pm).values():
        count = sum(1 for item in data["items"] if item["form"] == form.key)
        if form.per_year:
            found.append(PlanCheck(N_("%(form)s: %(count)s a year", form=form.description or form.key,
                                      count=form.per_year), count >= form.per_year,
                                   N_("%(count)s planned", count=count), False, f"form:{form.key}"))
        if form.check is not None:
            lines = form.check(data["items"], node.config) or []
            found += [PlanCheck(form.description or form.key, False, line, False, f"form:{form.key}") for line in lines]
    return found


def publish(session: Session, node: NodeContext, year: int, actor: str) -> tuple[Plan, list[str]]:
    """Publish the plan after its last approval step, with no blocking check unmet; the plan's topics still
    ``collected`` here move to ``determined`` (确定议题). Returns the plan and the topics moved."""
    plan = get_plan(session, year, lock=True)
    if plan.status == "published":
        raise Conflict(N_("the plan for %(year)s is already published", year=year))
    pending = next_step(plan, approval_steps(node.pm, node.config))
    if pending is not None:
        raise Conflict(N_("the plan for %(year)s is not approved: the next step is %(key)s (%(label)s); it is "
                          "published after its last step", year=year, key=pending.key, label=label(pending.label)))
    if not plan.items:
        raise Conflict(N_("the plan for %(year)s has no items", year=year))
    short = [c for c in plan_checks(node, plan) if c.blocks and not c.met]
    if short:
        raise Conflict(f"the plan for {year} is not published while it is short: "
                       + "; ".join(f"{c.rule}" + (f" ({c.detail})" if c.detail else "") for c in short))
    _guard(node, plan, "publish", None, {})
    now = node.now_ms()
    plan.status, plan.published_ms, plan.updated_ms = "published", now, now
    determined = [uid for uid in (item.topic_uid for item in plan.items) if _determine(session, node, plan, uid, actor)]
    session.flush()
    after_commit(session, lambda: node.pm.hook.plan_published(plan=plan.as_dict(), actor=actor))
    return plan, determined


def _determine(session: Session, node: NodeContext, plan: Plan, uid: str, actor: str) -> bool:
    """确定议题: a planned topic still collected here moves to determined (the topics service, its guards)."""
    try:
        topic = topics.get_topic(session, uid, lock=True)
    except NotFound:
        return False
    if topic.stage != "collected" or topic.holder != node.id or topic.accepted_ms is None:
        return False
    topics.advance(session, node, topic, "determined", f"in the {plan.year} consultation plan", actor)
    return True


# ---------------------------------------------------------------------------------------------
# Amendments


def amend(session: Session, node: NodeContext, year: int, data: PlanAmendmentIn, actor: str) -> PlanAmendment:
    """Change a published plan: add an item or move one to another month or date, with the reason, who
    approved it and the document reference — otherwise refused and nothing stored."""
    plan = get_plan(session, year, lock=True)
    if plan.status != "published":
        raise Conflict(N_("the plan for %(year)s is %(status)s: amendments change a published plan (while it is a "
                          "draft, add or remove items)", year=year, status=plan.status))
    if data.kind not in AMENDMENT_KINDS:
        raise InputError(N_("unknown amendment kind %(kind)s; kinds: %(amendment_kinds)s",
                            kind=repr(str(data.kind)[:40]), amendment_kinds=', '.join(AMENDMENT_KINDS)),
                         field="kind")
    recorded = {}
    for name, limit in (("reason", REASON), ("approved_by", NAME), ("reference", REFERENCE)):
        value = text(getattr(data, name), name, limit, required=False)
        if not value:
            raise InputError(N_("an amendment to a published plan records its reason, who approved it and the "
                                "document reference: %(name)s is empty", name=name), field=name)
        recorded[name] = value
    now = node.now_ms()
    if data.kind == "add":
        if data.item is None:
            raise InputError(N_("an amendment of kind add gives the item added"), field="item")
        fields = _item_fields(session, node, plan, data.item)
        _guard(node, plan, "amend", None, {"kind": "add", **recorded, **_guard_fields(fields)})
        item = _place_item(session, node, plan, fields, data.item.topic, actor, by_amendment=True)
        changes = {k: v for k, v in item.as_dict().items() if k not in ("id", "position", "added_ms", "by_amendment")}
        _determine(session, node, plan, item.topic_uid, actor)
    else:
        if data.item_id is None:
            raise InputError(N_("an amendment of kind move names the item moved (item_id)"), field="item_id")
        item = _item(plan, data.item_id)
        month, date = _when(plan, data.planned_month, data.planned_date)
        changes = {name: [old, new] for name, old, new in (("planned_month", item.month, month),
                                                           ("planned_date", item.date, date)) if old != new}
        if not changes:
            raise InputError(N_("item %(id)s is already planned for %(value)s: nothing moves", id=item.id,
                                value=date or month),
                             field="planned_month")
        _guard(node, plan, "amend", None, {"kind": "move", **recorded, "item_id": item.id, "planned_month": month,
                                           "planned_date": date})
        item.month, item.date = month, date
    amendment = PlanAmendment(kind=data.kind, item_id=item.id, topic_uid=item.topic_uid,
                              changes=json.dumps(changes, ensure_ascii=False), at_ms=now, actor=actor, **recorded)
    plan.amendments.append(amendment)
    plan.updated_ms = now
    session.flush()
    return amendment


# ---------------------------------------------------------------------------------------------
# Showing a plan: progress per item and topics consulted outside it


def _year_bounds(node: NodeContext, year: int) -> tuple[int, int]:
    zone = ZoneInfo(node.config.get("TIMEZONE") or "Asia/Shanghai")
    start = dt.datetime(year, 1, 1, tzinfo=zone)
    end = dt.datetime(year + 1, 1, 1, tzinfo=zone)
    return int(start.timestamp() * 1000), int(end.timestamp() * 1000)


def progress(session: Session, plan: Plan) -> list[dict[str, Any]]:
    """Per item: whether its topic was consulted, its result and how far its implementation is."""
    uids = [item.topic_uid for item in plan.items]
    found = {t.uid: t for t in session.execute(select(Topic).where(Topic.uid.in_(uids))
                                               .options(selectinload(Topic.events))).scalars()} if uids else {}
    rows = []
    for item in plan.items:
        topic = found.get(item.topic_uid)
        if topic is None:
            rows.append({"item_id": item.id, "topic_uid": item.topic_uid, "title": item.topic_title, "stage": None,
                         "holder": None, "consulted": False, "result": None, "implementation": None})
            continue
        consulted = topic.stage in CONSULTED or any(e.action == "consulted" for e in topic.events)
        rows.append({"item_id": item.id, "topic_uid": topic.uid, "title": topic.title, "stage": topic.stage,
                     "holder": topic.holder, "consulted": consulted,
                     "result": json.loads(topic.result) if topic.result else None,
                     "implementation": topic.stage if topic.stage in IMPLEMENTATION else None})
    return rows


def outside(session: Session, node: NodeContext, plan: Plan) -> list[dict[str, Any]]:
    """Topics consulted in the plan's year (they reached the consulting stage, or a ``consulted`` event was
    recorded) that are not in the plan: allowed (``001`` 9), shown beside it."""
    start, end = _year_bounds(node, plan.year)
    planned = {item.topic_uid for item in plan.items}
    rows = session.execute(
        select(Topic.uid, Topic.title, Topic.stage, TopicEvent.at_ms).join(TopicEvent, TopicEvent.topic_id == Topic.id)
        .where(or_(TopicEvent.to_stage == "consulting", TopicEvent.action == "consulted"),
               TopicEvent.at_ms >= start, TopicEvent.at_ms < end)
        .order_by(TopicEvent.at_ms)).all()
    seen: dict[str, dict[str, Any]] = {}
    for uid, title, stage, at_ms in rows:
        if uid not in planned and uid not in seen:
            seen[uid] = {"uid": uid, "title": title, "stage": stage, "consulted_ms": at_ms}
    return list(seen.values())


def show(session: Session, node: NodeContext, plan: Plan) -> dict[str, Any]:
    """The plan with its items, steps, amendments, approval state, checks, progress and outside topics."""
    checks = plan_checks(node, plan)
    data = plan.as_dict()
    data["approval"] = approval(node, plan, checks)
    data["checks"] = [c.as_dict() for c in checks]
    data["progress"] = progress(session, plan)
    data["outside"] = outside(session, node, plan)
    return data


# -- what waits on the workbench (core/work.py) ---------------------------------------------------------


def unpublished(session: Session, node: NodeContext) -> list[tuple[Plan, ApprovalStep | None]]:
    """The plans not yet published, each with its next approval step (None: ready to publish), by year."""
    steps = approval_steps(node.pm, node.config)
    plans = session.execute(select(Plan).where(Plan.status != "published").order_by(Plan.year)).scalars()
    return [(plan, next_step(plan, steps)) for plan in plans]
