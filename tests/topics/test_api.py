"""Topic pages and the JSON API on one node: list, raise, show with its route, act; errors; who may write."""

from __future__ import annotations

import base64
import json
import re

import pytest
from sqlalchemy import func, select

from shangliang.core.app import create_app
from shangliang.core.db import get_session, transaction

from ..conftest import invoke

TOWNSHIP = "620302001"
PASSWORD = "correct-horse"
ROAD = {"title": "两镇之间道路维修", "description": "连接两镇的道路破损严重", "category": "交通",
        "areas": ["620302001", "620302002"], "raised_by_kind": "public", "raised_by_name": "村民代表"}


def expect_user_added(runner, node_dir, name, role, display=None):
    result = invoke(runner, node_dir, "users", "add", name, "--role", role, "--name", display or name,
                    "--password-stdin", input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output


def basic(user: str, password: str = PASSWORD) -> dict:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def expect_error(response, status: int, code: str, *words: str, field: str | None = None) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] == code, error
    for word in words:
        assert word in error["message"], error
    if field is not None:
        assert error.get("field") == field, error
    return error


def counts(app) -> dict:
    """Rows an action could write: topics, their events, outbox messages, audit rows."""
    from shangliang.core.models import AuditEvent
    from shangliang.core.topics.models import Topic, TopicEvent
    from shangliang.federation.models import OutboxMessage

    with app.app_context():
        session = get_session()
        return {model.__tablename__: session.scalar(select(func.count()).select_from(model))
                for model in (Topic, TopicEvent, OutboxMessage, AuditEvent)}


def make_app(node_dir, csrf: bool = False):
    return create_app(node_dir, test_config={} if csrf else {"WTF_CSRF_ENABLED": False})


@pytest.fixture
def township(make_node, runner):
    node_dir = make_node(node_id=TOWNSHIP, name="宁远堡镇政协联络组")
    expect_user_added(runner, node_dir, "wang", "office", "王主任")
    expect_user_added(runner, node_dir, "li", "member", "李委员")
    return node_dir


@pytest.fixture
def app(township):
    app = make_app(township)
    yield app
    app.extensions["shangliang.db"].engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


def create(client, user="wang", **changes):
    return client.post("/api/v1/topics", json={**ROAD, **changes}, headers=basic(user))


def act(client, uid, action, user="wang", **fields):
    return client.post(f"/api/v1/topics/{uid}/actions", json={"action": action, **fields}, headers=basic(user))


def expect_signed_in(client, user="wang"):
    response = client.post("/login", data={"username": user, "password": PASSWORD})
    assert response.status_code == 302


# -- the API: happy paths ------------------------------------------------------------------------------------


def test_api_create_list_show_and_advance(client):
    created = create(client)
    assert created.status_code == 201, created.get_data(as_text=True)
    body = created.get_json()
    uid = body["topic"]["uid"]
    assert uid.startswith(f"{TOWNSHIP}:") and created.headers["Location"].endswith(f"/api/v1/topics/{uid}")
    assert body["topic"]["stage"] == "collected" and body["topic"]["holder"] == TOWNSHIP
    assert [e["action"] for e in body["topic"]["events"]] == ["raised"]
    assert body["topic"]["events"][0]["actor"] == "api:wang"
    assert body["suggestion"]["action"] == "escalate" and body["suggestion"]["to"] == "620302"
    assert body["suggestion"]["belongs_to"] == "620302" and body["suggestion"]["reason"]

    listed = client.get("/api/v1/topics", headers=basic("li"))  # any user reads
    assert listed.status_code == 200 and [t["uid"] for t in listed.get_json()["topics"]] == [uid]
    assert client.get("/api/v1/topics?stage=collected", headers=basic("li")).get_json()["topics"][0]["uid"] == uid
    assert client.get("/api/v1/topics?stage=determined", headers=basic("li")).get_json()["topics"] == []
    assert client.get("/api/v1/topics?holder=620302", headers=basic("li")).get_json()["topics"] == []

    shown = client.get(f"/api/v1/topics/{uid}", headers=basic("li")).get_json()
    assert shown["title"] == ROAD["title"] and shown["areas"] == ROAD["areas"]
    assert shown["suggestion"]["action"] == "escalate"
    assert shown["route"] == [] and shown["route_verified"] is True

    advanced = act(client, uid, "advance", to_stage="determined", note="联席会议确定")
    assert advanced.status_code == 200, advanced.get_data(as_text=True)
    assert advanced.get_json()["topic"]["stage"] == "determined" and advanced.get_json()["sent"] is None
    events = client.get(f"/api/v1/topics/{uid}", headers=basic("li")).get_json()["events"]
    assert (events[-1]["to_stage"], events[-1]["note"], events[-1]["actor"]) == ("determined", "联席会议确定", "api:wang")


