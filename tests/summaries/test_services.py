"""Subtree summaries on one node (core/summaries/services.py): own figures counted from known data, a child's
report kept per node (newer wins, older ignored), a report from a node that is not a child or naming a node
outside the child's subtree refused with nothing stored, stale nodes flagged; the page, its .xlsx and the API."""

from __future__ import annotations

import io
import json

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from shangliang.core.context import node_context
from shangliang.core.db import get_session, transaction
from shangliang.core.summaries import services
from shangliang.core.summaries.models import NodeSummary
from shangliang.core.topics.models import Topic
from shangliang.federation import peers

from ..conftest import invoke
from ..topics.conftest import basic, expect_signed_in, expect_user_added, make_app

COUNTY = "620302"
TOWNSHIP, OTHER_TOWNSHIP = "620302001", "620302002"
KEY = "ed25519:k1:" + "A" * 43
TOPIC = {"title": "县城停车难", "description": "老城区停车位不足", "category": "交通", "areas": ["620302"],
         "raised_by_kind": "public", "raised_by_name": "居民代表"}


@pytest.fixture
def county(make_node, runner):
    node_dir = make_node(node_id=COUNTY, name="金川区政协")
    expect_user_added(runner, node_dir, "wang", "office", "王主任")
    expect_user_added(runner, node_dir, "li", "member", "李委员")
    return node_dir


@pytest.fixture
def app(county):
    app = make_app(county)
    yield app
    app.extensions["shangliang.db"].engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


def _raise(client, **changes) -> str:
    response = client.post("/api/v1/topics", json={**TOPIC, **changes}, headers=basic("wang"))
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()["topic"]["uid"]


@pytest.fixture
def known(app, client):
    """Four topics raised here this year: one overdue, one closed with a result (no unit assigned), one held by
    a township now (it counts there, not here)."""
    late, closed, away = _raise(client), _raise(client), _raise(client)
    _raise(client)
    with app.app_context(), transaction("test") as session:
        now = node_context().now_ms()
        by_uid = {t.uid: t for t in session.execute(select(Topic)).scalars()}
        by_uid[late].overdue = True
        by_uid[closed].stage, by_uid[closed].closed_ms = "closed", now
        by_uid[closed].result = json.dumps({"kind": "adopted", "title": "增设停车位", "summary": "已增设",
                                            "measures": [], "handling_units": []})
        by_uid[away].holder = TOWNSHIP
    return {"late": late, "closed": closed, "away": away}


def _pair_children(app) -> None:
    with app.app_context(), transaction("test") as session:
        peers.add_peer(session, COUNTY, TOWNSHIP, "http://127.0.0.1:5998", KEY)
        peers.add_peer(session, COUNTY, OTHER_TOWNSHIP, "http://127.0.0.1:5997", KEY)
        peers.add_peer(session, COUNTY, "6203", "http://127.0.0.1:5996", KEY)


def _figures(topics=2, overdue=1) -> dict:
    return {"year": 2026, "topics": {"total": topics, "overdue": overdue, "by_stage": {"collected": topics}},
            "results": {"total": 0, "by_completion": {"complete": 0, "incomplete": 0, "no_units": 0}},
            "proposals": {"total": 1, "by_status": {"submitted": 1}, "filed": 0, "satisfaction": {}},
            "opinions": {"written": 3, "adopted": 1}, "activities": {"total": 1, "held": 1, "by_status": {"closed": 1}}}


def _report(origin: str, as_of: int, *more: dict, figures: dict | None = None) -> dict:
    return {"as_of_ms": as_of, "nodes": [{"node": origin, "name": f"{origin} 政协", "level": "township",
                                          "parent": COUNTY, "as_of_ms": as_of, "figures": figures or _figures()},
                                         *more]}


def _rows(app) -> dict[str, NodeSummary]:
    with app.app_context():
        session = get_session()
        rows = {r.node_id: r for r in session.execute(select(NodeSummary)).scalars()}
        session.expunge_all()
        return rows


# -- own figures --------------------------------------------------------------------------------------------------


def test_own_figures_count_topics_held_here_by_stage_overdue_and_results(app, known):
    with app.app_context():
        figures = services.own_figures(get_session(), node_context())
    topics = figures["topics"]
    assert topics["total"] == 3  # the one held by the township counts there
    assert topics["overdue"] == 1
    assert topics["by_stage"]["collected"] == 2 and topics["by_stage"]["closed"] == 1
    assert sum(topics["by_stage"].values()) == 3
    assert figures["results"] == {"total": 1, "by_completion": {"complete": 0, "incomplete": 0, "no_units": 1}}
    assert figures["proposals"]["total"] == 0 and figures["opinions"]["written"] == 0
    assert figures["activities"] == {"total": 0, "held": 0, "by_status": {"planned": 0, "open": 0, "closed": 0,
                                                                        "cancelled": 0}}


