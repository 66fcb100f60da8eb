"""The opinions feature's built-in plugin: its tables, pages, API and commands, its message kinds, the nav item,
and what it knows of a member's duty record (the reports they wrote, and every adoption or instruction)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from shangliang.core.plugins import hookimpl
from shangliang.core.i18n import N_

from . import models  # noqa: F401  (the report tables)
from .models import ADOPTIONS, SocialOpinion


@hookimpl
def register_blueprints(app):
    from .blueprint import api, pages

    return [api, pages]


@hookimpl
def register_commands(cli):
    from .cli import opinions

    return opinions


@hookimpl
def nav_items():
    return [(_l("Social-opinion reports"), "opinions.index")]


@hookimpl
def workbench_items(session, user, node):
    """The office: reports to decide; a member: their reports and writing one."""
    from flask import url_for
    from flask_babel import gettext as _

    from shangliang.core.work import WorkEntry, WorkItem

    from . import services

    who = services.who_of(user)

    def entry(o, note=""):
        return WorkEntry(o.title, url_for("opinions.show", ref=o.id), note)

    items = []
    if who.office:
        count, found = services.to_decide(session)
        items.append(WorkItem("opinions.to_decide", _("Social-opinion reports to decide"), count,
                              url_for("opinions.index", status="pending"), [entry(o, o.author_name) for o in found]))
    if who.member_id is not None:
        count, found = services.of_member(session, who)
        items.append(WorkItem("opinions.mine", _("Your social-opinion reports"), count,
                              url_for("opinions.index", mine="1"), [entry(o, str(o.year)) for o in found]))
    if who.role in services.WRITERS:
        items.append(WorkItem("opinions.write", _("Write a social-opinion report"), 0, url_for("opinions.new"),
                              action=(_("Write a social-opinion report"), url_for("opinions.new"))))
    return items


@hookimpl
def federation_kinds():
    """Reports across levels: ``x-opinions.forward`` (up) and ``x-opinions.decision`` (down), docs/opinions.md."""
    from .federation import KINDS

    return list(KINDS)


@hookimpl
def federation_message_accepted(session, envelope, transfer, node):
    """Keep a report forwarded from a child; record (and pass down) a decision the parent told."""
    from .federation import apply_received

    apply_received(session, node, envelope, transfer)


#: How a duty record says where and how a report was adopted (the record's ``detail`` is text for people; the
#: facts — ``decision``, ``node``, ``level``, ``body``, ``leader``, ``text`` — travel beside it).
LEVEL_WORDS = {"province": "省级", "city": "市级", "county": "县级", "township": "乡镇"}
DECISION_WORDS = {"used": "本级采用", "adopted": "采用", "instruction": "领导批示"}


def _adoption_text(decision, node_id, level, body, leader, text) -> str:
    where = f"{LEVEL_WORDS.get(level or '', level or '')} {node_id}".strip()
    what = DECISION_WORDS.get(decision, decision)
    parts = [f"{where} {what}", body or "", f"{leader}: {text}" if leader else text or ""]
    return " · ".join(p for p in parts if p)


def _day(node, ms: int) -> str:
    from shangliang.core.topics.supervision import today

    return today(node.config, ms).isoformat() if ms is not None else ""


@hookimpl
def duty_record_items(session, node, member, year):
    """The member's reports of ``year`` (``social_opinion``) and every adoption or instruction of their reports,
    at any level, dated in ``year`` (``adoption``); matched by member number, or by name when the register has
    no number."""
    number, name = (member.get("member_no") or "").strip(), (member.get("name") or "").strip()
    query = select(SocialOpinion).options(selectinload(SocialOpinion.events)).where(
        SocialOpinion.author_kind == "member")
    if number:
        query = query.where(SocialOpinion.member_no == number)
    elif name:
        query = query.where(SocialOpinion.member_no.is_(None), SocialOpinion.author_name == name)
    else:
        return None
    items = []
    for o in session.execute(query.order_by(SocialOpinion.id)).scalars():
        if o.year == year:
            items.append({"kind": "social_opinion", "title": o.title, "date": _day(node, o.written_ms),
                          "source": "opinions", "ref": str(o.id),
                          "detail": " · ".join(p for p in (o.category, f"撰写于 {o.written_node}") if p),
                          "category": o.category, "written_node": o.written_node, "status": o.status})
        for e in o.events:
            if e.kind not in (*ADOPTIONS, "instruction"):
                continue
            date = e.date or _day(node, e.at_ms)
            if not date.startswith(f"{year:04d}-"):
                continue
            text = e.text if e.kind == "instruction" else ""
            items.append({"kind": "adoption", "title": o.title, "date": date, "source": "opinions",
                          "ref": f"{o.id}#{e.id}", "detail": _adoption_text(e.kind, e.node, e.level, e.body, e.leader,
                                                                           text),
                          "decision": e.kind, "node": e.node, "level": e.level, "body": e.body,
                          "leader": e.leader, "text": text})
    return items or None

#: The plugin's line on the plugins page, in the page's language.
SUMMARY = N_("The opinions feature's built-in plugin: its tables, pages, API and commands, its message kinds, the "
             "nav item,")
