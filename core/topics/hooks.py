"""The topics feature's built-in plugin: routing by the areas' lowest common parent, the six stages taken
in order, the ``topic.*`` message kinds and what they do here, its settings, pages, API, commands and
the overdue check's schedule."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from shangliang.core.settings import Setting, number
from shangliang.core.plugins import hookimpl
from shangliang.core.i18n import N_

from . import models  # noqa: F401  (the topic tables)
from . import tasks
from .models import STAGES
from .routing import Route, suggest
from .services import ATTACHMENT_MAX_BYTES


@hookimpl
def declare_settings():
    return [
        Setting("topics", "attachment_max_bytes", ATTACHMENT_MAX_BYTES, "the largest file a topic may have attached, "
                "in bytes (uploads may send this plus 1 MiB)", number(1, 1024 ** 3, whole=True, unit="bytes")),
        Setting("topics", "overdue_seconds", 300, "how often beat marks overdue topics (督办)",
                number(1, 86400, unit="seconds")),
    ]


@hookimpl(trylast=True)
def route_topic(topic, config):
    try:
        return suggest(config["NODE_ID"], topic["areas"])
    except ValueError as exc:  # areas no single node holds: nothing to suggest, staff decide
        return Route("", "keep", None, f"{exc}; kept here")


@hookimpl
def topic_transition_guard(topic, from_stage, to_stage):
    if STAGES.index(to_stage) != STAGES.index(from_stage) + 1:
        following = STAGES[STAGES.index(from_stage) + 1] if from_stage != STAGES[-1] else None
        if following is None:
            return [f"the topic is {from_stage}: it has no further stage"]
        return [f"a topic moves one stage at a time: from {from_stage} the next stage is {following}, not {to_stage}"]
    return None


@hookimpl
def federation_kinds():
    from .federation import KINDS

    return list(KINDS)


@hookimpl
def federation_message_accepted(session, envelope, transfer, node):
    """Topics and answers from neighbours: keep this node's copy of the topic and relay answers on."""
    from .federation import apply_received

    apply_received(session, node, envelope, transfer)


@hookimpl
def register_blueprints(app):
    from .blueprint import api, pages

    return [api, pages]


@hookimpl
def register_commands(cli):
    from .cli import topics

    return topics


@hookimpl
def nav_items():
    return [(_l("Topics"), "topics.index"), (_l("Assignments"), "topics.assignments")]


@hookimpl
def workbench_items(session, user, node):
    """The office: topics to accept, overdue topics, units' reports to decide, and raising a topic; a handling
    unit: what is assigned to it."""
    from flask import url_for
    from flask_babel import gettext as _

    from shangliang.core.work import WorkEntry, WorkItem, day
    from shangliang.federation import peers

    from . import implementation, services
    from .views import stage_label

    def topic_entry(t, note=""):
        return WorkEntry(t.title, url_for("topics.show", uid=t.uid), note, bool(t.overdue))

    items = []
    if user.role in ("office", "admin"):
        count, found = services.awaiting_acceptance(session, node)
        names = peers.names(session, node.id, node.config["NODE_NAME"])  # a neighbour by its committee's name
        items.append(WorkItem("topics.to_accept", _("Topics to accept"), count, url_for("topics.index"),
                              [topic_entry(t, _("from %(node)s", node=names.get(sender, sender)))
                               for t in found for sender in [t.upstream or t.uid.split(":")[0]]]))
        count, found = services.overdue_here(session, node)
        items.append(WorkItem("topics.overdue", _("Overdue topics"), count, url_for("topics.index"),
                              [topic_entry(t, _("due %(date)s", date=day(t.due_ms))) for t in found], urgent=count > 0))
        count, found = implementation.reports_to_review(session)
        items.append(WorkItem("topics.reports", _("Units' reports to decide"), count, url_for("topics.assignments"),
                              [WorkEntry(r.assignment.topic.title, url_for("topics.show", uid=r.assignment.topic.uid),
                                         r.assignment.unit.name) for r in found]))
    elif user.role == "handling_unit":
        count, found = implementation.open_assignments(session, services.scope_of(session, user))
        report = None
        if found:  # the form to report progress is on the topic's page, in its implementation section
            report = (_("Report progress"), url_for("topics.show", uid=found[0].topic.uid) + "#form-report")
        items.append(WorkItem("topics.assigned", _("Assigned to your unit"), count, url_for("topics.assignments"),
                              [WorkEntry(a.topic.title, url_for("topics.show", uid=a.topic.uid) + "#implementation",
                                         _("due %(date)s", date=day(a.due_ms)), bool(a.overdue)) for a in found],
                              urgent=any(a.overdue for a in found), action=report))
    if user.role in services.WRITERS:
        items.append(WorkItem("topics.raise", _("Raise a topic"), 0, url_for("topics.index"),
                              action=(_("Raise a topic"), url_for("topics.index") + "#raise")))
    elif user.role == "member":
        items.append(WorkItem("topics.raise", _("Raise a topic"), 0, url_for("topics.mine"),
                              action=(_("Raise a topic"), url_for("topics.mine") + "#raise")))
    elif user.role == "public":
        items.append(WorkItem("topics.raise", _("Raise a matter"), 0, url_for("topics.mine"),
                              action=(_("Raise a matter"), url_for("topics.mine") + "#raise")))
    if user.role in ("member", "public"):
        mine = services.raised_by_user(session, user.username)
        open_ = [t for t in mine if t.stage != "closed"]
        items.append(WorkItem("topics.mine", _("My matters"), len(open_), url_for("topics.mine"),
                              [topic_entry(t, stage_label(t.stage)) for t in mine[:5]]))
    return items


@hookimpl
def beat_schedule(config):
    return {"topics.mark_overdue": {"task": tasks.MARK_OVERDUE, "schedule": float(config["TOPICS_OVERDUE_SECONDS"])}}

#: The plugin's line on the plugins page, in the page's language.
SUMMARY = N_("The topics feature's built-in plugin: routing by the areas' lowest common parent, the six stages taken")