def test_subtree_sums_own_and_received_figures(app, known):
    _pair_children(app)
    with app.app_context(), transaction("test") as session:
        now = node_context().now_ms()
        written = services.receive(session, node_context(), TOWNSHIP, _report(TOWNSHIP, now), now)
    assert written == 1
    with app.app_context():
        tree = services.subtree(get_session(), node_context())
    assert [n["node"] for n in tree["nodes"]] == [COUNTY, TOWNSHIP]
    assert tree["totals"]["topics"]["total"] == 3 + 2 and tree["totals"]["topics"]["overdue"] == 1 + 1
    assert tree["totals"]["opinions"]["written"] == 3 and tree["totals"]["activities"]["held"] == 1
    assert tree["nodes"][1]["overdue_share"] == 0.5 and tree["stale"] == []
    assert [row["level"] for row in tree["levels"]] == ["county", "township"]


def test_newer_report_replaces_older_is_ignored(app):
    _pair_children(app)
    with app.app_context(), transaction("test") as session:
        now = node_context().now_ms()
        services.receive(session, node_context(), TOWNSHIP, _report(TOWNSHIP, now, figures=_figures(5)), now)
    with app.app_context(), transaction("test") as session:
        assert services.receive(session, node_context(), TOWNSHIP,
                                _report(TOWNSHIP, now - 1000, figures=_figures(9)), now) == 0
    assert json.loads(_rows(app)[TOWNSHIP].figures)["topics"]["total"] == 5
    with app.app_context(), transaction("test") as session:
        services.receive(session, node_context(), TOWNSHIP, _report(TOWNSHIP, now + 1000, figures=_figures(7)), now)
    assert json.loads(_rows(app)[TOWNSHIP].figures)["topics"]["total"] == 7


def test_a_report_carries_the_subtree_and_is_forwarded_upward(app, known):
    """The county's own report lists itself first, then every node its children reported."""
    _pair_children(app)
    village = {"node": "620302001001", "name": "某村", "level": "village", "parent": TOWNSHIP, "as_of_ms": 5,
               "figures": _figures(1, 0)}
    with app.app_context(), transaction("test") as session:
        now = node_context().now_ms()
        services.receive(session, node_context(), TOWNSHIP, _report(TOWNSHIP, now, village), now)
        body = services.report_body(session, node_context())
    assert [n["node"] for n in body["nodes"]] == [COUNTY, TOWNSHIP, "620302001001"]
    assert body["nodes"][0]["figures"]["topics"]["total"] == 3
    assert body["nodes"][2]["as_of_ms"] == 5  # as the village counted it, not re-dated
    services.check_report(COUNTY, body)  # what the city will check


# -- refused, nothing stored ------------------------------------------------------------------------------------


def test_report_from_a_node_that_is_not_a_child_is_refused(app):
    _pair_children(app)
    with app.app_context(), transaction("test") as session:
        now = node_context().now_ms()
        for origin in ("6203", "620302003"):  # the parent; a township never paired
            with pytest.raises(services.NotAChild, match="not a paired child"):
                services.receive(session, node_context(), origin, _report(origin, now), now)
    assert _rows(app) == {}


def test_report_naming_a_node_outside_the_childs_subtree_is_refused_whole(app):
    _pair_children(app)
    stray = {"node": "620302002001", "name": "别镇的村", "level": "village", "parent": TOWNSHIP, "as_of_ms": 1,
             "figures": _figures()}
    unlinked = {"node": "620302001009", "name": "无上级的村", "level": "village", "parent": "620302001008",
                "as_of_ms": 1, "figures": _figures()}
    with app.app_context():
        now = node_context().now_ms()
        for bad in (stray, unlinked):
            with pytest.raises(services.OutsideSubtree, match="not under 620302001"):
                with transaction("test") as session:
                    services.receive(session, node_context(), TOWNSHIP, _report(TOWNSHIP, now, bad), now)
    assert _rows(app) == {}


@pytest.mark.parametrize("figures", [{"topics": {"total": -1}}, {"topics": {"total": 1.5}}, {"topics": "many"},
                                     {"a": {"b": {"c": {"d": {"e": 1}}}}}, {"x" * 41: 1}])
