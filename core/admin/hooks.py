"""The administration feature's built-in plugin: the /admin pages (index, peers, outbox, bundles, audit log) and
their API (/api/v1/peers, /api/v1/outbox, /api/v1/bundles, /api/v1/audit), and the Prometheus metrics at /metrics."""

from __future__ import annotations

from shangliang.core.i18n import N_
from shangliang.core.plugins import hookimpl
from shangliang.core.settings import Setting

from .metrics import LOOPBACK, check_allow


@hookimpl
def declare_settings():
    return [
        Setting("metrics", "allow", LOOPBACK, "the addresses or networks that may read /metrics without a token "
                "(SHANGLIANG_METRICS_TOKEN); [] turns /metrics off for them", check_allow),
    ]


@hookimpl
def register_blueprints(app):
    from .blueprint import audit_api, bundles_api, metrics_bp, outbox_api, pages, peers_api

    return [pages, peers_api, outbox_api, bundles_api, audit_api, metrics_bp]


#: The plugin's line on the plugins page, in the page's language.
SUMMARY = N_("The administration feature's built-in plugin: the /admin pages (index, peers, outbox, audit log) "
             "and their API")
