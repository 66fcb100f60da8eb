"""The workbench feature's built-in plugin: the inbox page, the /api/v1/me API and the ``workbench`` commands."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from shangliang.core.plugins import hookimpl
from shangliang.core.i18n import N_


@hookimpl
def register_blueprints(app):
    from .blueprint import api, pages

    return [api, pages]


@hookimpl
def register_commands(cli):
    from .cli import workbench

    return workbench


@hookimpl
def nav_items():
    return [(_l("Inbox"), "workbench.inbox")]

#: The plugin's line on the plugins page, in the page's language.
SUMMARY = N_("The workbench feature's built-in plugin: the inbox page, the /api/v1/me API and the ``workbench`` "
             "commands.")
