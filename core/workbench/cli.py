"""``shangliang workbench``: what waits for a user and their inbox, from the command line."""

from __future__ import annotations

import click
from flask import current_app

from shangliang.core.clitools import emit, table, with_appcontext
from shangliang.core.context import node_context
from shangliang.core.db import get_session, transaction
from shangliang.core.plugins import get_plugin_manager

from . import services


@click.group()
def workbench() -> None:
    """What waits for a user on this node, and their notification inbox."""


@workbench.command("show")
@click.option("--as", "username", required=True, help="The user whose workbench to show.")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def workbench_show(username: str, as_json: bool) -> None:
    """Every kind of work waiting for the user, most urgent first, with counts and the first few entries."""
    session = get_session()
    user = services.user_named(session, username)
    # The items link to pages: built as the node's own paths, in the node's language.
    with current_app.test_request_context("/"):
        items = [i.as_dict() for i in services.collect(get_plugin_manager(), session, user, node_context())]

    def text(rows):
        lines = []
        for r in rows:
            lines.append(f"{'! ' if r['urgent'] else ''}{r['label']}: {r['count']}   {r['url']}")
            lines += [f"    {e['title']}  {e['note']}".rstrip() for e in r["entries"]]
        return "\n".join(lines) or "nothing waits"

    emit(items, as_json, text)


@workbench.command("inbox")
@click.option("--as", "username", required=True, help="Whose inbox.")
@click.option("--unread", is_flag=True, help="Only the notifications not yet read.")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def workbench_inbox(username: str, unread: bool, as_json: bool) -> None:
    """The notifications addressed to the user or their role, newest first."""
    session = get_session()
    user = services.user_named(session, username)
    rows = [services.as_dict(n) for n in services.inbox(session, user, unread_only=unread)]
    emit(rows, as_json, lambda rs: table(
        [[r["id"], "" if r["read"] else "*", r["created_at"][:16] if r["created_at"] else "-", r["to"], r["subject"]]
         for r in rs], ["id", "new", "at", "to", "subject"]))


@workbench.command("read")
@click.option("--as", "username", required=True, help="Whose inbox.")
@click.argument("ids", nargs=-1, type=int)
@click.option("--all", "everything", is_flag=True, help="Every notification in the inbox.")
@with_appcontext
def workbench_read(username: str, ids: tuple[int, ...], everything: bool) -> None:
    """Mark notifications read (by id, or --all); an id not in the inbox marks nothing."""
    if not ids and not everything:
        raise click.UsageError("give the ids to mark read, or --all")
    with transaction(f"cli:{username}") as session:
        user = services.user_named(session, username)
        marked = services.mark_read(session, user) if everything else \
            sum(services.mark_read(session, user, i) for i in dict.fromkeys(ids))
    click.echo(f"{marked} marked read")
