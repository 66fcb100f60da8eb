"""Proposal statistics (core/proposals/statistics.py): the counting rule on proposals made through
core.proposals.services, the page with its charts and tables, the .xlsx read back, the API with its OpenAPI
shapes, the command, and what a handling unit's user sees."""

from __future__ import annotations

import io
import json
import re
from urllib.parse import unquote

import pytest
from openpyxl import load_workbook
from shangliang.core.context import node_context
from shangliang.core.db import get_session, transaction
from shangliang.core.errors import InputError
from shangliang.core.proposals import schemas as s
from shangliang.core.proposals import services, statistics
from shangliang.core.proposals.models import ProposalAssignment
from sqlalchemy import select

from ..conftest import invoke
from .conftest import SATISFIED, UNSATISFIED, basic
from .test_services import assigned, filed, reply, run, step, submit


@pytest.fixture
def worked(app):
    """2027 (term 12): P1 key, 交通局 lead and 住建局 co; 交通局 replies, the proposer is unsatisfied, 交通局
    replies again (planned), basically satisfied, closed. P2 face to face, 住建局 lead, past its deadline
    without a reply. P3 filed only. P4 not filed. P5 merged into P3. P6 waiting for review; P8 of session 2
    waiting for review. P7 is of 2026."""
    p1 = assigned(app)
    step(app, "set_flags", p1["number"], s.ProposalFlagsIn(key=True))
    reply(app, p1["number"])
    step(app, "rate", p1["number"], s.ProposalRatingIn(**UNSATISFIED), "li")
    reply(app, p1["number"], classification="planned", text="列入明年计划")
    step(app, "rate", p1["number"], s.ProposalRatingIn(**{**SATISFIED, "overall": "basically"}), "li")
    step(app, "close", p1["number"], s.ProposalCloseIn())

    p2 = filed(app, category="社会事业", title="关于养老服务的建议")
    step(app, "set_flags", p2["number"], s.ProposalFlagsIn(face_to_face=True))
    step(app, "assign", p2["number"], s.ProposalAssignmentIn(lead="住建局", co=[]))
    with app.app_context(), transaction("test") as session:  # its deadline has passed
        session.execute(select(ProposalAssignment).where(ProposalAssignment.proposal_id == p2["id"])
                        ).scalar_one().deadline_ms = 1

    p3 = filed(app)
    p4 = submit(app, category="经济建设")
    step(app, "review", p4["id"], s.ProposalReviewIn(decision="not_filed", reason="属于个人诉求", disposal="letter"))
    p5 = submit(app, "fang")
    step(app, "review", p5["id"], s.ProposalReviewIn(decision="merged", reason="内容相近", into=p3["number"]))
    submit(app)
    filed(app, year=2026)
    submit(app, session=2)
    return {"p1": p1, "p2": p2, "p3": p3}


def _stats(app, year=2027, term=None, session=None):
    with app.app_context():
        return statistics.proposal_statistics(get_session(), node_context(), year, term, session)


UNITS = [{"unit": "住建局", "assigned": 2, "lead": 1, "co": 1, "replied": 0, "overdue": 1, "solved_or_solving": 0,
          "planned": 0, "cannot_now": 0},
         {"unit": "交通局", "assigned": 1, "lead": 1, "co": 0, "replied": 1, "overdue": 0, "solved_or_solving": 0,
          "planned": 1, "cannot_now": 0}]


# -- the rule -------------------------------------------------------------------------------------------------


def test_the_years_proposals_by_status_review_category_and_flags(app, worked):
    stats = _stats(app)
    assert stats["year"] == 2027 and stats["total"] == 7 and stats["key"] == 1 and stats["face_to_face"] == 1
    assert stats["by_status"] == [{"status": st, "count": n} for st, n in (
        ("signing", 0), ("submitted", 2), ("returned", 0), ("filed", 1), ("not_filed", 1), ("merged", 1),
        ("assigned", 1), ("replied", 0), ("rated", 0), ("closed", 1), ("forwarded", 0))]
    assert stats["review"] == [{"review": "filed", "count": 3}, {"review": "not_filed", "count": 1},
                               {"review": "merged", "count": 1}, {"review": "pending", "count": 2}]
    assert stats["by_category"] == [{"category": "城乡建设", "count": 5}, {"category": "社会事业", "count": 1},
                                    {"category": "经济建设", "count": 1}]
    assert _stats(app, 2026)["total"] == 1 and _stats(app, 2025)["total"] == 0
    assert _stats(app, 2027, term=12, session=2)["total"] == 1
    assert _stats(app, 2027, session=1)["total"] == 6 and _stats(app, 2027, term=13)["total"] == 0


