"""The activities feature's built-in plugin: its tables, pages, API and commands, and the nav item."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from shangliang.core.plugins import hookimpl
from shangliang.core.i18n import N_

from . import models  # noqa: F401  (the activity tables)


@hookimpl
def register_blueprints(app):
    from .blueprint import api, calendar, pages

    return [api, calendar, pages]


@hookimpl
def register_commands(cli):
    from .cli import activities

    return activities


@hookimpl
def nav_items():
    return [(_l("Activities"), "activities.index")]


@hookimpl
def workbench_items(session, user, node):
    """The office: activities planned or under way here; a member: invitations to answer."""
    from flask import url_for
    from flask_babel import gettext as _

    from shangliang.core.work import WorkEntry, WorkItem, day

    from . import services

    items = []
    if user.role in ("office", "admin"):
        count, found = services.coming(session, node)
        items.append(WorkItem("activities.coming", _("Activities coming up"), count, url_for("activities.index"),
                              [WorkEntry(a.title, url_for("activities.show", uid=a.uid), day(a.starts_ms))
                               for a in found]))
    if user.member_id is not None:
        count, found = services.invitations_to_answer(session, user.member_id)
        items.append(WorkItem("activities.invitations", _("Invitations to answer"), count,
                              url_for("activities.index"),
                              [WorkEntry(i.activity.title, url_for("activities.show", uid=i.activity.uid),
                                         day(i.activity.starts_ms)) for i in found]))
    return items


@hookimpl
def federation_kinds():
    """A higher level joins a lower one's consultation: ``x-activities.invite``, ``.join``, ``.opinions``,
    ``.update`` (docs/protocol.md, "Activities between levels")."""
    from .federation import KINDS

    return list(KINDS)


@hookimpl
def federation_message_accepted(session, envelope, transfer, node):
    """Relay an activity message on, or record it here when this node holds the activity."""
    from .federation import apply_received

    apply_received(session, node, envelope, transfer)


@hookimpl
def duty_record_items(session, node, member, year):
    """A member's attendance (activities attended, the plenary's marked ``form: plenary``) and speeches and
    opinions posted, in ``year``, for the duty record (issue 13)."""
    import datetime as dt
    import zoneinfo

    from sqlalchemy import select

    from .models import Activity, Invitation, Opinion

    tz = zoneinfo.ZoneInfo(node.config.get("TIMEZONE") or "Asia/Shanghai")
    start = int(dt.datetime(year, 1, 1, tzinfo=tz).timestamp() * 1000)
    end = int(dt.datetime(year + 1, 1, 1, tzinfo=tz).timestamp() * 1000) if year < 9999 else 2 ** 53

    def day(ms):
        return dt.datetime.fromtimestamp(ms / 1000, tz).date().isoformat()

    items = []
    attended = session.execute(
        select(Invitation, Activity).join(Activity, Activity.id == Invitation.activity_id)
        .where(Invitation.member_id == member["id"], Invitation.attended.is_(True),
               Activity.starts_ms >= start, Activity.starts_ms < end, Activity.status != "cancelled")).all()
    for invitation, activity in attended:
        items.append({"kind": "attendance", "title": activity.title, "date": day(activity.starts_ms),
                      "source": "activities", "ref": activity.uid, "detail": activity.form, "form": activity.form})
    spoken = session.execute(
        select(Opinion, Activity).join(Activity, Activity.id == Opinion.activity_id)
        .where(Opinion.member_id == member["id"], Opinion.hidden.is_(False), Opinion.at_ms >= start,
               Opinion.at_ms < end)).all()
    for opinion, activity in spoken:
        items.append({"kind": "speech" if opinion.kind == "speech" else "opinion",
                      "title": activity.title, "date": day(opinion.at_ms), "source": "activities",
                      "ref": f"{activity.uid}#opinion-{opinion.id}", "detail": opinion.text[:300],
                      "form": activity.form})
    return items or None

#: The plugin's line on the plugins page, in the page's language.
SUMMARY = N_("The activities feature's built-in plugin: its tables, pages, API and commands, and the nav item.")
