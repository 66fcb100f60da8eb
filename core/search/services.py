"""Search's rules: what a query is, which rows it finds, in which order, and what each reader may see of them.

A query is split at white space into terms (at most :data:`TERMS_MAX`); a row is found when every term occurs,
as written (letters of the Latin alphabet in either case), in one of the row's indexed columns
(:data:`INDEXED`). A term of three characters or more is looked up in the index: on SQLite the kind's FTS5
table with the trigram tokenizer, on PostgreSQL ``ILIKE`` over the columns, which the GIN trigram index of
migration 0018 answers. A shorter term (``停车``: two characters, common in Chinese) has no trigram, so it is
looked for with ``LIKE`` / ``ILIKE`` over the same columns. Either way the answer is exact: every row that
holds the text, and only those.

The index on SQLite is kept by triggers on each kind's table (the migration), so a row added or changed is
found by its new words in the same transaction; PostgreSQL's trigram index is an index of the table itself.

Who sees what is each feature's own rule: a topic as :func:`topics.services.scope_of` admits it (a handling
unit's user: the topics assigned to their unit), a proposal as :func:`proposals.services.visible` (the office
every one; a member their own and public ones; a handling unit those assigned to it; the public the public
ones), a social-opinion report to every user of the node (as its list).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any, Sequence

from sqlalchemy import Integer, and_, bindparam, or_, select, text
from sqlalchemy.orm import Session

from shangliang.core import divisions
from shangliang.core.context import NodeContext
from shangliang.core.errors import InputError
from shangliang.core.i18n import N_
from shangliang.core.opinions import models as opinion_models
from shangliang.core.pagination import MAX_LIMIT, decode_cursor, encode_cursor
from shangliang.core.proposals import models as proposal_models
from shangliang.core.proposals import services as proposals
from shangliang.core.topics import models as topic_models
from shangliang.core.topics import services as topics
from shangliang.core.topics.supervision import _zone

Topic, Proposal, SocialOpinion = topic_models.Topic, proposal_models.Proposal, opinion_models.SocialOpinion

#: The kinds searched, in the order results of the same moment are listed.
KINDS = ("topic", "proposal", "opinion")
#: kind → (its table's model, the indexed columns); migration 0018 indexes the same columns.
INDEXED: dict[str, tuple[Any, tuple[str, ...]]] = {
    "topic": (Topic, ("title", "description")),
    "proposal": (Proposal, ("title", "reasons", "suggestions")),
    "opinion": (SocialOpinion, ("title", "sentiment", "analysis", "suggestion")),
}
#: The FTS5 table of each kind on SQLite (migration 0018).
FTS_TABLES = {"topic": "search_topics", "proposal": "search_proposals", "opinion": "search_opinions"}
#: kind → the stages (topics) or statuses (proposals, reports) a ``stage`` filter may name.
STAGES = {"topic": topic_models.STAGES, "proposal": proposal_models.STATUSES, "opinion": opinion_models.STATUSES}
#: A term shorter than this has no trigram: it is looked for with LIKE.
TRIGRAM = 3
QUERY_MAX, TERMS_MAX, CATEGORY_MAX = 100, 8, 100
YEAR_MIN, YEAR_MAX = 1949, 9999
DEFAULT_LIMIT = 20
SNIPPET = 80  # characters of a snippet
BEFORE = 20  # characters of a snippet before the first match
SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Query:
    """A checked query: its terms and filters."""

    terms: tuple[str, ...]
    kinds: tuple[str, ...]
    stage: str | None = None
    area: str | None = None
    category: str | None = None
    year: int | None = None


@dataclass
class Hit:
    """One row found: what it is, its title and a snippet with where the terms occur in each."""

    kind: str
    ref: str
    title: str
    snippet: str
    title_marks: list[tuple[int, int]]
    snippet_marks: list[tuple[int, int]]
    stage: str
    category: str
    areas: list[str]
    year: int | None
    holder: str | None
    updated_ms: int
    id: int = field(repr=False, default=0)

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "ref": self.ref, "title": self.title, "snippet": self.snippet,
                "title_marks": [list(m) for m in self.title_marks],
                "snippet_marks": [list(m) for m in self.snippet_marks], "stage": self.stage,
                "category": self.category, "areas": self.areas, "year": self.year, "holder": self.holder,
                "updated_ms": self.updated_ms}


@dataclass
class Results:
    hits: list[Hit]
    next_cursor: str | None
    query: Query


# ---------------------------------------------------------------------------------------------
# The query


def parse(q: Any, kind: Any = None, stage: Any = None, area: Any = None, category: Any = None,
          year: Any = None) -> Query:
    """The query ``q`` with its filters, checked; ``InputError`` naming the field for anything wrong:
    an empty query, an unknown kind, a stage no searched kind has, an area that is not a division code,
    a year out of range."""
    if q is not None and not isinstance(q, str):
        raise InputError(N_("the query must be text"), field="q")
    q = (q or "").strip()
    if not q:
        raise InputError(N_("the query is empty: give a word to look for"), field="q")
    if len(q) > QUERY_MAX:
        raise InputError(N_("the query is longer than %(query_max)s characters", query_max=QUERY_MAX), field="q")
    if any(not c.isprintable() and not c.isspace() for c in q):
        raise InputError(N_("the query holds characters that are not text"), field="q")
    terms = tuple(dict.fromkeys(t for t in SPACE.split(q) if t))
    if len(terms) > TERMS_MAX:
        raise InputError(N_("at most %(terms_max)s words in a query", terms_max=TERMS_MAX), field="q")
    kind = _blank(kind)
    if kind is not None and kind not in KINDS:
        raise InputError(N_("unknown kind %(kind)s; kinds: %(kinds)s", kind=repr(str(kind)[:40]),
                            kinds=', '.join(KINDS)), field="kind")
    kinds = (kind,) if kind else KINDS
    stage = _blank(stage)
    if stage is not None:
        kinds = tuple(k for k in kinds if stage in STAGES[k])
        if not kinds:
            known = sorted({s for k in ((kind,) if kind else KINDS) for s in STAGES[k]})
            raise InputError(N_("unknown stage %(stage)s; stages: %(known)s", stage=repr(str(stage)[:40]),
                                known=', '.join(known)), field="stage")
    area = _blank(area)
    if area is not None and not divisions.is_standard(str(area)):
        raise InputError(N_("area %(area)s is not a division code (2, 4, 6, 9 or 12 digits)",
                            area=repr(str(area)[:40])), field="area")
    category = _blank(category)
    if category is not None and len(category) > CATEGORY_MAX:
        raise InputError(N_("category is longer than %(category_max)s characters",
                            category_max=CATEGORY_MAX), field="category")
    year = _year(year)
    return Query(terms, kinds, stage, area, category, year)


def _blank(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _year(value: Any) -> int | None:
    value = _blank(value)
    if value is None:
        return None
    if isinstance(value, bool):
        raise InputError(N_("year must be a year such as 2027"), field="year")
    if isinstance(value, str):
        if not (value.isascii() and value.isdigit()) or len(value) > 6:
            raise InputError(N_("year must be a year such as 2027"), field="year")
        value = int(value)
    if not isinstance(value, int):
        raise InputError(N_("year must be a year such as 2027"), field="year")
    if not YEAR_MIN <= value <= YEAR_MAX:
        raise InputError(N_("year is from %(year_min)s to %(year_max)s", year_min=YEAR_MIN,
                            year_max=YEAR_MAX), field="year")
    return value


def _limit(limit: Any) -> int:
    if limit is None:
        return DEFAULT_LIMIT
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise InputError(N_("limit must be a whole number from 1 to %(max_limit)s", max_limit=MAX_LIMIT), field="limit")
    return limit


# ---------------------------------------------------------------------------------------------
# Finding


def _like(value: str) -> str:
    return "%" + value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _term_condition(session: Session, kind: str, term: str, n: int) -> Any:
    """The condition (over the kind's model) that ``term`` occurs in one of its indexed columns."""
    model, columns = INDEXED[kind]
    postgres = session.get_bind().dialect.name == "postgresql"
    if not postgres and len(term) >= TRIGRAM:
        table = FTS_TABLES[kind]
        phrase = '"' + term.replace('"', '""') + '"'
        rows = text(f"SELECT rowid FROM {table} WHERE {table} MATCH :m{n}").bindparams(
            bindparam(f"m{n}", phrase)).columns(rowid=Integer)
        return model.id.in_(select(rows.subquery().c.rowid))
    pattern = _like(term)
    if postgres:
        return or_(*(getattr(model, c).ilike(pattern, escape="\\") for c in columns))
    return or_(*(getattr(model, c).like(pattern, escape="\\") for c in columns))


def _year_range_ms(node: NodeContext, year: int) -> tuple[int, int]:
    zone = _zone(node.config)
    epoch = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)

    def ms(y: int) -> int:
        return (dt.datetime(y, 1, 1, tzinfo=zone) - epoch) // dt.timedelta(milliseconds=1)

    return ms(year), ms(year + 1)


