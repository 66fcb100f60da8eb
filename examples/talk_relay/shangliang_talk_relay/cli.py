"""``shangliang talk-relay send --to NODE …`` and ``shangliang talk-relay received``."""

from __future__ import annotations

import click

from shangliang.core.cli import with_appcontext
from shangliang.core.clitools import emit
from shangliang.core.context import node_context
from shangliang.core.db import get_session, transaction

from . import services


@click.group("talk-relay")
def talk_relay() -> None:
    """民情恳谈 relay: send a talk's points to a neighbour; list the talks received."""


@talk_relay.command("send")
@click.option("--to", "destination", required=True, help="The neighbour (a pinned peer) to send to.")
@click.option("--title", required=True, help="The talk, e.g. 双山村民情恳谈会.")
@click.option("--held-on", required=True, help="The day it was held, YYYY-MM-DD.")
@click.option("--point", "points", multiple=True, required=True, help="A point raised (repeatable).")
@with_appcontext
def send(destination: str, title: str, held_on: str, points: tuple[str, ...]) -> None:
    """Queue a talk for a neighbour (x-talk_relay.talk)."""
    with transaction() as session:
        envelope, row = services.send(session, node_context(), destination, title, held_on, list(points))
    click.echo(f"queued {envelope['origin']}/{envelope['id']} ({services.KIND}) for {destination} (outbox {row.id})")


@talk_relay.command("received")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def received(as_json: bool) -> None:
    """The talks received from neighbours, newest first."""
    emit(services.received(get_session()), as_json,
         lambda rows: "\n".join(f"{row['subject']}\n{row['body']}" for row in rows) or "no talk received")
