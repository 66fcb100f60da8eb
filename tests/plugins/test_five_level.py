"""五级联动 five-level linkage (plugins/province/five_level): a village, its township and their county in this
process, paired with ``keys show`` / ``peers add``, every envelope carried from one outbox to the next inbox by
hand (no worker), as tests/topics/test_federation.py does. A topic raised in the village and passed up through
the township is on the county's to-coordinate list; topics raised elsewhere are not; a node whose parent is not
one level up is refused."""

from __future__ import annotations

import shlex
import base64
import json

import pytest
from sqlalchemy import select

from shangliang.core.app import create_app
from shangliang.core.db import get_session
from shangliang.plugins.province.five_level import services

from ..conftest import invoke

VILLAGE, TOWNSHIP, COUNTY = "620302001001", "620302001", "620302"
PASSWORD = "correct-horse-battery"
TOPIC = {"description": "村口道路破损，村民出行不便", "category": "交通", "raised_by_kind": "public",
         "raised_by_name": "村民代表"}


def basic(user: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{PASSWORD}".encode()).decode()}


def add_user(runner, node_dir, name, role):
    result = invoke(runner, node_dir, "users", "add", name, "--role", role, "--password-stdin", input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output


def carry(source, target, uid) -> None:
    """Deliver the source's newest outbox message about ``uid`` to the target's inbox, as a worker would."""
    from shangliang.federation.models import OutboxMessage

    with source.app_context():
        row = get_session().execute(select(OutboxMessage).where(OutboxMessage.topic == uid)
                                    .order_by(OutboxMessage.id.desc())).scalars().first()
        data = row.envelope.encode()
    answer = target.test_client().post("/federation/v1/inbox", data=data, content_type="application/json")
    assert answer.status_code == 202, answer.get_data(as_text=True)


def raise_topic(app, title, areas) -> str:
    made = app.test_client().post("/api/v1/topics", json={**TOPIC, "title": title, "areas": areas},
                                  headers=basic("wang"))
    assert made.status_code == 201, made.get_data(as_text=True)
    return made.get_json()["topic"]["uid"]


def act(app, uid, action, **fields):
    answer = app.test_client().post(f"/api/v1/topics/{uid}/actions", json={"action": action, **fields},
                                    headers=basic("wang"))
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.get_json()


@pytest.fixture
def linked(make_node, runner):
    """Village, township and county with five_level enabled, paired neighbour to neighbour."""
    dirs = {node_id: make_node(node_id=node_id, name=f"{node_id} 政协", plugins=["five_level"])
            for node_id in (VILLAGE, TOWNSHIP, COUNTY)}
    for node_dir in dirs.values():
        add_user(runner, node_dir, "wang", "office")
        add_user(runner, node_dir, "li", "member")
    for a, b in ((VILLAGE, TOWNSHIP), (TOWNSHIP, COUNTY)):
        for here, there in ((a, b), (b, a)):
            line = shlex.split(invoke(runner, dirs[there], "keys", "show").output)
            assert invoke(runner, dirs[here], "peers", "add", *line).exit_code == 0
    apps = {node_id: create_app(node_dir, test_config={"WTF_CSRF_ENABLED": False})
            for node_id, node_dir in dirs.items()}
    yield dirs, apps
    for app in apps.values():
        app.extensions["shangliang.db"].engine.dispose()


def test_a_village_topic_passed_up_through_its_township_is_the_countys_to_coordinate(linked, runner):
    dirs, apps = linked
    village, township, county = apps[VILLAGE], apps[TOWNSHIP], apps[COUNTY]

    # raised in the village, escalated to the township, accepted there and escalated to the county
    road = raise_topic(village, "村道维修", [VILLAGE])
    assert act(village, road, "escalate", note="村里解决不了，提请镇里协商")["sent"]["to"] == TOWNSHIP
    carry(village, township, road)
    act(township, road, "accept")
    assert act(township, road, "escalate", note="涉及全区道路规划，提请区政协统筹")["sent"]["to"] == COUNTY
    carry(township, county, road)
    # raised in the township and escalated: not from a village
    school = raise_topic(township, "镇中心校扩建", [TOWNSHIP])
    act(township, school, "escalate", note="提请区政协协商")
    carry(township, county, school)
    # raised in the county itself
    raise_topic(county, "全区养老服务", [COUNTY])
    # still in the township: not the county's
    well = raise_topic(village, "饮水井修缮", [VILLAGE])
    act(village, well, "escalate", note="提请镇里协商")
    carry(village, township, well)

    listed = invoke(runner, dirs[COUNTY], "five-level", "coordinate", "--json")
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.output)
    assert [(r["uid"], r["village"], r["township"], r["stage"], r["accepted"]) for r in rows] == \
        [(road, VILLAGE, TOWNSHIP, "collected", False)]
    assert rows[0]["path"] == [VILLAGE, TOWNSHIP, COUNTY] and rows[0]["waiting_days"] == 0
    assert rows[0]["waiting_long"] is False
    text = invoke(runner, dirs[COUNTY], "five-level", "coordinate").output
    assert road in text and VILLAGE in text and "村道维修" in text

    # the township holds the well topic from its village, but only the coordinating level lists
    assert json.loads(invoke(runner, dirs[TOWNSHIP], "five-level", "coordinate", "--json").output) == []
    assert "county coordinates" in invoke(runner, dirs[TOWNSHIP], "five-level", "coordinate").output

    # the page, for the county's office; accepting the topic shows on it
    act(county, road, "accept")
    office = county.test_client()
    assert office.post("/login", data={"username": "wang", "password": PASSWORD}).status_code == 302
    page = office.get("/practices/five-level/")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "村道维修" in text and VILLAGE in text and TOWNSHIP in text
    assert "镇中心校扩建" not in text and "全区养老服务" not in text
    with county.app_context():
        found = services.to_coordinate(get_session(), COUNTY, rows[0]["arrived_ms"] + 20 * services.DAY_MS, 15)
    assert found[0]["accepted"] is True and found[0]["waiting_days"] == 20 and found[0]["waiting_long"] is True
    member = county.test_client()
    assert member.post("/login", data={"username": "li", "password": PASSWORD}).status_code == 302
    assert member.get("/practices/five-level/").status_code == 403

    # closed topics leave the list
    with county.app_context():
        from shangliang.core.db import transaction
        from shangliang.core.topics.models import Topic

        with transaction("test") as session:
            session.execute(select(Topic).where(Topic.uid == road)).scalar_one().stage = "closed"
        assert services.to_coordinate(get_session(), COUNTY, rows[0]["arrived_ms"], 15) == []


def test_a_node_whose_parent_skips_a_level_is_refused(tmp_path, runner):
    # a non-standard village id may name any parent: five-level linkage wants its township
    node_dir = tmp_path / "cun"
    made = invoke(runner, None, "init", str(node_dir), "--id", "620302001-cun", "--level", "village",
                  "--parent", COUNTY, "--name", "某村", "--url", "http://127.0.0.1:5999",
                  "--database-url", f"sqlite:///{tmp_path / 'cun.db'}")
    assert made.exit_code == 0, made.output
    before = (node_dir / "node.toml").read_text(encoding="utf-8")
    refused = invoke(runner, node_dir, "plugins", "enable", "five_level")
    assert refused.exit_code == 2 and "must be the township one level up" in refused.output, refused.output
    assert (node_dir / "node.toml").read_text(encoding="utf-8") == before
    assert services.check_node({"NODE_LEVEL": "village", "NODE_PARENT": TOWNSHIP}) == []
    assert services.check_node({"NODE_LEVEL": "province", "NODE_PARENT": None}) == []
    assert services.check_settings({"coordinator_level": "district", "waiting_days": 0}) == [
        "coordinator_level must be one of province, city, county, township, village "
        "(setting: plugins.five_level.coordinator_level)",
        "waiting_days must be a whole number of days from 1 to 365 (setting: plugins.five_level.waiting_days)"]


def test_check_names_a_peer_paired_a_level_away(make_node, runner):
    from shangliang.federation.signing import b64u_encode, public_from_seed

    county = make_node(node_id=COUNTY, plugins=["five_level"])
    assert invoke(runner, county, "five-level", "check").exit_code == 0
    key = f"ed25519:cun:{b64u_encode(public_from_seed(bytes(range(32))))}"
    added = invoke(runner, county, "peers", "add", "620302001001-x", "http://127.0.0.1:9", key, "--child")
    assert added.exit_code == 0, added.output
    checked = invoke(runner, county, "five-level", "check")
    assert checked.exit_code == 2 and "620302001001-x" in checked.output and "not a township" in checked.output
