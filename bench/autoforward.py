"""Bench-only plugin: a node passes every ``topic.escalate`` it accepts on to its parent, in the inbox transaction.

Real nodes decide to escalate (上交) by a person's decision; for the latency benchmark (P3) each
relay forwards at once, so that the figure is the federation's own: inbox, outbox, Celery, HTTP.
``outbox.forward`` appends this node's hop (attesting the key it verified the sender with) and
writes the outbox row in the session of the inbox transaction, so the forward commits with the
accepted transfer or not at all. bench/launch.py registers this module through
``create_app(node_dir, plugins=[autoforward])``.
"""

from __future__ import annotations

from sqlalchemy import select

from shangliang.core.plugins import hookimpl
from shangliang.federation import outbox
from shangliang.federation.models import Peer


@hookimpl
def federation_message_accepted(session, envelope, transfer, node):
    if envelope["kind"] != "topic.escalate":
        return
    parent = session.execute(select(Peer.node_id).where(Peer.relation == "parent")).scalar()
    if parent is None:  # the province: the end of the route
        return
    outbox.forward(session, node, envelope, parent, "escalate", note="bench")
