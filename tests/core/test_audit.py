"""Every state change writes a hash-chained audit row; ``audit verify`` finds rows changed behind the app's back."""

import shlex
import json

import pytest
import sqlalchemy as sa

from shangliang.core import audit
from shangliang.core.db import make_engine, transaction
from shangliang.core.members.models import Member
from shangliang.core.members.services import add_member
from shangliang.core.plugins import hookimpl

from ..conftest import invoke


def _populate(runner, node_dir, count=4):
    for i in range(count):
        result = invoke(runner, node_dir, "members", "add", "--name", f"委员{i}", "--sector", "农业界", "--member-no", f"M{i}")
        assert result.exit_code == 0, result.output


def _raw(app, sql, **params):
    """Change the database directly, as someone with database access could."""
    engine = make_engine(app.config["DATABASE_URL"])
    try:
        with engine.begin() as connection:
            return connection.execute(sa.text(sql), params)
    finally:
        engine.dispose()


def _verify(runner, node_dir):
    result = invoke(runner, node_dir, "audit", "verify", "--json")
    return result.exit_code, json.loads(result.output)


def test_inserts_updates_and_deletes_are_recorded_with_actor(app):
    with app.app_context():
        with transaction(actor="office:wang") as session:
            member = add_member(session, "张三", "农业界", member_no="M1")
        with transaction(actor="office:wang") as session:
            session.get(Member, member.id).phone = "13800000000"
        with transaction(actor="office:li") as session:
            session.delete(session.get(Member, member.id))
        from shangliang.core.db import get_session
        from shangliang.core.models import AuditEvent

        events = get_session().execute(sa.select(AuditEvent).order_by(AuditEvent.seq)).scalars().all()
    kinds = [(e.action, e.entity, e.actor) for e in events]
    assert ("insert", "sectors", "office:wang") in kinds
    assert ("insert", "members", "office:wang") in kinds
    assert ("update", "members", "office:wang") in kinds
    assert ("delete", "members", "office:li") in kinds
    update = next(e for e in events if e.action == "update")
    assert json.loads(update.data) == {"phone": [None, "13800000000"]}
    assert update.entity_id == str(member.id)
    assert all(later.prev_hash == earlier.hash for earlier, later in zip(events, events[1:]))


def test_password_hashes_never_reach_the_log(app, runner, node_dir):
    result = invoke(runner, node_dir, "users", "add", "wang", "--role", "office", "--password-stdin", input="s3cret-pass\n")
    assert result.exit_code == 0, result.output
    listed = invoke(runner, node_dir, "audit", "list", "--json")
    assert "scrypt" not in listed.output and "pbkdf2" not in listed.output
    assert '"password_hash": "<hidden>"' in listed.output


def test_intact_chain_verifies(runner, node_dir):
    _populate(runner, node_dir)
    code, report = _verify(runner, node_dir)
    assert code == 0 and report["ok"] and report["rows"] == report["head_seq"] >= 5


def test_verify_catches_an_edited_row(app, runner, node_dir):
    _populate(runner, node_dir)
    _raw(app, "UPDATE audit_events SET actor = 'somebody-else' WHERE seq = 3")
    code, report = _verify(runner, node_dir)
    assert code == 1
    assert (report["kind"], report["seq"]) == ("edited", 3)
    assert "row 3 was edited" in invoke(runner, node_dir, "audit", "verify").output


def test_verify_catches_an_edited_row_whose_hash_was_recomputed(app, runner, node_dir):
    _populate(runner, node_dir)
    engine = make_engine(app.config["DATABASE_URL"])
    with engine.begin() as connection:
        row = connection.execute(sa.text("SELECT * FROM audit_events WHERE seq = 2")).mappings().one()
        forged = audit.row_hash(row["seq"], row["at_ms"], "forger", row["action"], row["entity"], row["entity_id"],
                                row["data"], row["prev_hash"])
        connection.execute(sa.text("UPDATE audit_events SET actor = 'forger', hash = :h WHERE seq = 2"), {"h": forged})
    engine.dispose()
    code, report = _verify(runner, node_dir)
    assert code == 1
    assert (report["kind"], report["seq"]) == ("broken", 3)


def test_verify_catches_a_deleted_row(app, runner, node_dir):
    _populate(runner, node_dir)
    _raw(app, "DELETE FROM audit_events WHERE seq = 4")
    code, report = _verify(runner, node_dir)
    assert code == 1
    assert (report["kind"], report["seq"]) == ("deleted", 4)


def test_verify_catches_the_last_rows_deleted(app, runner, node_dir):
    _populate(runner, node_dir)
    head = _verify(runner, node_dir)[1]["head_seq"]
    _raw(app, "DELETE FROM audit_events WHERE seq >= :s", s=head - 1)
    code, report = _verify(runner, node_dir)
    assert code == 1
    assert (report["kind"], report["seq"]) == ("deleted", head - 1)


