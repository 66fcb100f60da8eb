"""``shangliang units``: add, list, show, change and import handling units (承办单位); each command calls one
service and prints text or, with ``--json``, JSON."""

from __future__ import annotations

from pathlib import Path

import click
from shangliang.core.clitools import _os_user, emit, rehearsable, table, with_appcontext
from shangliang.core.db import get_session, transaction
from shangliang.core.errors import InputError
from shangliang.core.i18n import N_

from . import services
from .models import KINDS


def _actor() -> str:
    return f"cli:{_os_user()}"


def _contacts(value: str | None) -> list[str] | None:
    if value is None:
        return None
    return [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]


def _line(unit: dict) -> str:
    return (f"{unit['name']} (id {unit['id']}, {unit['kind']}{', inactive' if not unit['active'] else ''})"
            f"{' phone ' + unit['phone'] if unit['phone'] else ''}; contacts: {', '.join(unit['contacts']) or '-'}")


@click.group()
def units() -> None:
    """Handling units (承办单位): the departments results and proposals are assigned to, and their contacts."""


@units.command("add")
@click.option("--name", required=True)
@click.option("--kind", required=True, type=click.Choice(KINDS), help="party, government or other.")
@click.option("--phone")
@click.option("--contacts", help="User names (role handling_unit) separated by commas.")
@click.option("--json", "as_json", is_flag=True)
@rehearsable
@with_appcontext
def units_add(name, kind, phone, contacts, as_json) -> None:
    """Add a handling unit."""
    with transaction(_actor()) as session:
        data = services.detail(services.add_unit(session, name, kind, phone, _contacts(contacts) or []))
    emit(data, as_json, lambda d: f"unit added: {_line(d)}")


@units.command("list")
@click.option("--active", "active_only", is_flag=True, help="Only the units still active.")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def units_list(active_only, as_json) -> None:
    """The handling units of this node, the newest first."""
    rows = [services.detail(u) for u in services.page_units(get_session(), active_only=active_only).items]
    emit(rows, as_json, lambda rs: table([[r["id"], r["name"], r["kind"], r["phone"] or "", ", ".join(r["contacts"]),
                                           "yes" if r["active"] else "no"] for r in rs],
                                         ["id", "name", "kind", "phone", "contacts", "active"])
         if rs else "no handling units (add one: shangliang units add, or shangliang units import FILE)")


@units.command("show")
@click.argument("ref")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def units_show(ref, as_json) -> None:
    """A unit by its id or its name."""
    emit(services.detail(services.get_unit(get_session(), ref)), as_json, _line)


@units.command("update")
@click.argument("ref")
@click.option("--name", help="A new name.")
@click.option("--kind", type=click.Choice(KINDS))
@click.option("--phone", help="A new phone; an empty text clears it.")
@click.option("--active/--inactive", default=None, help="Whether new work may be assigned to it.")
@click.option("--contacts", help="The whole new list of contacts' user names, separated by commas ('' clears it).")
@click.option("--json", "as_json", is_flag=True)
@rehearsable
@with_appcontext
def units_update(ref, name, kind, phone, active, contacts, as_json) -> None:
    """Change a unit (by its id or its name): what is given changes."""
    with transaction(_actor()) as session:
        data = services.detail(services.update_unit(session, ref, name, kind, phone, active, _contacts(contacts)))
    emit(data, as_json, lambda d: f"unit changed: {_line(d)}")


@units.command("import")
@click.argument("csv_file", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True)
@rehearsable
@with_appcontext
def units_import(csv_file: Path, as_json) -> None:
    """Import units from a UTF-8 CSV with a header row (all rows or none; every bad line is listed).

    Columns: name, kind (required); phone, contacts (user names separated by ;).
    """
    if not csv_file.is_file():
        raise InputError(N_("no such file: %(csv_file)s", csv_file=csv_file))
    with transaction(_actor()) as session:
        rows = [services.detail(u) for u in services.import_units(session, csv_file)]
    emit({"imported": len(rows), "units": rows}, as_json, lambda d: f"imported {d['imported']} units from {csv_file}")
