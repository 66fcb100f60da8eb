"""民主评议 (democratic_appraisal, county ``000``, Jiaxing/Baotou ``003``) on a real county node: creating the year's
appraisal proposes last year's key topics (the published plan's topics with a result) as subjects awaiting the
office — the topics for an appraisal of key topics, their units for one of departments; the office confirms or
dismisses each, and the report waits for the decisions. Disabled, nothing is proposed. The command proposes for
an appraisal made before; bad settings stop the node by name."""

from __future__ import annotations

import json

import pytest
from shangliang.core.app import create_app
from shangliang.core.errors import ConfigError

from ..appraisal.conftest import (
    COUNTY,
    YEAR,
    basic,
    expect_error,
    key_topics,
    make_county,
    ok,
    rows,
)
from ..conftest import invoke

API = "/api/v1/appraisals"


@pytest.fixture
def county(make_node, runner):
    node_dir, app = make_county(make_node, runner, plugins=["democratic_appraisal"])
    yield node_dir, app
    app.extensions["shangliang.db"].engine.dispose()


def create(client, kind):
    return client.post(API, json={"year": YEAR, "kind": kind, "title": "民主评议"}, headers=basic("wang"))


def test_last_years_key_topics_become_proposed_subjects_for_the_office_to_confirm(county):
    _node_dir, app = county
    client = app.test_client()
    uids = key_topics(app)
    a = ok(create(client, "key_topics"), 201)["appraisal"]
    subjects = a["subjects"]
    assert [(s["topic"], s["unit"], s["status"], s["source"]) for s in subjects] == [
        (uids[0], "交通局", "proposed", "democratic_appraisal"), (uids[1], "住建局", "proposed", "democratic_appraisal")]
    assert subjects[0]["note"].startswith(f"{YEAR - 1}年重点协商议题") and subjects[0]["result"]["title"]
    # the report waits for the office's decisions
    expect_error(client.post(f"{API}/{a['id']}/report", json={"body": "x", "recipients": ["区委"]},
                             headers=basic("wang")), 409, "conflict", "await the office")
    path = f"{API}/{a['id']}/subjects"
    ok(client.post(f"{path}/{subjects[0]['id']}/decision", json={"decision": "confirm"}, headers=basic("wang")))
    expect_error(client.post(f"{path}/{subjects[1]['id']}/decision", json={"decision": "dismiss"},
                             headers=basic("wang")), 400, "invalid_input", "reason")
    shown = ok(client.post(f"{path}/{subjects[1]['id']}/decision", json={"decision": "dismiss", "note": "已办结"},
                           headers=basic("wang")))["appraisal"]
    assert [s["status"] for s in shown["subjects"]] == ["confirmed", "dismissed"]

    # an appraisal of departments gets the units that implemented last year's key topics
    d = ok(create(client, "departments"), 201)["appraisal"]
    assert [(s["kind"], s["unit"], s["status"]) for s in d["subjects"]] == [("unit", "交通局", "proposed"),
                                                                            ("unit", "住建局", "proposed")]


def test_without_a_key_topic_nothing_is_proposed_and_the_command_proposes_later(county, runner):
    node_dir, app = county
    client = app.test_client()
    a = ok(create(client, "key_topics"), 201)["appraisal"]
    assert a["subjects"] == []
    uids = key_topics(app)
    shown = invoke(runner, node_dir, "democratic-appraisal", "candidates", str(YEAR), "key_topics", "--json")
    assert shown.exit_code == 0, shown.output
    assert [c["topic"] for c in json.loads(shown.output)] == uids
    before = rows(app)
    rehearsed = invoke(runner, node_dir, "democratic-appraisal", "propose", str(a["id"]), "--json", "--dry-run")
    assert rehearsed.exit_code == 0, rehearsed.output
    assert rows(app)["appraisal_subjects"] == before["appraisal_subjects"]
    result = invoke(runner, node_dir, "democratic-appraisal", "propose", str(a["id"]), "--json")
    assert result.exit_code == 0, result.output
    assert [(s["topic"], s["status"]) for s in json.loads(result.output)] == [(u, "proposed") for u in uids]
    again = invoke(runner, node_dir, "democratic-appraisal", "propose", str(a["id"]), "--json")
    assert json.loads(again.output) == []
    missing = invoke(runner, node_dir, "democratic-appraisal", "propose", "999")
    assert missing.exit_code != 0 and "no appraisal 999" in missing.output


def test_disabled_nothing_is_proposed(make_node, runner):
    _node_dir, app = make_county(make_node, runner)
    try:
        key_topics(app)
        a = ok(create(app.test_client(), "key_topics"), 201)["appraisal"]
        assert a["subjects"] == []
    finally:
        app.extensions["shangliang.db"].engine.dispose()


def test_the_kinds_setting_chooses_which_appraisals_get_subjects(make_node, runner):
    _node_dir, app = make_county(make_node, runner, plugins=["democratic_appraisal"],
                                extra_toml='\n[plugins.democratic_appraisal]\nkinds = ["key_topics"]\n')
    try:
        key_topics(app)
        client = app.test_client()
        assert ok(create(client, "departments"), 201)["appraisal"]["subjects"] == []
        assert len(ok(create(client, "key_topics"), 201)["appraisal"]["subjects"]) == 2
    finally:
        app.extensions["shangliang.db"].engine.dispose()


@pytest.mark.parametrize("toml, setting, words", [
    ('kinds = ["people"]', "plugins.democratic_appraisal.kinds", "appraisal kinds"),
    ("years_back = 0", "plugins.democratic_appraisal.years_back", "from 1 to 5"),
])
def test_bad_settings_stop_the_node_naming_the_setting(make_node, toml, setting, words):
    node_dir = make_node(node_id=COUNTY, name="金川区政协", plugins=["democratic_appraisal"],
                         extra_toml=f"\n[plugins.democratic_appraisal]\n{toml}\n")
    with pytest.raises(ConfigError) as caught:
        create_app(node_dir)
    assert setting in str(caught.value) and words in str(caught.value)