def test_figures_that_are_not_counts_are_refused(app, figures):
    _pair_children(app)
    with app.app_context():
        now = node_context().now_ms()
        with pytest.raises(services.SummaryError):
            with transaction("test") as session:
                services.receive(session, node_context(), TOWNSHIP, _report(TOWNSHIP, now, figures=figures), now)
    assert _rows(app) == {}


def test_send_without_a_parent_is_refused(app):
    from shangliang.core.errors import InputError

    with app.app_context(), pytest.raises(InputError, match="no paired parent"):
        with transaction("test") as session:
            services.send(session, node_context())


# -- stale ------------------------------------------------------------------------------------------------------


def test_a_node_silent_beyond_the_limit_is_flagged_stale(app, client):
    _pair_children(app)
    limit = services.stale_ms(node_context(app))
    with app.app_context(), transaction("test") as session:
        now = node_context().now_ms()
        services.receive(session, node_context(), TOWNSHIP, _report(TOWNSHIP, now - limit - 60_000), now)
        services.receive(session, node_context(), OTHER_TOWNSHIP, _report(OTHER_TOWNSHIP, now - 60_000), now)
    answer = client.get("/api/v1/summaries", headers=basic("wang"))
    assert answer.status_code == 200, answer.get_data(as_text=True)
    tree = answer.get_json()
    assert tree["stale"] == [TOWNSHIP]
    assert {n["node"]: n["stale"] for n in tree["nodes"]} == {COUNTY: False, TOWNSHIP: True, OTHER_TOWNSHIP: False}
    expect_signed_in(client)
    page = client.get("/summaries")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="stale-nodes"' in html and TOWNSHIP in html.split('id="stale-nodes"')[1].split("</p>")[0]


# -- the page, the workbook, the API, the command ------------------------------------------------------------------


def test_page_xlsx_and_api_show_the_subtree_to_the_office_only(app, client, known, runner, county):
    _pair_children(app)
    with app.app_context(), transaction("test") as session:
        now = node_context().now_ms()
        services.receive(session, node_context(), TOWNSHIP, _report(TOWNSHIP, now, figures=_figures(4, 2)), now)
    expect_signed_in(client)
    page = client.get("/summaries")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-node="620302001"' in html and "share-high" in html  # 2 of 4 overdue
    assert 'id="chart-by-stage"' in html
    member = app.test_client()
    expect_signed_in(member, "li")
    assert member.get("/summaries").status_code == 403
    assert ">" + "Subtree" not in member.get("/").get_data(as_text=True)
    assert client.get("/api/v1/summaries", headers=basic("li")).status_code == 403
    book = client.get("/summaries.xlsx")
    assert book.status_code == 200
    sheet = load_workbook(io.BytesIO(book.data)).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert [r[0] for r in rows[1:3]] == [COUNTY, TOWNSHIP]
    assert rows[2][5] == 4 and rows[2][6] == 2
    assert rows[-1][5] == 3 + 4  # the totals
    shown = invoke(runner, county, "summaries", "show", "--json")
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output)["totals"]["topics"]["total"] == 7
    text = invoke(runner, county, "summaries", "show")
    assert TOWNSHIP in text.output and "total" in text.output
    sent = invoke(runner, county, "summaries", "send", "--json")
    assert sent.exit_code == 0, sent.output
    assert json.loads(sent.output)["to"] == "6203" and json.loads(sent.output)["nodes"] == 2
    from shangliang.federation.models import OutboxMessage

    with app.app_context():
        row = get_session().execute(select(OutboxMessage)).scalar_one()
        assert row.destination == "6203"


# -- periodic sending --------------------------------------------------------------------------------------------


def test_beat_sends_the_summary_every_configured_interval_and_the_task_sends_to_the_parent(make_node):
    from shangliang.core.summaries.tasks import SEND, send_task
    from shangliang.federation.models import OutboxMessage

    node_dir = make_node(node_id=COUNTY, name="金川区政协", extra_toml="\n[summaries]\nsend_seconds = 120\n")
    app = make_app(node_dir)
    try:
        entry = app.extensions["celery"].conf.beat_schedule["summaries.send"]
        assert entry["task"] == SEND and entry["schedule"] == 120.0
        with app.app_context():
            assert send_task.run() is None  # no parent paired: nothing sent
            assert get_session().scalar(select(func.count()).select_from(OutboxMessage)) == 0
            with transaction("test") as session:
                peers.add_peer(session, COUNTY, "6203", "http://127.0.0.1:5996", KEY)
            message = send_task.run()
            row = get_session().execute(select(OutboxMessage)).scalar_one()
            assert row.message_id == message and row.kind == services.REPORT and row.destination == "6203"
    finally:
        app.extensions["shangliang.db"].engine.dispose()


