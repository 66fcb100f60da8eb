"""Federation hook specifications: message kinds plugins add, and the effect of an accepted message."""

from __future__ import annotations

from typing import Any, Mapping

from shangliang.core.hookspecs import hookspec


@hookspec
def federation_kinds() -> list[Any] | None:
    """Register message kinds of your own (PROTOCOL.md §8: ``x-<plugin>.<name>``).

    Called when the inbox builds its registry of kinds, once per app.

    :return: a list of ``shangliang.federation.kinds.Kind`` (name, hop 0 action, whether it is
        about a topic, a body validator raising ``InvalidBody``), or None.

    All implementations are called; a name that is already taken is refused, and so is a name that
    is not ``x-…`` unless a built-in plugin registers it (the topics feature registers PROTOCOL.md
    §8's ``topic.*`` kinds this way).
    """


@hookspec
def federation_message_accepted(session: Any, envelope: Mapping[str, Any], transfer: Mapping[str, Any],
                                node: Any) -> None:
    """Apply the effect of a verified message, in the transaction that records it.

    Called by the inbox after verification, before the commit that stores the transfer; raising
    ``shangliang.federation.errors.InvalidBody`` (or another ``ProtocolError``) refuses the message
    and rolls everything back.

    :param session: the SQLAlchemy session of the inbox transaction.
    :param envelope: the envelope as received (core, ``sig``, ``hops``).
    :param transfer: ``transfer_id``, ``sender``, ``kind``, ``topic``, ``received_ms``.
    :param node: the receiving node's ``shangliang.core.context.NodeContext``.
    :return: ignored.

    All implementations are called.
    """
