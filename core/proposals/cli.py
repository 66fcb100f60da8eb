"""``shangliang proposals``: submit, review, assign, reply to, rate, supervise, publish and close proposals; each
command calls one service, prints JSON with ``--json``, and acts as a node user with ``--as USER`` (a member,
a unit's contact) — without it, as the node's operator (the office)."""

from __future__ import annotations

from typing import Any, Callable

import click

from shangliang.core.clitools import _os_user, emit, rehearsable, table, with_appcontext
from shangliang.core.context import node_context
from shangliang.core.db import get_session, transaction

from . import schemas, services
from .models import BODY_KINDS, CLASSIFICATIONS, CONTACT_KINDS, DISPOSALS, PHASES, SATISFACTION, STATUSES
from .statistics_cli import proposals_statistics

JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON.")
AS = click.option("--as", "as_user", default=None, metavar="USER",
                  help="Act as this node user (a member, a handling unit's contact); default: the office.")


def _actor(as_user: str | None) -> str:
    return f"cli:{_os_user()}" + (f" as {as_user}" if as_user else "")


def _who(session, as_user: str | None) -> services.Who:
    return services.who_named(session, as_user) if as_user else services.OPERATOR


def _day(ms: int | None) -> str:
    return services.due_date(node_context().config, ms).isoformat() if ms else "-"


def _text(d: dict[str, Any]) -> str:
    lines = [f"{d['number'] or '(id ' + str(d['id']) + ')'}  {d['title']}",
             f"status: {d['status']}   term {d['term']} session {d['session']}   category: {d['category']}   "
             f"round {d['round']}" + ("   KEY" if d["key"] else "") + ("   FACE-TO-FACE" if d["face_to_face"] else "")]
    for s in d["signers"]:
        lines.append(f"  {s['role']}: {s['name']}" + (f" ({s['member_no']})" if s["member_no"] else "")
                     + ("" if s["confirmed_ms"] or s["role"] != "cosigner" else " — not confirmed"))
    if d["review"]:
        r = d["review"]
        lines.append(f"review: {r['decision']}" + (f": {r['reason']}" if r["reason"] else "")
                     + (f" → {r['merged_into']}" if r["merged_into"] else "")
                     + (f" (disposal: {r['disposal']})" if r["disposal"] else ""))
    for a in d["assignments"]:
        lines.append(f"  unit: {a['unit']} ({a['role']}) due {_day(a['deadline_ms'])}"
                     + (" OVERDUE" if a["overdue"] else "") + ("" if a["active"] else " (reassigned)"))
    for r in d["reassignments"]:
        lines.append(f"  reassignment request {r['id']}: {r['unit']}: {r['reason']} — {r['decision'] or 'open'}"
                     + (f" → {r['new_unit']}" if r["new_unit"] else ""))
    for r in d["replies"]:
        lines.append(f"  reply (round {r['round']}) {r['unit']}: {r['classification']}: {r['text']}")
    for c in d["contacts"]:
        lines.append(f"  contact: {c['phase']} {c['kind']} {c['unit'] or ''} {c['note']}".rstrip())
    for r in d["ratings"]:
        lines.append(f"  rating (round {r['round']}): {r['overall']}")
    for s in d["supervisions"]:
        lines.append(f"  supervised by {s['chair']} ({s['reason']}): {s['note']}")
    if d.get("areas"):
        lines.append(f"areas: {', '.join(d['areas'])}")
    if d.get("source_topic"):
        lines.append(f"made from topic {d['source_topic']}")
    if d.get("consent"):
        lines.append(f"consent to forwarding: {d['consent']['by']}" + (f" ({d['consent']['note']})"
                                                                       if d["consent"]["note"] else ""))
    if d.get("origin"):
        lines.append(f"forwarded from {d['origin']['node']} (its proposal {d['origin']['ref']})")
    if d.get("upstream"):
        up = d["upstream"]
        lines.append(f"forwarded to {up['node']}: {up['status'] or 'not answered yet'}"
                     + (f" {up['number']}" if up["number"] else ""))
        for e in up["events"]:
            lines.append(f"  upstream: {e['event']}" + (f": {e['summary']}" if e["summary"] else ""))
    pub = d["publication"]
    lines.append(f"public: proposal {'yes' if pub['proposal'] else 'no'}, reply {'yes' if pub['reply'] else 'no'}")
    return "\n".join(lines)


