"""Proposals across levels (issue 12, item 4): a proposal forwarded to the parent node with its proposer's
consent, the parent's handling told back, the proposer's rating sent up.

Three message kinds in the extension space (PROTOCOL.md §8, docs/protocol.md "Proposals across levels"),
none about a topic, each one ``reply`` hop between a child and its parent, written by the sender itself
(origin = sender; nothing is relayed):

- ``x-proposals.forward`` — child → parent: the proposal (its origin ref, text, proposers' names, areas,
  source topic) and the proposer's consent. The parent keeps it as a proposal of kind ``forwarded``
  (``origin_node`` + ``origin_ref``), ``submitted``: its office reviews it like any other.
- ``x-proposals.answer`` — parent → child: a step of its handling there (``received``, ``filed``,
  ``not_filed``, ``merged``, ``returned``, ``assigned``, ``replied``, ``rated``, ``unsatisfied``,
  ``closed``), recorded at the origin as an upstream event of the forwarded proposal.
- ``x-proposals.rating`` — child → parent: the proposer's satisfaction, given at the origin (the proposer
  is a member there), counted at the parent as the proposer's rating of the round.

A receiver refuses (422 ``invalid_body``, nothing stored) what does not fit: a body that is not the
kind's, a message that is not one hop from a paired child (forward, rating) or parent (answer), a
proposal forwarded twice, an answer about a proposal not forwarded from here to its sender, a rating of a
proposal not forwarded from its sender or not waiting for one.
"""

from __future__ import annotations

import json
from typing import Any, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from shangliang.core import divisions
from shangliang.core.context import NodeContext
from shangliang.core.errors import Conflict, InputError, NotFound
from shangliang.federation.errors import InvalidBody, echo
from shangliang.federation.kinds import Kind, ms, require, text

from .models import DIMENSIONS, SATISFACTION, STATUSES, UPSTREAM_EVENTS, Proposal, ProposalSigner, \
    ProposalUpstreamEvent

from . import services
from .messages import ALL, ANSWER, AREAS_MAX, FORWARD, LIMITS, PROPOSERS_MAX, RATING, UP, _relation, send_answer


# ---------------------------------------------------------------------------------------------
# The kinds and their bodies


def _short(body: Mapping[str, Any], field: str, where: str, limit: int, required: bool = True,
           empty: bool = False) -> None:
    text(body, field, where, required=required, empty=empty)
    if field in body and len(body[field].strip()) > limit:
        raise InvalidBody(f"{where}.{field} is longer than {limit} characters, the most kept")


def _whole(body: Mapping[str, Any], field: str, where: str, low: int, high: int) -> None:
    value = require(body, field, int, where)
    if not low <= value <= high:
        raise InvalidBody(f"{where}.{field} must be from {low} to {high}")


def _forward(body):
    where = "body.proposal"
    proposal = require(body, "proposal", dict)
    _short(proposal, "ref", where, LIMITS["ref"])
    _short(proposal, "title", where, LIMITS["title"])
    text(proposal, "reasons", where)
    text(proposal, "suggestions", where)
    _short(proposal, "category", where, LIMITS["category"])
    _whole(proposal, "year", where, 1949, 9999)
    _whole(proposal, "term", where, 1, 1000)
    _whole(proposal, "session", where, 1, 100)
    if require(proposal, "kind", str, where) not in ("member", "body"):
        raise InvalidBody(f"{where}.kind must be member or body")
    names = require(proposal, "proposers", list, where)
    if not 1 <= len(names) <= PROPOSERS_MAX:
        raise InvalidBody(f"{where}.proposers must hold 1 to {PROPOSERS_MAX} names")
    for index, name in enumerate(names):
        if not isinstance(name, str) or not name.strip() or len(name.strip()) > LIMITS["name"]:
            raise InvalidBody(f"{where}.proposers[{index}] must be a name (1 to {LIMITS['name']} characters)")
    areas = require(proposal, "areas", list, where)
    if len(areas) > AREAS_MAX:
        raise InvalidBody(f"{where}.areas holds more than {AREAS_MAX} codes")
    for area in areas:
        if not isinstance(area, str) or not divisions.is_standard(area):
            raise InvalidBody(f"{where}.areas holds {echo(area)}, not a division code")
    if require(proposal, "source_topic", (str, type(None)), where) is not None:
        _short(proposal, "source_topic", where, LIMITS["topic"])
    consent = require(body, "consent", dict)
    _short(consent, "by", "body.consent", LIMITS["name"])
    _short(consent, "note", "body.consent", LIMITS["note"], empty=True)
    ms(consent, "at_ms", "body.consent")
    _short(body, "note", "body", LIMITS["note"], empty=True)


def _answer(body):
    _short(body, "ref", "body", LIMITS["ref"])
    if require(body, "event", str) not in UPSTREAM_EVENTS:
        raise InvalidBody(f"body.event must be one of {', '.join(UPSTREAM_EVENTS)}")
    if require(body, "status", str) not in STATUSES:
        raise InvalidBody(f"body.status must be one of {', '.join(STATUSES)}")
    if require(body, "number", (str, type(None))) is not None:
        _short(body, "number", "body", 40)
    _whole(body, "round", "body", 1, 1000)
    text(body, "summary", empty=True)
    require(body, "detail", dict)
    ms(body, "at_ms")


def _rating(body):
    _short(body, "ref", "body", LIMITS["ref"])
    _whole(body, "round", "body", 1, 1000)
    for field in (*DIMENSIONS, "overall"):
        if require(body, field, str) not in SATISFACTION:
            raise InvalidBody(f"body.{field} must be one of {', '.join(SATISFACTION)}")
    _short(body, "comment", "body", LIMITS["note"], empty=True)
    _short(body, "by", "body", LIMITS["name"])


