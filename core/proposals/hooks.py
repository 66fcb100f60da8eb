"""The proposals feature's built-in plugin: its tables and settings, pages, API and commands, the overdue
check's schedule, and the nav item."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from shangliang.core.plugins import hookimpl
from shangliang.core.settings import Setting, number

from . import models  # noqa: F401  (the proposal tables)
from . import tasks


def _texts(value: Any) -> str | None:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        return "must be a list of non-empty strings"
    return None


def _flag(value: Any) -> str | None:
    return None if isinstance(value, bool) else f"must be true or false, not {str(value)[:40]!r}"


@hookimpl
def declare_settings():
    return [
        Setting("proposals", "standards", [], "the filing standards (立案标准) shown to the office at the filing "
                "review, one line each", _texts),
        Setting("proposals", "default_deadline_months", 3, "the handling deadline of an assignment when none is "
                "given, in months from the day assigned", number(1, 24, whole=True, unit="months")),
        Setting("proposals", "public_anonymous", True, "the public list of proposals hides the proposers' names",
                _flag),
        Setting("proposals", "overdue_seconds", 300, "how often beat marks handling units past their deadline (督办)",
                number(1, 86400, unit="seconds")),
    ]


@hookimpl
def register_blueprints(app):
    from .blueprint import api, pages

    return [api, pages]


@hookimpl
def register_commands(cli):
    from .cli import proposals

    return proposals


@hookimpl
def nav_items():
    return [(_l("Proposals"), "proposals.index")]


@hookimpl
def beat_schedule(config):
    return {"proposals.mark_overdue": {"task": tasks.MARK_OVERDUE,
                                       "schedule": float(config.get("PROPOSALS_OVERDUE_SECONDS", 300))}}


@hookimpl
def federation_kinds():
    """Proposals across levels: ``x-proposals.forward``, ``.answer``, ``.rating`` (docs/protocol.md,
    "Proposals across levels")."""
    from .federation import KINDS

    return list(KINDS)


@hookimpl
def federation_message_accepted(session, envelope, transfer, node):
    """Keep a proposal forwarded from a child, record the parent's answer, count the proposer's rating."""
    from .federation import apply_received

    apply_received(session, node, envelope, transfer)
