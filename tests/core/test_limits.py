"""One set of limits: nothing is accepted here that a neighbour would refuse or that cannot travel, bad
input is a named error at every surface, and odd but valid values from a neighbour render safely."""

from __future__ import annotations

import shlex
import base64

import pytest
from sqlalchemy import func, select

from shangliang.core.app import create_app
from shangliang.core.context import node_context
from shangliang.core.db import get_session, transaction
from shangliang.core.errors import InputError
from shangliang.core.topics import limits
from shangliang.core.topics.models import Topic
from shangliang.federation import canonical, envelope as env_mod, hops, keys, outbox
from shangliang.federation.models import OutboxMessage

from ..conftest import invoke

PASSWORD = "correct-horse"
TOWNSHIP, COUNTY = "620302001", "620302"
BASIC = {"Authorization": "Basic " + base64.b64encode(f"clerk:{PASSWORD}".encode()).decode()}
TOPIC = {"title": "道路维修", "description": "说明", "category": "城乡建设", "areas": [TOWNSHIP],
         "raised_by_kind": "public", "raised_by_name": "村民"}


@pytest.fixture
def township(make_node, runner):
    node_dir = make_node(node_id=TOWNSHIP, name="宁远堡镇")
    result = invoke(runner, node_dir, "users", "add", "clerk", "--role", "office", "--password-stdin",
                    input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    return node_dir


@pytest.fixture
def app(township):
    app = create_app(township, test_config={"WTF_CSRF_ENABLED": False})
    yield app
    app.extensions["shangliang.db"].engine.dispose()


def stored(app) -> dict[str, int]:
    with app.app_context():
        session = get_session()
        return {m.__tablename__: session.scalar(select(func.count()).select_from(m)) for m in (Topic, OutboxMessage)}


def refused(response, field: str | None, *words: str) -> dict:
    assert response.status_code == 400, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] == "invalid_input" and error.get("field") == field, error
    assert all(w in error["message"] for w in words), error
    return error


def raise_topic(client, **changes) -> str:
    response = client.post("/api/v1/topics", json={**TOPIC, **changes}, headers=BASIC)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()["topic"]["uid"]


def to_feedback(client, uid: str) -> None:
    for stage in ("determined", "researching", "consulting", "implementing", "feedback"):
        answer = client.post(f"/api/v1/topics/{uid}/actions", json={"action": "advance", "to_stage": stage},
                             headers=BASIC)
        assert answer.status_code == 200, answer.get_data(as_text=True)


def test_more_areas_than_a_neighbour_keeps_are_refused_here(app):
    client = app.test_client()
    areas = [f"620302{n:03d}" for n in range(1, limits.AREAS + 2)]
    refused(client.post("/api/v1/topics", json={**TOPIC, "areas": areas}, headers=BASIC), "areas",
            f"at most {limits.AREAS}")
    assert stored(app)["topics"] == 0
    assert raise_topic(client, areas=areas[:limits.AREAS])  # the most a neighbour keeps is accepted


@pytest.mark.parametrize("field, limit", [("measures", limits.MEASURES), ("handling_units", limits.HANDLING_UNITS)])
def test_a_result_with_more_items_than_allowed_is_refused_and_the_topic_stays_open(app, field, limit):
    client = app.test_client()
    uid = raise_topic(client)
    to_feedback(client, uid)
    action = {"action": "result", "title": "结果", "summary": "摘要", field: [f"第{n}项" for n in range(limit + 1)]}
    refused(client.post(f"/api/v1/topics/{uid}/actions", json=action, headers=BASIC), field, f"at most {limit}")
    shown = client.get(f"/api/v1/topics/{uid}", headers=BASIC).get_json()
    assert shown["stage"] == "feedback" and shown["result"] is None


