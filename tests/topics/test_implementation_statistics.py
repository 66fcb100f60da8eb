"""Statistics of the implementation of results (core/topics/statistics.py, ``implementation_statistics``):
assignments made through core.topics.implementation by state, overdue and per unit, results by whether their
implementation is complete — the rule, the page with its charts and tables, the .xlsx, the API and the command."""

from __future__ import annotations

import io
import json
import re

import pytest
from openpyxl import load_workbook
from shangliang.core.context import node_context
from shangliang.core.db import get_session, transaction
from shangliang.core.topics import implementation as impl
from shangliang.core.topics import statistics
from shangliang.core.topics.models import Assignment, Report, Topic
from shangliang.core.topics.supervision import mark_overdue
from shangliang.core.users.models import User
from sqlalchemy import select

from ..conftest import invoke
from .conftest import (
    IDLE,
    LEAD,
    OTHER,
    act,
    basic,
    expect_signed_in,
    implementing_topic,
)


class Item:
    def __init__(self, unit, role, working_days=None, due=None):
        self.unit, self.role, self.working_days, self.due = unit, role, working_days, due


def run(app, work):
    with app.app_context(), transaction("test") as session:
        return work(session, node_context())


def assign(app, uid, *items):
    run(app, lambda s, n: impl.assign(s, n, uid, list(items), "web:wang"))


def report(app, uid, username, kind="final", body="已办结"):
    with app.app_context():
        user_id = get_session().execute(select(User.id).where(User.username == username)).scalar_one()
    return run(app, lambda s, n: impl.file_report(s, n, uid, user_id, kind, body, f"web:{username}").id)


def accept(app, uid, report_id):
    run(app, lambda s, n: impl.review_report(s, n, uid, report_id, "accept", None, "web:wang"))


def finish(client, uid):
    """Feedback and the result (结果反馈), which closes the topic."""
    moved = act(client, uid, "advance", to_stage="feedback")
    assert moved.status_code == 200, moved.get_data(as_text=True)
    closed = act(client, uid, "result", title="已办结", summary="办理完成")
    assert closed.status_code == 200, closed.get_data(as_text=True)


def assignment_of(session, uid, unit):
    return session.execute(select(Assignment).join(Topic, Assignment.topic_id == Topic.id)
                           .where(Topic.uid == uid, Assignment.unit.has(name=unit))).scalar_one()


@pytest.fixture
def year(unit_app):
    with unit_app.app_context():
        return statistics.current_year(node_context())


@pytest.fixture
def worked(unit_app, client, year):
    """This year's implementation work, through the services:

    - A: 交通 lead, final report accepted in time; 财政 participating, a progress report; result recorded while
      财政 still works → an *incomplete* result;
    - B: 民政 lead with one working day, marked overdue by supervision as of the day after;
    - C: 交通 lead, final report accepted after its deadline (moved back); result → a *complete* result;
    - D: no unit assigned; result → *no_units*;
    - E: 财政 lead, assigned last year (moved back): not this year's.
    """
    a = implementing_topic(client, title="A 道路维修")
    assign(unit_app, a, Item(LEAD, "lead", 10), Item(OTHER, "participating", due="+5"))
    accept(unit_app, a, report(unit_app, a, "jt"))
    report(unit_app, a, "cz", "progress", "资金已拨付一半")
    finish(client, a)

    b = implementing_topic(client, title="B 养老服务")
    assign(unit_app, b, Item(IDLE, "lead", due="+1"))
    with unit_app.app_context():
        with transaction("test") as session:
            due = assignment_of(session, b, IDLE).due_ms
        with transaction("test") as session:
            mark_overdue(session, unit_app.config, due + 1)
        assert get_session().execute(select(Assignment.overdue).where(Assignment.due_ms == due)).scalar_one()

    c = implementing_topic(client, title="C 路灯")
    assign(unit_app, c, Item(LEAD, "lead", 10))
    final = report(unit_app, c, "jt")
    accept(unit_app, c, final)
    with unit_app.app_context(), transaction("test") as session:  # it was filed a moment after its deadline
        assignment_of(session, c, LEAD).due_ms = session.get(Report, final).submitted_ms - 1
    finish(client, c)

    d = implementing_topic(client, title="D 无承办单位")
    finish(client, d)

    e = implementing_topic(client, title="E 去年的交办")
    assign(unit_app, e, Item(OTHER, "lead", 10))
    with unit_app.app_context(), transaction("test") as session:
        assignment_of(session, e, OTHER).assigned_ms = statistics.year_bounds(node_context(), year - 1)[0] + 1
    return {"a": a, "b": b, "c": c, "d": d, "e": e}


