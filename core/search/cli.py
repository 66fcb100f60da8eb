"""``shangliang search``: search topics, proposals and reports from the command line."""

from __future__ import annotations

import click
from flask import current_app

from shangliang.core.clitools import emit, table, with_appcontext
from shangliang.core.context import node_context
from shangliang.core.db import get_session
from shangliang.core.i18n import N_

from . import services
from .present import present


@click.command("search")
@click.argument("query")
@click.option("--kind", type=click.Choice(services.KINDS), help="Only topics, proposals or reports.")
@click.option("--stage", help="Only this stage (topics) or status (proposals, reports).")
@click.option("--area", help="Only this division code or any division under it.")
@click.option("--category", help="Only this category.")
@click.option("--year", help="Only this year (a topic: the year it was raised).")
@click.option("--limit", type=int, default=services.DEFAULT_LIMIT, show_default=True, help="Hits per page.")
@click.option("--cursor", help="The next page: the cursor the previous page printed.")
@click.option("--as", "username", help="Search as this user sees (default: everything on the node).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@with_appcontext
def search(query: str, kind: str | None, stage: str | None, area: str | None, category: str | None,
           year: str | None, limit: int, cursor: str | None, username: str | None, as_json: bool) -> None:
    """Topics, proposals and reports whose title or text holds every word of QUERY (two-character Chinese
    words too), the most recently changed first."""
    session = get_session()
    checked = services.parse(query, kind, stage, area, category, year)
    viewer = _user(session, username) if username else None
    found = services.search(session, node_context(), viewer, checked, limit, cursor)
    # Labels and page paths as the node's pages give them: in the node's language, names instead of codes.
    with current_app.test_request_context("/"):
        rows = [present(h) for h in found.hits]
    if as_json:
        emit({"hits": rows, "next_cursor": found.next_cursor}, True, str)
        return

    def text(_rows):
        lines = [table([[r["kind_label"], r["ref"], r["stage_label"], r["category"], r["title"]] for r in rows],
                       ["kind", "ref", "stage", "category", "title"])] if rows else ["nothing found"]
        if found.next_cursor:
            lines.append(f"more: --cursor {found.next_cursor}")
        return "\n".join(lines)

    emit(rows, False, text)


def _user(session, username: str):
    from sqlalchemy import select

    from shangliang.core.errors import InputError
    from shangliang.core.users.models import User

    user = session.execute(select(User).where(User.username == username.strip())).scalar_one_or_none()
    if user is None or not user.active:
        raise InputError(N_("no active user %(username)s on this node", username=repr(username[:80])), field="as")
    return user
