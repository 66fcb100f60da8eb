"""The handling units feature's built-in plugin: its tables, pages, API and commands."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from shangliang.core.plugins import hookimpl
from shangliang.core.i18n import N_

from . import models  # noqa: F401  (the unit tables)


@hookimpl
def register_blueprints(app):
    from .blueprint import api, pages

    return [api, pages]


@hookimpl
def register_commands(cli):
    from .cli import units

    return units


@hookimpl
def nav_items():
    return [(_l("Units"), "units.index")]

#: The plugin's line on the plugins page, in the page's language.
SUMMARY = N_("The handling units feature's built-in plugin: its tables, pages, API and commands.")
