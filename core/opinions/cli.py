"""``shangliang opinions``: write, edit, decide on and compile social-opinion reports (社情民意信息), and count
them; each command calls one service, prints JSON with ``--json``, and acts as a node user with ``--as USER``
(a member writing their own report) — without it, as the node's operator (the office)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import click

from shangliang.core.clitools import _os_user, emit, rehearsable, table, with_appcontext
from shangliang.core.context import node_context
from shangliang.core.db import get_session, transaction

from . import schemas, services, statistics
from .models import AUTHOR_KINDS, DECISIONS, REPORT_TO, STATUSES

JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON.")
AS = click.option("--as", "as_user", default=None, metavar="USER",
                  help="Act as this node user (a member writing their own report); default: the office.")


def _actor(as_user: str | None) -> str:
    return f"cli:{_os_user()}" + (f" as {as_user}" if as_user else "")


def _who(session, as_user: str | None) -> services.Who:
    return services.who_named(session, as_user) if as_user else services.OPERATOR


def _text(d: dict[str, Any]) -> str:
    a = d["author"]
    lines = [f"{d['id']}  {d['title']}",
             f"status: {d['status']}   year {d['year']}   category: {d['category']}",
             f"author: {a['name']} ({a['kind']}" + (f", {a['member_no']}" if a["member_no"] else "")
             + f", home {a['node']})   written at {d['written']['node']}"]
    if d["origin"]:
        lines.append(f"forwarded from {d['origin']['node']} (its report {d['origin']['ref']})")
    if d["forwarded_to"]:
        lines.append(f"forwarded to {d['forwarded_to']}")
    if d["issue"]:
        lines.append(f"issue: {d['issue']['label']}")
    lines += [f"sentiment: {d['sentiment']}", f"analysis: {d['analysis']}", f"suggestion: {d['suggestion']}"]
    for e in d["events"]:
        lines.append(f"  {e['date'] or ''} {e['node']} ({e['level'] or '-'}) {e['kind']}"
                     + (f" {e['body']}" if e["body"] else "") + (f" {e['leader']}" if e["leader"] else "")
                     + (f": {e['text']}" if e["text"] else "") + (" [told from above]" if e["remote"] else ""))
    return "\n".join(lines)


def _issue_text(d: dict[str, Any]) -> str:
    return "\n".join([f"{d['label']} ({d['ref']}) {d['title']}"] + [f"  {o['id']}  {o['title']} — {o['author']}"
                                                                      for o in d["opinions"]])


def _step(as_user: str | None, as_json: bool, work: Callable) -> None:
    node = node_context()
    with transaction(_actor(as_user)) as session:
        found = work(session, node, _who(session, as_user), _actor(as_user))
        data = found.as_dict()
    emit(data, as_json, _text)


@click.group()
def opinions() -> None:
    """Social-opinion reports (社情民意信息): writing, editing, issues, decisions, forwarding, counts."""


@opinions.command("list")
@click.option("--status", type=click.Choice(STATUSES))
@click.option("--year", type=int)
@click.option("--mine", is_flag=True, help="Only the reports the --as member wrote.")
@AS
@JSON
@with_appcontext
def opinions_list(status, year, mine, as_user, as_json) -> None:
    """The node's reports, newest first."""
    session = get_session()
    rows = [services.summary(o) for o in services.list_opinions(session, _who(session, as_user), status, year,
                                                                 mine=mine).items]
    emit(rows, as_json, lambda rs: table([[r["id"], r["title"], r["author"], r["status"], r["origin"] or ""]
                                          for r in rs], ["id", "title", "author", "status", "from"]))


@opinions.command("show")
@click.argument("ref")
@JSON
@with_appcontext
def opinions_show(ref, as_json) -> None:
    """A report with every decision on it, here and above."""
    emit(services.get_opinion(get_session(), ref).as_dict(), as_json, _text)


@opinions.command("write")
@click.option("--title", required=True)
@click.option("--sentiment", required=True, help="The public sentiment observed (社情).")
@click.option("--analysis", default="")
@click.option("--suggestion", required=True)
@click.option("--category", required=True)
@click.option("--year", type=int)
@click.option("--author-kind", type=click.Choice(AUTHOR_KINDS), default="member")
@click.option("--author-name", help="The office: a body's name, or a higher committee's member's name.")
@click.option("--member-no", help="The office: the member's number.")
@click.option("--author-node", help="The office: the member's home committee when it is above this node.")
@AS
@JSON
@rehearsable
@with_appcontext
def opinions_write(title, sentiment, analysis, suggestion, category, year, author_kind, author_name, member_no,
                   author_node, as_user, as_json) -> None:
    """Write a report (a member's own with --as; the office's for a body or a member)."""
    data = schemas.OpinionIn(title=title, sentiment=sentiment, analysis=analysis, suggestion=suggestion,
                             category=category, year=year, author_kind=author_kind, author_name=author_name,
                             member_no=member_no, author_node=author_node)
    _step(as_user, as_json, lambda s, n, w, a: services.write(s, n, data, w, a))


