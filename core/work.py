"""What waits for a person on this node: the shapes every feature fills through the ``workbench_items``
hook, and the helpers they share.

Each feature (and any plugin) says what waits for a user as a ``WorkItem`` per kind of work (topics to
accept, reports to decide, invitations to answer…) with its count and the first few entries. The
workbench feature (``core/workbench/``) shows them on the home page, most urgent first, and in
``GET /api/v1/workbench``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

#: how many entries a workbench item lists (its count says how many there are in all)
ENTRIES = 5


@dataclass
class WorkEntry:
    """One thing to do: what it is, where to do it, and a line about it (a deadline, a state)."""

    title: str
    url: str
    note: str = ""
    overdue: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"title": self.title, "url": self.url, "note": self.note, "overdue": self.overdue}


@dataclass
class WorkItem:
    """A kind of work waiting for the user: ``key`` names it (``topics.to_accept``), ``label`` says it in the
    user's language, ``count`` how many there are, ``url`` the page that lists them or where to start."""

    key: str
    label: str
    count: int
    url: str
    entries: list[WorkEntry] = field(default_factory=list)
    #: something past its deadline is among them
    urgent: bool = False
    #: a form to start new work from (``(label, url)``): raise a topic, submit a proposal…
    action: tuple[str, str] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "label": str(self.label), "count": self.count, "url": self.url,
                "urgent": self.urgent, "entries": [e.as_dict() for e in self.entries],
                "action": None if self.action is None else {"label": str(self.action[0]), "url": self.action[1]}}


def count_and_first(session: Session, query: Any, n: int = ENTRIES) -> tuple[int, list[Any]]:
    """How many rows ``query`` (a ``select`` of one entity, ordered) finds, and the first ``n`` of them."""
    total = session.execute(select(func.count()).select_from(query.order_by(None).subquery())).scalar_one()
    return total, list(session.execute(query.limit(n)).scalars()) if total else []


def day(ms: int | None) -> str:
    """A moment as a day in the reader's language and the node's time zone (in a request)."""
    from flask_babel import format_date

    from .clock import datetime_of

    moment = datetime_of(ms) if ms is not None else None
    return "" if moment is None else format_date(moment, "medium")


def collect(pm: Any, session: Session, user: Any, node: Any) -> list[WorkItem]:
    """Every feature's items for ``user``: urgent ones first, then those with something waiting, then the
    rest (a form to start from), each group in the order the features were registered."""
    # pluggy calls the last registered first: reversed, the features come in their layers' order
    items = [i for found in reversed(pm.hook.workbench_items(session=session, user=user, node=node)) if found
             for i in (found if isinstance(found, (list, tuple)) else [found]) if isinstance(i, WorkItem)]
    return sorted(items, key=lambda i: (not i.urgent, i.count == 0))
