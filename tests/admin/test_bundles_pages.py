"""Bundle files on the administration pages and through the API (docs/bundles.md): a county and its township pinned
to each other by bundle files only; the county's message downloaded as a bundle, uploaded at the township, and the
named refusals (replayed, tampered, for another node) with nothing applied."""

from __future__ import annotations

import io
import json

import pytest
from shangliang.core.app import create_app
from shangliang.core.db import get_session
from shangliang.core.models import AuditEvent
from shangliang.federation.models import InboxTransfer, OutboxMessage, Peer
from sqlalchemy import func, select

from ..conftest import invoke
from .conftest import CHILD, COUNTY, add_user, basic, signed_in


@pytest.fixture
def township(make_node, runner, county):
    """The county's township, both pinning the other by bundle files only; its app."""
    node_dir = make_node(node_id=CHILD, name="宁远堡镇政协联络组", url="http://127.0.0.1:9")
    add_user(runner, node_dir, "zhou", "admin", "周管理员")
    county_line = invoke(runner, county, "keys", "show").output.strip()
    import shlex

    added = invoke(runner, node_dir, "peers", "add", "--bundle", *shlex.split(county_line))
    assert added.exit_code == 0 and "reached by bundle files" in added.output, added.output
    app = create_app(node_dir, test_config={"WTF_CSRF_ENABLED": False})
    app.node_dir = node_dir
    yield app
    app.extensions["shangliang.db"].engine.dispose()


def pin_by_bundle(client, township_app, runner) -> None:
    line = invoke(runner, township_app.node_dir, "keys", "show").output.strip()
    made = client.post("/api/v1/peers", json={"pairing": line, "delivery": "bundle"}, headers=basic("root"))
    assert made.status_code == 201, made.get_data(as_text=True)
    assert made.get_json()["peer"]["delivery"] == "bundle"


def delegate(runner, county) -> str:
    uid = json.loads(invoke(runner, county, "topics", "add", "--title", "镇村道路养护", "--category", "交通",
                            "--area", CHILD, "--raised-by-kind", "public", "--raised-by-name", "群众来信",
                            "--json").output)["uid"]
    sent = invoke(runner, county, "topics", "delegate", uid, "--to", CHILD, "--instructions", "请镇联络组协商办理")
    assert sent.exit_code == 0, sent.output
    return uid


def count(app, model, *where) -> int:
    with app.app_context():
        return get_session().scalar(select(func.count()).select_from(model).where(*where))


def test_bundles_api_exports_imports_and_refuses_by_name(app, client, township, runner, county):
    pin_by_bundle(client, township, runner)
    uid = delegate(runner, county)
    assert count(app, OutboxMessage, OutboxMessage.status == "pending") == 1

    assert client.post("/api/v1/bundles/export", json={"to": CHILD}, headers=basic("wang")).status_code == 403
    answer = client.post("/api/v1/bundles/export", json={"to": CHILD}, headers=basic("root"))
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert "attachment" in answer.headers["Content-Disposition"] and ".bundle" in answer.headers["Content-Disposition"]
    data = answer.get_data()
    bundle = json.loads(data)
    assert bundle["manifest"]["to"] == CHILD and bundle["manifest"]["from"] == COUNTY
    assert [m["kind"] for m in bundle["manifest"]["messages"]] == ["topic.delegate"]
    assert count(app, OutboxMessage, OutboxMessage.status == "sent", OutboxMessage.bundled_ms.is_not(None)) == 1
    assert count(app, AuditEvent, AuditEvent.action == "bundle.export") == 1
    nothing = client.post("/api/v1/bundles/export", json={"to": CHILD}, headers=basic("root"))
    assert nothing.status_code == 400 and "no message waits" in nothing.get_json()["error"]["message"]

    at = township.test_client()
    # Meant for another node: the county's bundle imported at the county itself.
    wrong = client.post("/api/v1/bundles/import", data=data, content_type="application/json", headers=basic("root"))
    assert wrong.status_code == 403 and wrong.get_json()["error"]["code"] == "bundle_for_another_node"
    # A changed byte in the message.
    altered = dict(bundle, messages=[bundle["messages"][0].replace("镇村道路养护", "镇村道路拆除")])
    tampered = at.post("/api/v1/bundles/import", data=json.dumps(altered, ensure_ascii=False).encode(),
                       content_type="application/json", headers=basic("zhou"))
    assert tampered.status_code == 401 and tampered.get_json()["error"]["code"] == "bundle_tampered"
    # Not a bundle this node could read: a float for a version; a lone surrogate (the API's JSON check says so).
    for odd, code in ((json.dumps(dict(bundle, v=1.0)), "bundle_malformed"),
                      (json.dumps(dict(bundle, messages=["\ud800"])), "invalid_input")):
        malformed = at.post("/api/v1/bundles/import", data=odd.encode(), content_type="application/json",
                            headers=basic("zhou"))
        assert malformed.status_code == 400 and malformed.get_json()["error"]["code"] == code, odd[:80]
    assert count(township, InboxTransfer) == 0

    imported = at.post("/api/v1/bundles/import", data=data, content_type="application/json", headers=basic("zhou"))
    assert imported.status_code == 200, imported.get_data(as_text=True)
    report = imported.get_json()
    assert (report["accepted"], report["duplicate"], report["refused"]) == (1, 0, 0)
    assert report["messages"][0]["topic"] == uid
    again = at.post("/api/v1/bundles/import", data=data, content_type="application/json", headers=basic("zhou"))
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "bundle_replayed"
    assert again.get_json()["report"]["messages"][0]["status"] == "duplicate"
    assert count(township, InboxTransfer) == 1
    assert count(township, AuditEvent, AuditEvent.action == "bundle.import") == 1
    assert count(township, AuditEvent, AuditEvent.action == "bundle.replayed") == 1

    # The OpenAPI document describes both operations and the peer's delivery.
    document = client.get("/api/v1/openapi.json").get_json()
    assert {"/api/v1/bundles/export", "/api/v1/bundles/import", "/api/v1/peers/{node_id}/delivery"} <= set(
        document["paths"])

    # Back to HTTP delivery, and a mode that is none.
    changed = client.put(f"/api/v1/peers/{CHILD}/delivery", json={"delivery": "http"}, headers=basic("root"))
    assert changed.status_code == 200 and changed.get_json()["peer"]["delivery"] == "http"
    bad = client.put(f"/api/v1/peers/{CHILD}/delivery", json={"delivery": "pigeon"}, headers=basic("root"))
    assert bad.status_code == 400 and bad.get_json()["error"]["field"] == "delivery"
    assert count(app, Peer, Peer.delivery == "http") == 1