def _filters(session: Session, node: NodeContext, kind: str, query: Query, viewer: Any) -> list[Any]:
    """The conditions of ``query``'s filters and of what ``viewer`` may see, over the kind's model (a topic's
    scope is applied by :func:`search` with the topics' own ``Scope.admits``)."""
    where: list[Any] = []
    if kind == "topic":
        if query.stage:
            where.append(Topic.stage == query.stage)
        if query.area:
            where.append(Topic.areas.like(f'%"{query.area}%'))
        if query.category:
            where.append(Topic.category == query.category)
        if query.year:
            start, end = _year_range_ms(node, query.year)
            where += [Topic.raised_ms >= start, Topic.raised_ms < end]
    elif kind == "proposal":
        who = proposals.who_of(viewer) if viewer is not None else proposals.OPERATOR
        where.append(proposals.visible(session, who))
        if query.stage:
            where.append(Proposal.status == query.stage)
        if query.area:
            where.append(Proposal.areas.like(f'%"{query.area}%'))
        if query.category:
            where.append(Proposal.category == query.category)
        if query.year:
            where.append(Proposal.year == query.year)
    else:  # every user of the node reads every report (opinions.services.list_opinions)
        if query.stage:
            where.append(SocialOpinion.status == query.stage)
        if query.area:  # a report has no areas: the division of the node where it was written
            where.append(SocialOpinion.written_node.like(f"{query.area}%"))
        if query.category:
            where.append(SocialOpinion.category == query.category)
        if query.year:
            where.append(SocialOpinion.year == query.year)
    return where