def _step(as_user: str | None, as_json: bool, work: Callable) -> None:
    """One step in one transaction (the same services as the pages and the API); print the proposal."""
    node = node_context()
    with transaction(_actor(as_user)) as session:
        found = work(session, node, _who(session, as_user), _actor(as_user))
        data = getattr(found, "proposal", found).as_dict()
    emit(data, as_json, _text)


@click.group()
def proposals() -> None:
    """Proposals (提案): submission, filing review, handling, satisfaction, supervision, publication."""


@proposals.command("list")
@click.option("--scope", type=click.Choice(services.SCOPES), default="all")
@click.option("--status", type=click.Choice(STATUSES))
@AS
@JSON
@with_appcontext
def proposals_list(scope, status, as_user, as_json) -> None:
    """Proposals the user may see, newest first."""
    session = get_session()
    rows = [services.summary(p) for p in services.list_proposals(session, _who(session, as_user), scope,
                                                                  status).items]
    emit(rows, as_json, lambda rs: table([[r["number"] or f"(id {r['id']})", r["title"], "、".join(r["proposers"]),
                                           r["status"]] for r in rs], ["number", "title", "proposers", "status"]))


@proposals.command("public")
@JSON
@with_appcontext
def proposals_public(as_json) -> None:
    """The published proposals, as the public list shows them."""
    rows = services.public_list(get_session(), node_context().config)
    emit(rows, as_json, lambda rs: table([[r["number"], r["title"], r["category"]] for r in rs],
                                         ["number", "title", "category"]))


@proposals.command("standards")
@JSON
@with_appcontext
def proposals_standards(as_json) -> None:
    """The filing standards (立案标准) of this node ([proposals] standards)."""
    emit(services.standards(node_context().config), as_json, lambda rows: "\n".join(rows) or "none configured")


@proposals.command("show")
@click.argument("ref")
@AS
@JSON
@with_appcontext
def proposals_show(ref, as_user, as_json) -> None:
    """A proposal with everything recorded on it (by number, or id before it is filed)."""
    session = get_session()
    emit(services.get_visible(session, ref, _who(session, as_user)).as_dict(), as_json, _text)


@proposals.command("submit")
@click.option("--title", required=True)
@click.option("--reasons", required=True)
@click.option("--suggestions", required=True)
@click.option("--category", required=True)
@click.option("--term", type=int, required=True, help="The term (届).")
@click.option("--session", "session_no", type=int, required=True, help="The session (次).")
@click.option("--year", type=int)
@click.option("--cosigner", "cosigners", multiple=True, help="A co-signer's member number (repeatable).")
@click.option("--proposer", help="The lead member's number (the office entering a member's proposal).")
@click.option("--body-kind", type=click.Choice(BODY_KINDS))
@click.option("--body-name")
@click.option("--area", "areas", multiple=True, help="An area it concerns (division code; repeatable).")
@AS
@JSON
@rehearsable
@with_appcontext
def proposals_submit(title, reasons, suggestions, category, term, session_no, year, cosigners, proposer, body_kind,
                     body_name, areas, as_user, as_json) -> None:
    """Submit a proposal (a member's own with --as, or the office's entry of a body's or a member's)."""
    data = schemas.ProposalIn(title=title, reasons=reasons, suggestions=suggestions, category=category, term=term,
                              session=session_no, year=year, cosigners=list(cosigners), proposer=proposer,
                              body_kind=body_kind, body_name=body_name, areas=list(areas))
    _step(as_user, as_json, lambda s, n, w, a: services.submit(s, n, data, w, a))


