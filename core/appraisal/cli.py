"""``shangliang appraisal``: democratic appraisal (民主评议) from the command line — create the year's appraisal,
its subjects (and the office's decision on proposed ones), groups, visits, ratings, the report, rectifications and
their review, and the overdue check. Each command calls one service and prints text or, with ``--json``, JSON."""

from __future__ import annotations

import click
from shangliang.core.clitools import _os_user, emit, rehearsable, table, with_appcontext
from shangliang.core.context import node_context
from shangliang.core.db import get_session, transaction
from shangliang.core.errors import InputError
from shangliang.core.i18n import N_
from shangliang.core.users.models import User
from sqlalchemy import select

from . import services
from .models import KINDS, RATINGS, REPORT_KINDS


def _actor() -> str:
    return f"cli:{_os_user()}"


def _list(value: str | None) -> list[str]:
    return [p.strip() for p in (value or "").replace("，", ",").replace("、", ",").split(",") if p.strip()]


def _detail_text(d: dict) -> str:
    lines = [f"{d['year']} {d['title']} (id {d['id']}, {d['kind']}, {d['status']})"]
    rows = [[s["id"], s["title"], s["status"], s["source"], ", ".join(s["units"]), s["group"] or "",
             " ".join(f"{r}:{s['tally'][r]}" for r in RATINGS),
             (s["rectification"] or {}).get("state", "")] for s in d["subjects"]]
    lines.append(table(rows, ["id", "subject", "status", "source", "units", "group", "ratings", "rectification"])
                 if rows else "no subject yet")
    for g in d["groups"]:
        lines.append(f"group {g['id']} {g['name']}: leader {g['leader']}; "
                     f"{', '.join(m['name'] for m in g['members'])}")
    for v in d["visits"]:
        lines.append(f"visit {v['date']} {v['place']} ({v['group']}, subject {v['subject']}): {v['findings']}")
    if d["report"]:
        lines.append(f"report sent {d['report']['sent_on']} to {', '.join(d['report']['recipients'])}")
    return "\n".join(lines)


def _rect_text(r: dict) -> str:
    return (f"rectification {r['id']}: {r['title']} → {r['unit']}, {r['state']}"
            f"{' OVERDUE' if r['overdue'] else ''}; reports: {len(r['reports'])}")


def _show(session, appraisal_id: int) -> dict:
    return services.detail(services.get_appraisal(session, appraisal_id))


@click.group()
def appraisal() -> None:
    """Democratic appraisal (民主评议): the year's appraisal of departments or of key topics' implementation."""


@appraisal.command("list")
@click.option("--year", type=int)
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def appraisal_list(year, as_json) -> None:
    """The appraisals of this node, the latest year first."""
    rows = [services.summary(a) for a in services.list_appraisals(get_session(), year)]
    emit(rows, as_json, lambda rs: table([[r["id"], r["year"], r["kind"], r["title"], r["status"],
                                           r["subjects"]["confirmed"], r["subjects"]["proposed"]] for r in rs],
                                         ["id", "year", "kind", "title", "status", "confirmed", "proposed"])
         if rs else "no appraisal yet (create one: shangliang appraisal create)")


@appraisal.command("create")
@click.option("--year", type=int, required=True)
@click.option("--kind", type=click.Choice(KINDS), required=True)
@click.option("--title", required=True)
@click.option("--json", "as_json", is_flag=True)
@rehearsable
@with_appcontext
def appraisal_create(year, kind, title, as_json) -> None:
    """Create the year's appraisal (practices propose its subjects at once)."""
    with transaction(_actor()) as session:
        data = services.detail(services.create_appraisal(session, node_context(), year, kind, title, _actor()))
    emit(data, as_json, lambda d: "appraisal created: " + _detail_text(d))


@appraisal.command("show")
@click.argument("appraisal_id", type=int)
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def appraisal_show(appraisal_id, as_json) -> None:
    """An appraisal with its subjects, groups, visits, ratings, report and rectifications."""
    emit(_show(get_session(), appraisal_id), as_json, _detail_text)


@appraisal.command("candidates")
@click.argument("year", type=int)
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def appraisal_candidates(year, as_json) -> None:
    """Last year's key topics (the previous year's published plan, with a result) proposed for YEAR."""
    rows = services.candidate_subjects(get_session(), node_context(), year)
    emit(rows, as_json, lambda rs: table([[r["topic"], r["title"], ", ".join(r["units"])] for r in rs],
                                         ["topic", "title", "units"]) if rs else f"no key topic of {year - 1} "
         "reached a result here")


