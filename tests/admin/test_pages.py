"""The administration pages and their API: who reaches them, what they show, forms that keep what was typed on a
refusal (400, nothing stored), and the same services as the command line behind them."""

from __future__ import annotations

import io

from shangliang.core.db import get_session
from shangliang.core.members.models import Member
from shangliang.core.models import AuditEvent
from shangliang.core.users.models import User
from shangliang.federation.models import OutboxMessage, Peer
from sqlalchemy import func, select

from .conftest import CHILD, basic, dead_letter, pin_child, signed_in


def count(app, model, *where) -> int:
    with app.app_context():
        return get_session().scalar(select(func.count()).select_from(model).where(*where))


def user(app, name):
    with app.app_context():
        found = get_session().scalar(select(User).where(User.username == name))
        return (found.role, found.active) if found else None


# -- /admin -------------------------------------------------------------------------------------------------


def test_the_index_links_every_admin_page_and_the_nav_shows_it(app):
    root = signed_in(app, "root")
    page = root.get("/admin")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    for href in ("/admin/plugins", "/admin/users", "/admin/members", "/units", "/admin/peers", "/admin/outbox",
                 "/admin/audit"):
        assert f'href="{href}"' in text, href
    assert 'href="/admin"' in root.get("/").get_data(as_text=True)
    office = signed_in(app, "wang")
    assert office.get("/admin").status_code == 200
    assert 'href="/admin/users"' not in office.get("/admin").get_data(as_text=True)
    member = signed_in(app, "li")
    assert member.get("/admin").status_code == 403
    assert 'href="/admin"' not in member.get("/").get_data(as_text=True)


# -- users ----------------------------------------------------------------------------------------------------


def test_users_page_adds_changes_and_disables(app):
    root = signed_in(app, "root")
    text = root.get("/admin/users").get_data(as_text=True)
    assert "王主任" in text and "李委员" in text
    added = root.post("/admin/users", data={"username": "zhao", "display_name": "赵科长", "role": "office",
                                            "password": "long-enough-1"})
    assert added.status_code == 303
    assert user(app, "zhao") == ("office", True)
    assert root.post("/admin/users/zhao/role", data={"role": "member"}).status_code == 303
    assert root.post("/admin/users/zhao/active", data={}).status_code == 303
    assert user(app, "zhao") == ("member", False)
    assert root.post("/admin/users/zhao/active", data={"active": "on"}).status_code == 303
    assert user(app, "zhao") == ("member", True)
    assert root.post("/admin/users/zhao/password", data={"password": "another-one-2"}).status_code == 303
    assert app.test_client().post("/login", data={"username": "zhao", "password": "another-one-2"}).status_code == 302


def test_a_refused_user_form_keeps_what_was_typed_and_says_why(app):
    root = signed_in(app, "root")
    before = count(app, User)
    refused = root.post("/admin/users", data={"username": "wang", "display_name": "重名的人", "role": "member",
                                              "password": "long-enough-1"})
    text = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert "已存在" in text and 'value="重名的人"' in text and 'value="wang"' in text
    assert "long-enough-1" not in text  # a password is never drawn back
    assert count(app, User) == before
    short = root.post("/admin/users", data={"username": "zhou", "role": "member", "password": "short"})
    assert short.status_code == 400 and "至少需要 8 个字符" in short.get_data(as_text=True)


def test_the_last_admin_is_refused_on_the_page_and_in_the_api(app, client):
    root = signed_in(app, "root")
    refused = root.post("/admin/users/root/active", data={})
    assert refused.status_code == 400 and "最后一个在用的 admin" in refused.get_data(as_text=True)
    demoted = root.post("/admin/users/root/role", data={"role": "office"})
    assert demoted.status_code == 400 and "最后一个在用的 admin" in demoted.get_data(as_text=True)
    answer = client.patch("/api/v1/users/root", json={"active": False}, headers=basic("root"))
    assert answer.status_code == 409 and answer.get_json()["error"]["code"] == "conflict"
    assert user(app, "root") == ("admin", True)


