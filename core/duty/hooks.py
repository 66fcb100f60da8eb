"""The duty feature's built-in plugin: its table and setting, pages, API and commands, the reminder's
schedule, the ``x-duty.items`` kind, the nav item, and the record items it keeps itself."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from shangliang.core.plugins import hookimpl
from shangliang.core.settings import Setting, number
from shangliang.core.i18n import N_

from . import models  # noqa: F401  (the duty table)
from . import tasks


@hookimpl
def declare_settings():
    return [
        Setting("duty", "reminder_seconds", 30 * 24 * 3600, "how often beat reminds members falling behind in the "
                "year's duty assessment (履职提醒)", number(3600, 366 * 24 * 3600, unit="seconds")),
    ]


@hookimpl
def register_blueprints(app):
    from .blueprint import api, member_api, pages

    return [api, member_api, pages]


@hookimpl
def register_commands(cli):
    from .cli import duty

    return duty


@hookimpl
def nav_items():
    return [(_l("Duty records"), "duty.index")]


@hookimpl
def beat_schedule(config):
    return {"duty.remind": {"task": tasks.REMIND,
                            "schedule": float(config.get("DUTY_REMINDER_SECONDS", 30 * 24 * 3600))}}


@hookimpl
def federation_kinds():
    """Duty items of a higher committee's member reported by a lower node: ``x-duty.items``."""
    from .federation import KINDS

    return list(KINDS)


@hookimpl
def federation_message_accepted(session, envelope, transfer, node):
    """Pass ``x-duty.items`` on up, or keep its items in the member's record here."""
    from .federation import apply_received

    apply_received(session, node, envelope, transfer)


@hookimpl
def duty_record_items(session, node, member, year):
    """The items kept here: recorded by hand with evidence, and reported by lower nodes."""
    from .services import kept_as_record_items

    return kept_as_record_items(session, member["id"], year) or None

#: The plugin's line on the plugins page, in the page's language.
SUMMARY = N_("The duty feature's built-in plugin: its table and setting, pages, API and commands, the reminder's")
