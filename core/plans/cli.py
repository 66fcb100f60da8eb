"""``shangliang plans``: draft a year's plan, add its items, take its approval steps, publish and amend it;
each command calls one service and prints text or, with ``--json``, JSON."""

from __future__ import annotations

import functools
from typing import Any

import click
import flask
from flask_babel import force_locale
from shangliang.core.clitools import _os_user, emit, rehearsable, table, with_appcontext
from shangliang.core.context import node_context
from shangliang.core.db import get_session, transaction
from shangliang.core.topics.models import RAISED_BY_KINDS

from . import schemas, services
from .models import AMENDMENT_KINDS, DECISIONS


def localized(f):
    """Run the command in the node's language: the form and step labels are translated (outside any request,
    Flask-Babel has no locale of its own)."""

    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        with force_locale(flask.current_app.config["LOCALE"]):
            return f(*args, **kwargs)

    return wrapper


def _actor() -> str:
    return f"cli:{_os_user()}"


def _detail(session, year: int) -> dict[str, Any]:
    return services.show(session, node_context(), services.get_plan(session, year))


@click.group()
def plans() -> None:
    """Annual consultation plans (年度协商计划): items, approval steps, publication, amendments."""


@plans.command("forms")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
@localized
def plans_forms(as_json) -> None:
    """The consultation forms (协商形式) this node offers and the approval steps its plans take."""
    data = services.forms_and_steps(node_context())
    emit(data, as_json, lambda d: table([[f["key"], f["label"], f["description"], f["per_year"] or ""]
                                         for f in d["forms"]], ["key", "form", "", "a year"])
         + "\napproval steps: " + " → ".join(f"{s['key']} ({s['body']})" for s in d["steps"]))


@plans.command("list")
@click.option("--year", type=int, help="Only the plan of this year.")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
@localized
def plans_list(year, as_json) -> None:
    """This node's plans, the latest year first."""
    rows = [p.as_dict(full=False) for p in services.list_plans(get_session(), year).items]
    emit(rows, as_json, lambda rs: table([[r["year"], r["title"], r["status"], r["item_count"]] for r in rs],
                                         ["year", "title", "status", "items"]))


@plans.command("create")
@click.option("--year", type=int, required=True)
@click.option("--title", default="", help="Default: <year>年度政协协商计划.")
@click.option("--json", "as_json", is_flag=True)
@rehearsable
@with_appcontext
@localized
def plans_create(year, title, as_json) -> None:
    """Draft this node's plan for a year (one plan a year)."""
    with transaction() as session:
        plan = services.create_plan(session, node_context(), schemas.PlanIn(year=year, title=title), _actor())
        data = plan.as_dict(full=False)
    emit(data, as_json, lambda d: f"{d['year']} {d['title']}: {d['status']} ({d['uid']})")


def _show_text(d: dict[str, Any]) -> str:
    progress = {row["item_id"]: row for row in d["progress"]}
    lines = [f"{d['year']} {d['title']}  [{d['status']}, round {d['round']}]", "items:"]
    for item in d["items"]:
        row = progress[item["id"]]
        when = item["planned_date"] or f"month {item['planned_month']}"
        who = "; ".join(f"{k}: {', '.join(v)}" for k, v in item["participants"].items() if v)
        lines.append(f"  {item['id']}. {row['title']} ({item['topic_uid']}) — {item['form']}, {when}, lead "
                     f"{item['lead']}" + (f", {who}" if who else "") + (" [by amendment]" if item["by_amendment"] else ""))
        lines.append(f"     stage {row['stage']}; consulted: {'yes' if row['consulted'] else 'no'}; result: "
                     f"{row['result']['title'] if row['result'] else '-'}; implementation: {row['implementation'] or '-'}")
    lines.append("approval: " + " → ".join(f"{s['key']} [{s['state']}]" for s in d["approval"]["steps"])
                 + ("; ready to publish" if d["approval"]["can_publish"] else ""))
    lines += [f"  round {s['round']} {s['step']}: {s['decision']} by {s['approver']} on {s['decided_on']}"
              + (f" ({s['reference']})" if s["reference"] else "") + (f" — {s['opinion']}" if s["opinion"] else "")
              for s in d["steps"]]
    lines += [f"check: {'met' if c['met'] else 'SHORT'} {c['rule']}" + (f" — {c['detail']}" if c["detail"] else "")
              + (" [blocks publication]" if c["blocks"] and not c["met"] else "") for c in d["checks"]]
    lines += [f"amendment: {a['kind']} {a['topic_uid']} — {a['reason']} (approved by {a['approved_by']}, "
              f"{a['reference']})" for a in d["amendments"]]
    lines += [f"consulted outside the plan: {t['title']} ({t['uid']})" for t in d["outside"]]
    return "\n".join(lines)


@plans.command("show")
@click.argument("year", type=int)
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
@localized
def plans_show(year, as_json) -> None:
    """A plan: its items with their progress, approval steps, checks, amendments and topics consulted outside it."""
    emit(_detail(get_session(), year), as_json, _show_text)


def _item(topic_uid, title, description, category, areas, raised_by_kind, raised_by_name, form, month, date, lead,
          departments, sectors, members) -> schemas.PlanItemIn:
    topic = None
    if not topic_uid:
        topic = schemas.TopicIn(title=title or "", description=description, category=category or "",
                                areas=list(areas), raised_by_kind=raised_by_kind or "special_committee",
                                raised_by_name=raised_by_name or "")
    return schemas.PlanItemIn(topic_uid=topic_uid or None, topic=topic, form=form, planned_month=month,
                              planned_date=date or None, lead=lead,
                              participants=schemas.PlanParticipants(departments=list(departments),
                                                                    sectors=list(sectors), members=list(members)))


