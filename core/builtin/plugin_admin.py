"""The administrator's plugin page and API: installed plugins, enabling, disabling and their settings."""

from __future__ import annotations
from shangliang.core.i18n import N_

from ..plugins import hookimpl


@hookimpl
def register_blueprints(app):
    # Imported here: the page edits node.toml through core.nodedir, which makes apps (create_app).
    from ..web import plugins_admin

    return [plugins_admin.pages, plugins_admin.api]

#: The plugin's line on the plugins page, in the page's language.
SUMMARY = N_("The administrator's plugin page and API: installed plugins, enabling, disabling and their settings.")