def test_api_result_closes_the_topic(client):
    uid = create(client, areas=[TOWNSHIP]).get_json()["topic"]["uid"]
    for stage in ("determined", "researching", "consulting", "implementing", "feedback"):
        assert act(client, uid, "advance", to_stage=stage).status_code == 200
    early = act(client, uid, "advance", to_stage="feedback")
    expect_error(early, 400, "invalid_input", "already feedback")
    result = act(client, uid, "result", kind="协商意见", title="道路维修纳入年度计划", summary="镇政府列入计划",
                 measures=["三月底前完成勘测"], handling_units=["镇政府"])
    assert result.status_code == 200, result.get_data(as_text=True)
    topic = result.get_json()["topic"]
    assert topic["stage"] == "closed" and topic["closed_ms"]
    assert topic["result"] == {"kind": "协商意见", "title": "道路维修纳入年度计划", "summary": "镇政府列入计划",
                               "measures": ["三月底前完成勘测"], "handling_units": ["镇政府"]}


# -- the API: errors ---------------------------------------------------------------------------------------


def test_api_needs_a_user(client):
    error = client.get("/api/v1/topics")
    expect_error(error, 401, "unauthenticated", "HTTP Basic")
    assert error.headers["WWW-Authenticate"].startswith("Basic")
    expect_error(client.get("/api/v1/topics", headers=basic("wang", "wrong-horse")), 401, "unauthenticated",
                 "wrong user name or password")
    expect_error(client.get("/api/v1/topics", headers=basic("nobody")), 401, "unauthenticated")
    expect_error(client.get("/api/v1/topics", headers={"Authorization": "Bearer abc"}), 401, "unauthenticated",
                 "only HTTP Basic")
    expect_error(client.post("/api/v1/topics", json=ROAD), 401, "unauthenticated")


def test_a_read_only_role_cannot_write(app, client):
    uid = create(client).get_json()["topic"]["uid"]
    before = counts(app)
    expect_error(create(client, user="li"), 403, "forbidden", "role member", "admin or office")
    expect_error(act(client, uid, "advance", user="li", to_stage="determined"), 403, "forbidden")
    assert counts(app) == before
    assert client.get(f"/api/v1/topics/{uid}", headers=basic("li")).status_code == 200


@pytest.mark.parametrize(
    "body, field, message",
    [
        ({k: v for k, v in ROAD.items() if k != "title"}, "title", "missing field: title"),
        ({k: v for k, v in ROAD.items() if k != "areas"}, "areas", "missing field: areas"),
        ({**ROAD, "areas": "620302001"}, "areas", "areas must be a list"),
        ({**ROAD, "areas": []}, "areas", "areas is empty"),
        ({**ROAD, "category": 7}, "category", "category must be text"),
        ({**ROAD, "title": "  "}, None, "title is empty"),
        ({**ROAD, "areas": ["6203021"]}, None, "7 digits"),
        ({**ROAD, "areas": ["320703"]}, None, "outside this node's province"),
        ({**ROAD, "raised_by_kind": "alien"}, None, "raised-by kind"),
        (["not", "an", "object"], None, "JSON object"),
    ],
)
def test_a_refused_create_stores_nothing(app, client, body, field, message):
    before = counts(app)
    error = expect_error(client.post("/api/v1/topics", json=body, headers=basic("wang")), 400, "invalid_input",
                         message)
    assert error.get("field") == field
    assert counts(app) == before


def test_malformed_json_is_invalid_input(app, client):
    before = counts(app)
    response = client.post("/api/v1/topics", data=b"{not json", headers={**basic("wang"),
                                                                          "Content-Type": "application/json"})
    expect_error(response, 400, "invalid_input", "JSON object")
    assert counts(app) == before


