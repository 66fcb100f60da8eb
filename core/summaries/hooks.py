"""The summaries feature's built-in plugin: its table and settings, the report kind and what it does here, the
beat schedule that sends the summary up, the page, API and command, and the nav item for the office."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from shangliang.core.i18n import N_
from shangliang.core.plugins import hookimpl
from shangliang.core.settings import Setting, number

from . import models  # noqa: F401  (the summaries table)
from . import tasks


@hookimpl
def declare_settings():
    return [
        Setting("summaries", "send_seconds", 3600, "how often beat sends this node's summary (its own and its "
                "subtree's figures) to its parent", number(10, 7 * 86400, unit="seconds")),
        Setting("summaries", "stale_seconds", 2 * 86400, "a node whose latest figures are older than this is "
                "flagged stale (fell silent) on the subtree page and in the API", number(1, 366 * 86400,
                                                                                          unit="seconds")),
    ]


@hookimpl
def register_blueprints(app):
    from .blueprint import api, pages

    return [api, pages]


@hookimpl
def register_commands(cli):
    from .cli import summaries

    return summaries


@hookimpl
def nav_items():
    from shangliang.core.web import auth

    user = auth.current_user()
    if user is None or not auth.has_role(user, ("office", "admin")):
        return None
    return [(_l("Subtree"), "summaries.index")]


@hookimpl
def beat_schedule(config):
    return {"summaries.send": {"task": tasks.SEND, "schedule": float(config.get("SUMMARIES_SEND_SECONDS", 3600))}}


@hookimpl
def federation_kinds():
    """``x-summaries.report``: a child's figures and its subtree's, to its parent (docs/summaries.md)."""
    from .federation import KINDS

    return list(KINDS)


@hookimpl
def federation_message_accepted(session, envelope, transfer, node):
    """Keep the figures of a child's summary report."""
    from .federation import apply_received

    apply_received(session, node, envelope, transfer)


SUMMARY = N_("The summaries feature's built-in plugin: a level sees its subtree — the figures each node sends its "
             "parent, the /summaries page, GET /api/v1/summaries and the ``summaries`` command.")
