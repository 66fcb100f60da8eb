"""Search (core/search): Chinese words of two and of four characters found exactly, on SQLite's FTS5 trigram
index and PostgreSQL's pg_trgm (set SHANGLIANG_TEST_DATABASE_URL); the filters; a row changed after it was
indexed found by its new words and no longer by its old ones; what each reader may see; refusals by name."""

from __future__ import annotations

import json
import re

from sqlalchemy import select

from shangliang.core.db import transaction

from ..conftest import invoke
from .conftest import PROPOSAL, REPORT, TOPIC, basic, expect_error, found, ok, proposal, report, search, topic


def test_a_two_and_a_four_character_query_find_exactly_what_holds_them(client):
    parking = topic(client)
    other = topic(client, title="农村饮水安全", description="部分村庄自来水水质不达标", areas=["620302002"])
    bikes = proposal(client)
    ill = report(client)
    # 停车 (two characters: no trigram) is in the topic's title, and in the report's text; 停放 in the proposal
    assert sorted(found(client, q="停车")) == sorted([("topic", TOPIC["title"]), ("opinion", REPORT["title"])])
    # 停车位 (three) and 乱停乱放 (four): the trigram index
    assert found(client, q="停车位") == [("topic", TOPIC["title"])]
    assert found(client, q="乱停乱放") == [("topic", TOPIC["title"])]
    assert found(client, q="共享单车") == [("proposal", PROPOSAL["title"])]
    assert found(client, q="水质") == [("topic", other["title"])]
    assert found(client, q="巡回医疗") == [("opinion", REPORT["title"])]
    assert found(client, q="停车场") == []  # 停车 is there, 停车场 is not
    assert found(client, q="停") and found(client, q="单") == [("proposal", PROPOSAL["title"])]
    # every word must occur (in any of the columns)
    assert found(client, q="停车 留守老人") == [("opinion", REPORT["title"])]
    assert found(client, q="停车 饮水") == []
    # the hit: a snippet around the match, where the words are, names not codes, the page that shows it
    hit = search(client, q="乱停乱放")["hits"][0]
    assert hit["ref"] == parking["uid"] and hit["url"].endswith(f"/topics/{parking['uid']}")
    assert "乱停乱放" in hit["snippet"]
    start, end = hit["snippet_marks"][0]
    assert hit["snippet"][start:end] == "乱停乱放"
    assert hit["stage"] == "collected" and hit["stage_label"] and hit["holder_name"] == "金川区政协"
    title_hit = search(client, q="停车")["hits"]
    marks = {h["title"]: h["title_marks"] for h in title_hit}
    assert marks[TOPIC["title"]] == [[TOPIC["title"].index("停车"), TOPIC["title"].index("停车") + 2]]
    assert bikes and ill


def test_latin_letters_match_in_either_case_and_like_wildcards_are_plain_text(client):
    topic(client, title="5G基站建设滞后", description="WiFi覆盖不足")
    topic(client, title="100%完成率", description="考核")
    assert [t for _k, t in found(client, q="wifi")] == ["5G基站建设滞后"]
    assert [t for _k, t in found(client, q="5g")] == ["5G基站建设滞后"]
    assert [t for _k, t in found(client, q="%")] == ["100%完成率"]
    assert found(client, q="_") == []
    # the words of FTS5's query language are text too
    topic(client, title='关于"停车" NEAR 收费 AND OR * 的问题', description="^x")
    assert [t for _k, t in found(client, q='"停车"')] == ['关于"停车" NEAR 收费 AND OR * 的问题']
    assert [t for _k, t in found(client, q='NEAR 收费 AND')] == ['关于"停车" NEAR 收费 AND OR * 的问题']
    assert [t for _k, t in found(client, q="OR *")] == ['关于"停车" NEAR 收费 AND OR * 的问题']
    assert found(client, q="^x") == [("topic", '关于"停车" NEAR 收费 AND OR * 的问题')]
    expect_error(client.get("/api/v1/search", query_string={"q": "停车\x00"}, headers=basic("wang")), 400,
                 "invalid_input")


