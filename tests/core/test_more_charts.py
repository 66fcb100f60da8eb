"""The charts beside the tables on a plan's page (its items by how far their topics are) and on the duty page
(members by standing): each with its spec for the script and the same numbers as a table."""

from __future__ import annotations

import json
import re

from sqlalchemy import select

from shangliang.core.db import transaction

from ..duty.conftest import PASSWORD as DUTY_PASSWORD, YEAR as DUTY_YEAR, county as duty_county  # noqa: F401
from ..plans.conftest import PASSWORD as PLAN_PASSWORD, add, create, county as plans_county  # noqa: F401
from shangliang.core.app import create_app


def _spec(page: str, chart_id: str) -> dict:
    found = re.search(rf'id="{chart_id}"[^>]*data-chart=\'([^\']*)\'', page)
    assert found, chart_id
    return json.loads(found.group(1).replace("&#39;", "'"))


def _table(page: str, chart_id: str) -> list[tuple[str, str]]:
    table = re.search(rf'<table class="chart-table" id="{chart_id}-table">(.*?)</table>', page, re.DOTALL).group(1)
    return re.findall(r'<tr><th scope="row">([^<]+)</th><td>(\d+)</td></tr>', table)


def _client(node_dir, user, password):
    app = create_app(node_dir, test_config={"WTF_CSRF_ENABLED": False})
    client = app.test_client()
    assert client.post("/login", data={"username": user, "password": password}).status_code == 302
    return app, client


def test_a_plans_page_charts_its_items_by_state(plans_county):
    app, client = _client(plans_county, "wang", PLAN_PASSWORD)
    try:
        create(app)
        add(app, topic={"title": "道路养护", "description": "", "category": "交通", "areas": ["620302001"],
                        "raised_by_kind": "public", "raised_by_name": "群众"})
        add(app, topic={"title": "农村饮水", "description": "", "category": "民生", "areas": ["620302001"],
                        "raised_by_kind": "public", "raised_by_name": "群众"})
        add(app, topic={"title": "校车安全", "description": "", "category": "教育", "areas": ["620302001"],
                        "raised_by_kind": "public", "raised_by_name": "群众"})
        from shangliang.core.topics.models import Topic

        with app.app_context(), transaction("test") as session:
            topics = {t.title: t for t in session.execute(select(Topic)).scalars()}
            topics["农村饮水"].stage = "consulting"
            topics["校车安全"].stage = "implementing"
        page = client.get("/plans/2027").get_data(as_text=True)
        spec = _spec(page, "chart-plan-progress")
        assert spec["type"] == "donut" and spec["series"][0]["data"] == [1, 1, 1, 0]
        assert _table(page, "chart-plan-progress") == list(zip(spec["labels"], ["1", "1", "1", "0"]))
        assert "/static/charts.js" in page
    finally:
        app.extensions["shangliang.db"].engine.dispose()


def test_a_plan_without_items_has_no_chart(plans_county):
    app, client = _client(plans_county, "wang", PLAN_PASSWORD)
    try:
        create(app)
        assert 'id="chart-plan-progress"' not in client.get("/plans/2027").get_data(as_text=True)
    finally:
        app.extensions["shangliang.db"].engine.dispose()


def test_the_duty_page_charts_members_by_standing(duty_county):
    app, client = _client(duty_county, "wang", DUTY_PASSWORD)
    try:
        page = client.get(f"/duty?year={DUTY_YEAR}").get_data(as_text=True)
        spec = _spec(page, "chart-duty-standing")
        # no assessment rule on this node: the three members stand at "no rules"
        assert spec["type"] == "donut" and spec["series"][0]["data"] == [0, 0, 3]
        assert [n for _label, n in _table(page, "chart-duty-standing")] == ["0", "0", "3"]
        assert len(set(spec["labels"])) == 3 and all(spec["labels"])
    finally:
        app.extensions["shangliang.db"].engine.dispose()
