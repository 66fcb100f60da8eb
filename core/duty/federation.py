"""Members of a higher committee living in an area take part locally (issue 13, item 2; ``001`` 24, ``002``):
a lower node reports items of such a member's duty to the member's committee node over a signed message.

One kind in the extension space (PROTOCOL.md §8, docs/protocol.md "Duty items across levels"):

- ``x-duty.items`` — written by the lower node (origin), sent to its parent and passed on up, level by level,
  to ``body.target``, the node whose register holds the member. Its body: ``target``, ``member``
  (``member_no``, ``name``), ``year`` and ``items`` (each ``ref``, ``kind``, ``title``, ``date`` in that year,
  ``detail``).

A receiver refuses (422 ``invalid_body``, nothing stored) what does not fit: a body that is not the kind's
(malformed items), a hop that does not come from this node's paired child, a target this node cannot pass it on
to (no parent), a member the target does not know (by number, with the same name), an item reported twice.
"""

from __future__ import annotations

import uuid
from typing import Any
from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from shangliang.core.context import NodeContext
from shangliang.core.errors import InputError
from shangliang.core.i18n import N_
from shangliang.core.members.models import Member
from shangliang.federation import outbox
from shangliang.federation.errors import InvalidBody, echo
from shangliang.federation.kinds import Kind, require, text
from shangliang.federation.models import Peer

from . import services
from .models import DutyItem

ITEMS = "x-duty.items"
ITEMS_MAX = 200
LIMITS = {"ref": 120, "title": 300, "name": 100, "member_no": 40, "node": 40, "detail": 20_000}


def _short(body: Mapping[str, Any], field: str, where: str, limit: int, empty: bool = False) -> str:
    text(body, field, where, empty=empty)
    value = body[field].strip()
    if len(value) > limit:
        raise InvalidBody(f"{where}.{field} is longer than {limit} characters, the most kept")
    return value


def _items(body: Mapping[str, Any]) -> None:
    _short(body, "target", "body", LIMITS["node"])
    member = require(body, "member", dict)
    _short(member, "member_no", "body.member", LIMITS["member_no"])
    _short(member, "name", "body.member", LIMITS["name"])
    year = require(body, "year", int)
    if not services.FIRST_YEAR <= year <= services.LAST_YEAR:
        raise InvalidBody(f"body.year must be from {services.FIRST_YEAR} to {services.LAST_YEAR}")
    items = require(body, "items", list)
    if not 1 <= len(items) <= ITEMS_MAX:
        raise InvalidBody(f"body.items must hold 1 to {ITEMS_MAX} items")
    refs = set()
    for index, item in enumerate(items):
        where = f"body.items[{index}]"
        if not isinstance(item, dict):
            raise InvalidBody(f"{where} must be an object")
        ref = _short(item, "ref", where, LIMITS["ref"])
        if ref in refs:
            raise InvalidBody(f"{where}.ref {echo(ref)} is given twice")
        refs.add(ref)
        kind = _short(item, "kind", where, 40)
        if not services.KIND.fullmatch(kind):
            raise InvalidBody(f"{where}.kind {echo(kind)} is not a short word (a-z, 0-9, _)")
        _short(item, "title", where, LIMITS["title"])
        date = _short(item, "date", where, 10)
        try:
            day = services.check_date(date)
        except InputError:
            raise InvalidBody(f"{where}.date {echo(date)} is not a date (YYYY-MM-DD)") from None
        if int(day[:4]) != year:
            raise InvalidBody(f"{where}.date {day} is not in body.year {year}")
        _short(item, "detail", where, LIMITS["detail"], empty=True)


KINDS = (Kind(ITEMS, "reply", False, _items),)


def _relation(session: Session, node_id: str) -> str | None:
    peer = session.get(Peer, node_id)
    return peer.relation if peer is not None else None


def parent_peer(session: Session) -> str | None:
    return session.execute(select(Peer.node_id).where(Peer.relation == "parent")).scalar()


# ---------------------------------------------------------------------------------------------
# Sending (the lower node's office)