@proposals.command("confirm")
@click.argument("ref")
@AS
@JSON
@rehearsable
@with_appcontext
def proposals_confirm(ref, as_user, as_json) -> None:
    """Confirm as a co-signer (--as the co-signer's user)."""
    _step(as_user, as_json, lambda s, n, w, a: services.confirm(s, n, ref, w, a))


@proposals.command("revise")
@click.argument("ref")
@click.option("--title")
@click.option("--reasons")
@click.option("--suggestions")
@click.option("--category")
@AS
@JSON
@rehearsable
@with_appcontext
def proposals_revise(ref, title, reasons, suggestions, category, as_user, as_json) -> None:
    """Revise a proposal returned for revision and submit it again (the proposer)."""
    data = schemas.ProposalRevisionIn(title=title, reasons=reasons, suggestions=suggestions, category=category)
    _step(as_user, as_json, lambda s, n, w, a: services.revise(s, n, ref, data, w, a))


@proposals.command("review")
@click.argument("ref")
@click.option("--decision", required=True, type=click.Choice(["filed", "not_filed", "merged", "returned"]))
@click.option("--reason", default="")
@click.option("--disposal", type=click.Choice(DISPOSALS))
@click.option("--into", help="merged: the number of the proposal it joins.")
@AS
@JSON
@rehearsable
@with_appcontext
def proposals_review(ref, decision, reason, disposal, into, as_user, as_json) -> None:
    """The filing review (立案审查): file, do not file, merge, or return for revision."""
    data = schemas.ProposalReviewIn(decision=decision, reason=reason, disposal=disposal, into=into)
    _step(as_user, as_json, lambda s, n, w, a: services.review(s, n, ref, data, w, a))


@proposals.command("flags")
@click.argument("ref")
@click.option("--key/--no-key", default=None, help="Key proposal (重点提案).")
@click.option("--face-to-face/--no-face-to-face", default=None, help="Face-to-face handling (面对面办理).")
@AS
@JSON
@rehearsable
@with_appcontext
def proposals_flags(ref, key, face_to_face, as_user, as_json) -> None:
    """Choose key proposals and face-to-face handling."""
    data = schemas.ProposalFlagsIn(key=key, face_to_face=face_to_face)
    _step(as_user, as_json, lambda s, n, w, a: services.set_flags(s, n, ref, data, w, a))


@proposals.command("assign")
@click.argument("ref")
@click.option("--lead", required=True, help="The lead unit (name or id).")
@click.option("--co", "co", multiple=True, help="A co-handling unit (repeatable).")
@click.option("--deadline", help="YYYY-MM-DD (default: [proposals] default_deadline_months from today).")
@AS
@JSON
@rehearsable
@with_appcontext
def proposals_assign(ref, lead, co, deadline, as_user, as_json) -> None:
    """Assign the lead unit and co-handling units with a deadline."""
    data = schemas.ProposalAssignmentIn(lead=lead, co=list(co), deadline=deadline)
    _step(as_user, as_json, lambda s, n, w, a: services.assign(s, n, ref, data, w, a))


@proposals.command("reassign")
@click.argument("ref")
@click.option("--reason", required=True)
@click.option("--suggested-unit")
@AS
@JSON
@rehearsable
@with_appcontext
def proposals_reassign(ref, reason, suggested_unit, as_user, as_json) -> None:
    """Ask the office to hand this unit's part to another unit (--as the unit's contact)."""
    data = schemas.ProposalReassignmentIn(reason=reason, suggested_unit=suggested_unit)
    _step(as_user, as_json, lambda s, n, w, a: services.request_reassignment(s, n, ref, data, w, a))