def test_users_api(app, client):
    listed = client.get("/api/v1/users", headers=basic("root"))
    assert listed.status_code == 200
    assert {u["username"] for u in listed.get_json()["users"]} == {"root", "wang", "li"}
    assert client.get("/api/v1/users", headers=basic("wang")).status_code == 403
    made = client.post("/api/v1/users", json={"username": "sun", "role": "public", "password": "long-enough-1"},
                       headers=basic("root"))
    assert made.status_code == 201 and made.get_json()["user"]["role"] == "public"
    bad = client.post("/api/v1/users", json={"username": "qian", "role": "chair"}, headers=basic("root"))
    assert bad.status_code == 400 and bad.get_json()["error"]["field"] == "role"
    changed = client.patch("/api/v1/users/sun", json={"role": "member", "active": False}, headers=basic("root"))
    assert (changed.get_json()["user"]["role"], changed.get_json()["user"]["active"]) == ("member", False)
    pw = client.put("/api/v1/users/li/password", json={"password": "new-password-9"}, headers=basic("root"))
    assert pw.status_code == 200
    assert client.get("/api/v1/users/li", headers=basic("li", "new-password-9")).status_code == 403
    assert client.get("/api/v1/users/nobody", headers=basic("root")).status_code == 404


# -- members ------------------------------------------------------------------------------------------------


def test_members_page_adds_and_imports_an_uploaded_file(app):
    office = signed_in(app, "wang")
    assert office.post("/admin/members", data={"name": "张伟", "sector": "经济界", "member_no": "M1"}).status_code == 303
    upload = "name,sector,member_no\n李娜,教育界,M2\n王强,农业界,M3\n".encode()
    imported = office.post("/admin/members/import", data={"file": (io.BytesIO(upload), "委员.csv")},
                           content_type="multipart/form-data")
    assert imported.status_code == 303
    text = office.get("/admin/members").get_data(as_text=True)
    assert all(name in text for name in ("张伟", "李娜", "王强", "教育界"))
    assert signed_in(app, "li").get("/admin/members").status_code == 403


def test_a_bad_file_is_refused_with_its_line_and_nothing_imported(app):
    office = signed_in(app, "wang")
    bad = "name,sector\n李娜,教育界\n王强,\n".encode()
    refused = office.post("/admin/members/import", data={"file": (io.BytesIO(bad), "委员.csv")},
                          content_type="multipart/form-data")
    text = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "第 3 行" in text and "sector 不能为空" in text
    assert count(app, Member) == 0
    typed = office.post("/admin/members", data={"name": "", "sector": "经济界", "phone": "138"})
    assert typed.status_code == 400 and 'value="经济界"' in typed.get_data(as_text=True)


def test_members_api(app, client):
    made = client.post("/api/v1/members", json={"name": "张伟", "sector": "经济界"}, headers=basic("wang"))
    assert made.status_code == 201
    imported = client.post("/api/v1/members/import", data="name,sector\n李娜,教育界\n".encode(),
                           headers={**basic("wang"), "Content-Type": "text/csv"})
    assert imported.status_code == 201 and imported.get_json()["imported"] == 1
    refused = client.post("/api/v1/members/import", data="name,sector\n王强,\n".encode(),
                          headers={**basic("wang"), "Content-Type": "text/csv"})
    assert refused.status_code == 400 and refused.get_json()["line"] == 2
    listed = client.get("/api/v1/members?limit=1", headers=basic("root")).get_json()
    assert [m["name"] for m in listed["members"]] == ["李娜"] and listed["next_cursor"]
    assert client.get("/api/v1/members", headers=basic("li")).status_code == 403
    assert client.post("/api/v1/members", json={"name": "x", "sector": "y"}, headers=basic("li")).status_code == 403


# -- peers ----------------------------------------------------------------------------------------------------


def test_peers_page_shows_the_pairing_line_and_pins_a_pasted_one(app, child_line):
    root = signed_in(app, "root")
    page = root.get("/admin/peers").get_data(as_text=True)
    assert "620302 http://" in page and "ed25519:" in page
    pinned = root.post("/admin/peers", data={"pairing": child_line})
    assert pinned.status_code == 303
    with app.app_context():
        peer = get_session().get(Peer, CHILD)
        assert (peer.relation, peer.name) == ("child", "宁远堡镇 政协联络组")
    shown = root.get("/admin/peers").get_data(as_text=True)
    assert "宁远堡镇 政协联络组" in shown and f'id="peer-{CHILD}"' in shown
    again = root.post("/admin/peers", data={"pairing": child_line})
    assert again.status_code == 400 and "already a peer" in again.get_data(as_text=True)
    assert child_line.split()[0] in again.get_data(as_text=True)  # the pasted line is shown again
    assert root.post(f"/admin/peers/{CHILD}/name", data={"name": "宁远堡镇"}).status_code == 303
    unconfirmed = root.post(f"/admin/peers/{CHILD}/remove", data={"confirm": "yes"})
    assert unconfirmed.status_code == 400 and count(app, Peer) == 1
    assert root.post(f"/admin/peers/{CHILD}/remove", data={"confirm": CHILD}).status_code == 303
    assert count(app, Peer) == 0
    office = signed_in(app, "wang")
    assert office.get("/admin/peers").status_code == 200
    assert office.post("/admin/peers", data={"pairing": child_line}).status_code == 403


