"""The rules behind the administration pages, at the services: roles and the last active admin, members from an
uploaded file's text, a pasted pairing line, each neighbour's health, a dead letter retried and audited."""

from __future__ import annotations

import json
import shlex

import pytest
from shangliang.core import audit
from shangliang.core.context import node_context
from shangliang.core.db import get_session, transaction
from shangliang.core.errors import Conflict, ImportRowError, InputError
from shangliang.core.members import services as members
from shangliang.core.members.models import Member
from shangliang.core.users import services as users
from shangliang.federation import health, outbox, peers
from shangliang.federation.ids import now_ms
from shangliang.federation.models import InboxTransfer, OutboxMessage
from sqlalchemy import func, select

from ..conftest import invoke
from .conftest import CHILD, dead_letter, pin_child

# -- users and roles ------------------------------------------------------------------------------------------


def test_set_role_changes_a_role_and_refuses_an_unknown_one(app):
    with app.app_context():
        with transaction("test") as session:
            assert users.set_role(session, "li", "office").role == "office"
        assert users.get_user(get_session(), "li").role == "office"
        with pytest.raises(users.UnknownRole, match="unknown role 'chair'") as refused:
            with transaction("test") as session:
                users.set_role(session, "li", "chair")
        assert refused.value.field == "role"
        assert users.get_user(get_session(), "li").role == "office"


def test_a_duplicate_user_name_is_a_named_refusal(app):
    with app.app_context(), pytest.raises(users.DuplicateUser, match="already exists"):
        with transaction("test") as session:
            users.add_user(session, "wang", "member", "long-enough-1")


def test_the_last_active_admin_can_be_neither_disabled_nor_demoted(app):
    with app.app_context():
        for change in (lambda s: users.set_active(s, "root", False), lambda s: users.set_role(s, "root", "office")):
            with pytest.raises(users.LastAdmin, match="root is the last active admin"):
                with transaction("test") as session:
                    change(session)
        root = users.get_user(get_session(), "root")
        assert (root.role, root.active) == ("admin", True)
        assert isinstance(users.LastAdmin("x"), Conflict)
        # With a second admin, the first may go; then the second is the last.
        with transaction("test") as session:
            users.set_role(session, "wang", "admin")
            users.set_active(session, "root", False)
        with pytest.raises(users.LastAdmin, match="wang"):
            with transaction("test") as session:
                users.set_role(session, "wang", "member")
        # A disabled admin does not count: enabling it again makes wang demotable.
        with transaction("test") as session:
            users.set_active(session, "root", True)
            users.set_role(session, "wang", "office")
        assert [u.username for u in users.list_users(get_session()) if u.role == "admin"] == ["root"]


# -- members ----------------------------------------------------------------------------------------------------


def member_count(app) -> int:
    with app.app_context():
        return get_session().scalar(select(func.count()).select_from(Member))


def test_members_import_from_uploaded_bytes_or_text(app):
    data = "\ufeffname,sector,member_no\n张伟,经济界,M1\n李娜,教育界,M2\n".encode()
    with app.app_context():
        with transaction("test") as session:
            assert [m.name for m in members.import_members_text(session, data, "上传.csv")] == ["张伟", "李娜"]
        with transaction("test") as session:
            assert len(members.import_members_text(session, "name,sector\n王强,农业界\n")) == 1
    assert member_count(app) == 3


def test_a_bad_row_is_refused_with_its_line_and_nothing_imported(app):
    with app.app_context():
        with pytest.raises(ImportRowError) as refused:
            with transaction("test") as session:
                members.import_members_text(session, "name,sector,member_no\n张伟,经济界,M1\n李娜,,M2\n")
        assert refused.value.line == 3 and "sector is empty" in str(refused.value)
        with pytest.raises(InputError, match="not UTF-8"):
            with transaction("test") as session:
                members.import_members_text(session, "name,sector\n张伟,经济界\n".encode("gb18030"))
    assert member_count(app) == 0


# -- peers: the pairing line, health ----------------------------------------------------------------------------


def test_the_pairing_line_parses_as_peers_add_takes_it(child_line):
    node_id, url, key, name = peers.parse_pairing(child_line)
    assert [node_id, url, key, name] == shlex.split(child_line)
    assert name == "宁远堡镇 政协联络组" and node_id == CHILD and key.startswith("ed25519:")
    for bad, word in (("", "paste"), ("620302001 http://x", "id, URL and public key"), ("a 'b", "cannot be read")):
        with pytest.raises(InputError, match=word):
            peers.parse_pairing(bad)


def test_own_pairing_line_round_trips(app):
    from shangliang.core.admin import services as admin

    with app.app_context():
        own = admin.own_pairing(get_session(), node_context())
    assert peers.parse_pairing(own["line"])[:3] == (own["id"], own["url"], own["key"])


def test_health_counts_pending_and_dead_messages_and_reads_skew(app, child_line):
    pin_child(app, child_line)
    dead = dead_letter(app)
    with app.app_context():
        with transaction("test") as session:
            outbox.originate(session, node_context(), "x-test.note", {"text": "pending"}, CHILD, "forward")
            # A transfer received from the child whose hop was signed 10 minutes before it arrived.
            received = now_ms()
            envelope = {"hops": [{"from": CHILD, "to": "620302", "at_ms": received - 600_000}]}
            session.add(InboxTransfer(transfer_id="t" * 64, origin=CHILD, message_id="m1", core_hash="h" * 64,
                                      kind="x-test.note", topic=None, sender=CHILD, received_ms=received,
                                      expires_ms=received + 1000, envelope=json.dumps(envelope)))
        (row,) = health.health(get_session(), now_ms())
    assert (row["id"], row["pending"], row["dead"]) == (CHILD, 1, 1)
    assert row["last_received_ms"] == received and row["last_contact_ms"] == received
    assert row["clock_skew"]["latest_ms"] == 600_000 and row["clock_skew"]["warn"]
    assert row["key_age_ms"] is not None and row["key_age_ms"] >= 0
    assert set(row["problems"]) == {"dead_letters", "clock_skew"} and not row["ok"]
    assert dead


def test_peers_health_command(county, runner, app, child_line):
    pin_child(app, child_line)
    dead_letter(app)
    result = invoke(runner, county, "peers", "health", "--json")
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.output)
    assert row["dead"] == 1 and row["problems"] == ["dead_letters"]
    text = invoke(runner, county, "peers", "health")
    assert CHILD in text.output and "dead_letters" in text.output


# -- outbox: retry, audited ---------------------------------------------------------------------------------------


def test_retry_is_audited_and_refused_unless_dead(app, child_line):
    pin_child(app, child_line)
    outbox_id = dead_letter(app)
    with app.app_context():
        with transaction("web:root") as session:
            outbox.retry(session, outbox_id)
        assert get_session().get(OutboxMessage, outbox_id).status == "pending"
        (event,) = [e for e in audit.latest(get_session(), 5) if e.action == "outbox.retry"]
        assert (event.actor, event.entity_id) == ("web:root", str(outbox_id))
        with pytest.raises(InputError, match="is pending, not dead"):
            with transaction("web:root") as session:
                outbox.retry(session, outbox_id)
