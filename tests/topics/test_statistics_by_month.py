"""Topics over the year (core/topics/statistics.py ``monthly``, the chart ``chart-by-month`` of /topics/statistics):
raised each month by stage now, closed each month, marked overdue each month — with its table."""

from __future__ import annotations

import json
import re

from shangliang.core.db import transaction
from shangliang.core.topics.models import Topic, TopicEvent
from sqlalchemy import select

from .conftest import expect_signed_in
from .test_statistics import _ms, _raise, _stats, raised  # noqa: F401  (the fixture)


def test_each_month_counts_raised_by_stage_closed_and_overdue(app, client, raised):
    late = _raise(app, client, _ms(2025, 3, 10, 9), title="三月议题")
    with app.app_context(), transaction("test") as session:
        topic = session.execute(select(Topic).where(Topic.uid == late)).scalar_one()
        topic.closed_ms = _ms(2025, 6, 30, 23, 59)  # closed in June (Beijing time; 15:59 UTC)
        for at in (_ms(2025, 4, 2, 8), _ms(2025, 4, 20, 8), _ms(2025, 5, 1, 0, 0)):  # twice in April, once in May
            session.add(TopicEvent(topic_id=topic.id, at_ms=at, actor="system", action="overdue", node="620302001",
                                   note="due passed"))
    months = _stats(app, 2025)["by_month"]
    assert [m["month"] for m in months] == list(range(1, 13))
    assert [m["raised"] for m in months] == [1, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 1]
    assert months[11]["by_stage"]["determined"] == 1 and months[0]["by_stage"]["collected"] == 1
    assert [m["closed"] for m in months] == [0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]
    assert [m["overdue"] for m in months] == [0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0]
    assert sum(m["raised"] for m in _stats(app, 2024)["by_month"]) == 1

    expect_signed_in(client, "li")
    page = client.get("/topics/statistics?year=2025").get_data(as_text=True)
    spec = json.loads(re.search(r'id="chart-by-month"[^>]*data-chart=\'([^\']*)\'', page).group(1).replace("&#39;", "'"))
    assert spec["type"] == "bar" and spec["stack"] is True and len(spec["labels"]) == 12
    names = [s["name"] for s in spec["series"]]
    assert names[:2] == ["收集议题", "确定议题"]  # only the stages that occur, in order
    lines = [s for s in spec["series"] if s.get("kind") == "line"]
    assert [s["data"][5] for s in lines] == [1, 0] and [s["data"][3] for s in lines] == [0, 1]
    table = re.search(r'<table class="chart-table" id="chart-by-month-table">(.*?)</table>', page, re.DOTALL).group(1)
    assert len(re.findall(r'<th scope="row">', table)) == 12
    api = client.get("/api/v1/topics/statistics?year=2025").get_json()
    assert [m["raised"] for m in api["by_month"]] == [1, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 1]
