"""``shangliang members``: add, list and import members."""

from __future__ import annotations

from pathlib import Path

import click

from shangliang.core.clitools import emit, table, with_appcontext
from shangliang.core.db import get_session, transaction
from shangliang.core.errors import InputError
from shangliang.core.i18n import N_

from . import services


@click.group()
def members() -> None:
    """Members (委员): sector, special committee and township group."""


@members.command("add")
@click.option("--name", required=True)
@click.option("--sector", required=True, help="界别")
@click.option("--special-committee", help="专门委员会")
@click.option("--township-group", help="乡镇委员小组")
@click.option("--member-no", help="Member number, unique on this node.")
@click.option("--phone")
@with_appcontext
def members_add(name, sector, special_committee, township_group, member_no, phone) -> None:
    """Add a member."""
    with transaction() as session:
        member = services.add_member(session, name, sector, special_committee, township_group, member_no, phone)
    click.echo(f"member {member.name} added (id {member.id})")


@members.command("list")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def members_list(as_json: bool) -> None:
    """List members."""
    rows = [services.member_dict(m) for m in services.list_members(get_session())]
    emit(rows, as_json, lambda rs: table(
        [[r["member_no"] or "", r["name"], r["sector"], r["special_committee"] or "", r["township_group"] or ""]
         for r in rs], ["no", "name", "sector", "special committee", "township group"]))


@members.command("import")
@click.argument("csv_file", type=click.Path(path_type=Path))
@with_appcontext
def members_import(csv_file: Path) -> None:
    """Import members from a UTF-8 CSV with a header row (all rows or none).

    Columns: name, sector (required); special_committee, township_group, member_no, phone.
    """
    if not csv_file.is_file():
        raise InputError(N_("no such file: %(csv_file)s", csv_file=csv_file))
    with transaction() as session:
        imported = services.import_members(session, csv_file)
    click.echo(f"imported {len(imported)} members from {csv_file}")