@proposals.command("decide")
@click.argument("ref")
@click.argument("request_id", type=int)
@click.option("--decision", required=True, type=click.Choice(["approved", "refused"]))
@click.option("--unit")
@click.option("--deadline")
@click.option("--note", default="")
@AS
@JSON
@rehearsable
@with_appcontext
def proposals_decide(ref, request_id, decision, unit, deadline, note, as_user, as_json) -> None:
    """Decide a reassignment request (the office only)."""
    data = schemas.ProposalDecisionIn(decision=decision, unit=unit, deadline=deadline, note=note)
    _step(as_user, as_json, lambda s, n, w, a: services.decide_reassignment(s, n, ref, request_id, data, w, a))


@proposals.command("reply")
@click.argument("ref")
@click.option("--classification", required=True, type=click.Choice(CLASSIFICATIONS))
@click.option("--text", required=True)
@click.option("--reasons", default="", help="Why it cannot be solved now (cannot_now).")
@AS
@JSON
@rehearsable
@with_appcontext
def proposals_reply(ref, classification, text, reasons, as_user, as_json) -> None:
    """Reply for an assigned unit (--as the unit's contact)."""
    data = schemas.ProposalReplyIn(classification=classification, text=text, reasons=reasons)
    _step(as_user, as_json, lambda s, n, w, a: services.reply(s, n, ref, data, w, a))


@proposals.command("contact")
@click.argument("ref")
@click.option("--phase", required=True, type=click.Choice(PHASES))
@click.option("--kind", required=True, type=click.Choice(CONTACT_KINDS))
@click.option("--note", default="")
@click.option("--date", help="YYYY-MM-DD (default: now).")
@AS
@JSON
@rehearsable
@with_appcontext
def proposals_contact(ref, phase, kind, note, date, as_user, as_json) -> None:
    """Record a contact with the proposers (a unit's contact, or the office)."""
    data = schemas.ProposalContactIn(phase=phase, kind=kind, note=note, date=date)
    _step(as_user, as_json, lambda s, n, w, a: services.record_contact(s, n, ref, data, w, a))


LEVEL = click.Choice(SATISFACTION)


@proposals.command("rate")
@click.argument("ref")
@click.option("--contact", "contact", type=LEVEL, required=True, help="Contact before replying (面商).")
@click.option("--attitude", type=LEVEL, required=True)
@click.option("--measures", type=LEVEL, required=True)
@click.option("--pertinence", type=LEVEL, required=True)
@click.option("--leader-attention", type=LEVEL, required=True)
@click.option("--result", type=LEVEL, required=True)
@click.option("--overall", type=LEVEL, required=True)
@click.option("--comment", default="")
@AS
@JSON
@rehearsable
@with_appcontext
def proposals_rate(ref, contact, attitude, measures, pertinence, leader_attention, result, overall, comment, as_user,
                   as_json) -> None:
    """Rate the handling (the proposer, --as their user)."""
    data = schemas.ProposalRatingIn(contact=contact, attitude=attitude, measures=measures, pertinence=pertinence,
                                    leader_attention=leader_attention, result=result, overall=overall,
                                    comment=comment)
    _step(as_user, as_json, lambda s, n, w, a: services.rate(s, n, ref, data, w, a))


@proposals.command("supervise")
@click.argument("ref")
@click.option("--chair", required=True, help="The chair who supervises (督办).")
@click.option("--note", required=True)
@AS
@JSON
@rehearsable
@with_appcontext
def proposals_supervise(ref, chair, note, as_user, as_json) -> None:
    """Record a chair's supervision of a key or overdue proposal."""
    data = schemas.ProposalSupervisionIn(chair=chair, note=note)
    _step(as_user, as_json, lambda s, n, w, a: services.supervise(s, n, ref, data, w, a))


@proposals.command("publish")
@click.argument("ref")
@click.option("--proposal/--no-proposal", default=True)
@click.option("--reply/--no-reply", default=False)
@AS
@JSON
@rehearsable
@with_appcontext
def proposals_publish(ref, proposal, reply, as_user, as_json) -> None:
    """Decide what of a proposal is public."""
    data = schemas.ProposalPublicationIn(proposal=proposal, reply=reply)
    _step(as_user, as_json, lambda s, n, w, a: services.publish(s, n, ref, data, w, a))