def test_peers_api_and_health(app, client, child_line):
    made = client.post("/api/v1/peers", json={"pairing": child_line}, headers=basic("root"))
    assert made.status_code == 201 and made.get_json()["peer"]["id"] == CHILD
    dead_letter(app)
    health = client.get("/api/v1/peers/health", headers=basic("wang")).get_json()["peers"]
    assert [(h["id"], h["dead"], h["ok"]) for h in health] == [(CHILD, 1, False)]
    listed = client.get("/api/v1/peers", headers=basic("wang")).get_json()
    assert listed["own"]["line"].startswith("620302 ") and listed["peers"][0]["name"] == "宁远堡镇 政协联络组"
    bad = client.post("/api/v1/peers", json={"pairing": "620302001 ftp://x ed25519:k:AAAA"}, headers=basic("root"))
    assert bad.status_code == 400
    assert client.post("/api/v1/peers", json={"pairing": child_line}, headers=basic("wang")).status_code == 403
    renamed = client.patch(f"/api/v1/peers/{CHILD}", json={"name": "宁远堡"}, headers=basic("root"))
    assert renamed.get_json()["peer"]["name"] == "宁远堡"
    assert client.delete(f"/api/v1/peers/{CHILD}", json={}, headers=basic("root")).status_code == 200
    assert count(app, Peer) == 0


# -- outbox -----------------------------------------------------------------------------------------------------


def test_outbox_page_lists_inspects_and_retries_a_dead_letter(app, child_line):
    pin_child(app, child_line)
    outbox_id = dead_letter(app)
    root = signed_in(app, "root")
    listed = root.get("/admin/outbox?status=dead").get_data(as_text=True)
    assert f'href="/admin/outbox/{outbox_id}"' in listed and "HTTP 500 from the child" in listed
    shown = root.get(f"/admin/outbox/{outbox_id}").get_data(as_text=True)
    assert "x-test.note" in shown and "a note" in shown and "text" in shown
    assert f'action="/admin/outbox/{outbox_id}/retry"' in shown  # a dead letter's retry button
    office = signed_in(app, "wang")
    assert office.get(f"/admin/outbox/{outbox_id}").status_code == 200
    assert office.post(f"/admin/outbox/{outbox_id}/retry", data={}).status_code == 403
    retried = root.post(f"/admin/outbox/{outbox_id}/retry", data={})
    assert retried.status_code == 303
    assert count(app, OutboxMessage, OutboxMessage.status == "dead") == 0
    assert count(app, AuditEvent, AuditEvent.action == "outbox.retry", AuditEvent.actor == "web:root") == 1
    twice = root.post(f"/admin/outbox/{outbox_id}/retry", data={})
    assert twice.status_code == 400 and "not dead" in twice.get_data(as_text=True)
    assert root.get("/admin/outbox/99999").status_code == 404


def test_outbox_api(app, client, child_line):
    pin_child(app, child_line)
    outbox_id = dead_letter(app)
    listed = client.get("/api/v1/outbox?status=dead", headers=basic("wang")).get_json()
    assert [m["id"] for m in listed["messages"]] == [outbox_id]
    shown = client.get(f"/api/v1/outbox/{outbox_id}", headers=basic("wang")).get_json()["message"]
    assert shown["envelope"]["hops"][0]["to"] == CHILD and shown["envelope"]["body_fields"] == ["text"]
    assert client.get("/api/v1/outbox?status=lost", headers=basic("wang")).status_code == 400
    assert client.post(f"/api/v1/outbox/{outbox_id}/retry", json={}, headers=basic("wang")).status_code == 403
    retried = client.post(f"/api/v1/outbox/{outbox_id}/retry", json={}, headers=basic("root"))
    assert retried.status_code == 200 and retried.get_json()["message"]["status"] == "pending"
    assert count(app, AuditEvent, AuditEvent.action == "outbox.retry", AuditEvent.actor == "api:root") == 1


# -- audit log ----------------------------------------------------------------------------------------------------