def test_a_message_too_large_to_travel_its_route_is_refused_before_anything_is_stored(make_node, runner, app):
    county = make_node(node_id=COUNTY, name="金川区")
    line = shlex.split(invoke(runner, county, "keys", "show").output)
    assert invoke(runner, app.config["NODE_DIR"], "peers", "add", *line).exit_code == 0
    body = {"decision": "consult", "padding": "议" * (outbox.MAX_START_BYTES // 3 + 100)}
    with app.app_context():
        with pytest.raises(InputError, match=r"would be \d+ bytes.*at most 126784 bytes"):
            with transaction("test") as session:
                outbox.originate(session, node_context(), "topic.accept", body, COUNTY, "reply", topic="x:1")
    assert stored(app)["fed_outbox"] == 0
    small = {"decision": "consult", "padding": "议" * (outbox.MAX_START_BYTES // 3 - 1000)}
    with app.app_context():
        with transaction("test") as session:
            outbox.originate(session, node_context(), "topic.accept", small, COUNTY, "reply", topic="x:1")
    assert stored(app)["fed_outbox"] == 1


def test_a_hop_adds_at_most_the_room_kept_for_it(app):
    """``HOP_ROOM`` is a true bound: a hop with the longest note of four-byte characters fits in it."""
    with app.app_context():
        key = keys.current(get_session(), app.config["NODE_DIR"])
    envelope = env_mod.create(key, TOWNSHIP, "topic.accept", {"decision": "consult"}, topic=f"{TOWNSHIP}:1")
    before = len(canonical.dumps(envelope))
    grown = hops.append(envelope, key, TOWNSHIP, COUNTY, "reply", note="\U00020000" * hops.MAX_NOTE,
                        lifetime_ms=7 * 24 * 3600 * 1000)
    assert 4 * hops.MAX_NOTE < len(canonical.dumps(grown)) - before <= outbox.HOP_ROOM


def test_a_due_date_beyond_the_calendar_from_a_neighbour_renders(app):
    client = app.test_client()
    uid = raise_topic(client)
    with app.app_context():
        with transaction("test") as session:  # what a neighbour's valid delegation may store
            session.execute(select(Topic).where(Topic.uid == uid)).scalar_one().due_ms = canonical.MAX_INT
    assert client.post("/login", data={"username": "clerk", "password": PASSWORD}).status_code == 302
    for page in ("/topics", f"/topics/{uid}"):
        response = client.get(page)
        assert response.status_code == 200, page
        assert str(canonical.MAX_INT) in response.get_data(as_text=True)
    assert client.get(f"/api/v1/topics/{uid}", headers=BASIC).get_json()["due_ms"] == canonical.MAX_INT


TEXT_FIELDS = ["title", "description", "category", "raised_by_name"]


@pytest.mark.parametrize("field", TEXT_FIELDS)
def test_a_lone_surrogate_in_a_raise_is_a_named_error(app, field):
    client = app.test_client()
    data = canonical.dumps({**TOPIC}).decode().replace(f'"{TOPIC[field]}"', '"ab\\ud800cd"', 1)
    response = client.post("/api/v1/topics", data=data, content_type="application/json", headers=BASIC)
    refused(response, field, "lone surrogate")
    assert stored(app)["topics"] == 0


@pytest.mark.parametrize("action", [
    '{"action": "advance", "to_stage": "determined", "note": "x\\udfffy"}',
    '{"action": "escalate", "note": "\\ud83d"}',
    '{"action": "return", "reason": "\\udc00"}',
    '{"action": "delegate", "to": "620302001001", "instructions": "\\ud800"}',
    '{"action": "result", "title": "t", "summary": "s", "measures": ["ok", "\\ud800"]}',
])
def test_a_lone_surrogate_in_an_action_is_a_named_error(app, action):
    client = app.test_client()
    uid = raise_topic(client)
    response = client.post(f"/api/v1/topics/{uid}/actions", data=action, content_type="application/json",
                           headers=BASIC)
    error = refused(response, response.get_json()["error"].get("field"), "lone surrogate")
    assert error["field"] in ("note", "reason", "instructions", "measures")


@pytest.mark.parametrize("path, body, field", [
    ("/api/v1/topics", {**TOPIC, "title": "路\x00修"}, "title"),
    ("/api/v1/proposals/from-topic", {"topic": "620302:\x00", "suggestions": "x"}, "topic"),
    ("/api/v1/opinions/from-proposal", {"proposal": "a\x00"}, "proposal"),
])
def test_a_nul_character_in_a_write_is_a_named_error_on_every_database(app, path, body, field):
    """PostgreSQL's text cannot hold NUL (the fuzzer's 500s on PostgreSQL, where a reference held one); every node
    refuses it at the API, SQLite too, so a write means the same on both."""
    before = stored(app)
    response = app.test_client().post(path, json=body, headers=BASIC)
    refused(response, field, "NUL character")
    assert stored(app) == before


def test_deeply_nested_json_is_a_named_error(app):
    client = app.test_client()
    for depth in (40, 5000):
        data = '{"title": ' + "[" * depth + "]" * depth + "}"
        error = refused(client.post("/api/v1/topics", data=data, content_type="application/json", headers=BASIC),
                        None, "nested")
        assert error["message"] == "the body is nested more than 32 levels deep"
    assert stored(app)["topics"] == 0


def test_the_command_line_refuses_undecodable_text_by_name(runner, township):
    result = invoke(runner, township, "topics", "add", "--title", "路\udcff", "--category", "交通", "--area", TOWNSHIP,
                    "--raised-by-kind", "public", "--raised-by-name", "村民")
    assert result.exit_code == 2 and "not a character" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("body, words", [
    ('{"decision": "consult", "n": 9007199254740992}', "2^53"),
    ('{"decision": "consult", "n": 1.5}', "fraction"),
    ('[1]', "JSON object"),
    ('{"decision": ', "JSON"),
])
def test_outbox_send_refuses_what_the_protocol_refuses_in_one_line(make_node, runner, township, body, words):
    county = make_node(node_id=COUNTY, name="金川区")
    line = shlex.split(invoke(runner, county, "keys", "show").output)
    assert invoke(runner, township, "peers", "add", *line).exit_code == 0
    result = invoke(runner, township, "outbox", "send", "topic.accept", "--to", COUNTY, "--topic", f"{TOWNSHIP}:1",
                    "--body", body)
    assert result.exit_code == 2 and "Traceback" not in result.output, result.output
    assert words.lower() in result.output.lower(), result.output
