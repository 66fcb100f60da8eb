"""``shangliang leaders list``: each leader and the units that leader follows."""

from __future__ import annotations

import click
import flask

from shangliang.core.cli import emit, table, with_appcontext

from . import services


@click.group()
def leaders() -> None:
    """Leader follow-up (领导包抓): which leader follows which lower units."""


@leaders.command("list")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def leaders_list(as_json: bool) -> None:
    """Each leader and the units that leader follows."""
    rows = services.follow_up_rows(services.settings(flask.current_app.config)["leaders"])
    emit(rows, as_json, lambda rs: table(
        [[r["leader"], ", ".join(f"{u['code']} ({u['level']})" for u in r["units"])] for r in rs],
        ["leader", "units"]) if rs else f"no leaders configured (setting: {services.SETTING})")