# -- on the wire: the kind's body check and the inbox's refusals, by name ------------------------------------------


def test_the_kind_refuses_bodies_that_do_not_fit_by_name():
    from shangliang.core.summaries.federation import KINDS, SummaryOutsideSubtree
    from shangliang.federation.errors import InvalidBody

    (kind,) = KINDS
    assert (kind.name, kind.action, kind.about_topic) == ("x-summaries.report", "reply", False)
    kind.validate(_report(TOWNSHIP, 5))
    stray = {"node": "620302002001", "name": "别镇的村", "level": "village", "parent": TOWNSHIP, "as_of_ms": 1,
             "figures": _figures()}
    with pytest.raises(SummaryOutsideSubtree) as refused:
        kind.validate(_report(TOWNSHIP, 5, stray))
    assert refused.value.code == "invalid_body" and refused.value.status == 422
    for body in ({"nodes": []}, {"as_of_ms": 5, "nodes": []}, _report(TOWNSHIP, 5, figures={"topics": {"total": -1}})):
        with pytest.raises(InvalidBody):
            kind.validate(body)


def test_the_inbox_effect_refuses_a_report_from_a_non_child_and_stores_nothing(app):
    from shangliang.core.summaries.federation import SummaryNotFromChild, apply_received
    from shangliang.federation.errors import InvalidBody

    _pair_children(app)
    with app.app_context():
        now = node_context().now_ms()
        envelope = {"kind": "x-summaries.report", "origin": "6203", "hops": [{}], "body": _report("6203", now)}
        with pytest.raises(SummaryNotFromChild, match="not a paired child"), transaction("test") as session:
            apply_received(session, node_context(), envelope, {"received_ms": now})
        relayed = {**envelope, "origin": TOWNSHIP, "body": _report(TOWNSHIP, now), "hops": [{}, {}]}
        with pytest.raises(InvalidBody, match="one hop"), transaction("test") as session:
            apply_received(session, node_context(), relayed, {"received_ms": now})
    assert _rows(app) == {}


# -- a subtree larger than one envelope ---------------------------------------------------------------------------


def test_a_large_subtree_travels_in_several_reports_received_in_order(app, make_node):
    """A county's report split to fit the envelope: each part starts with the county; at the city a part whose
    nodes hang under a node of an earlier part is refused until that part arrived, then all are kept."""
    _pair_children(app)
    villages = [{"node": f"620302001{n:03d}", "name": f"村{n}", "level": "village", "parent": TOWNSHIP,
                 "as_of_ms": 7, "figures": _figures(n, 0)} for n in range(1, 31)]
    with app.app_context(), transaction("test") as session:
        now = node_context().now_ms()
        assert services.receive(session, node_context(), TOWNSHIP, _report(TOWNSHIP, now, *villages), now) == 31
        bodies = services.report_bodies(session, node_context(), budget=4000)
    assert len(bodies) >= 3 and all(b["nodes"][0]["node"] == COUNTY for b in bodies)
    assert sorted(n["node"] for b in bodies for n in b["nodes"][1:]) == sorted([TOWNSHIP] + [v["node"] for v in villages])
    with app.app_context():  # as the city's own send would split it, with the real limit: one report
        assert len(services.report_bodies(get_session(), node_context())) == 1

    city_dir = make_node(node_id="6203", name="金昌市政协")
    city = make_app(city_dir)
    try:
        with city.app_context():
            with transaction("test") as session:
                peers.add_peer(session, "6203", COUNTY, "http://127.0.0.1:5995", KEY)
            now = node_context().now_ms()
            with pytest.raises(services.OutsideSubtree, match="not under 620302"), transaction("test") as session:
                services.receive(session, node_context(), COUNTY, bodies[1], now)
            for body in bodies:
                with transaction("test") as session:
                    services.receive(session, node_context(), COUNTY, body, now)
            tree = services.subtree(get_session(), node_context())
        assert len(tree["nodes"]) == 1 + 1 + 1 + 30
        assert tree["totals"]["topics"]["total"] == 2 + sum(range(1, 31))  # the township's and the villages'
        village = {n["node"]: n for n in tree["nodes"]}["620302001030"]
        assert village["figures"]["topics"]["total"] == 30 and village["parent"] == TOWNSHIP
    finally:
        city.extensions["shangliang.db"].engine.dispose()
