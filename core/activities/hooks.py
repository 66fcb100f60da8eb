"""The activities feature's built-in plugin: its tables, pages, API and commands, and the nav item."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from shangliang.core.plugins import hookimpl

from . import models  # noqa: F401  (the activity tables)


@hookimpl
def register_blueprints(app):
    from .blueprint import api, calendar, pages

    return [api, calendar, pages]


@hookimpl
def register_commands(cli):
    from .cli import activities

    return activities


@hookimpl
def nav_items():
    return [(_l("Activities"), "activities.index")]


@hookimpl
def federation_kinds():
    """A higher level joins a lower one's consultation: ``x-activities.invite``, ``.join``, ``.opinions``,
    ``.update`` (docs/protocol.md, "Activities between levels")."""
    from .federation import KINDS

    return list(KINDS)


@hookimpl
def federation_message_accepted(session, envelope, transfer, node):
    """Relay an activity message on, or record it here when this node holds the activity."""
    from .federation import apply_received

    apply_received(session, node, envelope, transfer)
