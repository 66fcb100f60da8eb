"""What the administration pages read and do, over the federation's and the audit log's own services: the
node's pairing line, a neighbour pinned from a pasted pairing line, the audit chain verified as
``shangliang audit verify`` verifies it. Who may: ``ADMIN`` changes, ``READERS`` read."""

from __future__ import annotations

from typing import Any

from shangliang.core import audit
from shangliang.core.context import NodeContext
from shangliang.core.errors import InputError
from shangliang.core.i18n import N_
from shangliang.federation import keys, outbox, peers
from shangliang.federation.health import health
from shangliang.federation.ids import now_ms
from sqlalchemy.orm import Session

ADMIN = frozenset({"admin"})
READERS = frozenset({"admin", "office"})


def own_pairing(session: Session, node: NodeContext) -> dict[str, Any]:
    """This node's pairing data (``keys show --json``) with ``line``, the text a neighbour pastes."""
    data = keys.pairing(session, node)
    return {**data, "line": keys.pairing_line(data)}


def add_peer(session: Session, node: NodeContext, line: str, relation: str | None = None,
             name: str | None = None, delivery: str | None = None):
    """Pin the neighbour of a pasted pairing line (the same rules as ``shangliang peers add``); ``delivery``
    ``bundle`` for one reached by bundle files only."""
    if relation not in (None, "", "parent", "child"):
        raise InputError(N_("relation %(relation)s is parent or child",
                            relation=repr(str(relation)[:20])), field="relation")
    return peers.add_from_pairing(session, node.id, line, relation or None, name or None, delivery or None)


def peers_health(session: Session) -> list[dict[str, Any]]:
    return health(session, now_ms())


def message(session: Session, outbox_id: int) -> dict[str, Any]:
    """One outbox message as the inspect page and API show it: its row and its envelope's summary."""
    row = outbox.get_message(session, outbox_id)
    return {**outbox.message_dict(row), "envelope": outbox.envelope_summary(row)}


def verify_audit(session: Session, node: NodeContext, against_parent: bool = False) -> dict[str, Any]:
    """Walk the audit chain (``shangliang audit verify``); with ``against_parent``, also against the head the
    parent keeps (a refusal when none is kept)."""
    anchor = None
    if against_parent:
        anchor = node.pm.hook.audit_anchor(session=session)
        if anchor is None:
            raise InputError(N_("no node keeps an anchor of this chain (a node without a parent, or none sent yet: "
                                "shangliang audit anchor)"), field="against_parent")
    report = audit.verify(session, anchor)
    return {**report.as_dict(), "anchor": anchor}
