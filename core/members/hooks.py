"""The members feature's built-in plugin: the ``members`` commands, pages (/admin/members) and API (/api/v1/members)."""

from __future__ import annotations

from shangliang.core.plugins import hookimpl
from shangliang.core.i18n import N_

from . import models  # noqa: F401  (the member tables)


@hookimpl
def register_commands(cli):
    from .cli import members

    return members


@hookimpl
def register_blueprints(app):
    from .blueprint import api, pages

    return [api, pages]

#: The plugin's line on the plugins page, in the page's language.
SUMMARY = N_("The members feature's built-in plugin: the ``members`` commands, pages (/admin/members) and API "
             "(/api/v1/members).")
