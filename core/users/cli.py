"""``shangliang users``: add and list the accounts that sign in to this node."""

from __future__ import annotations

import sys

import click
from flask import current_app

from shangliang.core.clitools import emit, table, with_appcontext
from shangliang.core.db import get_session, transaction
from shangliang.core.models import Role

from . import services


@click.group()
def users() -> None:
    """People who sign in: administrators, office staff, members, handling units, the public."""


@users.command("add")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--name", "display_name", help="Display name (default: the user name).")
@click.option("--member", "member_no", help="Link to the member with this member number.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--no-password", is_flag=True, help="Create the account without a password (cannot sign in yet).")
@with_appcontext
def users_add(username: str, role: str, display_name: str | None, member_no: str | None,
              password_stdin: bool, no_password: bool) -> None:
    """Add a user."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif no_password:
        password = None
    else:
        password = click.prompt("password", hide_input=True, confirmation_prompt=True)
    with transaction() as session:
        user = services.add_user(session, username, role, password, display_name, member_no,
                                 method=current_app.config["USERS_HASH_METHOD"])
    click.echo(f"user {user.username} ({user.role}) added")


@users.command("list")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def users_list(as_json: bool) -> None:
    """List users."""
    rows = [services.user_dict(u) for u in services.list_users(get_session())]
    emit(rows, as_json, lambda rs: table([[r["username"], r["display_name"], r["role"], r["member_no"] or "",
                                           "yes" if r["active"] else "no"] for r in rs],
                                         ["username", "name", "role", "member", "active"]))


@users.command("password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the new password from standard input.")
@with_appcontext
def users_password(username: str, password_stdin: bool) -> None:
    """Set a user's password; every session signed in before ends."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("new password", hide_input=True, confirmation_prompt=True)
    with transaction() as session:
        ended = services.set_password(session, username, password, method=current_app.config["USERS_HASH_METHOD"])
    click.echo(f"password of {username} changed; {ended} signed-in session(s) ended")


@users.command("disable")
@click.argument("username")
@with_appcontext
def users_disable(username: str) -> None:
    """Turn an account off: it can no longer sign in, and its sessions end at once."""
    with transaction() as session:
        ended = services.set_active(session, username, False)
    click.echo(f"user {username} disabled; {ended} signed-in session(s) ended")


@users.command("role")
@click.argument("username")
@click.argument("role")
@with_appcontext
def users_role(username: str, role: str) -> None:
    """Give a user another role (the last active admin keeps admin)."""
    with transaction() as session:
        user = services.set_role(session, username, role)
    click.echo(f"user {user.username} is now {user.role}")


@users.command("enable")
@click.argument("username")
@with_appcontext
def users_enable(username: str) -> None:
    """Turn an account on again."""
    with transaction() as session:
        services.set_active(session, username, True)
    click.echo(f"user {username} enabled")