KINDS = (
    Kind(FORWARD, "reply", False, _forward),
    Kind(ANSWER, "reply", False, _answer),
    Kind(RATING, "reply", False, _rating),
)


# ---------------------------------------------------------------------------------------------
# What an accepted message does here (called by the inbox, in its transaction)


def apply_received(session: Session, node: NodeContext, envelope: Mapping[str, Any],
                   transfer: Mapping[str, Any]) -> None:
    """Record a proposal message a neighbour sent; raise ``InvalidBody`` (nothing stored) for one that does
    not fit."""
    kind = envelope["kind"]
    if kind not in ALL:
        return
    origin = envelope["origin"]
    if len(envelope["hops"]) != 1:
        raise InvalidBody(f"{kind} travels one hop, from the node that wrote it to its neighbour")
    want = "child" if kind in UP else "parent"
    if _relation(session, origin) != want:
        raise InvalidBody(f"{kind} comes from this node's {want}; {origin} is not")
    try:
        if kind == FORWARD:
            _receive_forward(session, node, envelope, transfer)
        elif kind == ANSWER:
            _receive_answer(session, node, envelope, transfer)
        else:
            _receive_rating(session, node, envelope)
    except (InputError, Conflict, NotFound) as exc:  # a rule of the proposal, refused by its name
        raise InvalidBody(str(exc)) from None


def _receive_forward(session: Session, node: NodeContext, envelope: Mapping[str, Any],
                     transfer: Mapping[str, Any]) -> None:
    origin, body = envelope["origin"], envelope["body"]
    data = body["proposal"]
    ref = data["ref"].strip()
    known = session.execute(select(Proposal.id).where(Proposal.origin_node == origin, Proposal.origin_ref == ref)
                            ).scalar()
    if known is not None:
        raise InvalidBody(f"proposal {ref} of {origin} was forwarded here already")
    at = transfer["received_ms"]
    names = list(dict.fromkeys(n.strip() for n in data["proposers"]))
    p = Proposal(year=data["year"], term=data["term"], session_no=data["session"], title=data["title"].strip(),
                 reasons=data["reasons"].strip(), suggestions=data["suggestions"].strip(),
                 category=data["category"].strip(), kind="forwarded", body_kind=None, body_name=origin,
                 submitted_by=f"node:{origin}", status="submitted", key=False, face_to_face=False,
                 public_proposal=False, public_reply=False, round=1, created_ms=at, updated_ms=at,
                 areas=json.dumps(sorted(set(data["areas"]))) if data["areas"] else None,
                 source_topic=data.get("source_topic"), consent_by=body["consent"]["by"].strip(),
                 consent_note=body["consent"]["note"].strip() or None, consent_ms=body["consent"]["at_ms"],
                 origin_node=origin, origin_ref=ref)
    p.signers = [ProposalSigner(member_id=None, name=name, role="forwarded", confirmed_ms=at) for name in names]
    p.assignments, p.reassignments, p.replies, p.contacts, p.ratings, p.supervisions = [], [], [], [], [], []
    p.upstream_events = []
    services._guard(node, p, "receive", {"origin": origin, "note": body["note"]})
    session.add(p)
    session.flush()
    send_answer(session, node, p, "received", body["note"] or "", {"id": p.id})


def _receive_answer(session: Session, node: NodeContext, envelope: Mapping[str, Any],
                    transfer: Mapping[str, Any]) -> None:
    origin, body = envelope["origin"], envelope["body"]
    ref = body["ref"].strip()
    p = None
    if ref.isascii() and ref.isdigit() and int(ref) < 2 ** 31:
        p = session.execute(select(Proposal).where(Proposal.id == int(ref)).with_for_update()).scalar_one_or_none()
    if p is None or p.forwarded_to != origin or p.status != "forwarded":
        raise InvalidBody(f"no proposal {ref} was forwarded from {node.id} to {origin}: an answer is about one")
    p.upstream_events.append(ProposalUpstreamEvent(
        node=origin, event=body["event"], status=body["status"], number=body["number"], round=body["round"],
        summary=body["summary"], detail=json.dumps(body["detail"], ensure_ascii=False), at_ms=body["at_ms"],
        received_ms=transfer["received_ms"], message=str(envelope["id"])[:100]))
    p.updated_ms = max(p.updated_ms or 0, transfer["received_ms"])
    session.flush()


def _receive_rating(session: Session, node: NodeContext, envelope: Mapping[str, Any]) -> None:
    origin, body = envelope["origin"], envelope["body"]
    ref = body["ref"].strip()
    found = session.execute(select(Proposal.id).where(Proposal.origin_node == origin, Proposal.origin_ref == ref)
                            ).scalar()
    if found is None:
        raise InvalidBody(f"no proposal {ref} of {origin} was forwarded here: a rating is about one")
    p = services.get_proposal(session, found, lock=True)
    if p.status != "replied":
        raise InvalidBody(f"proposal {p.ref} is {p.status} here: its handling is rated once it is replied")
    if body["round"] != p.round:
        raise InvalidBody(f"proposal {p.ref} is in round {p.round} here, not {body['round']}")
    services._guard(node, p, "rate", {**{d: body[d] for d in (*DIMENSIONS, "overall")}, "comment": body["comment"]})
    services.apply_rating(session, node, p, body, body["comment"].strip(), f"node:{origin}:{body['by'].strip()}"[:200])