def test_writes_must_be_json_so_a_cross_site_form_cannot_send_one(app, client):
    before = counts(app)
    form = client.post("/api/v1/topics", data=json.dumps(ROAD), headers={**basic("wang"), "Content-Type": "text/plain"})
    expect_error(form, 415, "unsupported_media_type", "application/json")
    expect_error(client.post("/api/v1/topics", data=ROAD, headers=basic("wang")), 415, "unsupported_media_type")
    assert counts(app) == before


def test_unknown_topics_actions_and_stages(app, client):
    uid = create(client).get_json()["topic"]["uid"]
    expect_error(client.get("/api/v1/topics/620302001:NOPE", headers=basic("li")), 404, "not_found", "no topic")
    expect_error(act(client, "620302001:NOPE", "accept"), 404, "not_found")
    expect_error(client.get("/api/v1/topics?stage=dreaming", headers=basic("li")), 400, "invalid_input",
                 "unknown stage")
    before = counts(app)
    expect_error(act(client, uid, "teleport"), 400, "invalid_input", "unknown action", field="action")
    expect_error(client.post(f"/api/v1/topics/{uid}/actions", json={"to_stage": "determined"}, headers=basic("wang")),
                 400, "invalid_input", "missing field: action", field="action")
    expect_error(act(client, uid, "advance"), 400, "invalid_input", "missing field: to_stage", field="to_stage")
    expect_error(act(client, uid, "advance", to_stage="consulting"), 400, "invalid_input",
                 "the next stage is determined")
    expect_error(act(client, uid, "result", title="x", summary="y"), 400, "invalid_input", "feedback stage")
    expect_error(act(client, uid, "result", title="x", summary="y", measures="not a list"), 400, "invalid_input",
                 field="measures")
    expect_error(act(client, uid, "accept"), 400, "invalid_input", "already accepted")
    expect_error(act(client, uid, "return", reason="不属于本级"), 400, "invalid_input", "raised here")
    assert counts(app) == before


def test_actions_that_need_a_peer_are_refused_clearly(app, client):
    uid = create(client).get_json()["topic"]["uid"]
    before = counts(app)
    expect_error(act(client, uid, "escalate", note="跨乡镇事项"), 400, "invalid_input", "620302 is not a peer")
    expect_error(act(client, uid, "escalate"), 400, "invalid_input", "missing field: note", field="note")
    expect_error(act(client, uid, "delegate", to="620302001001", instructions="请村里协商"), 400, "invalid_input",
                 "not a peer")
    assert counts(app) == before
    topic = client.get(f"/api/v1/topics/{uid}", headers=basic("li")).get_json()
    assert topic["holder"] == TOWNSHIP and topic["awaiting_acceptance"] is False


def test_a_delegation_due_date_is_read_on_the_node_calendar_and_refused_by_name(app, client):
    uid = create(client).get_json()["topic"]["uid"]
    before = counts(app)
    expect_error(act(client, uid, "delegate", to="620302001001", instructions="请村里协商", due="soon"), 400,
                 "invalid_input", "due date 'soon' is not understood")
    expect_error(act(client, uid, "delegate", to="620302001001", instructions="请村里协商", due="2020-01-01"), 400,
                 "invalid_input", "2020-01-01 has passed")
    # A date the calendar accepts gets as far as the peer check.
    expect_error(act(client, uid, "delegate", to="620302001001", instructions="请村里协商", due="+3"), 400,
                 "invalid_input", "not a peer")
    assert counts(app) == before


def test_session_writes_need_the_csrf_token_and_basic_does_not(township):
    app = make_app(township, csrf=True)
    client = app.test_client()
    login_page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page).group(1)
    signed_in = client.post("/login", data={"username": "wang", "password": PASSWORD, "csrf_token": token})
    assert signed_in.status_code == 302
    before = counts(app)
    expect_error(client.post("/api/v1/topics", json=ROAD), 403, "forbidden", "X-CSRFToken")
    assert counts(app) == before
    with_token = client.post("/api/v1/topics", json=ROAD, headers={"X-CSRFToken": token})
    assert with_token.status_code == 201, with_token.get_data(as_text=True)
    assert client.get("/api/v1/topics").status_code == 200  # reading needs no token
    script = app.test_client()  # no cookie, no token: HTTP Basic alone
    assert script.post("/api/v1/topics", json=ROAD, headers=basic("wang")).status_code == 201
    app.extensions["shangliang.db"].engine.dispose()


# -- the pages -----------------------------------------------------------------------------------------------


