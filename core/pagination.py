"""Pages of a list, by keyset: ``limit`` items after an opaque ``cursor``, so that page 1,000 costs what page 1 does.

A service orders its query by columns that end in a unique one (``…, id``), all descending, and asks
:func:`page` for a slice; the cursor names the last item seen. A cursor is only a position: a client
cannot widen what the query selects with it.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any, Callable, Generic, Sequence, TypeVar

from sqlalchemy import and_, literal, or_
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select
from shangliang.core.i18n import N_

from .errors import InputError

T = TypeVar("T")
MAX_LIMIT = 500


@dataclass
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def encode_cursor(values: Sequence[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(values), separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, kinds: Sequence[type]) -> list[Any]:
    """The values a cursor holds, one of each of ``kinds`` (bool, int, str); a refusal naming the field
    ``cursor`` for anything that is not a cursor this node could have given."""
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, UnicodeDecodeError, RecursionError):
        values = None
    if not isinstance(values, list) or len(values) != len(kinds) or not all(map(_is_a, values, kinds)):
        raise InputError(N_("cursor is not one this node gave: ask for the first page without a cursor"), field="cursor")
    return values


def _is_a(value: Any, kind: type) -> bool:
    if kind is int:  # a database integer: not a bool, within 64 bits
        return type(value) is int and -2 ** 63 <= value < 2 ** 63
    if kind is str:
        return type(value) is str and len(value) <= 500 and value.isprintable()
    return type(value) is kind


def page(session: Session, query: Select, columns: Sequence[Any], key: Callable[[Any], Sequence[Any]],
         limit: int | None, cursor: str | None) -> Page:
    """At most ``limit`` rows of ``query`` (ordered by ``columns``, each descending) after ``cursor``;
    ``key(row)`` gives a row's values of those columns. ``limit`` None: every row, no cursor."""
    if limit is None:
        return Page(list(session.execute(query.order_by(*[c.desc() for c in columns])).scalars()))
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise InputError(N_("limit must be a whole number from 1 to %(max_limit)s", max_limit=MAX_LIMIT), field="limit")
    if cursor:
        values = decode_cursor(cursor, [column.type.python_type for column in columns])
        after = [literal(value, column.type) for value, column in zip(values, columns)]
        # (c1, c2, …) < (v1, v2, …) in the descending order, spelt out for every database.
        clauses = [and_(*[columns[j] == after[j] for j in range(i)], columns[i] < after[i]) for i in range(len(columns))]
        query = query.where(or_(*clauses))
    rows = list(session.execute(query.order_by(*[c.desc() for c in columns]).limit(limit + 1)).scalars())
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, encode_cursor(key(rows[-1])) if more and rows else None)