def search(session: Session, node: NodeContext, viewer: Any, query: Query, limit: Any = None,
           cursor: str | None = None) -> Results:
    """The rows ``viewer`` (a node user; None: the node's operator at the command line, who sees everything)
    may see that hold every term of ``query`` and pass its filters: the most recently changed first, a page
    of ``limit`` after ``cursor``."""
    limit = _limit(limit)
    after = decode_cursor(cursor, [int, int, int]) if cursor else None
    found: list[tuple[int, int, int, Any]] = []
    for rank, kind in enumerate(KINDS):
        if kind not in query.kinds:
            continue
        model, _columns = INDEXED[kind]
        where = [_term_condition(session, kind, term, n) for n, term in enumerate(query.terms)]
        where += _filters(session, node, kind, query, viewer)
        if after is not None:
            at_ms, at_rank, at_id = after
            if rank > at_rank:
                where.append(model.updated_ms <= at_ms)
            elif rank == at_rank:
                where.append(or_(model.updated_ms < at_ms, and_(model.updated_ms == at_ms, model.id < at_id)))
            else:
                where.append(model.updated_ms < at_ms)
        statement = select(model).where(*where)
        if kind == "topic":
            statement = topics.scope_of(session, viewer).admits(statement)
        rows = session.execute(statement.order_by(model.updated_ms.desc(), model.id.desc()).limit(limit + 1)).scalars()
        found += [(row.updated_ms, rank, row.id, row) for row in rows]
    found.sort(key=lambda f: (-f[0], f[1], -f[2]))
    more = len(found) > limit
    found = found[:limit]
    hits = [_hit(KINDS[rank], row, query.terms) for _ms, rank, _id, row in found]
    next_cursor = encode_cursor(list(found[-1][:3])) if more and found else None
    return Results(hits, next_cursor, query)


