"""The notes plugin's hooks: a command that writes its table, and two hooks that fail when told to."""

from __future__ import annotations

from typing import Any, Mapping

import click

from shangliang.core.errors import InputError
from shangliang.core.plugins import hookimpl


def _fail_in(config: Mapping[str, Any]) -> str:
    return ((config.get("PLUGIN_SETTINGS") or {}).get("notes") or {}).get("fail_in", "")


@hookimpl
def node_configured(config, plugin_config):
    if plugin_config.get("notes", {}).get("fail_in") == "node_configured":
        raise RuntimeError("the notes plugin cannot read its settings")
    return None


@hookimpl
def topic_transition_guard(topic, from_stage, to_stage):
    from flask import current_app

    fail_in = _fail_in(current_app.config)
    if fail_in == "topic_transition_guard":
        raise KeyError("stage_notes")  # a bug in the plugin, as it would happen
    if fail_in == "refuse":
        raise InputError("the notes plugin refuses this change on purpose")
    return None


@hookimpl
def register_commands(cli):
    from shangliang.core.clitools import with_appcontext

    @click.group("notes")
    def notes() -> None:
        """Notes kept in the notes plugin's own table."""

    @notes.command("add")
    @click.argument("body")
    @with_appcontext
    def add(body: str) -> None:
        from shangliang.core.db import transaction

        from .models import Note

        with transaction(actor="cli") as session:
            session.add(Note(body=body, author="cli"))
        click.echo("note added")

    @notes.command("list")
    @with_appcontext
    def list_() -> None:
        from sqlalchemy import select

        from shangliang.core.db import get_session

        from .models import Note

        for note in get_session().scalars(select(Note).order_by(Note.id)):
            click.echo(note.body)

    return [notes]