@appraisal.command("subject")
@click.argument("appraisal_id", type=int)
@click.option("--unit", help="A handling unit's name or id.")
@click.option("--topic", help="A topic's uid (with a result).")
@click.option("--note")
@click.option("--json", "as_json", is_flag=True)
@rehearsable
@with_appcontext
def appraisal_subject(appraisal_id, unit, topic, note, as_json) -> None:
    """Add a subject (confirmed): a unit, or a topic with a result."""
    with transaction(_actor()) as session:
        s = services.add_subject(session, node_context(), appraisal_id, unit, topic, note, _actor())
        data = services.subject_dict(s.appraisal, s)
    emit(data, as_json, lambda d: f"subject {d['id']} added: {d['title']}")


@appraisal.command("decide")
@click.argument("appraisal_id", type=int)
@click.argument("subject_id", type=int)
@click.argument("decision", type=click.Choice(services.DECISIONS))
@click.option("--note", help="Why (required to dismiss).")
@click.option("--json", "as_json", is_flag=True)
@rehearsable
@with_appcontext
def appraisal_decide(appraisal_id, subject_id, decision, note, as_json) -> None:
    """Confirm or dismiss a proposed subject."""
    with transaction(_actor()) as session:
        s = services.decide_subject(session, node_context(), appraisal_id, subject_id, decision, note, _actor())
        data = services.subject_dict(s.appraisal, s)
    emit(data, as_json, lambda d: f"subject {d['id']} {d['status']}: {d['title']}")


@appraisal.command("group")
@click.argument("appraisal_id", type=int)
@click.option("--name", required=True)
@click.option("--leader", required=True, help="The leader's member number or id.")
@click.option("--members", help="Member numbers or ids, separated by commas.")
@click.option("--subjects", help="Subject ids, separated by commas.")
@click.option("--json", "as_json", is_flag=True)
@rehearsable
@with_appcontext
def appraisal_group(appraisal_id, name, leader, members, subjects, as_json) -> None:
    """Form an appraisal group with its leader, members and subjects."""
    try:
        ids = [int(s) for s in _list(subjects)]
    except ValueError:
        raise click.BadParameter("subject ids are numbers", param_hint="--subjects") from None
    with transaction(_actor()) as session:
        g = services.add_group(session, node_context(), appraisal_id, name, leader, _list(members), ids, _actor())
        data = next(x for x in services.detail(g.appraisal)["groups"] if x["id"] == g.id)
    emit(data, as_json, lambda d: f"group {d['id']} {d['name']} formed: leader {d['leader']}, "
         f"{len(d['members'])} members")


@appraisal.command("visit")
@click.argument("appraisal_id", type=int)
@click.option("--group", "group_id", type=int, required=True)
@click.option("--subject", "subject_id", type=int, required=True)
@click.option("--date", required=True, help="YYYY-MM-DD")
@click.option("--place", required=True)
@click.option("--findings", required=True)
@click.option("--json", "as_json", is_flag=True)
@rehearsable
@with_appcontext
def appraisal_visit(appraisal_id, group_id, subject_id, date, place, findings, as_json) -> None:
    """Record a group's visit to a subject and what it found."""
    with transaction(_actor()) as session:
        v = services.record_visit(session, node_context(), appraisal_id, group_id, subject_id, date, place,
                                  findings, _actor())
        data = {"id": v.id, "group": v.group.name, "subject": v.subject_id, "date": v.visited_on, "place": v.place,
                "findings": v.findings}
    emit(data, as_json, lambda d: f"visit {d['id']} recorded: {d['date']} {d['place']}")


@appraisal.command("rate")
@click.argument("appraisal_id", type=int)
@click.option("--subject", "subject_id", type=int, required=True)
@click.option("--member", required=True, help="The member's number or id.")
@click.option("--rating", type=click.Choice(RATINGS), required=True)
@click.option("--comment")
@click.option("--json", "as_json", is_flag=True)
@rehearsable
@with_appcontext
def appraisal_rate(appraisal_id, subject_id, member, rating, comment, as_json) -> None:
    """Enter a group member's rating of a subject."""
    with transaction(_actor()) as session:
        r = services.rate(session, node_context(), appraisal_id, subject_id, member, rating, comment, _actor())
        data = {"subject": subject_id, "member": r.member.name, "rating": r.rating,
                "tally": services.tally(r.subject)}
    emit(data, as_json, lambda d: f"{d['member']} rated subject {d['subject']} {d['rating']}")


