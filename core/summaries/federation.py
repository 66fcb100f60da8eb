"""The summary report on the wire (docs/summaries.md): ``x-summaries.report``, one ``reply`` hop from a child to
its parent, written by the child itself (origin = sender; a parent forwards its subtree's figures upward in a
report of its own, never by relaying its children's envelopes).

Body: ``as_of_ms`` and ``nodes``, a list whose first entry is the sender and whose others are the nodes under
it, each ``{node, name, level, parent, as_of_ms, figures}``; figures are counts only (services.own_figures).

A receiver refuses (422 ``invalid_body``, nothing stored) a body that does not fit, a report from a node that
is not a paired child (``SummaryNotFromChild``), and one naming a node not under its sender
(``SummaryOutsideSubtree``).
"""

from __future__ import annotations

from typing import Any, Mapping

from sqlalchemy.orm import Session

from shangliang.core.context import NodeContext
from shangliang.federation.errors import InvalidBody
from shangliang.federation.kinds import Kind, ms, require

from . import services
from .services import REPORT


class SummaryNotFromChild(InvalidBody):
    """A summary report whose origin is not a pinned child of the receiver."""


class SummaryOutsideSubtree(InvalidBody):
    """A summary report naming a node that is not under the child that sent it."""


def _report(body: Mapping[str, Any]) -> None:
    ms(body, "as_of_ms")
    nodes = require(body, "nodes", list)
    if not nodes or not isinstance(nodes[0], Mapping) or not isinstance(nodes[0].get("node"), str):
        raise InvalidBody("body.nodes must start with the sending node")
    try:
        services.check_report(nodes[0]["node"], body)
    except services.OutsideSubtree as exc:
        raise SummaryOutsideSubtree(f"body.{exc}") from None
    except services.SummaryError as exc:
        raise InvalidBody(f"body.{exc}") from None


KINDS = (Kind(REPORT, "reply", False, _report),)


def apply_received(session: Session, node: NodeContext, envelope: Mapping[str, Any],
                   transfer: Mapping[str, Any]) -> None:
    """Keep the figures of a child's summary report (called by the inbox, in its transaction)."""
    if envelope["kind"] != REPORT:
        return
    if len(envelope["hops"]) != 1:
        raise InvalidBody(f"{REPORT} travels one hop, from the child that wrote it to its parent")
    try:
        services.receive(session, node, envelope["origin"], envelope["body"], transfer["received_ms"])
    except services.NotAChild as exc:
        raise SummaryNotFromChild(str(exc)) from None
    except services.OutsideSubtree as exc:
        raise SummaryOutsideSubtree(str(exc)) from None
    except services.SummaryError as exc:
        raise InvalidBody(str(exc)) from None
