"""Bench-only plugin: ``x-bench.transfer``, a message kind whose acceptance stores nothing but the transfer.

P2 measures the inbox twice on one node: ``topic.escalate`` (the inbox and the topic's effect: the
topics feature keeps the topic, its event and their audit rows, the similar-matters feature indexes
it) and this kind (the inbox alone). Its envelope is the escalation's, hop for hop — three
``escalate`` hops township → county → city → province, the same body — with ``topic`` null, so
that no feature's ``federation_message_accepted`` does anything with it (each of them returns on a
kind it does not know; a kind about a topic would still cost the similar-matters feature a look-up
of the topic). Its body is checked by the very function that checks a ``topic.escalate`` body, so
the inbox's body check costs the same. This module implements no ``federation_message_accepted``:
what the inbox does with it is verify it, check it, decide it is new and insert its ``fed_inbox``
row — no other row (p2_inbox.py checks that).

bench/launch.py registers this module through ``create_app(node_dir, plugins=[transfer_kind])``;
registering a kind is done once per app, so a node with it handles ``topic.escalate`` exactly as one
without it.
"""

from __future__ import annotations

from shangliang.core.plugins import hookimpl

KIND = "x-bench.transfer"


@hookimpl
def federation_kinds():
    from shangliang.core.topics.federation import KINDS
    from shangliang.federation.kinds import Kind

    escalate = next(kind for kind in KINDS if kind.name == "topic.escalate")
    return [Kind(KIND, escalate.action, False, escalate.validate)]
