"""The search feature's built-in plugin: the /search page, GET /api/v1/search and the ``search`` command."""

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
    from .cli import search

    return search


@hookimpl
def nav_items():
    return [(_l("Search"), "search.index")]

#: The plugin's line on the plugins page, in the page's language.
SUMMARY = N_("The search feature's built-in plugin: the /search page, GET /api/v1/search and the ``search`` command.")