def report(session: Session, node: NodeContext, target: Any, member_no: Any, name: Any, items: Any,
           year: Any = None) -> dict[str, Any]:
    """Report items of a higher committee's member who takes part here, to the member's committee node
    ``target`` (sent to this node's parent, passed on up to the target). Checked as the receiver checks it;
    ``InputError`` and nothing sent otherwise."""
    target = services._text(target, "target", LIMITS["node"])
    if target == node.id:
        raise InputError(N_("the member's committee is this node: record the items here, not over a message"), "target")
    parent = parent_peer(session)
    if parent is None:
        raise InputError(N_("this node has no paired parent to report to"), "target")
    if not isinstance(items, list):
        raise InputError(N_("items must be a list"), "items")
    clean = []
    for item in items:
        if not isinstance(item, Mapping):
            raise InputError(N_("each item must be an object with kind, title, date (and detail)"), "items")
        clean.append({"ref": str(item.get("ref") or f"{node.id}:{uuid.uuid4().hex[:16]}"),
                      "kind": services.check_kind(item.get("kind")),
                      "title": services._text(item.get("title"), "title", LIMITS["title"]),
                      "date": services.check_date(item.get("date")),
                      "detail": services._text(item.get("detail"), "detail", LIMITS["detail"], required=False)})
    if not clean:
        raise InputError(N_("no items to report"), "items")
    years = {int(i["date"][:4]) for i in clean}
    year = services.check_year(year) if year not in (None, "") else min(years)
    if years != {year}:
        raise InputError(N_("every item's date must be in %(year)s (one message per year)", year=year), "items")
    body = {"target": target,
            "member": {"member_no": services._text(member_no, "member_no", LIMITS["member_no"]),
                       "name": services._text(name, "name", LIMITS["name"])},
            "year": year, "items": clean}
    try:
        _items(body)
    except InvalidBody as exc:
        raise InputError(str(exc), "items") from None
    envelope, _row = outbox.originate(session, node, ITEMS, body, parent, "reply")
    return {"kind": ITEMS, "id": envelope["id"], "to": parent, "target": target, "items": len(clean)}


# ---------------------------------------------------------------------------------------------
# Receiving (called by the inbox, in its transaction)


def apply_received(session: Session, node: NodeContext, envelope: Mapping[str, Any],
                   transfer: Mapping[str, Any]) -> None:
    """Pass ``x-duty.items`` on up, or keep its items in the member's record here; ``InvalidBody`` (nothing
    stored) for one that does not fit."""
    if envelope["kind"] != ITEMS:
        return
    hops = envelope["hops"]
    sender = hops[-1]["from"]
    if _relation(session, sender) != "child":
        raise InvalidBody(f"{ITEMS} travels up, from a child to its parent; {sender} is not this node's child")
    if hops[0]["from"] != envelope["origin"]:
        raise InvalidBody(f"{ITEMS} is written by the node that reports the items")
    body = envelope["body"]
    target = body["target"].strip()
    if target != node.id:
        parent = parent_peer(session)
        if parent is None:
            raise InvalidBody(f"this node cannot pass {ITEMS} on to {echo(target)}: it has no paired parent")
        outbox.forward(session, node, envelope, parent, "reply")
        return
    number, name = body["member"]["member_no"].strip(), body["member"]["name"].strip()
    member = session.execute(select(Member).where(Member.member_no == number)).scalar_one_or_none()
    if member is None or member.name.strip() != name:
        raise InvalidBody(f"this node has no member {echo(number)} named {echo(name)}: items are reported for a "
                          f"member of its register")
    origin = envelope["origin"]
    at = transfer["received_ms"]
    for item in body["items"]:
        ref = item["ref"].strip()
        known = session.execute(select(DutyItem.id).where(DutyItem.member_id == member.id,
                                                          DutyItem.reported_by == origin,
                                                          DutyItem.ref == ref)).scalar()
        if known is not None:
            raise InvalidBody(f"item {echo(ref)} of {origin} for member {number} was reported already")
        session.add(DutyItem(member_id=member.id, year=body["year"], kind=item["kind"].strip(),
                             title=item["title"].strip(), date=item["date"].strip(), detail=item["detail"].strip(),
                             reported_by=origin, ref=ref, message=str(envelope["id"])[:100],
                             recorded_by=f"node:{origin}", recorded_ms=at))
    session.flush()