def test_filters_by_kind_stage_area_category_and_year(client):
    a = topic(client)  # 620302001, 城乡建设
    b = topic(client, title="停车收费不合理", areas=["620302002"], category="交通")
    ok(client.post(f"/api/v1/topics/{b['uid']}/actions", json={"action": "advance", "to_stage": "determined"},
                   headers=basic("wang")))
    proposal(client, title="关于增设停车位的建议", year=2027, areas=["620302001"])
    proposal(client, title="关于停车诱导系统的建议", year=2026, areas=["620302002"])
    report(client, title="停车难的反映", year=2025)
    titles = lambda **p: sorted(t for _k, t in found(client, q="停车", **p))  # noqa: E731
    assert titles(kind="topic") == sorted([a["title"], "停车收费不合理"])
    assert titles(stage="determined") == ["停车收费不合理"]
    assert titles(stage="collected") == [a["title"]]  # a stage only topics have: proposals and reports left out
    assert titles(kind="proposal", stage="submitted") == ["关于停车诱导系统的建议", "关于增设停车位的建议"]
    # an area takes in everything under it; a report's area is the division of the node where it was written
    assert titles(area="620302001") == sorted([a["title"], "关于增设停车位的建议"])
    assert titles(area="620302", kind="topic") == sorted([a["title"], "停车收费不合理"])
    assert titles(area="6203") == sorted([a["title"], "停车收费不合理", "关于增设停车位的建议", "关于停车诱导系统的建议",
                                          "停车难的反映"])
    assert titles(area="620303") == []
    assert titles(category="交通") == sorted(["停车收费不合理", "关于增设停车位的建议", "关于停车诱导系统的建议"])
    assert titles(category="城乡建设") == [a["title"]]
    assert titles(year=2026) == sorted(["关于停车诱导系统的建议", a["title"], "停车收费不合理"])
    assert titles(year=2025) == ["停车难的反映"]


def test_the_node_clock_year_of_a_topic(client, app):
    """A topic's year is the year it was raised, in the node's time zone."""
    t = topic(client)
    from shangliang.core.topics.models import Topic

    with app.app_context(), transaction("test") as session:
        row = session.execute(select(Topic).where(Topic.uid == t["uid"])).scalar_one()
        row.raised_ms = 1767196800000 + 60_000  # 2025-12-31 16:01 UTC: 2026-01-01 00:01 in Shanghai
    assert found(client, q="停车", year=2026, kind="topic") == [("topic", TOPIC["title"])]
    assert found(client, q="停车", year=2025, kind="topic") == []


def test_a_row_changed_after_indexing_is_found_by_its_new_words_only(client, app):
    t = topic(client)
    r = report(client)
    assert found(client, q="乱停乱放")
    from shangliang.core.topics.models import Topic

    with app.app_context(), transaction("test") as session:  # any change of the row, whoever makes it
        row = session.execute(select(Topic).where(Topic.uid == t["uid"])).scalar_one()
        row.title, row.description = "电动自行车充电难", "楼道飞线充电存在火灾隐患"
    assert found(client, q="乱停乱放") == []
    assert found(client, q="停车", kind="topic") == []
    assert found(client, q="飞线充电") == [("topic", "电动自行车充电难")]
    assert found(client, q="充电", kind="topic") == [("topic", "电动自行车充电难")]
    # the office edits a report through its API: found by the new words at once
    ok(client.patch(f"/api/v1/opinions/{r['id']}", json={"title": "关于乡村医生待遇偏低的反映"}, headers=basic("wang")))
    assert found(client, q="乡村医生") == [("opinion", "关于乡村医生待遇偏低的反映")]
    assert found(client, q="留守老人") == []
    # a deleted row leaves the index with it
    with app.app_context(), transaction("test") as session:
        session.delete(session.execute(select(Topic).where(Topic.uid == t["uid"])).scalar_one())
    assert found(client, q="飞线充电") == []


