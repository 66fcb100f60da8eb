"""The proposals JSON API (/api/v1/proposals): handlers that take the validated request, call one service and
answer JSON. The URL table and the documented answers are in ``blueprint.py``; the shapes in ``schemas.py``."""

from __future__ import annotations

from flask import url_for

from shangliang.core.context import node_context
from shangliang.core.db import get_session, transaction
from shangliang.core.web.api import actor, api_user, json_response

from . import services
from .schemas import (ProposalAssignmentIn, ProposalCloseIn, ProposalContactIn, ProposalDecisionIn, ProposalFlagsIn,
                      ProposalIn, ProposalListQuery, ProposalPath, ProposalPublicationIn, ProposalRatingIn,
                      ProposalReassignmentIn, ProposalReassignmentPath, ProposalReplyIn, ProposalReviewIn,
                      ProposalRevisionIn, ProposalSupervisionIn, ProposalConsentIn, ProposalForwardIn,
                      ProposalFromTopicIn)


def _who() -> services.Who:
    return services.who_of(api_user())


def _answer(proposal, status: int = 200):
    return json_response({"proposal": proposal.as_dict()}, status)


def _step(service, path: ProposalPath, body, status: int = 200):
    """Run one step on a proposal in one transaction and answer the proposal after it."""
    with transaction(actor()) as session:
        proposal = service(session, node_context(), path.ref, body, _who(), actor())
        return _answer(proposal, status)


def list_proposals(query: ProposalListQuery):
    """List proposals.

    The proposals the asking user may see, newest first, a page at a time: the office sees all; a member their
    own and published ones; a handling unit's user those assigned to their unit; others published ones.
    """
    found = services.list_proposals(get_session(), _who(), "all", query.status, query.limit, query.cursor)
    return json_response({"proposals": [services.summary(p) for p in found.items],
                          "next_cursor": found.next_cursor})


def public_proposals():
    """List published proposals.

    The proposals the office published, with their replies where published; the proposers' names are left
    out where the node publishes anonymously (`[proposals] public_anonymous`).
    """
    return json_response({"proposals": services.public_list(get_session(), node_context().config)})


def filing_standards():
    """List the filing standards.

    The standards (立案标准) this node reviews proposals against (`[proposals] standards`), one line each.
    """
    return json_response({"standards": services.standards(node_context().config)})


def submit_proposal(body: ProposalIn):
    """Submit a proposal.

    A member submits their own proposal, alone or with co-signers (members, who each confirm); the office
    enters a body's proposal (sector, special committee, party group) or a member's for them. It waits for the
    co-signers (`signing`), then for the filing review (`submitted`).
    """
    with transaction(actor()) as session:
        proposal = services.submit(session, node_context(), body, _who(), actor())
        data = proposal.as_dict()
    return json_response({"proposal": data}, 201,
                         {"Location": url_for("proposals_api.show_proposal", ref=str(data["id"]))})


def show_proposal(path: ProposalPath):
    """Show a proposal.

    One proposal with its signers, review, assignments, reassignment requests, replies, contacts, ratings and
    supervision — when the asking user may see it (404 otherwise).
    """
    return _answer(services.get_visible(get_session(), path.ref, _who()))


def confirm_signature(path: ProposalPath):
    """Confirm as a co-signer.

    A co-signer (a member named on the proposal, signed in as that member) confirms; once every co-signer has,
    the proposal waits for its filing review.
    """
    with transaction(actor()) as session:
        return _answer(services.confirm(session, node_context(), path.ref, _who(), actor()))


def revise_proposal(path: ProposalPath, body: ProposalRevisionIn):
    """Revise a returned proposal.

    The proposer revises a proposal returned for revision (退回修改); it goes back to the filing review.
    """
    return _step(services.revise, path, body)


def review_proposal(path: ProposalPath, body: ProposalReviewIn):
    """Make the filing review.

    立案审查 by the office: `filed` (立案; it gets its number `YEAR-SESSION-NNNN`), `not_filed` (不立案, with the
    reason and its disposal), `merged` into another filed proposal (并案, the proposers of both kept) or
    `returned` for revision (退回修改).
    """
    return _step(services.review, path, body)