def test_per_unit_lead_co_replied_overdue_and_classification(app, worked):
    units = _stats(app)["units"]
    assert [{k: v for k, v in u.items() if k != "unit_id"} for u in units["by_unit"]] == UNITS
    assert {k: v for k, v in units.items() if k != "by_unit"} == {
        "assigned": 3, "lead": 2, "co": 1, "replied": 1, "overdue": 1, "solved_or_solving": 0, "planned": 1,
        "cannot_now": 0}
    # the marking does not change the count; a reply ends the overdue
    with app.app_context(), transaction("test") as session:
        marked = services.mark_overdue(session, node_context())
        assert [a.unit.name for a in marked] == ["住建局"]
    assert _stats(app)["units"]["overdue"] == 1
    reply(app, worked["p2"]["number"], "zhou", classification="cannot_now", reasons="资金不足", text="暂缓")
    after = _stats(app)["units"]
    assert after["overdue"] == 0 and after["replied"] == 2 and after["cannot_now"] == 1


def test_a_part_moved_to_another_unit_counts_for_the_new_unit_only(app):
    p = assigned(app, co=())
    asked = step(app, "request_reassignment", p["number"], s.ProposalReassignmentIn(reason="属住建局职责"), "chen")
    assert [u["unit"] for u in _stats(app)["units"]["by_unit"]] == ["交通局"]
    run(
        app, lambda session, node: services.decide_reassignment(
            session, node, p["number"], asked["reassignments"][0]["id"],
            s.ProposalDecisionIn(decision="approved", unit="住建局"), services.who_named(session, "wang"), "t"))
    units = _stats(app)["units"]
    assert [(u["unit"], u["lead"]) for u in units["by_unit"]] == [("住建局", 1)] and units["assigned"] == 1


def test_satisfaction_is_each_filed_proposals_latest_rating(app, worked):
    sat = _stats(app)["satisfaction"]
    assert sat["filed"] == 3 and sat["rated"] == 1
    assert sat["overall"] == [{"level": "satisfied", "count": 0}, {"level": "basically", "count": 1},
                              {"level": "unsatisfied", "count": 0}, {"level": "not_rated", "count": 2}]
    dims = {d["dimension"]: [r["count"] for r in d["levels"]] for d in sat["by_dimension"]}
    assert list(dims) == ["contact", "attitude", "measures", "pertinence", "leader_attention", "result"]
    assert dims["result"] == [1, 0, 0, 2]  # the first round's "unsatisfied" is not the latest


def test_nothing_counts_zeros(app):
    stats = _stats(app)
    assert stats["total"] == 0 and [r["count"] for r in stats["by_status"]] == [0] * 11
    assert stats["units"]["by_unit"] == [] and stats["satisfaction"]["overall"][-1] == {"level": "not_rated",
                                                                                         "count": 0}


@pytest.mark.parametrize("field,value", [("year", 1969), ("year", "二〇二七"), ("term", 0), ("session", "x")])
def test_a_bad_year_term_or_session_is_refused_by_name(app, field, value):
    with pytest.raises(InputError) as refused:
        _stats(app, **{"year": 2027, field: value})
    assert refused.value.field == field


# -- the page and the workbook --------------------------------------------------------------------------------


def test_the_page_needs_a_signed_in_user(client):
    response = client.get("/proposals/statistics")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def _sign_in(client, user):
    response = client.post("/login", data={"username": user, "password": "correct-horse"})
    assert response.status_code == 302, response.get_data(as_text=True)


def test_the_page_shows_charts_and_tables(client, worked):
    _sign_in(client, "wang")
    response = client.get("/proposals/statistics?year=2027")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "提案统计" in page
    specs = {m.group(1): json.loads(m.group(2).replace("&#39;", "'"))
             for m in re.finditer(r'id="(chart-[a-z-]+)"[^>]*data-chart=\'([^\']*)\'', page, re.DOTALL)}
    assert set(specs) == {"chart-by-status", "chart-by-unit", "chart-satisfaction"}
    assert specs["chart-by-status"]["type"] == "bar" and specs["chart-satisfaction"]["type"] == "donut"
    assert specs["chart-by-status"]["series"][0]["data"] == [0, 2, 0, 1, 1, 1, 1, 0, 0, 1, 0]
    assert specs["chart-by-unit"]["labels"] == ["住建局", "交通局"]
    assert [x["data"] for x in specs["chart-by-unit"]["series"]] == [[1, 1], [1, 0], [0, 1], [1, 0]]
    assert specs["chart-satisfaction"]["labels"] == ["满意", "基本满意", "不满意", "未评价"]
    assert specs["chart-satisfaction"]["series"][0]["data"] == [0, 1, 0, 2]
    units = re.search(r'<table class="chart-table" id="units-table">(.*?)</table>', page, re.DOTALL).group(1)
    assert re.search(r'<th scope="row">住建局</th><td>1</td><td>1</td><td>0</td><td>1</td>', units)
    assert re.search(r'<th scope="row">城乡建设</th><td>5</td>', page)
    assert "/static/vendor/echarts/echarts.min.js" in page and not re.search(r"<script>", page)
    assert client.get("/proposals/statistics?year=abc").status_code == 400