def test_each_reader_sees_what_their_lists_show(client):
    mine = proposal(client, "li")  # li's own proposal: not public
    topic(client)
    report(client)
    everything = {("proposal", PROPOSAL["title"]), ("topic", TOPIC["title"]), ("opinion", REPORT["title"])}
    assert set(found(client, "wang", q="停")) == everything  # the office
    assert set(found(client, "li", q="停")) == everything  # a signer of the proposal
    assert set(found(client, "fang", q="停")) == everything - {("proposal", PROPOSAL["title"])}
    assert set(found(client, "zhang", q="停")) == everything - {("proposal", PROPOSAL["title"])}
    # a handling unit: no topic or proposal assigned to it yet, so none; reports are every user's
    assert set(found(client, "chen", q="停")) == {("opinion", REPORT["title"])}
    # filed and assigned to 交通局 (chen's unit), not to 住建局 (zhou's)
    ok(client.post(f"/api/v1/proposals/{mine['id']}/review", json={"decision": "filed"}, headers=basic("wang")))
    number = ok(client.get(f"/api/v1/proposals/{mine['id']}", headers=basic("wang")))["proposal"]["number"]
    ok(client.post(f"/api/v1/proposals/{number}/assignments", json={"lead": "交通局", "co": []}, headers=basic("wang")))
    assert ("proposal", PROPOSAL["title"]) in found(client, "chen", q="停")
    assert ("proposal", PROPOSAL["title"]) not in found(client, "zhou", q="停")
    # published: the public finds it too
    expect_error(client.get("/api/v1/search", query_string={"q": "停"}), 401, "unauthenticated")


def test_a_handling_unit_finds_the_topics_assigned_to_it(client):
    t = topic(client)
    for stage in ("determined", "researching", "consulting", "implementing"):
        ok(client.post(f"/api/v1/topics/{t['uid']}/actions", json={"action": "advance", "to_stage": stage},
                       headers=basic("wang")))
    assert found(client, "chen", q="停车", kind="topic") == []
    ok(client.post(f"/api/v1/topics/{t['uid']}/implementation/assignments",
                   json={"assignments": [{"unit": "交通局", "role": "lead", "working_days": 10}]},
                   headers=basic("wang")), 201)
    assert found(client, "chen", q="停车", kind="topic") == [("topic", TOPIC["title"])]
    assert found(client, "zhou", q="停车", kind="topic") == []


def test_paging_by_cursor_lists_every_hit_once(client):
    for n in range(5):
        topic(client, title=f"停车问题第{n}号")
    report(client)
    first = search(client, q="停车", limit=4)
    assert len(first["hits"]) == 4 and first["next_cursor"]
    second = search(client, q="停车", limit=4, cursor=first["next_cursor"])
    assert len(second["hits"]) == 2 and second["next_cursor"] is None
    refs = [(h["kind"], h["ref"]) for h in first["hits"] + second["hits"]]
    assert len(set(refs)) == 6
    expect_error(client.get("/api/v1/search", query_string={"q": "停车", "cursor": "nonsense"}, headers=basic("wang")),
                 400, "invalid_input", "cursor")


def test_bad_input_is_refused_by_name(client):
    cases = [({"q": ""}, "q", "empty"), ({}, "q", "empty"), ({"q": "   "}, "q", "empty"),
             ({"q": "停车", "stage": "flying"}, "stage", "flying"),
             ({"q": "停车", "kind": "topic", "stage": "pending"}, "stage", "pending"),
             ({"q": "停车", "kind": "memo"}, "kind", "memo"),
             ({"q": "停车", "year": 1800}, "year", "1949"), ({"q": "停车", "year": 10000}, "year", "9999"),
             ({"q": "停车", "area": "62x"}, "area", "division code"), ({"q": "停" * 101}, "q", "100")]
    for params, field, word in cases:
        error = expect_error(client.get("/api/v1/search", query_string=params, headers=basic("wang")), 400,
                             "invalid_input", word)
        assert error["field"] == field, (params, error)
    error = expect_error(client.get("/api/v1/search", query_string={"q": "停车", "year": "soon"},
                                    headers=basic("wang")), 400, "invalid_input")
    assert "year" in json.dumps(error)


