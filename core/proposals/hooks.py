"""The proposals feature's built-in plugin: its tables and settings, pages, API and commands, the overdue
check's schedule, and the nav item."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from shangliang.core.plugins import hookimpl
from shangliang.core.settings import Setting, number
from shangliang.core.i18n import N_

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
def workbench_items(session, user, node):
    """The office: proposals to review; a member: proposals to co-sign, their own open ones, submitting one;
    a handling unit: the parts assigned to it."""
    from flask import url_for
    from flask_babel import gettext as _

    from shangliang.core.work import WorkEntry, WorkItem, day

    from . import services

    who = services.who_of(user)
    index = url_for("proposals.index")

    def entry(p, note=""):
        return WorkEntry(p.title, url_for("proposals.show", ref=p.ref), note)

    items = []
    if who.office:
        count, found = services.to_review(session)
        items.append(WorkItem("proposals.to_review", _("Proposals to review"), count, index,
                              [entry(p, ", ".join(services.proposers(p))) for p in found]))
    if who.member_id is not None:
        count, found = services.to_sign(session, who)
        items.append(WorkItem("proposals.to_sign", _("Proposals to co-sign"), count, index,
                              [entry(p, ", ".join(services.proposers(p))) for p in found]))
        count, found = services.open_of_member(session, who)
        items.append(WorkItem("proposals.mine", _("Your open proposals"), count, index,
                              [entry(p, _("awaiting your rating") if p.status == "replied" else "") for p in found]))
    if who.role in services.SUBMITTERS:
        items.append(WorkItem("proposals.submit", _("Submit a proposal"), 0, index,
                              action=(_("Submit a proposal"), url_for("proposals.new"))))
    if who.role in services.UNITS:
        count, found = services.to_handle(session, who)
        items.append(WorkItem("proposals.to_handle", _("Proposals assigned to your unit"), count, index,
                              [WorkEntry(a.proposal.title, url_for("proposals.show", ref=a.proposal.ref),
                                         _("due %(date)s", date=day(a.deadline_ms)), bool(a.overdue)) for a in found],
                              urgent=any(a.overdue for a in found)))
    return items


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


@hookimpl
def duty_record_items(session, node, member, year):
    """The proposals of ``year`` the member made, as proposer (``role: lead``) or co-signer, filed or not
    (``status``, ``filed``), for the duty record (issue 13)."""
    import datetime as dt
    import zoneinfo

    from sqlalchemy import select

    from .models import FILED_STATUSES, Proposal, ProposalSigner

    tz = zoneinfo.ZoneInfo(node.config.get("TIMEZONE") or "Asia/Shanghai")
    rows = session.execute(
        select(ProposalSigner, Proposal).join(Proposal, Proposal.id == ProposalSigner.proposal_id)
        .where(ProposalSigner.member_id == member["id"], ProposalSigner.role.in_(("lead", "cosigner")),
               Proposal.year == year)).all()
    items = []
    for signer, p in rows:
        filed = p.status in FILED_STATUSES or (p.status == "forwarded" and any(
            e.event == "filed" for e in p.upstream_events))
        items.append({"kind": "proposal", "title": p.title,
                      "date": dt.datetime.fromtimestamp(p.created_ms / 1000, tz).date().isoformat(),
                      "source": "proposals", "ref": p.number or str(p.id),
                      "detail": f"{signer.role}, {p.status}", "role": signer.role, "status": p.status,
                      "filed": filed})
    return items or None

#: The plugin's line on the plugins page, in the page's language.
SUMMARY = N_("The proposals feature's built-in plugin: its tables and settings, pages, API and commands, the overdue")