# ---------------------------------------------------------------------------------------------
# What a hit shows


def marks(value: str, terms: Sequence[str]) -> list[tuple[int, int]]:
    """Where the terms occur in ``value``: (start, end) pairs, sorted, overlaps joined."""
    spans = sorted((m.start(), m.end()) for term in terms
                   for m in re.finditer(re.escape(term), value, re.IGNORECASE))
    joined: list[tuple[int, int]] = []
    for start, end in spans:
        if joined and start <= joined[-1][1]:
            joined[-1] = (joined[-1][0], max(end, joined[-1][1]))
        else:
            joined.append((start, end))
    return joined


def snippet(texts: Sequence[str], terms: Sequence[str]) -> tuple[str, list[tuple[int, int]]]:
    """A window of the first text in which a term occurs (else the start of the first non-empty text),
    with the marks inside it."""
    for value in texts:
        value = SPACE.sub(" ", value or "").strip()
        found = marks(value, terms)
        if found:
            start = max(0, found[0][0] - BEFORE)
            end = min(len(value), start + SNIPPET)
            piece = value[start:end]
            prefix = "…" if start > 0 else ""
            suffix = "…" if end < len(value) else ""
            shift = len(prefix) - start
            inside = [(max(s, start) + shift, min(e, end) + shift) for s, e in found if s < end and e > start]
            return prefix + piece + suffix, inside
    for value in texts:
        value = SPACE.sub(" ", value or "").strip()
        if value:
            return value[:SNIPPET] + ("…" if len(value) > SNIPPET else ""), []
    return "", []


def segments(value: str, spans: Sequence[Sequence[int]]) -> list[tuple[str, bool]]:
    """``value`` cut at the marks: (text, marked) pieces, for a page to show."""
    out: list[tuple[str, bool]] = []
    at = 0
    for start, end in spans:
        if start > at:
            out.append((value[at:start], False))
        out.append((value[start:end], True))
        at = end
    if at < len(value):
        out.append((value[at:], False))
    return out


def _hit(kind: str, row: Any, terms: Sequence[str]) -> Hit:
    _model, columns = INDEXED[kind]
    body, spans = snippet([getattr(row, c) for c in columns[1:]], terms)
    if kind == "topic":
        import json

        return Hit(kind, row.uid, row.title, body, marks(row.title, terms), spans, row.stage, row.category,
                   json.loads(row.areas or "[]"), None, row.holder, row.updated_ms, row.id)
    if kind == "proposal":
        return Hit(kind, row.ref, row.title, body, marks(row.title, terms), spans, row.status, row.category,
                   row.area_list(), row.year, None, row.updated_ms, row.id)
    return Hit(kind, row.ref, row.title, body, marks(row.title, terms), spans, row.status, row.category,
               [], row.year, None, row.updated_ms, row.id)


def categories(session: Session, node: NodeContext, viewer: Any) -> list[str]:
    """The categories of the rows ``viewer`` may see, of every kind (for a page's filter: no category of a row
    the reader cannot see)."""
    everything = Query((), KINDS)
    found: set[str] = set()
    for kind in KINDS:
        model, _columns = INDEXED[kind]
        statement = select(model.category).where(*_filters(session, node, kind, everything, viewer)).distinct()
        if kind == "topic":
            statement = topics.scope_of(session, viewer).admits(statement)
        found.update(c for c in session.execute(statement).scalars() if c)
    return sorted(found)
