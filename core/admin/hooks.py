"""The administration feature's built-in plugin: the /admin pages (index, peers, outbox, bundles, audit log) and
their API (/api/v1/peers, /api/v1/outbox, /api/v1/bundles, /api/v1/audit)."""

from __future__ import annotations

from shangliang.core.plugins import hookimpl
from shangliang.core.i18n import N_


@hookimpl
def register_blueprints(app):
    from .blueprint import audit_api, bundles_api, outbox_api, pages, peers_api

    return [pages, peers_api, outbox_api, bundles_api, audit_api]

#: The plugin's line on the plugins page, in the page's language.
SUMMARY = N_("The administration feature's built-in plugin: the /admin pages (index, peers, outbox, audit log) "
             "and their API")
