"""Topic statistics (core/topics/statistics.py): the counting rule, the page with its charts, tables and .xlsx
download, the API and the command — on a real node with topics raised through the API."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from shangliang.core.context import node_context
from shangliang.core.db import get_session, transaction
from shangliang.core.errors import InputError
from shangliang.core.topics import statistics
from shangliang.core.topics.models import Topic
from sqlalchemy import select

from ..conftest import invoke
from .conftest import act, basic, create, expect_error, expect_signed_in

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _ms(*args) -> int:
    return int(dt.datetime(*args, tzinfo=SHANGHAI).timestamp() * 1000)


def _raise(app, client, raised_ms: int, **changes) -> str:
    response = create(client, **changes)
    assert response.status_code == 201, response.get_data(as_text=True)
    uid = response.get_json()["topic"]["uid"]
    with app.app_context(), transaction("test") as session:  # back-date it: the clock says today
        session.execute(select(Topic).where(Topic.uid == uid)).scalar_one().raised_ms = raised_ms
    return uid


@pytest.fixture
def raised(app, client):
    """2025: three topics (one at the first moment of the year, Beijing time), one advanced to determined;
    2024: one, at its last moment (already 2025 in UTC terms it is not: 15:59 UTC on 31 December)."""
    first = _raise(app, client, _ms(2025, 1, 1, 0, 0), title="年初议题")
    _raise(app, client, _ms(2025, 6, 1, 9), areas=["620302001"], title="镇内议题")
    advanced = _raise(app, client, _ms(2025, 12, 31, 23, 59), areas=["620302002", "620302002"], title="年末议题")
    assert act(client, advanced, "advance", to_stage="determined").status_code == 200
    _raise(app, client, _ms(2024, 12, 31, 23, 59, 59), title="去年议题")
    return first


def _stats(app, year):
    with app.app_context():
        return statistics.topic_statistics(get_session(), node_context(), year)


# -- the rule -------------------------------------------------------------------------------------------------


def test_topics_count_in_the_year_raised_by_stage_and_area(app, raised):
    stats = _stats(app, 2025)
    assert stats["year"] == 2025 and stats["total"] == 3 and stats["overdue"] == 0
    assert [r["stage"] for r in stats["by_stage"]] == ["collected", "determined", "researching", "consulting",
                                                        "implementing", "feedback", "closed"]
    assert {r["stage"]: r["count"] for r in stats["by_stage"]} == {
        "collected": 2, "determined": 1, "researching": 0, "consulting": 0, "implementing": 0, "feedback": 0,
        "closed": 0}
    # ROAD concerns two towns; a code listed twice counts once; the most frequent first
    # an area that is a node this node knows (itself, a named neighbour) carries the committee's name
    assert stats["by_area"] == [{"area": "620302001", "name": "宁远堡镇政协联络组", "count": 2},
                                {"area": "620302002", "name": None, "count": 2}]
    last = _stats(app, 2024)
    assert last["total"] == 1 and last["by_area"] == [{"area": "620302001", "name": "宁远堡镇政协联络组", "count": 1},
                                                     {"area": "620302002", "name": None, "count": 1}]
    assert _stats(app, 2023)["total"] == 0 and _stats(app, 2023)["by_area"] == []


def test_the_default_year_is_this_year(app, client):
    assert create(client).status_code == 201
    this_year = dt.datetime.now(SHANGHAI).year
    assert _stats(app, None)["year"] == this_year and _stats(app, None)["total"] == 1


@pytest.mark.parametrize("year", [1969, 3000, "二〇二五", "2025.5"])
def test_a_bad_year_is_refused_by_name(app, year):
    with pytest.raises(InputError) as refused:
        _stats(app, year)
    assert refused.value.field == "year"


# -- the page -------------------------------------------------------------------------------------------------


def test_the_page_needs_a_signed_in_user(client):
    response = client.get("/topics/statistics")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_page_shows_charts_with_tables_and_same_origin_scripts(client, raised):
    expect_signed_in(client, "li")  # any role reads
    response = client.get("/topics/statistics?year=2025")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "议题统计" in page and "2025" in page
    # the chart containers, each with its data for the script ...
    specs = {m.group(1): json.loads(m.group(2).replace("&#39;", "'"))
             for m in re.finditer(r'id="(chart-by-[a-z]+)"[^>]*data-chart=\'([^\']*)\'', page, re.DOTALL)}
    assert {"chart-by-stage", "chart-by-area"} <= set(specs)
    assert specs["chart-by-stage"]["type"] == "bar" and specs["chart-by-area"]["type"] == "donut"
    assert specs["chart-by-stage"]["labels"][:2] == ["收集议题", "确定议题"]
    assert specs["chart-by-stage"]["series"][0]["data"] == [2, 1, 0, 0, 0, 0, 0]
    assert specs["chart-by-area"]["labels"] == ["620302001 宁远堡镇政协联络组", "620302002"]
    # ... and the same numbers as a table, for readers without script
    table = re.search(r'<table class="chart-table" id="chart-by-stage-table">(.*?)</table>', page, re.DOTALL).group(1)
    assert re.search(r"<th scope=\"row\">收集议题</th><td>2</td>", table)
    assert re.search(r"<th scope=\"row\">确定议题</th><td>1</td>", table)
    # scripts only from this node, none inline
    sources = re.findall(r"<script([^>]*)>", page)
    assert sources and all(re.fullmatch(r' src="/static/[^"]+\.js"', s) for s in sources), sources
    assert '/static/vendor/echarts/echarts.min.js' in page and '/static/charts.js' in page
    assert "xlsx" in page


def test_the_content_security_policy_allows_the_charts(client):
    expect_signed_in(client)
    response = client.get("/topics/statistics")
    policy = dict(part.strip().split(" ", 1) for part in response.headers["Content-Security-Policy"].split(";")
                  if part.strip())
    assert policy["script-src"] == "'self'"  # same-origin scripts, nothing inline, no eval
    for path in ("/static/vendor/echarts/echarts.min.js", "/static/charts.js"):
        served = client.get(path)
        assert served.status_code == 200 and "javascript" in served.mimetype, path
        served.close()
    for path in ("/static/vendor/echarts/LICENSE", "/static/vendor/echarts/NOTICE"):
        served = client.get(path)
        assert served.status_code == 200 and b"Apache" in served.get_data(), path
    echarts = client.get("/static/vendor/echarts/echarts.min.js").get_data(as_text=True)
    assert "Licensed to the Apache Software Foundation" in echarts[:400] and '"5.6.0"' in echarts
    assert "eval(" not in echarts  # nothing the policy (no 'unsafe-eval') would block on our charts


def test_a_bad_year_on_the_page_is_a_clear_400(client):
    expect_signed_in(client)
    response = client.get("/topics/statistics?year=abc")
    assert response.status_code == 400
    assert "year" in response.get_data(as_text=True)


def test_the_xlsx_download(client, raised):
    expect_signed_in(client)
    response = client.get("/topics/statistics?year=2025&format=xlsx")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment; filename=")
    name = unquote(disposition.split("filename*=UTF-8''", 1)[1])
    assert name == "宁远堡镇政协联络组 议题统计 2025.xlsx"
    assert response.headers["Cache-Control"] == "no-store"
    book = load_workbook(io.BytesIO(response.get_data()))
    assert book.sheetnames[:2] == ["按阶段", "按地区"] and len(book.sheetnames) == 5
    stage = list(book["按阶段"].iter_rows(values_only=True))
    assert stage[0] == ("阶段", "代码", "议题数")
    assert stage[1] == ("收集议题", "collected", 2) and stage[2] == ("确定议题", "determined", 1)
    assert stage[-1] == ("合计", None, 3)
    assert list(book["按地区"].iter_rows(values_only=True)) == [
        ("地区", "代码", "议题数"), ("620302001 宁远堡镇政协联络组", "620302001", 2), ("620302002", "620302002", 2)]


def test_the_xlsx_download_in_english(client, raised):
    expect_signed_in(client)
    response = client.get("/topics/statistics?year=2025&format=xlsx&lang=en")
    book = load_workbook(io.BytesIO(response.get_data()))
    assert book.sheetnames == ["By stage", "By area", "Assignments by state", "By handling unit",
                               "Results by implementation"]
    assert next(book["By stage"].iter_rows(values_only=True)) == ("Stage", "Code", "Number of topics")


# -- the API --------------------------------------------------------------------------------------------------


def test_the_api_answers_the_same_counts(app, client, raised):
    response = client.get("/api/v1/topics/statistics?year=2025", headers=basic("li"))
    assert response.status_code == 200
    assert response.get_json() == _stats(app, 2025)
    assert client.get("/api/v1/topics/statistics").status_code == 401
    expect_error(client.get("/api/v1/topics/statistics?year=1800", headers=basic("li")), 400, "invalid_input",
                 field="year")


def test_the_api_is_in_the_openapi_document(client):
    document = client.get("/api/v1/openapi.json").get_json()
    operation = document["paths"]["/api/v1/topics/statistics"]["get"]
    assert {p["name"] for p in operation["parameters"]} == {"year"}
    assert "200" in operation["responses"] and "400" in operation["responses"]


# -- the command ----------------------------------------------------------------------------------------------


def test_the_command_prints_json_and_writes_the_workbook(app, raised, runner, township, tmp_path):
    out = tmp_path / "统计.xlsx"
    result = invoke(runner, township, "topics", "statistics", "--year", "2025", "--xlsx", str(out), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == _stats(app, 2025)
    book = load_workbook(out)
    assert book.sheetnames[:2] == ["按阶段", "按地区"]  # the node's language
    assert list(book["按阶段"].iter_rows(values_only=True))[1] == ("收集议题", "collected", 2)
    text = invoke(runner, township, "topics", "statistics", "--year", "2025")
    assert text.exit_code == 0 and "2025: 3 topics" in text.output and "determined" in text.output
    refused = invoke(runner, township, "topics", "statistics", "--year", "1800")
    assert refused.exit_code == 2 and "year" in refused.output


def test_an_area_that_is_no_division_code_is_never_counted(app, client):
    """Areas are division codes, refused otherwise when the topic is raised: an area label in the workbook can
    never start a formula (the neutralising itself is tested in tests/core/test_exports.py)."""
    response = create(client, areas=["=1+1"])
    assert response.status_code == 400
    assert _stats(app, None)["total"] == 0


def test_the_topics_page_links_to_the_statistics(client):
    expect_signed_in(client)
    page = client.get("/topics").get_data(as_text=True)
    assert re.search(r'<a href="/topics/statistics" id="statistics-link">议题统计</a>', page)