def set_flags(path: ProposalPath, body: ProposalFlagsIn):
    """Set key and face-to-face flags.

    The office chooses key proposals (重点提案) and face-to-face handling (面对面办理).
    """
    return _step(services.set_flags, path, body)


def assign_units(path: ProposalPath, body: ProposalAssignmentIn):
    """Assign handling units.

    The office assigns a filed proposal to its lead unit and co-handling units (会办) with a deadline (default
    `[proposals] default_deadline_months`; a day in the past is refused).
    """
    return _step(services.assign, path, body)


def request_reassignment(path: ProposalPath, body: ProposalReassignmentIn):
    """Ask for reassignment.

    An assigned unit's contact user asks the office to hand its part to another unit, with the reason.
    """
    with transaction(actor()) as session:
        request = services.request_reassignment(session, node_context(), path.ref, body, _who(), actor())
        return _answer(request.proposal, 201)


def decide_reassignment(path: ProposalReassignmentPath, body: ProposalDecisionIn):
    """Decide a reassignment request.

    The office, and only the office, approves a request (the unit's part moves to `unit`) or refuses it.
    """
    with transaction(actor()) as session:
        proposal = services.decide_reassignment(session, node_context(), path.ref, path.request_id, body, _who(),
                                                actor())
        return _answer(proposal)


def reply(path: ProposalPath, body: ProposalReplyIn):
    """Reply to a proposal.

    An assigned unit's contact user replies once per handling round: `solved_or_solving`, `planned` or
    `cannot_now` (with its reasons). The lead unit's reply makes the proposal `replied`.
    """
    return _step(services.reply, path, body, 201)


def record_contact(path: ProposalPath, body: ProposalContactIn):
    """Record a contact with the proposers.

    Before, during or after handling; a call, a visit, a face-to-face talk or a meeting — by an assigned unit
    or the office.
    """
    return _step(services.record_contact, path, body, 201)


def rate(path: ProposalPath, body: ProposalRatingIn):
    """Rate the handling.

    The proposer, only the proposer, rates the round's replies on six dimensions and overall; `unsatisfied`
    overall sends the proposal back to its units for another round.
    """
    return _step(services.rate, path, body, 201)


def supervise(path: ProposalPath, body: ProposalSupervisionIn):
    """Record supervision.

    督办: a chair supervises a key proposal or one with an overdue unit; the office records who and the note.
    """
    return _step(services.supervise, path, body, 201)


def publish(path: ProposalPath, body: ProposalPublicationIn):
    """Decide publication.

    The office decides what is public: the proposal, and its replies.
    """
    return _step(services.publish, path, body)


def close(path: ProposalPath, body: ProposalCloseIn):
    """Close a proposal.

    The office closes (办结) a proposal whose proposer is satisfied or basically satisfied.
    """
    return _step(services.close, path, body)


def consent_to_forwarding(path: ProposalPath, body: ProposalConsentIn):
    """Consent to forwarding.

    The proposer consents to forwarding the proposal to the parent node (a matter that belongs above); the
    office records the proposer's written consent, saying where it is (`note`, required for the office).
    """
    return _step(services.consent, path, body)


def forward_proposal(path: ProposalPath, body: ProposalForwardIn):
    """Forward to the parent node.

    The office forwards a submitted proposal whose proposer consented to the parent node (a signed
    `x-proposals.forward`); it becomes `forwarded`, read-only here, and the parent's handling comes back under
    `upstream`. Answers the routing suggestion from its areas, as topics get. Refused without consent (409),
    when forwarded already (409) or when this node has no parent paired (400).
    """
    with transaction(actor()) as session:
        node = node_context()
        proposal, sent = services.forward(session, node, path.ref, body, _who(), actor())
        return json_response({"proposal": proposal.as_dict(), "sent": sent,
                              "route": services.route_of(proposal, node.id)})


def proposal_from_topic(body: ProposalFromTopicIn):
    """Make a proposal from a closed topic.

    A closed topic's result becomes a proposal: the text is prefilled from the result (fields given replace
    it) and the topic's uid is kept (`source_topic`), shown on both pages.
    """
    with transaction(actor()) as session:
        proposal = services.from_topic(session, node_context(), body, _who(), actor())
        data = proposal.as_dict()
    return json_response({"proposal": data}, 201,
                         {"Location": url_for("proposals_api.show_proposal", ref=str(data["id"]))})
