"""The plans feature's built-in plugin: the consultation forms of DOMAIN.md, the default approval steps
(chair meeting review, party standing committee decision) and the feature's settings."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from shangliang.core.plugins import hookimpl
from shangliang.core.settings import Setting
from shangliang.core.i18n import N_

from . import models  # noqa: F401  (the plan tables)
from .forms import DEFAULT_FORMS, DEFAULT_STEPS


def _pairs(value: Any) -> str | None:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.count("|") == 1 and all(
            part.strip() for part in v.split("|")) for v in value):
        return 'must be a list of "special committee|department" strings'
    return None


@hookimpl
def declare_settings():
    return [
        Setting("plans", "counterpart_pairs", [], "pairs of a special committee and a department that hold a "
                'counterpart consultation (对口协商) at least once a year, as "committee|department"; a year\'s plan '
                "shows each pair it has not planned", _pairs),
    ]


@hookimpl
def consultation_forms():
    return list(DEFAULT_FORMS)


@hookimpl(trylast=True)
def plan_approval_steps(config):
    return list(DEFAULT_STEPS)


@hookimpl
def register_blueprints(app):
    from .blueprint import api, pages

    return [api, pages]


@hookimpl
def register_commands(cli):
    from .cli import plans

    return plans


@hookimpl
def nav_items():
    return [(_l("Plans"), "plans.index")]


@hookimpl
def workbench_items(session, user, node):
    """The office: annual plans not yet published, with the step each awaits."""
    from flask import url_for
    from flask_babel import gettext as _

    from shangliang.core.work import WorkEntry, WorkItem

    from . import services

    if user.role not in ("office", "admin"):
        return None
    found = services.unpublished(session, node)
    entries = [WorkEntry(plan.title, url_for("plans.show", year=plan.year),
                         _("next: %(step)s", step=step.label) if step is not None else _("ready to publish"))
               for plan, step in found]
    return [WorkItem("plans.unpublished", _("Plans awaiting approval"), len(entries), url_for("plans.index"), entries[:5])]

#: The plugin's line on the plugins page, in the page's language.
SUMMARY = N_("The plans feature's built-in plugin: the consultation forms of DOMAIN.md, the default approval steps")