def _stats(app, year):
    with app.app_context():
        return statistics.topic_statistics(get_session(), node_context(), year)


EXPECTED_UNITS = [
    {"unit": LEAD, "assigned": 2, "accepted": 2, "overdue": 0, "on_time": 1, "on_time_share": 0.5},
    {"unit": IDLE, "assigned": 1, "accepted": 0, "overdue": 1, "on_time": 0, "on_time_share": 0.0},
    {"unit": OTHER, "assigned": 1, "accepted": 0, "overdue": 0, "on_time": 0, "on_time_share": None},
]


def test_assignments_count_in_the_year_made_by_state_unit_and_overdue(unit_app, worked, year):
    implementation = _stats(unit_app, year)["implementation"]
    assert implementation["year"] == year
    assert implementation["assignments"] == 4 and implementation["overdue"] == 1 and implementation["on_time"] == 1
    assert implementation["by_state"] == [{"state": "assigned", "count": 1}, {"state": "reporting", "count": 1},
                                          {"state": "final_reported", "count": 0}, {"state": "accepted", "count": 2}]
    assert [{k: v for k, v in u.items() if k != "unit_id"} for u in implementation["by_unit"]] == EXPECTED_UNITS
    assert implementation["results"] == {"total": 3, "by_completion": [
        {"completion": "complete", "count": 1}, {"completion": "incomplete", "count": 1},
        {"completion": "no_units", "count": 1}]}
    last = _stats(unit_app, year - 1)["implementation"]
    assert last["assignments"] == 1 and [u["unit"] for u in last["by_unit"]] == [OTHER]
    assert last["results"]["total"] == 0


def test_an_assignment_past_its_deadline_is_overdue_before_the_marking_runs(unit_app, client, year):
    uid = implementing_topic(client)
    assign(unit_app, uid, Item(LEAD, "lead", 10))
    assert _stats(unit_app, year)["implementation"]["overdue"] == 0
    with unit_app.app_context(), transaction("test") as session:
        late = assignment_of(session, uid, LEAD)
        late.due_ms = 1
        assert late.overdue is False
    implementation = _stats(unit_app, year)["implementation"]
    assert implementation["overdue"] == 1 and implementation["by_unit"][0]["overdue"] == 1
    assert implementation["by_unit"][0]["on_time_share"] == 0.0
    accept(unit_app, uid, report(unit_app, uid, "jt"))  # accepted (late): no longer overdue, not on time
    implementation = _stats(unit_app, year)["implementation"]
    assert implementation["overdue"] == 0 and implementation["on_time"] == 0
    assert implementation["by_state"][-1] == {"state": "accepted", "count": 1}


def test_nothing_assigned_counts_zeros(unit_app, year):
    implementation = _stats(unit_app, year)["implementation"]
    assert implementation["assignments"] == 0 and implementation["by_unit"] == []
    assert [r["count"] for r in implementation["by_state"]] == [0, 0, 0, 0]
    assert [r["count"] for r in implementation["results"]["by_completion"]] == [0, 0, 0]


def test_the_page_shows_the_implementation_charts_and_tables(client, worked, year):
    expect_signed_in(client, "li")
    page = client.get(f"/topics/statistics?year={year}").get_data(as_text=True)
    specs = {m.group(1): json.loads(m.group(2).replace("&#39;", "'"))
             for m in re.finditer(r'id="(chart-[a-z-]+)"[^>]*data-chart=\'([^\']*)\'', page, re.DOTALL)}
    assert {"chart-by-state", "chart-by-unit", "chart-results"} <= set(specs)
    assert specs["chart-by-state"]["type"] == "donut" and specs["chart-by-unit"]["type"] == "bar"
    assert specs["chart-by-state"]["series"][0]["data"] == [1, 1, 0, 2]
    assert specs["chart-by-unit"]["labels"] == [LEAD, IDLE, OTHER]
    assert [s["data"] for s in specs["chart-by-unit"]["series"]] == [[2, 1, 1], [2, 0, 0], [0, 1, 0]]
    assert specs["chart-results"]["series"][0]["data"] == [1, 1, 1]
    assert 'id="implementation-statistics"' in page
    units = re.search(r'<table class="chart-table" id="units-table">(.*?)</table>', page, re.DOTALL).group(1)
    assert re.search(rf'<th scope="row">{LEAD}</th><td>2</td><td>2</td><td>0</td><td>1</td><td>50%</td>', units)
    assert re.search(rf'<th scope="row">{OTHER}</th><td>1</td><td>0</td><td>0</td><td>0</td><td>—</td>', units)