def test_verify_catches_an_inserted_row(app, runner, node_dir):
    _populate(runner, node_dir)
    head = _verify(runner, node_dir)[1]["head_seq"]
    # Make room at row 3 and slip a row in (prev_hash is unique, so it cannot claim row 2's link).
    engine = make_engine(app.config["DATABASE_URL"])
    with engine.begin() as connection:
        for seq in range(head, 2, -1):
            connection.execute(sa.text("UPDATE audit_events SET seq = seq + 1 WHERE seq = :s"), {"s": seq})
        prev = "f" * 64
        digest = audit.row_hash(3, 1, "forger", "insert", "members", "99", "{}", prev)
        connection.execute(sa.text(
            "INSERT INTO audit_events (seq, at_ms, actor, action, entity, entity_id, data, prev_hash, hash) "
            "VALUES (3, 1, 'forger', 'insert', 'members', '99', '{}', :p, :h)"), {"p": prev, "h": digest})
        connection.execute(sa.text("UPDATE audit_head SET seq = seq + 1"))
    engine.dispose()
    code, report = _verify(runner, node_dir)
    assert code == 1
    assert (report["kind"], report["seq"]) == ("inserted", 3)


def test_verify_catches_a_row_appended_past_the_head(app, runner, node_dir):
    _populate(runner, node_dir)
    head = _verify(runner, node_dir)[1]["head_seq"]
    _raw(app, "INSERT INTO audit_events (seq, at_ms, actor, action, entity, entity_id, data, prev_hash, hash) "
              "VALUES (:s, 1, 'x', 'insert', 'members', '1', '{}', 'p', 'h')", s=head + 1)
    code, report = _verify(runner, node_dir)
    assert code == 1
    assert (report["kind"], report["seq"]) == ("inserted", head + 1)


class Observer:
    def __init__(self):
        self.seen = []

    @hookimpl
    def audit_event_recorded(self, event):
        self.seen.append((event["seq"], event["action"], event["entity"]))


@pytest.fixture
def observed(node_dir):
    from shangliang.core.app import create_app

    observer = Observer()
    app = create_app(node_dir, plugins=[observer])
    yield app, observer
    app.extensions["shangliang.db"].engine.dispose()


def test_audit_hook_is_called_after_commit_and_not_after_rollback(observed):
    app, observer = observed
    with app.app_context():
        with pytest.raises(RuntimeError):
            with transaction(actor="t") as session:
                add_member(session, "甲", "农业界")
                raise RuntimeError("abandon")
        assert observer.seen == []
        with transaction(actor="t") as session:
            add_member(session, "乙", "农业界")
    assert [a for _s, a, e in observer.seen if e == "members"] == ["insert"]
    assert [s for s, _a, _e in observer.seen] == sorted(s for s, _a, _e in observer.seen)


def test_delivery_bookkeeping_on_a_peer_is_not_audited_but_its_pinning_is(app, make_node, runner):
    from shangliang.core.models import AuditEvent
    from shangliang.federation.models import Peer

    city = make_node(node_id="6203", name="金昌市政协")
    node_dir = app.config["NODE_DIR"]
    assert invoke(runner, node_dir, "peers", "add", *shlex.split(invoke(runner, city, "keys", "show").output)).exit_code == 0
    with app.app_context():
        from shangliang.core.db import get_session

        count = lambda: get_session().query(AuditEvent).count()  # noqa: E731
        before = count()
        with transaction(actor="worker") as session:
            peer = session.get(Peer, "6203")
            peer.failures, peer.last_failure_ms, peer.held_until_ms = 1, 5, 6
        assert count() == before
        with transaction(actor="office") as session:
            session.get(Peer, "6203").url = "http://127.0.0.1:6000"
        assert count() == before + 1


def test_the_chain_is_written_at_commit_and_a_savepoint_rolled_back_leaves_no_row(app, runner):
    """A unit of work's events are chained when it commits (the head is not locked while it works); a savepoint
    rolled back inside it takes its own rows with it and leaves the unit of work's other events in place."""
    from shangliang.core.db import get_session
    from shangliang.core.models import AuditEvent

    with app.app_context():
        before = audit.head(get_session())
        get_session().rollback()
        with transaction(actor="office:wang") as session:
            add_member(session, "丙", "农业界")
            session.flush()
            # flushed, not committed: nothing chained yet, so the head (read in this very transaction) has not moved
            assert audit.head(session) == before
            savepoint = session.begin_nested()
            add_member(session, "丁", "农业界")
            session.flush()
            savepoint.rollback()
            audit.record(session, "note", "members", "", {"why": "kept"})
        session = get_session()
        rows = session.execute(sa.select(AuditEvent).where(AuditEvent.seq > before[0])
                               .order_by(AuditEvent.seq)).scalars().all()
        names = [json.loads(row.data).get("name") for row in rows if row.entity == "members" and row.action == "insert"]
        assert names == ["丙"]
        assert ("note", "members") in [(row.action, row.entity) for row in rows]
        assert audit.head(session) == (rows[-1].seq, rows[-1].hash)
        assert audit.verify(session).ok
