"""The federation layer's built-in plugin: its hooks and settings, its HTTP binding, its commands, the
outbox pump's schedule and each new node's signing key."""

from __future__ import annotations

from shangliang.core.settings import Setting, number
from shangliang.core.plugins import hookimpl
from shangliang.core.i18n import N_

from . import anchors, delivery  # noqa: F401  (the anchor and delivery tasks)
from . import models  # noqa: F401  (the federation tables)


@hookimpl
def add_hookspecs(pm):
    from . import hookspecs

    pm.add_hookspecs(hookspecs)


@hookimpl
def declare_settings():
    return [
        Setting("federation", "transfer_days", 7, "lifetime of each transfer (a hop's expires_ms), in days "
                "(PROTOCOL.md §4 allows at most 30)", number(1, 30, whole=True, unit="days")),
        Setting("federation", "pump_seconds", 5, "how often beat hands due outbox rows to workers",
                number(0.05, 3600, unit="seconds")),
        Setting("federation", "rate_per_minute", 600, "inbox messages a peer may send a minute, per web process "
                "(then 429 with Retry-After)", number(1, 10 ** 9, whole=True)),
        Setting("federation", "burst", 60, "inbox messages a peer may send at once before the rate applies",
                number(1, 10 ** 9, whole=True)),
        Setting("federation", "backoff_base_seconds", 30, "first retry delay: min(base × 2^n, max) × uniform(0.8, 1.4) "
                "(PROTOCOL.md §7)", number(0.01, 86400, unit="seconds")),
        Setting("federation", "backoff_max_seconds", 6 * 3600, "longest retry delay", number(0.01, 7 * 86400,
                                                                                           unit="seconds")),
        Setting("federation", "hold_start_seconds", 60, "hold on a destination after a failure, doubling",
                number(0.01, 86400, unit="seconds")),
        Setting("federation", "hold_max_seconds", 3600, "longest hold on a destination",
                number(0.01, 7 * 86400, unit="seconds")),
        Setting("federation", "lease_seconds", 60, "a delivery claimed by a worker that died is retried after this",
                number(0.5, 86400, unit="seconds")),
        Setting("federation", "anchor_hours", 24, "how often beat sends the audit log's head to the parent "
                "(docs/audit.md, anchors)", number(0.01, 24, unit="hours")),
    ]


@hookimpl
def register_blueprints(app):
    from .http import bp

    app.extensions["csrf"].exempt(bp)  # signed envelopes, not browser forms
    return bp


@hookimpl
def register_commands(cli):
    from .cli import bundle, inbox, keys, outbox, peers

    return [keys, peers, inbox, outbox, bundle]


@hookimpl
def federation_kinds():
    return list(anchors.KINDS)  # the audit anchor, an extension kind of the federation's own


@hookimpl
def audit_commands():
    from .cli import audit_anchor, audit_children

    return [audit_anchor, audit_children]


@hookimpl
def beat_schedule(config):
    return {
        "federation.pump": {"task": "shangliang.federation.pump", "schedule": float(config["FEDERATION_PUMP_SECONDS"])},
        "federation.anchor": {"task": "shangliang.federation.anchor",
                              "schedule": float(config["FEDERATION_ANCHOR_HOURS"]) * 3600},
    }


@hookimpl
def audit_anchor(session):
    from shangliang.core.context import node_context

    return anchors.fetch(session, node_context())


@hookimpl
def node_created(session, node):
    from . import keys

    keys.generate(session, node.node_dir)

#: The plugin's line on the plugins page, in the page's language.
SUMMARY = N_("The federation layer's built-in plugin: its hooks and settings, its HTTP binding, its commands, the")