def test_pages_need_a_signed_in_user(client):
    response = client.get("/topics")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_topics_page_is_chinese_by_default_and_english_on_request(client):
    expect_signed_in(client)
    page = client.get("/topics").get_data(as_text=True)
    assert 'lang="zh-CN"' in page and "议题" in page and "提出议题" in page
    assert 'href="/topics"' in page  # the nav link
    english = client.get("/topics?lang=en").get_data(as_text=True)
    assert 'lang="en"' in english and "Raise a topic" in english and "Group by" in english


def test_raising_through_the_form_shows_the_suggestion(app, client):
    expect_signed_in(client)
    response = client.post("/topics", data={**ROAD, "areas": "620302001, 620302002"})
    assert response.status_code == 303 and "raised=" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "议题已提出" in page and ROAD["title"] in page
    assert "流转建议" in page and "上交至 620302" in page and "escalate it to 620302" in page  # the reason, as routed
    topics = client.get("/api/v1/topics", headers=basic("li")).get_json()["topics"]
    assert len(topics) == 1 and topics[0]["areas"] == ["620302001", "620302002"]
    assert topics[0]["raised_by"] == {"kind": "public", "name": "村民代表"}


def test_a_refused_raise_keeps_the_form_and_stores_nothing(app, client):
    expect_signed_in(client)
    before = counts(app)
    response = client.post("/topics", data={**ROAD, "areas": "320703"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "未能提出" in page and "outside this node&#39;s province" in page
    assert 'value="两镇之间道路维修"' in page  # what the person typed is kept
    assert counts(app) == before


def test_a_read_only_user_sees_no_forms_and_cannot_post(app, client):
    uid = create(client).get_json()["topic"]["uid"]
    expect_signed_in(client, "li")
    assert "提出议题" not in client.get("/topics").get_data(as_text=True)
    page = client.get(f"/topics/{uid}").get_data(as_text=True)
    assert ROAD["title"] in page and 'id="actions"' not in page
    before = counts(app)
    assert client.post("/topics", data=ROAD).status_code == 403
    assert client.post(f"/topics/{uid}/act", data={"action": "advance", "to_stage": "determined"}).status_code == 403
    assert counts(app) == before


def test_overdue_topics_come_first_and_are_marked(app, client):
    from shangliang.core.topics.models import Topic

    first = create(client, title="按时的议题").get_json()["topic"]["uid"]
    late = create(client, title="逾期的议题").get_json()["topic"]["uid"]
    create(client, title="最新的议题")
    with app.app_context():
        with transaction("test") as session:
            topic = session.execute(select(Topic).where(Topic.uid == late)).scalar_one()
            topic.due_ms, topic.overdue = 1_700_000_000_000, True  # 2023-11-15
            topic.updated_ms = 0
    expect_signed_in(client)
    page = client.get("/topics").get_data(as_text=True)
    assert page.index("逾期的议题") < page.index("最新的议题") < page.index("按时的议题")
    assert "⚠ 逾期" in page and "2023-11-15" in page and "1 个逾期" in page
    by_holder = client.get("/topics?group=holder").get_data(as_text=True)
    assert "承办方" in by_holder and by_holder.index("逾期的议题") < by_holder.index("按时的议题")
    assert client.get(f"/topics/{first}").status_code == 200
    assert client.get("/topics/620302001:NOPE").status_code == 404


def test_the_topic_page_draws_the_stages_lanes_and_the_forms_that_apply(client):
    uid = create(client).get_json()["topic"]["uid"]
    expect_signed_in(client)
    page = client.get(f"/topics/{uid}").get_data(as_text=True)
    assert 'aria-current="step"' in page and "收集议题" in page and "反馈结果" in page
    for level in ("province", "city", "county", "township"):
        assert f'data-level="{level}"' in page
    assert "省级" in page and "市级" in page and "从未发往其他节点" in page
    assert 'id="form-advance"' in page and 'value="determined"' in page and 'id="form-escalate"' in page
    for absent in ("form-accept", "form-return", "form-result", "form-delegate"):
        assert f'id="{absent}"' not in page
    english = client.get(f"/topics/{uid}?lang=en").get_data(as_text=True)
    assert "Route" in english and "Province" in english and "Escalate to 620302" in english


def test_a_refused_form_action_shows_the_message_and_changes_nothing(app, client):
    uid = create(client).get_json()["topic"]["uid"]
    expect_signed_in(client)
    before = counts(app)
    response = client.post(f"/topics/{uid}/act", data={"action": "escalate", "note": "跨乡镇事项"})
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "操作被拒绝" in page and "620302 is not a peer of this node" in page
    assert counts(app) == before
    skipped = client.post(f"/topics/{uid}/act", data={"action": "advance", "to_stage": "consulting"},
                          follow_redirects=True).get_data(as_text=True)
    assert "the next stage is determined" in skipped and counts(app) == before


def test_form_actions_move_the_topic_to_its_result(client):
    uid = create(client, areas=[TOWNSHIP]).get_json()["topic"]["uid"]
    expect_signed_in(client)
    for stage in ("determined", "researching", "consulting", "implementing", "feedback"):
        page = client.post(f"/topics/{uid}/act", data={"action": "advance", "to_stage": stage, "note": ""},
                           follow_redirects=True).get_data(as_text=True)
        assert "已进入阶段" in page
    page = client.get(f"/topics/{uid}").get_data(as_text=True)
    assert 'id="form-result"' in page and 'id="form-advance"' in page
    done = client.post(f"/topics/{uid}/act", data={
        "action": "result", "kind": "协商意见", "title": "道路维修纳入年度计划", "summary": "镇政府列入计划",
        "measures": "三月底前完成勘测\n\n汛期前完工\n", "handling_units": "镇政府"}, follow_redirects=True)
    page = done.get_data(as_text=True)
    assert "结果已记录" in page and "汛期前完工" in page and 'id="form-result"' not in page
    topic = client.get(f"/api/v1/topics/{uid}", headers=basic("li")).get_json()
    assert topic["stage"] == "closed" and topic["result"]["measures"] == ["三月底前完成勘测", "汛期前完工"]


# -- a route between two paired nodes (envelopes carried by hand, no worker) ---------------------------------


@pytest.fixture
def pair(township, make_node, runner):
    county = make_node(node_id="620302", name="金川区政协")
    expect_user_added(runner, county, "zhao", "admin", "赵秘书长")
    for a, b in ((township, county), (county, township)):
        line = invoke(runner, b, "keys", "show").output.split()
        assert invoke(runner, a, "peers", "add", *line).exit_code == 0
    apps = make_app(township), make_app(county)
    yield apps
    for app in apps:
        app.extensions["shangliang.db"].engine.dispose()


def expect_carried(source_app, target_app, uid) -> None:
    """Deliver the source's newest outbox message about ``uid`` to the target's inbox, as a worker would."""
    from shangliang.federation.models import OutboxMessage

    with source_app.app_context():
        row = get_session().execute(select(OutboxMessage).where(OutboxMessage.topic == uid)
                                    .order_by(OutboxMessage.id.desc())).scalars().first()
        data = row.envelope.encode()
    response = target_app.test_client().post("/federation/v1/inbox", data=data, content_type="application/json")
    assert response.status_code == 202, response.get_data(as_text=True)


def test_an_escalated_topic_shows_its_route_and_the_receiver_accepts_it(pair):
    township_app, county_app = pair
    township = township_app.test_client()
    uid = create(township).get_json()["topic"]["uid"]
    sent = act(township, uid, "escalate", note="跨乡镇事项,提请区政协协商")
    assert sent.status_code == 200, sent.get_data(as_text=True)
    body = sent.get_json()
    assert body["sent"]["kind"] == "topic.escalate" and body["sent"]["to"] == "620302"
    assert body["topic"]["holder"] == "620302" and body["topic"]["awaiting_acceptance"] is True

    shown = township.get(f"/api/v1/topics/{uid}", headers=basic("li")).get_json()
    assert shown["route_verified"] is True and shown["route"][0]["direction"] == "sent"
    assert [(h["from"], h["to"], h["action"]) for h in shown["route"][0]["hops"]] == [(TOWNSHIP, "620302", "escalate")]
    expect_signed_in(township)
    page = township.get(f"/topics/{uid}").get_data(as_text=True)
    assert "每一跳均已验证" in page and "<code>620302001</code> → <code>620302</code>" in page
    assert "marker-end=\"url(#arrow-ok)\"" in page and "跨乡镇事项" in page
    assert 'id="actions"' in page and "只有该节点可以处理" in page  # held by the county now: no forms here

    expect_carried(township_app, county_app, uid)
    county = county_app.test_client()
    expect_signed_in(county, "zhao")
    page = county.get(f"/topics/{uid}").get_data(as_text=True)
    assert "待受理" in page and 'id="form-accept"' in page and 'id="form-return"' in page
    assert 'id="form-advance"' not in page and 'id="form-escalate"' in page
    assert "收到" in page  # the envelope table: received from the township
    accepted = county.post(f"/topics/{uid}/act", data={"action": "accept"}, follow_redirects=True)
    page = accepted.get_data(as_text=True)
    assert "已受理" in page and 'id="form-accept"' not in page and 'id="form-advance"' in page
    data = county.get(f"/api/v1/topics/{uid}", headers=basic("zhao")).get_json()
    assert data["accepted_ms"] and [e["action"] for e in data["events"]][-1] == "accepted"
    assert [e["direction"] for e in data["route"]] == ["received", "sent"] and data["route_verified"] is True

    expect_carried(county_app, township_app, uid)  # the acceptance travels home
    home = township.get(f"/api/v1/topics/{uid}", headers=basic("li")).get_json()
    assert home["awaiting_acceptance"] is False and home["holder"] == "620302"


def test_a_delegated_topic_arrives_with_its_instructions_and_due_date(pair):
    township_app, county_app = pair
    county = county_app.test_client()
    created = create(county, user="zhao", areas=[TOWNSHIP]).get_json()
    uid = created["topic"]["uid"]
    assert created["suggestion"]["action"] == "delegate" and created["suggestion"]["to"] == TOWNSHIP
    expect_signed_in(county, "zhao")
    page = county.get(f"/topics/{uid}").get_data(as_text=True)
    assert 'id="form-delegate"' in page and f'name="to" value="{TOWNSHIP}"' in page and "下放至 620302001" in page
    before = counts(county_app)
    refused = county.post(f"/topics/{uid}/act", data={"action": "delegate", "to": TOWNSHIP, "instructions": "请镇里牵头",
                                                      "due": "next week"}, follow_redirects=True)
    assert "操作被拒绝" in refused.get_data(as_text=True) and "not understood" in refused.get_data(as_text=True)
    assert counts(county_app) == before
    done = county.post(f"/topics/{uid}/act", data={"action": "delegate", "to": TOWNSHIP, "instructions": "请镇里牵头协商",
                                                   "due": "+3"}, follow_redirects=True).get_data(as_text=True)
    assert "已下放至 620302001" in done and "下放" in done
    due_ms = county.get(f"/api/v1/topics/{uid}", headers=basic("zhao")).get_json()["due_ms"]
    assert due_ms is not None

    expect_carried(county_app, township_app, uid)
    township = township_app.test_client()
    expect_signed_in(township)
    page = township.get(f"/topics/{uid}").get_data(as_text=True)
    with township_app.test_request_context():
        from shangliang.core.topics.views import day

        assert day(due_ms) in page
    assert "请镇里牵头协商" in page and "待受理" in page and 'id="form-accept"' in page
    assert 'data-level="county"' in page and "<code>620302</code> → <code>620302001</code>" in page


# -- attachments -----------------------------------------------------------------------------------------------


def upload(client, uid, name, data: bytes, user="wang", content_type="application/octet-stream"):
    return client.post(f"/api/v1/topics/{uid}/attachments", query_string={"name": name}, data=data,
                       headers={**basic(user), "Content-Type": content_type})


def attachment_rows(app) -> int:
    from shangliang.core.topics.models import TopicAttachment

    with app.app_context():
        return get_session().scalar(select(func.count()).select_from(TopicAttachment))


def test_a_file_is_attached_kept_under_its_hash_and_downloaded(app, client, township):
    import hashlib

    uid = create(client).get_json()["topic"]["uid"]
    letter = "宁远堡镇、双湾镇群众联名信:道路坑洼,雨天无法通行。".encode()
    added = upload(client, uid, "联名信.txt", letter)
    assert added.status_code == 201, added.get_data(as_text=True)
    digest = hashlib.sha256(letter).hexdigest()
    assert added.get_json()["attachment"] == {"name": "联名信.txt", "size": len(letter), "sha256": digest,
                                              "travels": True}
    assert (township / "attachments" / digest[:2] / digest).read_bytes() == letter

    shown = client.get(f"/api/v1/topics/{uid}", headers=basic("li")).get_json()
    assert shown["attachments"] == [{"name": "联名信.txt", "size": len(letter), "sha256": digest, "kept_here": True}]
    assert shown["events"][-1]["action"] == "attached" and digest in shown["events"][-1]["note"]
    download = client.get(f"/api/v1/topics/{uid}/attachments/{digest}", headers=basic("li"))
    assert download.status_code == 200 and download.data == letter
    assert "attachment" in download.headers["Content-Disposition"]

    # The page lists it with a link; a member may read but not attach.
    expect_signed_in(client, "li")
    page = client.get(f"/topics/{uid}").get_data(as_text=True)
    assert "联名信.txt" in page and f"/topics/{uid}/attachments/{digest}" in page
    assert 'id="form-attach"' not in page
    assert client.get(f"/topics/{uid}/attachments/{digest}").data == letter


def test_bad_attachments_are_refused_and_nothing_is_stored(app, client, township):
    uid = create(client).get_json()["topic"]["uid"]
    assert upload(client, uid, "a.txt", b"first").status_code == 201
    before, files = counts(app), sorted((township / "attachments").rglob("*"))
    rows = attachment_rows(app)
    expect_error(upload(client, uid, "again.txt", b"first"), 400, "invalid_input", "already attached", "as a.txt")
    expect_error(upload(client, uid, "empty.txt", b""), 400, "invalid_input", "empty")
    expect_error(upload(client, uid, "", b"x"), 400, "invalid_input", "name", field="name")
    expect_error(upload(client, uid, "bad\x07name.txt", b"x"), 400, "invalid_input", "control characters")
    expect_error(upload(client, uid, "b.txt", b"x", content_type="multipart/form-data"), 415,
                 "unsupported_media_type", "application/octet-stream")
    expect_error(upload(client, uid, "b.txt", b"x", user="li"), 403, "forbidden")
    expect_error(upload(client, "620302001:NOPE", "b.txt", b"x"), 404, "not_found")
    expect_error(client.get(f"/api/v1/topics/{uid}/attachments/{'0' * 64}", headers=basic("li")), 404, "not_found",
                 "no attachment")
    assert counts(app) == before and attachment_rows(app) == rows
    assert sorted((township / "attachments").rglob("*")) == files


def test_an_attachment_over_the_limit_is_refused_before_it_is_stored(township):
    app = create_app(township, test_config={"WTF_CSRF_ENABLED": False, "TOPICS_ATTACHMENT_MAX_BYTES": 10})
    client = app.test_client()
    uid = create(client).get_json()["topic"]["uid"]
    expect_error(upload(client, uid, "big.bin", b"x" * 11), 400, "invalid_input", "at most 10")
    assert upload(client, uid, "small.bin", b"x" * 10).status_code == 201
    assert attachment_rows(app) == 1
    app.extensions["shangliang.db"].engine.dispose()


def test_the_page_form_attaches_a_file_with_the_csrf_token(township):
    import io

    app = make_app(township, csrf=True)
    client = app.test_client()
    uid = create(client).get_json()["topic"]["uid"]
    login_page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page).group(1)
    client.post("/login", data={"username": "wang", "password": PASSWORD, "csrf_token": token})
    page = client.get(f"/topics/{uid}").get_data(as_text=True)
    assert 'id="form-attach"' in page and 'enctype="multipart/form-data"' in page
    assert "travel with the topic" in page or "随议题一同发送" in page

    def post(fields):
        return client.post(f"/topics/{uid}/attach", data=fields, content_type="multipart/form-data",
                           follow_redirects=True)

    forged = post({"file": (io.BytesIO(b"x"), "forged.txt")})  # no token: a cross-site form
    assert forged.status_code == 400 and attachment_rows(app) == 0
    sent = post({"csrf_token": token, "file": (io.BytesIO("现场照片说明".encode()), "说明.txt")})
    assert sent.status_code == 200 and attachment_rows(app) == 1
    text = sent.get_data(as_text=True)
    assert "说明.txt" in text and "已上传附件 说明.txt" in text
    empty = post({"csrf_token": token})
    assert empty.status_code == 200 and "请选择要上传的文件" in empty.get_data(as_text=True)
    assert attachment_rows(app) == 1
    app.extensions["shangliang.db"].engine.dispose()
