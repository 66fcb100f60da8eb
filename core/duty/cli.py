"""``shangliang duty …``: members' duty records, items recorded by hand, reports to a higher committee, the
year's assessment and reminders. Every command has ``--json``; writing ones ``--dry-run``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from shangliang.core.clitools import _os_user, emit, rehearsable, table, with_appcontext
from shangliang.core.context import node_context
from shangliang.core.db import get_session, transaction
from shangliang.core.errors import InputError
from shangliang.core.i18n import N_

from . import exports as duty_exports
from . import federation, services

JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON.")
YEAR = click.option("--year", type=int, help="The calendar year (default: this year).")


def _actor() -> str:
    return f"cli:{_os_user()}"


def _record_text(rec: dict[str, Any]) -> str:
    m, a = rec["member"], rec["assessment"]
    lines = [f"{m['name']} ({m['member_no'] or '—'}), {rec['year']}: {len(rec['items'])} item(s); "
             f"standing: {a['standing']}, {a['months_left']} month(s) left"]
    if rec["items"]:
        lines.append(table([[i["date"], i["kind"], i["title"], i["reported_by"] or i["source"] or ""]
                            for i in rec["items"]], ["date", "kind", "title", "source"]))
    for o in a["outcomes"]:
        lines.append(f"{'met' if o['met'] else 'FAILED' if o['failed'] else 'not met'}: {o['label']} — {o['reason']}")
    return "\n".join(lines)


def _table_text(t: dict[str, Any]) -> str:
    head = f"{t['year']}: {len(t['rules'])} rule(s), {t['months_left']} month(s) left"
    if not t["rules"]:
        head += " (no practice gives an assessment rule)"
    rows = [[r["member"]["member_no"] or "", r["member"]["name"], r["standing"], "; ".join(r["missing"])]
            for r in t["members"]]
    return head + "\n" + table(rows, ["number", "name", "standing", "missing"])


@click.group()
def duty() -> None:
    """Members' duty records (委员履职档案) and the yearly assessment (履职考核)."""


@duty.command("record")
@click.argument("member")
@YEAR
@click.option("--docx", "docx_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the record as a Word document (.docx) here.")
@JSON
@with_appcontext
def duty_record(member, year, docx_path, as_json) -> None:
    """A member's duty record for a year (MEMBER: id or member number), with the standing."""
    rec = services.member_record(get_session(), node_context(), member, year, services.TRUSTED)
    if docx_path is not None:
        docx_path.write_bytes(duty_exports.record_docx(rec))
    emit(rec, as_json, _record_text)


@duty.command("assessment")
@YEAR
@click.option("--xlsx", "xlsx_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the table as a spreadsheet (.xlsx) here.")
@JSON
@with_appcontext
def duty_assessment(year, xlsx_path, as_json) -> None:
    """The year's assessment table: every active member's standing and what is still missing."""
    found = services.assessment(get_session(), node_context(), year)
    if xlsx_path is not None:
        xlsx_path.write_bytes(duty_exports.assessment_xlsx(found))
    emit(found, as_json, _table_text)


@duty.command("rules")
@JSON
@with_appcontext
def duty_rules(as_json) -> None:
    """The assessment rules the enabled practices give (none by default)."""
    found = services.assessment(get_session(), node_context())["rules"]
    emit(found, as_json, lambda rs: table([[r["rule"], r["label"], r["source"]] for r in rs],
                                          ["rule", "label", "source"]) if rs else "no assessment rule")


@duty.command("add")
@click.argument("member")
@click.option("--kind", required=True, help="good_deed, training, research, development_idea, speech, visit, other …")
@click.option("--title", required=True)
@click.option("--date", "date", required=True, help="YYYY-MM-DD")
@click.option("--detail", default="")
@click.option("--evidence", default=None, help="The evidence as text.")
@click.option("--file", "file_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The evidence as a file.")
@JSON
@rehearsable
@with_appcontext
def duty_add(member, kind, title, date, detail, evidence, file_path, as_json) -> None:
    """Record an item of MEMBER's duty by hand, with evidence (a text, a file or both; refused without)."""
    data = file_path.read_bytes() if file_path is not None else None
    with transaction(_actor()) as session:
        row = services.add_item(session, node_context(), member, kind, title, date, detail, evidence,
                                file_path.name if file_path else None, "application/octet-stream" if data else None,
                                data, actor=_actor())
        found = row.as_dict()
    emit(found, as_json, lambda d: f"recorded item {d['id']}: {d['kind']} {d['title']} ({d['date']})")


@duty.command("remove")
@click.argument("item_id")
@JSON
@rehearsable
@with_appcontext
def duty_remove(item_id, as_json) -> None:
    """Remove an item recorded here by hand."""
    with transaction(_actor()) as session:
        gone = services.remove_item(session, item_id)
    emit(gone, as_json, lambda d: f"removed item {d['id']}: {d['kind']} {d['title']}")


@duty.command("report")
@click.option("--target", required=True, help="The node id of the member's committee.")
@click.option("--member-no", required=True, help="The member's number there.")
@click.option("--name", required=True, help="The member's name there.")
@click.option("--item", "items", nargs=3, multiple=True, required=True, metavar="KIND DATE TITLE",
              help="An item: its kind, date (YYYY-MM-DD) and title; repeat for more.")
@JSON
@rehearsable
@with_appcontext
def duty_report(target, member_no, name, items, as_json) -> None:
    """Report items of a higher committee's member who takes part here (x-duty.items, passed on up to TARGET)."""
    if not items:
        raise InputError(N_("give at least one --item KIND DATE TITLE"), "item")
    with transaction(_actor()) as session:
        sent = federation.report(session, node_context(), target, member_no, name,
                                 [{"kind": k, "date": d, "title": t} for k, d, t in items])
    emit(sent, as_json, lambda s: f"sent {s['kind']} {s['id']} to {s['to']} for {s['target']} ({s['items']} item(s))")


@duty.command("remind")
@YEAR
@JSON
@rehearsable
@with_appcontext
def duty_remind(year, as_json) -> None:
    """Remind the members falling behind in the year's assessment (as beat does every [duty] reminder_seconds)."""
    with transaction(_actor()) as session:
        done = services.remind(session, node_context(), year)
    emit(done, as_json, lambda d: (f"reminded {len(d['reminded'])} member(s): {'、'.join(d['reminded']) or '—'}"
                                   + (f"; without an account: {'、'.join(d['without_account'])}"
                                      if d["without_account"] else "")))
