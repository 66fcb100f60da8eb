"""``shangliang leaders list|check``: each leader and what that leader follows; whether the settings name users
and handling units this node holds."""

from __future__ import annotations

import click
import flask
from shangliang.core.clitools import emit, table, with_appcontext
from shangliang.core.db import get_session
from shangliang.core.errors import ConfigError

from . import services


@click.group()
def leaders() -> None:
    """Leader follow-up (领导包抓): which leader follows which areas and handling units."""


@leaders.command("list")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def leaders_list(as_json: bool) -> None:
    """Each leader, the user told of overdue items, and the areas and units followed."""
    rows = services.follow_up_rows(services.leaders_of(flask.current_app.config))
    emit(rows, as_json, lambda rs: table(
        [[r["leader"], r["user"], ", ".join(f"{a['code']} ({a['level']})" for a in r["areas"]), ", ".join(r["units"])]
         for r in rs], ["leader", "user", "areas", "units"]) if rs else f"no leaders configured (setting: {services.SETTING})")


@leaders.command("check")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def leaders_check(as_json: bool) -> None:
    """Check that every leader's user and every unit named are on this node (exit status 2 naming each one
    that is not)."""
    found = services.leaders_of(flask.current_app.config)
    problems = services.check_against_node(get_session(), found)
    if as_json:
        emit({"leaders": len(found), "problems": problems}, True, str)
        if problems:
            raise click.exceptions.Exit(2)
        return
    if problems:
        raise ConfigError(f"{len(problems)} problem(s): " + "; ".join(problems))
    click.echo(f"{len(found)} leader(s): every user and unit named is on this node")
