"""The append-only, hash-chained audit log: every change to an audited model writes a row; ``verify`` walks the chain.

Each row holds the SHA-256 of the previous row (``prev_hash``) and its own ``hash`` over the previous
hash and its content (seq, time, actor, action, entity, entity id, data). The single ``audit_head``
row names the last row, so a deleted or appended tail shows too.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import enum
import hashlib
import hmac
import json
from typing import Any

from sqlalchemy import event, insert, inspect, select, update
from sqlalchemy.orm import Session, sessionmaker

from .clock import now_ms
from .models import AuditEvent, AuditHead, Base

GENESIS = "0" * 64
HEAD_ID = 1


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_plain)


def _plain(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def row_hash(seq: int, at_ms: int, actor: str, action: str, entity: str, entity_id: str, data: str, prev_hash: str) -> str:
    content = canonical(
        {"seq": seq, "at_ms": at_ms, "actor": actor, "action": action, "entity": entity,
         "entity_id": entity_id, "data": data, "prev": prev_hash}
    )
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


def _values(obj: Base) -> dict[str, Any]:
    mapper = inspect(obj).mapper
    return {
        attr.key: ("<hidden>" if attr.key in obj.__audit_exclude__ else getattr(obj, attr.key))
        for attr in mapper.column_attrs
    }


def _changes(obj: Base) -> dict[str, Any]:
    state = inspect(obj)
    changes = {}
    for attr in state.mapper.column_attrs:
        if attr.key in obj.__audit_ignore__:
            continue
        history = state.attrs[attr.key].history
        if history.has_changes():
            if attr.key in obj.__audit_exclude__:
                changes[attr.key] = "<changed>"
            else:
                old = history.deleted[0] if history.deleted else None
                new = history.added[0] if history.added else None
                changes[attr.key] = [old, new]
    return changes


def _identity(obj: Base) -> str:
    key = inspect(obj).mapper.primary_key_from_instance(obj)
    return ",".join("" if part is None else str(part) for part in key)


def record(session: Session, action: str, entity: str, entity_id: str = "", data: Any = None) -> None:
    """Append one event for a change that is not a model row (a plugin enabled, a file imported…), chained at once:
    the session may be a plain one on a connection whose transaction its caller ends (``core/nodedir.py``), with
    none of the factory's listeners to chain it at commit."""
    _append(session, [(action, entity, entity_id, data if data is not None else {})])


def _append(session: Session, events: list[tuple[str, str, str, Any]]) -> None:
    """Chain ``events`` now, in this transaction: one locked read of the head, then one write (PostgreSQL)."""
    if not events:
        return
    connection = session.connection()
    # The head row is locked for the rest of the transaction, so two writers cannot fork the chain
    # (PostgreSQL row lock; SQLite already serialises writers). A unit of work's events are chained when
    # it commits (``_before_commit``), so the lock is held from there to COMMIT, not for the whole of it.
    head = connection.execute(
        select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == HEAD_ID).with_for_update()
    ).one()
    seq, prev_hash = head.seq, head.hash
    actor = str(session.info.get("actor") or "system")[:200]
    at_ms = now_ms()
    rows = []
    for action, entity, entity_id, data in events:
        seq += 1
        data_text = canonical(data)
        digest = row_hash(seq, at_ms, actor, action, entity, entity_id, data_text, prev_hash)
        rows.append(dict(seq=seq, at_ms=at_ms, actor=actor, action=action, entity=entity, entity_id=entity_id,
                         data=data_text, prev_hash=prev_hash, hash=digest))
        prev_hash = digest
    session.info.setdefault("audit_recorded", []).extend(rows)
    move = update(AuditHead).where(AuditHead.id == HEAD_ID).values(seq=seq, hash=prev_hash)
    if connection.dialect.name == "postgresql":
        # One statement: the rows inserted by a data-modifying WITH, the head moved by the UPDATE it leads.
        connection.execute(move.add_cte(insert(AuditEvent).values(rows).cte("audit_rows")))
    else:
        connection.execute(insert(AuditEvent), rows)
        connection.execute(move)


def _pending(session: Session, events: list[tuple[str, str, str, Any]]) -> None:
    """Events of this unit of work, chained when it commits; inside a savepoint, chained at once (a savepoint
    rolled back takes its rows and the head's move with it)."""
    if not events:
        return
    if session.in_nested_transaction():
        _append(session, events)
    else:
        session.info.setdefault("audit_pending", []).extend(events)


def _after_flush(session: Session, _context) -> None:
    events = []
    for obj in session.new:
        if getattr(obj, "__audited__", False):
            events.append(("insert", obj.__tablename__, _identity(obj), _values(obj)))
    for obj in session.dirty:
        if getattr(obj, "__audited__", False) and session.is_modified(obj, include_collections=False):
            changes = _changes(obj)
            if changes:
                events.append(("update", obj.__tablename__, _identity(obj), changes))
    for obj in session.deleted:
        if getattr(obj, "__audited__", False):
            events.append(("delete", obj.__tablename__, _identity(obj), _values(obj)))
    _pending(session, events)


def _before_commit(session: Session) -> None:
    # SQLAlchemy flushes after this event: flush here, so the last changes' events are chained too.
    session.flush()
    _append(session, session.info.pop("audit_pending", []))


def _after_commit(session: Session) -> None:
    recorded = session.info.pop("audit_recorded", None)
    app = session.info.get("app")
    if not recorded or app is None:
        return
    pm = app.extensions.get("shangliang.plugins")
    if pm is None:
        return
    for row in recorded:
        event_view = {k: v for k, v in row.items()}
        event_view["data"] = json.loads(row["data"])
        pm.hook.audit_event_recorded(event=event_view)


