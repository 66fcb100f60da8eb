"""The appraisal feature's built-in plugin: its tables and settings, pages, API and commands, the overdue
check's schedule, and the nav item."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from shangliang.core.plugins import hookimpl
from shangliang.core.settings import Setting, number
from shangliang.core.i18n import N_

from . import (
    models,  # noqa: F401  (the appraisal tables)
    tasks,
)


@hookimpl
def declare_settings():
    return [
        Setting("appraisal", "overdue_seconds", 300, "how often beat marks rectifications (整改) past their deadline",
                number(1, 86400, unit="seconds")),
    ]


@hookimpl
def register_blueprints(app):
    from .blueprint import api, pages

    return [api, pages]


@hookimpl
def register_commands(cli):
    from .cli import appraisal

    return appraisal


@hookimpl
def nav_items():
    return [(_l("Appraisal"), "appraisal.index")]


@hookimpl
def beat_schedule(config):
    return {"appraisal.mark_overdue": {"task": tasks.MARK_OVERDUE,
                                       "schedule": float(config.get("APPRAISAL_OVERDUE_SECONDS", 300))}}

#: The plugin's line on the plugins page, in the page's language.
SUMMARY = N_("The appraisal feature's built-in plugin: its tables and settings, pages, API and commands, the overdue")