def test_audit_page_browses_newest_first_filters_and_verifies(app):
    root = signed_in(app, "root")
    for n in range(3):
        root.post("/admin/members", data={"name": f"委员{n}", "sector": "经济界"})
    page = root.get("/admin/audit?action=insert").get_data(as_text=True)
    rows = page[page.index("<tbody>"):]
    assert rows.index("委员2") < rows.index("委员1") < rows.index("委员0")  # newest first
    assert "sectors" in rows and "outbox.retry" not in rows
    verified = root.post("/admin/audit/verify", data={})
    assert verified.status_code == 200 and 'id="verify-result"' in verified.get_data(as_text=True)
    assert "完好" in verified.get_data(as_text=True) or "intact" in verified.get_data(as_text=True)
    no_parent = root.post("/admin/audit/verify", data={"against_parent": "on"})
    assert no_parent.status_code == 400
    with app.app_context():  # a row edited behind the log's back: the button finds it
        session = get_session()
        row = session.scalar(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1))
        row.actor = "someone else"
        session.commit()
    broken = root.post("/admin/audit/verify", data={}).get_data(as_text=True)
    assert "edited" in broken
    assert signed_in(app, "li").get("/admin/audit").status_code == 403


def test_audit_api_pages_by_keyset(app, client):
    for n in range(3):
        client.post("/api/v1/members", json={"name": f"委员{n}", "sector": "经济界"}, headers=basic("wang"))
    first = client.get("/api/v1/audit?limit=2", headers=basic("wang")).get_json()
    second = client.get(f"/api/v1/audit?limit=2&cursor={first['next_cursor']}", headers=basic("wang")).get_json()
    seqs = [e["seq"] for e in first["events"] + second["events"]]
    assert seqs == sorted(seqs, reverse=True) and len(set(seqs)) == 4
    only = client.get("/api/v1/audit?action=insert", headers=basic("wang")).get_json()["events"]
    assert only and {e["action"] for e in only} == {"insert"}
    verified = client.get("/api/v1/audit/verify", headers=basic("wang")).get_json()
    assert verified["ok"] and verified["rows"] >= 6
    assert client.get("/api/v1/audit", headers=basic("li")).status_code == 403


def test_text_no_database_could_hold_is_refused_before_it_is_asked(app, client):
    """A NUL or control character in a query, a path or a field (PostgreSQL's text cannot hold NUL): a named
    refusal, never a server error."""
    assert client.get("/api/v1/outbox?to=%00", headers=basic("wang")).status_code == 400
    assert client.get(f"/api/v1/outbox/{2 ** 70}", headers=basic("wang")).status_code == 404
    assert client.post(f"/api/v1/outbox/{2 ** 70}/retry", json={}, headers=basic("root")).status_code == 404
    # beyond what an INTEGER column holds on PostgreSQL, below 2 ** 63: not found, not a server error
    assert client.get(f"/api/v1/outbox/{2 ** 31}", headers=basic("wang")).status_code == 404
    assert client.get(f"/api/v1/outbox/6589777117", headers=basic("wang")).status_code == 404
    assert client.get("/api/v1/audit?action=a%01b", headers=basic("wang")).status_code == 400
    assert client.get("/api/v1/users/a%00b", headers=basic("root")).status_code == 404
    renamed = client.patch("/api/v1/peers/6203%00", json={"name": "x"}, headers=basic("root"))
    assert renamed.status_code == 400 and "not a peer" in renamed.get_json()["error"]["message"]
    bad = client.post("/api/v1/members/import", data="name,sector\n张\x01伟,经济界\n".encode(),
                      headers={**basic("wang"), "Content-Type": "text/csv"})
    assert bad.status_code == 400 and "control character" in bad.get_json()["error"]["message"]
    root = signed_in(app, "root")
    assert root.get("/admin/outbox?to=%00").status_code == 400
    assert root.get("/admin/audit?action=%00").status_code == 400


def test_the_pages_speak_english_when_asked(app, child_line):
    pin_child(app, child_line)
    root = signed_in(app, "root")
    assert root.get("/lang/en").status_code == 302
    for path, words in (("/admin", "Users and roles"), ("/admin/peers", "Pinned neighbours and their health"),
                        ("/admin/users", "Add a user"), ("/admin/members", "Import members from a CSV file"),
                        ("/admin/outbox", "Outbox and dead letters"), ("/admin/audit", "Verify the chain")):
        page = root.get(path)
        assert page.status_code == 200 and words in page.get_data(as_text=True), path