def test_the_page_shows_names_highlights_and_the_reason_beside_the_field(client):
    topic(client)
    client.post("/login", data={"username": "zhang", "password": "correct-horse"})
    page = client.get("/search", query_string={"q": "停车位"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "<mark>停车位</mark>" in html and "金川区政协" in html
    assert 'name="viewport"' in html
    refused = client.get("/search", query_string={"q": "停车", "year": "1800"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400 and 'id="year-error"' in html and 'value="停车"' in html
    error = re.search(r'<p class="error field-error" id="year-error" role="alert">([^<]*)</p>', html).group(1)
    assert "1949" in error and "例如2027" in error  # the page's own words, in Chinese (the default), not the service's English
    stale = client.get("/search", query_string={"q": "停车", "cursor": "nonsense"})
    assert stale.status_code == 400 and 'role="alert"' in stale.get_data(as_text=True)
    empty = client.get("/search")
    assert empty.status_code == 200 and "year-error" not in empty.get_data(as_text=True)


def test_the_category_filter_offers_only_what_the_reader_may_see(client, app):
    topic(client)
    proposal(client, "li", category="机密分类")  # li's own proposal: not public
    for user, sees in (("li", True), ("zhang", False)):
        reader = app.test_client()
        reader.post("/login", data={"username": user, "password": "correct-horse"})
        html = reader.get("/search").get_data(as_text=True)
        assert '<option value="城乡建设"' in html
        assert ('<option value="机密分类"' in html) is sees, user


def test_the_page_needs_a_signed_in_user(client):
    response = client.get("/search", query_string={"q": "停车"})
    assert response.status_code in (302, 401) and "/login" in response.headers.get("Location", "/login")


def test_the_command(client, county, runner):
    topic(client)
    proposal(client, "li")
    result = invoke(runner, county, "search", "停车", "--json")
    assert result.exit_code == 0, result.output
    hits = json.loads(result.output)["hits"]
    assert [h["title"] for h in hits] == [TOPIC["title"]]  # 停放 in the proposal: not 停车
    assert hits[0]["stage_label"] == "收集议题" and hits[0]["url"].startswith("/topics/")
    result = invoke(runner, county, "search", "停", "--kind", "proposal")
    assert result.exit_code == 0 and PROPOSAL["title"] in result.output and "等待立案审查" in result.output
    # as a user sees: fang does not see li's proposal
    result = invoke(runner, county, "search", "停", "--kind", "proposal", "--as", "fang", "--json")
    assert result.exit_code == 0 and json.loads(result.output)["hits"] == []
    for args, word in ((["停车", "--year", "1800"], "1949"), (["停车", "--stage", "flying"], "flying"),
                       (["  "], "empty"), (["停车", "--area", "abc"], "division code")):
        result = invoke(runner, county, "search", *args)
        assert result.exit_code == 2 and word in result.output, (args, result.output)
    result = invoke(runner, county, "search", "停车", "--kind", "memo")
    assert result.exit_code == 2


def test_the_index_is_made_by_the_migration(app):
    """On SQLite: the FTS5 tables with their triggers on each kind's table (a later migration that rebuilds one
    of those tables must make its triggers again: this test says so); on PostgreSQL the trigram indexes."""
    from shangliang.core.db import get_session

    with app.app_context():
        session = get_session()
        if session.get_bind().dialect.name == "sqlite":
            names = set(session.execute(select(__import__("sqlalchemy").text("name")).select_from(
                __import__("sqlalchemy").text("sqlite_master"))).scalars())
            for kind in ("topics", "proposals", "opinions"):
                assert {f"search_{kind}", f"search_{kind}_ai", f"search_{kind}_ad", f"search_{kind}_au"} <= names
        else:
            import sqlalchemy as sa

            names = set(session.execute(sa.text("SELECT indexname FROM pg_indexes")).scalars())
            assert {"search_topics_trgm", "search_proposals_trgm", "search_opinions_trgm"} <= names


def test_the_migration_goes_down_and_up_again(tmp_path):
    """0018 down leaves no search object behind; up again indexes the rows already there."""
    import sqlalchemy as sa
    from alembic import command

    from shangliang.core import migrate
    from shangliang.core.db import make_engine

    url = f"sqlite:///{tmp_path / 'node.db'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text(
                "INSERT INTO topics (uid, title, description, category, areas, raised_by_kind, raised_by_name, "
                "raised_ms, stage, holder, overdue, updated_ms) VALUES ('620302:1', '停车难', '夜间乱停乱放', '交通', "
                "'[\"620302001\"]', 'public', '居民', 1, 'collected', '620302', 0, 1)"))
        command.downgrade(migrate.alembic_config(url), "0017")
        with engine.connect() as connection:
            left = connection.execute(sa.text("SELECT name FROM sqlite_master WHERE name LIKE 'search%'")).all()
        assert left == []
        migrate.upgrade(url)
        with engine.connect() as connection:
            hits = connection.execute(sa.text("SELECT rowid FROM search_topics WHERE search_topics MATCH '\"乱停乱放\"'"))
            assert [r[0] for r in hits] == [1]
    finally:
        engine.dispose()