def _after_rollback(session: Session, transaction) -> None:
    if transaction.nested:
        return  # a savepoint: what it chained went with it; the unit of work's pending events stay
    session.info.pop("audit_recorded", None)
    session.info.pop("audit_pending", None)


def install(factory: sessionmaker) -> None:
    """Write audit rows from every session this factory makes."""
    event.listen(factory, "after_flush", _after_flush)
    event.listen(factory, "before_commit", _before_commit)
    event.listen(factory, "after_commit", _after_commit)
    event.listen(factory, "after_soft_rollback", _after_rollback)


def latest(session: Session, limit: int = 20) -> list[AuditEvent]:
    """The latest ``limit`` rows, newest first."""
    return list(session.execute(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(limit)).scalars())


def page_events(session: Session, action: str | None = None, limit: int | None = 50, cursor: str | None = None):
    """A page of audit rows, the newest first (keyset on ``seq``); ``action``: only rows of that action."""
    from .pagination import page

    query = select(AuditEvent)
    if action:
        query = query.where(AuditEvent.action == action)
    return page(session, query, [AuditEvent.seq], lambda row: [row.seq], limit, cursor)


def actions(session: Session) -> list[str]:
    """The actions the log holds, for a filter's choices."""
    return list(session.execute(select(AuditEvent.action).distinct().order_by(AuditEvent.action)).scalars())


def event_dict(row: AuditEvent) -> dict[str, Any]:
    return {"seq": row.seq, "at_ms": row.at_ms, "actor": row.actor, "action": row.action, "entity": row.entity,
            "entity_id": row.entity_id, "data": json.loads(row.data), "hash": row.hash}


@dataclasses.dataclass
class VerifyReport:
    ok: bool
    rows: int
    head_seq: int
    kind: str | None = None  # edited, inserted, deleted, broken
    seq: int | None = None
    problem: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def head(session: Session) -> tuple[int, str]:
    """The chain's head now: its last row's seq and hash ((0, GENESIS) before the first row)."""
    found = session.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == HEAD_ID)).one_or_none()
    return (found.seq, found.hash) if found else (0, GENESIS)


def verify(session: Session, anchor: dict[str, Any] | None = None) -> VerifyReport:
    """Walk the chain from the first row; report the first row edited, inserted or deleted. With ``anchor``
    (``{"seq", "hash", "holder"}``: a head of this chain that another node keeps), also report a chain
    that no longer reaches it — cut back, wiped and begun again, or rewritten before it."""
    report = _walk(session)
    if not report.ok or anchor is None:
        return report
    seq, digest, holder = int(anchor["seq"]), str(anchor["hash"]), anchor.get("holder", "the parent")
    if seq == 0:
        return report
    if report.head_seq < seq:
        return VerifyReport(False, report.rows, report.head_seq, "cut", report.head_seq + 1,
                            f"the chain ends at row {report.head_seq}, but {holder} holds its head at row {seq}: "
                            "rows were deleted from the end (or all, and the chain begun again)")
    row = session.get(AuditEvent, seq)
    if row is None or not hmac.compare_digest(row.hash, digest):
        return VerifyReport(False, report.rows, report.head_seq, "rewritten", seq,
                            f"row {seq} is not the row {holder} holds as the head at that point: the chain was "
                            "rewritten up to it")
    return report


def _walk(session: Session) -> VerifyReport:
    head = session.execute(select(AuditHead).where(AuditHead.id == HEAD_ID)).scalar_one_or_none()
    head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS)
    rows = session.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars().all()

    def fail(kind: str, seq: int, problem: str) -> VerifyReport:
        return VerifyReport(False, len(rows), head_seq, kind, seq, problem)

    expected_prev, expected_seq = GENESIS, 1
    for index, row in enumerate(rows):
        if row.seq > head_seq:
            return fail("inserted", row.seq, f"row {row.seq} was inserted after the chain's head (row {head_seq})")
        if row.seq != expected_seq:
            missing = f"row {expected_seq}" if row.seq == expected_seq + 1 else f"rows {expected_seq}–{row.seq - 1}"
            return fail("deleted", expected_seq, f"{missing} deleted: the chain jumps from row {expected_seq - 1} to row {row.seq}")
        own = row_hash(row.seq, row.at_ms, row.actor, row.action, row.entity, row.entity_id, row.data, row.prev_hash)
        own_ok = hmac.compare_digest(own, row.hash)
        link_ok = hmac.compare_digest(row.prev_hash, expected_prev)
        if not (own_ok and link_ok):
            following = rows[index + 1] if index + 1 < len(rows) else None
            if following is not None and hmac.compare_digest(following.prev_hash, expected_prev):
                return fail("inserted", row.seq, f"row {row.seq} was inserted: row {following.seq} links past it to row {row.seq - 1}")
            if not own_ok:
                return fail("edited", row.seq, f"row {row.seq} was edited: its content no longer matches its hash")
            return fail("broken", row.seq, f"row {row.seq} does not link to row {row.seq - 1}: a row before it was deleted or rewritten")
        expected_prev, expected_seq = row.hash, row.seq + 1
    last = expected_seq - 1
    if last < head_seq:
        missing = f"row {head_seq}" if last + 1 == head_seq else f"rows {last + 1}–{head_seq}"
        return fail("deleted", last + 1, f"{missing} deleted from the end: the head names row {head_seq}")
    if not hmac.compare_digest(head_hash, expected_prev):
        return fail("edited", last, f"the chain's head does not match row {last}: the head or the last row was rewritten")
    return VerifyReport(True, len(rows), head_seq)
