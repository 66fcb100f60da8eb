"""Members and the public raise topics (issue 16): who may raise what, what is fixed, and "my matters" — through
the services' rules, the JSON API and the pages alike."""

from __future__ import annotations

import pytest

from ..conftest import invoke
from .conftest import PASSWORD, ROAD, basic, counts, create, expect_error, expect_user_added


@pytest.fixture
def raisers(app, runner, township):
    """A member user linked to member J007 (李委员 is not linked), two public users and a handling unit's user."""
    result = invoke(runner, township, "members", "add", "--name", "赵委员", "--sector", "农业界", "--member-no", "J007")
    assert result.exit_code == 0, result.output
    result = invoke(runner, township, "users", "add", "zhao", "--role", "member", "--name", "赵委员", "--member", "J007",
                    "--password-stdin", input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    expect_user_added(runner, township, "cun", "public", "村民张三")
    expect_user_added(runner, township, "other", "public", "村民李四")
    expect_user_added(runner, township, "jt", "handling_unit")
    return app


def test_a_member_raises_as_themselves_whatever_the_request_says(client, raisers):
    answer = create(client, user="zhao", raised_by_kind="government", raised_by_name="区政府")
    assert answer.status_code == 201, answer.get_data(as_text=True)
    topic = answer.get_json()["topic"]
    assert topic["raised_by"] == {"kind": "member", "name": "赵委员（J007）"}
    assert topic["stage"] == "collected" and topic["events"][0]["actor"] == "api:zhao"


def test_the_public_raises_a_matter_as_themselves_with_no_raised_by_fields(client, raisers):
    body = {k: v for k, v in ROAD.items() if not k.startswith("raised_by")}
    answer = client.post("/api/v1/topics", json=body, headers=basic("cun"))
    assert answer.status_code == 201, answer.get_data(as_text=True)
    assert answer.get_json()["topic"]["raised_by"] == {"kind": "public", "name": "村民张三"}


def test_the_office_still_names_who_raised_it_and_must(client, raisers):
    assert create(client, raised_by_kind="sector", raised_by_name="农业界").get_json()["topic"]["raised_by"] == {
        "kind": "sector", "name": "农业界"}
    before = counts(raisers)
    body = {k: v for k, v in ROAD.items() if not k.startswith("raised_by")}
    expect_error(client.post("/api/v1/topics", json=body, headers=basic("wang")), 400, "invalid_input", "raised-by")
    assert counts(raisers) == before


def test_an_unlinked_member_and_a_handling_unit_raise_nothing(client, raisers):
    before = counts(raisers)
    expect_error(create(client, user="li"), 403, "forbidden", "not linked to a member", field="raised_by_name")
    expect_error(create(client, user="jt"), 403, "forbidden")
    assert counts(raisers) == before


def test_my_matters_lists_only_ones_own_topics_with_stage_and_result(client, raisers):
    mine = create(client, user="cun", title="村口路灯不亮").get_json()["topic"]["uid"]
    create(client, user="other", title="别人的事项")
    create(client, title="办公室的议题")
    # the office determines it as today, and it shows on the raiser's list with its new stage
    moved = client.post(f"/api/v1/topics/{mine}/actions", json={"action": "advance", "to_stage": "determined"},
                        headers=basic("wang"))
    assert moved.status_code == 200, moved.get_data(as_text=True)
    listed = client.get("/api/v1/topics/mine", headers=basic("cun")).get_json()["topics"]
    assert [(t["title"], t["stage"]) for t in listed] == [("村口路灯不亮", "determined")]
    assert client.get("/api/v1/topics/mine", headers=basic("wang")).get_json()["topics"][0]["title"] == "办公室的议题"
    # the page, in Chinese: the stage by name; another public user's matter is not on it
    client.post("/login", data={"username": "cun", "password": PASSWORD})
    page = client.get("/topics/mine", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "村口路灯不亮" in page and "别人的事项" not in page and "办公室的议题" not in page
    # once the result is fed back, the raiser reads it on their list
    for stage in ("researching", "consulting", "implementing", "feedback"):
        moved = client.post(f"/api/v1/topics/{mine}/actions", json={"action": "advance", "to_stage": stage},
                            headers=basic("wang"))
        assert moved.status_code == 200, moved.get_data(as_text=True)
    closed = client.post(f"/api/v1/topics/{mine}/actions", headers=basic("wang"), json={
        "action": "result", "title": "路灯已全部修复", "summary": "镇政府更换了十二盏路灯", "measures": [], "handling_units": []})
    assert closed.status_code == 200, closed.get_data(as_text=True)
    page = client.get("/topics/mine", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "路灯已全部修复" in page and "镇政府更换了十二盏路灯" in page


def test_the_pages_raise_for_the_public_and_keep_what_was_typed_on_a_refusal(client, raisers):
    client.post("/login", data={"username": "cun", "password": PASSWORD})
    form = client.get("/topics/mine").get_data(as_text=True)
    assert 'id="raise-form"' in form and 'name="raised_by_kind"' not in form  # not choosable
    answer = client.post("/topics", data={"title": "垃圾清运不及时", "category": "环境", "areas": "620302001",
                                          "raised_by_kind": "government", "raised_by_name": "冒名"})
    assert answer.status_code == 303 and "/topics/mine?raised=" in answer.headers["Location"]
    listed = client.get("/api/v1/topics/mine").get_json()["topics"]
    assert listed[0]["raised_by"] == {"kind": "public", "name": "村民张三"}
    before = counts(raisers)
    refused = client.post("/topics", data={"title": "范围之外", "category": "环境", "areas": "110101"})
    assert refused.status_code == 400 and "范围之外" in refused.get_data(as_text=True)
    assert counts(raisers) == before


def test_the_workbench_offers_raising_and_my_matters(client, raisers):
    create(client, user="cun", title="村口路灯不亮")
    client.post("/login", data={"username": "cun", "password": PASSWORD})
    items = {i["key"]: i for i in client.get("/api/v1/me/workbench").get_json()["items"]}
    assert items["topics.raise"]["action"]["url"].endswith("/topics/mine#raise")
    assert items["topics.mine"]["count"] == 1 and items["topics.mine"]["entries"][0]["title"] == "村口路灯不亮"
    client.get("/logout")
    client.post("/login", data={"username": "zhao", "password": PASSWORD})
    items = {i["key"]: i for i in client.get("/api/v1/me/workbench").get_json()["items"]}
    assert "topics.raise" in items and items["topics.mine"]["count"] == 0


def test_the_command_line_workbench_shows_my_matters(client, raisers, runner, township):
    create(client, user="cun", title="村口路灯不亮")
    result = invoke(runner, township, "workbench", "show", "--as", "cun", "--json")
    assert result.exit_code == 0, result.output
    import json

    items = {i["key"]: i for i in json.loads(result.output)}
    assert items["topics.mine"]["entries"][0]["title"] == "村口路灯不亮"