@opinions.command("from-proposal")
@click.argument("proposal")
@AS
@JSON
@rehearsable
@with_appcontext
def opinions_from_proposal(proposal, as_user, as_json) -> None:
    """Write the report a proposal not filed with the disposal social_opinion becomes (the office)."""
    _step(as_user, as_json, lambda s, n, w, a: services.from_proposal(s, n, proposal, w, a))


@opinions.command("edit")
@click.argument("ref")
@click.option("--title")
@click.option("--sentiment")
@click.option("--analysis")
@click.option("--suggestion")
@click.option("--category")
@AS
@JSON
@rehearsable
@with_appcontext
def opinions_edit(ref, title, sentiment, analysis, suggestion, category, as_user, as_json) -> None:
    """Edit a report before it is forwarded (the office)."""
    data = schemas.OpinionEditIn(title=title, sentiment=sentiment, analysis=analysis, suggestion=suggestion,
                                 category=category)
    _step(as_user, as_json, lambda s, n, w, a: services.edit(s, n, ref, data, w, a))


@opinions.command("decide")
@click.argument("ref")
@click.option("--decision", required=True, type=click.Choice(DECISIONS))
@click.option("--body", help="reported: the body sent to; adopted: the body that adopted it.")
@click.option("--body-kind", type=click.Choice(REPORT_TO), help="reported: party committee or government.")
@click.option("--leader", help="instruction: the leader.")
@click.option("--text", help="instruction: its text; not_used: the reason; otherwise a note.")
@click.option("--date", help="instruction: its date, YYYY-MM-DD.")
@AS
@JSON
@rehearsable
@with_appcontext
def opinions_decide(ref, decision, body, body_kind, leader, text, date, as_user, as_json) -> None:
    """Decide on a report (the office): used, forwarded, reported, not_used, adopted, instruction."""
    data = schemas.OpinionDecisionIn(decision=decision, body=body, body_kind=body_kind, leader=leader, text=text,
                                     date=date)
    node = node_context()
    with transaction(_actor(as_user)) as session:
        found, sent = services.decide(session, node, ref, data, _who(session, as_user), _actor(as_user))
        answer = {"opinion": found.as_dict(), "sent": sent}
    emit(answer, as_json, lambda d: _text(d["opinion"]) + "".join(f"\nsent {s['kind']} to {s['to']}"
                                                                  for s in d["sent"]))


@opinions.command("compile")
@click.option("--year", type=int, required=True)
@click.option("--number", type=int, required=True, help="The issue's number in the year (第N期).")
@click.option("--title", default="")
@click.option("--opinion", "ids", type=int, multiple=True, required=True, help="A report's id (repeatable).")
@AS
@JSON
@rehearsable
@with_appcontext
def opinions_compile(year, number, title, ids, as_user, as_json) -> None:
    """Compile reports into an issue (期) of the periodical (the office)."""
    data = schemas.OpinionIssueIn(year=year, number=number, title=title, opinions=list(ids))
    node = node_context()
    with transaction(_actor(as_user)) as session:
        issue = services.compile_issue(session, node, data, _who(session, as_user), _actor(as_user))
        answer = issue.as_dict()
    emit(answer, as_json, _issue_text)


@opinions.command("issues")
@click.option("--year", type=int)
@JSON
@with_appcontext
def opinions_issues(year, as_json) -> None:
    """The issues of the periodical, newest first."""
    rows = [i.as_dict() for i in services.list_issues(get_session(), year)]
    emit(rows, as_json, lambda rs: "\n\n".join(_issue_text(r) for r in rs) or "no issue")


@opinions.command("statistics")
@click.option("--year", type=int, help="Default: this year (node's time zone).")
@click.option("--xlsx", "xlsx", type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="Also write the adoption statistics to this .xlsx file.")
@JSON
@with_appcontext
def opinions_statistics(year, xlsx, as_json) -> None:
    """The year's reports: written, used, forwarded, adopted at each level, instructions — per member, node,
    level and year."""
    from .views import export

    stats = statistics.opinion_statistics(get_session(), node_context(), year)
    if xlsx is not None:
        xlsx.write_bytes(export(stats))
    cols = list(statistics.COUNTS)
    emit(stats, as_json, lambda s: "\n\n".join([
        f"{s['year']}: " + ", ".join(f"{c} {s['totals'][c]}" for c in cols),
        table([[r["name"], r["member_no"] or "", r["home"], *[r[c] for c in cols],
                ", ".join(f"{k} {v}" for k, v in r["adopted_by_level"].items())] for r in s["by_member"]],
              ["member", "number", "home", *cols, "adopted by level"]),
        table([[r["node"], r["level"] or "", *[r[c] for c in cols[1:]]] for r in s["by_node"]],
              ["node", "level", *cols[1:]]),
        table([[r["level"], r["adopted"], r["instructions"]] for r in s["by_level"]],
              ["level", "adopted", "instructions"]),
    ] + ([f"written: {xlsx}"] if xlsx is not None else [])))