def test_the_xlsx_has_a_sheet_per_table_with_chinese_headers(client, worked):
    _sign_in(client, "wang")
    response = client.get("/proposals/statistics?year=2027&format=xlsx")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    name = unquote(response.headers["Content-Disposition"].split("filename*=UTF-8''", 1)[1])
    assert name == "金川区政协 提案统计 2027.xlsx"
    book = load_workbook(io.BytesIO(response.get_data()))
    assert book.sheetnames == ["按状态", "立案审查", "按类别", "按承办单位", "满意度", "满意度分项"]
    by_status = list(book["按状态"].iter_rows(values_only=True))
    assert by_status[0] == ("状态", "代码", "提案数") and by_status[2][1:] == ("submitted", 2)
    assert by_status[-3:] == [("合计", None, 7), ("重点提案", None, 1), ("面对面办理", None, 1)]
    units = list(book["按承办单位"].iter_rows(values_only=True))
    assert units[1] == ("住建局", 2, 1, 1, 0, 1, 0, 0, 0) and units[-1] == ("合计", 3, 2, 1, 1, 1, 0, 1, 0)
    assert list(book["满意度"].iter_rows(values_only=True))[2] == ("基本满意", "basically", 1)
    assert list(book["满意度分项"].iter_rows(values_only=True))[-1][1:] == (1, 0, 0, 2)
    english = load_workbook(io.BytesIO(client.get("/proposals/statistics?year=2027&format=xlsx&lang=en").get_data()))
    assert english.sheetnames == ["By status", "Filing review", "By category", "By handling unit", "Satisfaction",
                                  "Satisfaction by dimension"]


def test_the_proposals_page_links_to_the_statistics(client):
    _sign_in(client, "li")
    page = client.get("/proposals").get_data(as_text=True)
    assert re.search(r'<a href="/proposals/statistics" id="statistics-link">提案统计</a>', page)


# -- the API and the command ----------------------------------------------------------------------------------


def test_the_api_answers_the_same_counts_and_is_in_openapi(app, client, worked):
    response = client.get("/api/v1/proposals/statistics?year=2027", headers=basic("wang"))
    assert response.status_code == 200 and response.get_json() == _stats(app)
    assert client.get("/api/v1/proposals/statistics?year=2027&term=12&session=2",
                      headers=basic("li")).get_json()["total"] == 1
    assert client.get("/api/v1/proposals/statistics?year=1800", headers=basic("wang")).status_code == 400
    schemas = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    assert {"by_status", "review", "by_category", "units", "satisfaction"} <= set(
        schemas["ProposalStatistics"]["properties"])
    assert "overdue" in schemas["ProposalUnitCount"]["properties"]


def test_a_handling_units_user_sees_totals_and_its_own_row(client, worked):
    answer = client.get("/api/v1/proposals/statistics?year=2027", headers=basic("chen")).get_json()
    assert [u["unit"] for u in answer["units"]["by_unit"]] == ["交通局"] and answer["units"]["assigned"] == 3
    _sign_in(client, "zhou")
    page = client.get("/proposals/statistics?year=2027").get_data(as_text=True)
    units = re.search(r'<table class="chart-table" id="units-table">(.*?)</table>', page, re.DOTALL).group(1)
    assert "住建局" in units and "交通局" not in units
    book = load_workbook(io.BytesIO(client.get("/proposals/statistics?year=2027&format=xlsx").get_data()))
    assert [r[0] for r in book["按承办单位"].iter_rows(min_row=2, values_only=True)] == ["住建局", "合计"]
    member = client.get("/api/v1/proposals/statistics?year=2027", headers=basic("li")).get_json()
    assert len(member["units"]["by_unit"]) == 2  # members and the public read as for topic statistics


def test_the_command(app, worked, runner, county, tmp_path):
    out = tmp_path / "p.xlsx"
    result = invoke(runner, county, "proposals", "statistics", "--year", "2027", "--xlsx", str(out), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == _stats(app)
    assert load_workbook(out).sheetnames[0] == "按状态"
    text = invoke(runner, county, "proposals", "statistics", "--year", "2027")
    assert text.exit_code == 0 and "2027: 7 proposals, 1 key, 1 face to face" in text.output
    assert re.search(r"住建局\s+1\s+1\s+0\s+1", text.output), text.output
    refused = invoke(runner, county, "proposals", "statistics", "--year", "1800")
    assert refused.exit_code == 2 and "year" in refused.output