def test_bundles_page_downloads_and_uploads_with_a_report(app, client, township, runner, county):
    pin_by_bundle(client, township, runner)
    uid = delegate(runner, county)
    root = signed_in(app, "root")
    page = root.get("/admin/bundles").get_data(as_text=True)
    assert f'id="bundle-peer-{CHILD}"' in page and 'action="/admin/bundles/export"' in page
    assert "/admin/bundles" in root.get("/admin").get_data(as_text=True)
    # The office reads the page but has no forms; it may not export.
    office = signed_in(app, "wang")
    assert 'action="/admin/bundles/export"' not in office.get("/admin/bundles").get_data(as_text=True)
    assert office.post("/admin/bundles/export", data={"to": CHILD}).status_code == 403

    download = root.post("/admin/bundles/export", data={"to": CHILD})
    assert download.status_code == 200 and "attachment" in download.headers["Content-Disposition"]
    data = download.get_data()
    refused = root.post("/admin/bundles/export", data={"to": CHILD})
    assert refused.status_code == 400 and "no message waits" in refused.get_data(as_text=True)

    zhou = signed_in(township, "zhou")
    shown = zhou.post("/admin/bundles/import", data={"bundle": (io.BytesIO(data), "county.bundle")},
                      content_type="multipart/form-data")
    text = shown.get_data(as_text=True)
    assert shown.status_code == 200 and 'class="bundle-accepted"' in text and uid in text
    replayed = zhou.post("/admin/bundles/import", data={"bundle": (io.BytesIO(data), "county.bundle")},
                         content_type="multipart/form-data")
    text = replayed.get_data(as_text=True)
    assert replayed.status_code == 400 and "bundle_replayed" in text and 'class="bundle-duplicate"' in text
    assert count(township, InboxTransfer) == 1
    missing = zhou.post("/admin/bundles/import", data={}, content_type="multipart/form-data")
    assert missing.status_code == 400

    # The neighbours page says how each is reached, and switches it.
    peers_page = root.get("/admin/peers").get_data(as_text=True)
    assert f'action="/admin/peers/{CHILD}/delivery"' in peers_page
    switched = root.post(f"/admin/peers/{CHILD}/delivery", data={"delivery": "http"})
    assert switched.status_code == 303
    assert count(app, Peer, Peer.delivery == "http") == 1


def test_an_expired_message_is_dead_lettered_not_exported(app, client, township, runner, county):
    from shangliang.core.context import node_context
    from shangliang.core.db import transaction
    from shangliang.federation import outbox

    pin_by_bundle(client, township, runner)
    with app.app_context():
        with transaction("test") as session:
            _envelope, row = outbox.originate(session, node_context(), "x-test.note", {"text": "过期"}, CHILD,
                                              "forward")
            row.expires_ms = 1  # its transfer's lifetime is over
        get_session().close()
    refused = client.post("/api/v1/bundles/export", json={"to": CHILD}, headers=basic("root"))
    assert refused.status_code == 400 and "no message waits" in refused.get_json()["error"]["message"]
    # The refusal came after the dead-lettering was committed: the message is a dead letter, saying why.
    with app.app_context():
        dead = get_session().scalar(select(OutboxMessage))
        assert dead.status == "dead" and "expired" in dead.last_error and dead.bundled_ms is None
    stranger = client.post("/api/v1/bundles/export", json={"to": "6203"}, headers=basic("root"))
    assert stranger.status_code == 400 and "not a peer" in stranger.get_json()["error"]["message"]