def test_the_xlsx_has_a_sheet_per_table(client, worked, year):
    expect_signed_in(client)
    book = load_workbook(io.BytesIO(client.get(f"/topics/statistics?year={year}&format=xlsx&lang=en").get_data()))
    assert book.sheetnames == ["By stage", "By area", "Assignments by state", "By handling unit",
                               "Results by implementation"]
    assert list(book["Assignments by state"].iter_rows(values_only=True)) == [
        ("State", "Code", "Number of assignments"), ("Assigned", "assigned", 1), ("Reporting", "reporting", 1),
        ("Final report filed", "final_reported", 0), ("Final report accepted", "accepted", 2), ("Total", None, 4),
        ("Overdue", None, 1)]
    assert list(book["By handling unit"].iter_rows(values_only=True)) == [
        ("Handling unit", "Assigned", "Final report accepted", "Overdue", "Accepted on time", "On-time share")] + [
        (u["unit"], u["assigned"], u["accepted"], u["overdue"], u["on_time"], u["on_time_share"])
        for u in EXPECTED_UNITS]
    assert list(book["Results by implementation"].iter_rows(values_only=True)) == [
        ("Implementation", "Code", "Number of results"), ("Implementation complete", "complete", 1),
        ("Implementation not complete", "incomplete", 1), ("No unit assigned here", "no_units", 1), ("Total", None, 3)]
    chinese = load_workbook(io.BytesIO(client.get(f"/topics/statistics?year={year}&format=xlsx").get_data()))
    assert len(chinese.sheetnames) == 5 and chinese.sheetnames[:2] == ["按阶段", "按地区"]
    assert [row[1:] for row in chinese.worksheets[3].iter_rows(min_row=2, values_only=True)] == [
        (u["assigned"], u["accepted"], u["overdue"], u["on_time"], u["on_time_share"]) for u in EXPECTED_UNITS]


def test_the_api_answers_the_implementation_part(unit_app, client, worked, year):
    response = client.get(f"/api/v1/topics/statistics?year={year}", headers=basic("li"))
    assert response.status_code == 200
    assert response.get_json()["implementation"] == _stats(unit_app, year)["implementation"]
    document = client.get("/api/v1/openapi.json").get_json()
    schemas = document["components"]["schemas"]
    assert {"assignments", "overdue", "by_state", "by_unit", "results"} <= set(
        schemas["ImplementationStatistics"]["properties"])
    assert "on_time_share" in schemas["UnitCount"]["properties"]


def test_the_command_prints_the_implementation_part(unit_app, worked, runner, township, year, tmp_path):
    result = invoke(runner, township, "topics", "statistics", "--year", str(year), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["implementation"] == _stats(unit_app, year)["implementation"]
    text = invoke(runner, township, "topics", "statistics", "--year", str(year), "--xlsx", str(tmp_path / "s.xlsx"))
    assert text.exit_code == 0, text.output
    assert f"{year}: 4 assignments, 1 overdue, 1 on time; 3 results" in text.output
    assert re.search(rf"{LEAD}\s+2\s+2\s+0\s+1\s+50%", text.output), text.output
    assert "incomplete" in text.output
    assert len(load_workbook(tmp_path / "s.xlsx").sheetnames) == 5


def test_a_handling_units_user_sees_its_own_units_row_only(unit_app, client, worked, year):
    answer = client.get(f"/api/v1/topics/statistics?year={year}", headers=basic("mz")).get_json()
    assert [u["unit"] for u in answer["implementation"]["by_unit"]] == [IDLE]
    assert answer["implementation"]["assignments"] == 4  # the node's totals name no unit
    expect_signed_in(client, "cz")
    page = client.get(f"/topics/statistics?year={year}").get_data(as_text=True)
    units = re.search(r'<table class="chart-table" id="units-table">(.*?)</table>', page, re.DOTALL).group(1)
    assert OTHER in units and LEAD not in units and IDLE not in units
    book = load_workbook(io.BytesIO(client.get(f"/topics/statistics?year={year}&format=xlsx").get_data()))
    assert [row[0] for row in book.worksheets[3].iter_rows(min_row=2, values_only=True)] == [OTHER]
    office = client.get(f"/api/v1/topics/statistics?year={year}", headers=basic("wang")).get_json()
    assert len(office["implementation"]["by_unit"]) == 3