def item_options(f):
    """The options of a plan item (add-item, amend --kind add)."""
    options = [
        click.option("--topic", "topic_uid", help="A topic held here; or give --title … to raise a new one."),
        click.option("--title", help="A new topic's title (raised from the plan)."),
        click.option("--description", default=""),
        click.option("--category"),
        click.option("--area", "areas", multiple=True, help="A new topic's division code (repeatable)."),
        click.option("--raised-by-kind", type=click.Choice(RAISED_BY_KINDS)),
        click.option("--raised-by-name"),
        click.option("--form", help="The consultation form's key (plans forms)."),
        click.option("--month", type=int, help="The planned month, 1-12."),
        click.option("--date", help="The planned date, YYYY-MM-DD."),
        click.option("--lead", help="The special committee or office that leads it."),
        click.option("--department", "departments", multiple=True, help="A department expected (repeatable)."),
        click.option("--sector", "sectors", multiple=True, help="A sector expected (repeatable)."),
        click.option("--member", "members", multiple=True, help="A member expected (repeatable)."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


@plans.command("add-item")
@click.argument("year", type=int)
@item_options
@click.option("--json", "as_json", is_flag=True)
@rehearsable
@with_appcontext
@localized
def plans_add_item(year, topic_uid, title, description, category, areas, raised_by_kind, raised_by_name, form, month,
                   date, lead, departments, sectors, members, as_json) -> None:
    """Add an item to a draft plan: a topic held here (--topic) or a new one (--title, --category, --area, …)."""
    data = _item(topic_uid, title, description, category, areas, raised_by_kind, raised_by_name, form or "", month,
                 date, lead or "", departments, sectors, members)
    with transaction() as session:
        item = services.add_item(session, node_context(), year, data, _actor())
        out = item.as_dict()
    emit(out, as_json, lambda d: f"item {d['id']}: {d['topic_title']} ({d['topic_uid']}), {d['form']}")


@plans.command("remove-item")
@click.argument("year", type=int)
@click.argument("item_id", type=int)
@click.option("--json", "as_json", is_flag=True)
@rehearsable
@with_appcontext
@localized
def plans_remove_item(year, item_id, as_json) -> None:
    """Take an item out of a draft plan (its topic stays)."""
    with transaction() as session:
        item = services.remove_item(session, node_context(), year, item_id, _actor())
        out = {"removed": item_id, "topic_uid": item.topic_uid}
    emit(out, as_json, lambda d: f"item {d['removed']} removed ({d['topic_uid']} stays a topic)")


@plans.command("step")
@click.argument("year", type=int)
@click.option("--step", "step_key", required=True, help="The step's key (plans forms lists them, in order).")
@click.option("--approver", required=True)
@click.option("--decision", required=True, type=click.Choice(DECISIONS))
@click.option("--reference", default="", help="The document or minute number.")
@click.option("--opinion", default="")
@click.option("--date", "decided_on", default="", help="The meeting's day, YYYY-MM-DD (default: today).")
@click.option("--json", "as_json", is_flag=True)
@rehearsable
@with_appcontext
@localized
def plans_step(year, step_key, approver, decision, reference, opinion, decided_on, as_json) -> None:
    """Record the plan's next approval step (in order; returned sends it back to draft)."""
    data = schemas.PlanStepIn(step=step_key, approver=approver, decision=decision, reference=reference,
                              opinion=opinion, decided_on=decided_on)
    with transaction() as session:
        step = services.take_step(session, node_context(), year, data, _actor())
        out = {**step.as_dict(), "status": step.plan.status}
    emit(out, as_json, lambda d: f"{d['step']}: {d['decision']} (round {d['round']}); the plan is {d['status']}")


@plans.command("publish")
@click.argument("year", type=int)
@click.option("--json", "as_json", is_flag=True)
@rehearsable
@with_appcontext
@localized
def plans_publish(year, as_json) -> None:
    """Publish the plan after its last approval step; its collected topics become determined."""
    with transaction() as session:
        plan, determined = services.publish(session, node_context(), year, _actor())
        out = {"year": plan.year, "status": plan.status, "published_ms": plan.published_ms, "determined": determined}
    emit(out, as_json, lambda d: f"{d['year']} published; topics determined: {len(d['determined'])}")


@plans.command("amend")
@click.argument("year", type=int)
@click.option("--kind", required=True, type=click.Choice(AMENDMENT_KINDS))
@click.option("--reason", default="")
@click.option("--approved-by", default="")
@click.option("--reference", default="", help="The document or minute number of the approval.")
@click.option("--item", "item_id", type=int, help="kind move: the item moved.")
@item_options
@click.option("--json", "as_json", is_flag=True)
@rehearsable
@with_appcontext
@localized
def plans_amend(year, kind, reason, approved_by, reference, item_id, topic_uid, title, description, category, areas,
                raised_by_kind, raised_by_name, form, month, date, lead, departments, sectors, members,
                as_json) -> None:
    """Amend a published plan: add an item, or move one (--item with --month or --date); the reason, who
    approved it and the reference are required."""
    item = None
    if kind == "add":
        item = _item(topic_uid, title, description, category, areas, raised_by_kind, raised_by_name, form or "",
                     month, date, lead or "", departments, sectors, members)
    data = schemas.PlanAmendmentIn(kind=kind, reason=reason, approved_by=approved_by, reference=reference, item=item,
                                   item_id=item_id, planned_month=month if kind == "move" else None,
                                   planned_date=(date or None) if kind == "move" else None)
    with transaction() as session:
        amendment = services.amend(session, node_context(), year, data, _actor())
        out = amendment.as_dict()
    emit(out, as_json, lambda d: f"amendment recorded: {d['kind']} {d['topic_uid']}")