@proposals.command("close")
@click.argument("ref")
@click.option("--note", default="")
@AS
@JSON
@rehearsable
@with_appcontext
def proposals_close(ref, note, as_user, as_json) -> None:
    """Close a proposal whose proposer is satisfied or basically satisfied."""
    data = schemas.ProposalCloseIn(note=note)
    _step(as_user, as_json, lambda s, n, w, a: services.close(s, n, ref, data, w, a))


@proposals.command("mark-overdue")
@JSON
@with_appcontext
def proposals_mark_overdue(as_json) -> None:
    """Mark the handling units past their deadline now (beat does this every [proposals] overdue_seconds)."""
    with transaction(_actor(None)) as session:
        marked = [{"proposal": a.proposal.number, "unit": a.unit.name} for a in
                  services.mark_overdue(session, node_context())]
    emit(marked, as_json, lambda rows: "\n".join(f"{r['proposal']}: {r['unit']}" for r in rows) or "none overdue")


# -- across levels ------------------------------------------------------------------------------------------


@proposals.command("consent")
@click.argument("ref")
@click.option("--note", default="", help="The office: where the proposer's written consent is (required then).")
@AS
@JSON
@rehearsable
@with_appcontext
def proposals_consent(ref, note, as_user, as_json) -> None:
    """The proposer consents to forwarding the proposal to the parent node (--as their user); the office
    records the written consent with --note."""
    data = schemas.ProposalConsentIn(note=note)
    _step(as_user, as_json, lambda s, n, w, a: services.consent(s, n, ref, data, w, a))


@proposals.command("forward")
@click.argument("ref")
@click.option("--note", default="", help="For the parent's office.")
@click.option("--area", "areas", multiple=True, help="An area it concerns (division code); repeat.")
@AS
@JSON
@rehearsable
@with_appcontext
def proposals_forward(ref, note, areas, as_user, as_json) -> None:
    """Forward a proposal the proposer consented to forward to the parent node (the office)."""
    data = schemas.ProposalForwardIn(note=note, areas=list(areas) or None)
    node = node_context()
    with transaction(_actor(as_user)) as session:
        found, sent = services.forward(session, node, ref, data, _who(session, as_user), _actor(as_user))
        answer = {"proposal": found.as_dict(), "sent": sent, "route": services.route_of(found, node.id)}
    emit(answer, as_json, lambda d: _text(d["proposal"]) + f"\nsent {d['sent']['kind']} to {d['sent']['to']}"
         + (f"\nrouting suggestion: {d['route']['reason']}" if d["route"] else ""))


@proposals.command("from-topic")
@click.argument("uid")
@click.option("--term", type=int, required=True, help="The committee's term (届).")
@click.option("--session", "session_no", type=int, required=True, help="The session of the term (次).")
@click.option("--year", type=int, default=None)
@click.option("--title", default=None, help="Default: the result's title.")
@click.option("--category", default=None, help="Default: the topic's category.")
@click.option("--proposer", default=None, help="The office enters it for this member (member number).")
@click.option("--body-kind", type=click.Choice(BODY_KINDS), default=None)
@click.option("--body-name", default=None)
@AS
@JSON
@rehearsable
@with_appcontext
def proposals_from_topic(uid, term, session_no, year, title, category, proposer, body_kind, body_name, as_user,
                         as_json) -> None:
    """Make a proposal from a closed topic's result (prefilled from it; the link to the topic kept)."""
    data = schemas.ProposalFromTopicIn(topic=uid, term=term, session=session_no, year=year, title=title,
                                       category=category, proposer=proposer, body_kind=body_kind,
                                       body_name=body_name)
    _step(as_user, as_json, lambda s, n, w, a: services.from_topic(s, n, data, w, a))


# `proposals statistics` (counts by status, unit, satisfaction; --xlsx): statistics_cli.py
proposals.add_command(proposals_statistics)