@appraisal.command("report")
@click.argument("appraisal_id", type=int)
@click.option("--body", required=True)
@click.option("--to", "recipients", required=True, help="To whom, separated by commas (e.g. 区委,区政府).")
@click.option("--sent-on", help="YYYY-MM-DD (default today).")
@click.option("--json", "as_json", is_flag=True)
@rehearsable
@with_appcontext
def appraisal_report(appraisal_id, body, recipients, sent_on, as_json) -> None:
    """Record the report sent to the party committee and government (every subject rated first)."""
    with transaction(_actor()) as session:
        data = services.detail(services.send_report(session, node_context(), appraisal_id, body, sent_on,
                                                    _list(recipients), _actor()))
    emit(data, as_json, lambda d: f"report recorded: sent {d['report']['sent_on']} to "
         f"{', '.join(d['report']['recipients'])}")


@appraisal.command("rectify")
@click.argument("appraisal_id", type=int)
@click.option("--subject", "subject_id", type=int, required=True)
@click.option("--unit", help="The unit (default: the subject's).")
@click.option("--requirements", required=True, help="What to rectify.")
@click.option("--working-days", type=int)
@click.option("--due", help="Or YYYY-MM-DD, +N, Nwd.")
@click.option("--json", "as_json", is_flag=True)
@rehearsable
@with_appcontext
def appraisal_rectify(appraisal_id, subject_id, unit, requirements, working_days, due, as_json) -> None:
    """Assign a subject's rectification to a unit with a deadline (after the report)."""
    with transaction(_actor()) as session:
        data = services.rectification_dict(services.assign_rectification(
            session, node_context(), appraisal_id, subject_id, unit, requirements, working_days, due, _actor()))
    emit(data, as_json, _rect_text)


@appraisal.command("rectifications")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def appraisal_rectifications(as_json) -> None:
    """Rectifications on this node, overdue first."""
    rows = [services.rectification_dict(r) for r in services.list_rectifications(get_session())]
    emit(rows, as_json, lambda rs: "\n".join(_rect_text(r) for r in rs) if rs else "no rectification yet")


@appraisal.command("review")
@click.argument("rectification_id", type=int)
@click.argument("report_id", type=int)
@click.argument("decision", type=click.Choice(services.REVIEW_DECISIONS))
@click.option("--comment", help="Why (required to return).")
@click.option("--json", "as_json", is_flag=True)
@rehearsable
@with_appcontext
def appraisal_review(rectification_id, report_id, decision, comment, as_json) -> None:
    """Accept or return a unit's rectification report."""
    with transaction(_actor()) as session:
        report = services.review_rectification_report(session, node_context(), rectification_id, report_id,
                                                      decision, comment, _actor())
        data = services.rectification_dict(report.rectification)
    emit(data, as_json, _rect_text)


@appraisal.command("mark-overdue")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def appraisal_mark_overdue(as_json) -> None:
    """Mark rectifications past their deadline now (beat does this every [appraisal] overdue_seconds)."""
    with transaction(_actor()) as session:
        rows = [services.rectification_dict(r) for r in services.mark_overdue(session, node_context())]
    emit(rows, as_json, lambda rs: f"{len(rs)} rectification(s) newly overdue")


@appraisal.command("file")
@click.argument("rectification_id", type=int)
@click.option("--as", "as_user", required=True, metavar="USER", help="The unit's contact user (role handling_unit).")
@click.option("--kind", type=click.Choice(REPORT_KINDS), required=True)
@click.option("--body", required=True)
@click.option("--json", "as_json", is_flag=True)
@rehearsable
@with_appcontext
def appraisal_file(rectification_id, as_user, kind, body, as_json) -> None:
    """File a unit's progress or final rectification report, acting as its contact user."""
    with transaction(f"cli:{_os_user()} as {as_user}") as session:
        user = session.execute(select(User).where(User.username == as_user)).scalar_one_or_none()
        if user is None or not user.active:
            raise InputError(N_("no active user %(as_user)s on this node", as_user=repr(as_user)), field="as")
        report = services.file_rectification_report(session, node_context(), rectification_id, user.id, kind, body,
                                                    f"cli:{as_user}")
        data = services.rectification_dict(report.rectification)
    emit(data, as_json, _rect_text)
