"""Form posts that take effect once: a page's form carries a one-time token, spent in the same unit of
work as the change it asks for.

Sent twice (a double click, a reload of the answer), the second submission finds the token spent
and gets the first one's outcome; the change runs once. The token is spent only if the unit of work
commits: a refused form can be corrected and sent again. The write transaction (``db.transaction``)
makes this exact: on SQLite the second submission waits for the first's commit before it reads the
token; on PostgreSQL its insert of the same token waits for the first and then fails, and the caller
reads the first outcome (:func:`earlier`).
"""

from __future__ import annotations

import json
import re
import secrets
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from .clock import now_ms
from .models import FormSubmission

FIELD = "once"
TOKEN = re.compile(r"[A-Za-z0-9_-]{32,64}")
KEEP_MS = 24 * 3600 * 1000  # a form left open longer than a day runs as a new submission


def new_token() -> str:
    return secrets.token_urlsafe(32)


def valid(token: Any) -> bool:
    return isinstance(token, str) and TOKEN.fullmatch(token) is not None


def earlier(session: Session, token: Any) -> dict[str, Any] | None:
    """The outcome of the submission that spent ``token``, or None when it is unspent (or no token)."""
    if not valid(token):
        return None
    found = session.execute(select(FormSubmission.outcome).where(FormSubmission.token == token)).scalar()
    return None if found is None else json.loads(found or "{}")


def spend(session: Session, token: Any) -> FormSubmission | None:
    """Spend ``token`` in this unit of work, before the change it asks for (flushed now, so that a second
    submission on PostgreSQL waits here for the first). None when the form carried no valid token."""
    if not valid(token):
        return None
    now = now_ms()
    session.execute(delete(FormSubmission).where(FormSubmission.created_ms < now - KEEP_MS))
    row = FormSubmission(token=token, created_ms=now, outcome="{}")
    session.add(row)
    session.flush()
    return row


def record(row: FormSubmission | None, outcome: dict[str, Any]) -> None:
    """What the submission answered, for a second one to answer the same."""
    if row is not None:
        row.outcome = json.dumps(outcome, ensure_ascii=False)
