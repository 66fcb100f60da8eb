"""Implementation between nodes: a county implements the result of a topic a township raised; the units'
accepted reports travel back as ``topic.progress`` and the township sees the final implementation report in
the topic's history. Two node processes (``serve`` with a worker each) on loopback, paired."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from shangliang.core.app import create_app
from shangliang.core.db import transaction
from shangliang.core.units import services as units

from .conftest import LEAD, OTHER, PASSWORD, make_app

COUNTY, T1, T2 = "620302", "620302001", "620302002"
WAIT = 60.0


def wait_until(what: str, probe, timeout: float = WAIT):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = probe()
        except AssertionError as exc:
            last = exc
        else:
            if last:
                return last
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}; last: {str(last)[:2000]}")


def show(node, uid):
    return node.run_json("topics", "show", uid)


def add_units(node) -> None:
    for username in ("jt", "cz"):
        node.run("users", "add", username, "--role", "handling_unit", "--name", username, "--password-stdin",
                 input=PASSWORD + "\n")
    app = create_app(node.dir)
    try:
        with app.app_context(), transaction("test") as session:
            units.add_unit(session, LEAD, "government", contacts=["jt"])
            units.add_unit(session, OTHER, "government", contacts=["cz"])
    finally:
        app.extensions["shangliang.db"].engine.dispose()


def test_the_township_sees_the_county_units_final_implementation_report(federation):
    nodes = federation(COUNTY, T1, in_process=True)
    county, township = nodes[COUNTY], nodes[T1]
    add_units(county)
    for node in (county, township):
        node.start()

    uid = township.run_json("topics", "add", "--title", "两镇之间道路维修", "--category", "交通", "--area", T1,
                            "--area", T2, "--raised-by-kind", "public", "--raised-by-name", "村民代表")["uid"]
    township.run("topics", "escalate", uid, "--note", "跨乡镇事项")
    wait_until("the topic at the county", lambda: show(county, uid)["holder"] == COUNTY)
    county.run("topics", "accept", uid)
    for stage in ("determined", "researching", "consulting", "implementing"):
        county.run("topics", "advance", uid, "--to", stage)

    state = county.run_json("topics", "implement", uid, "--lead", f"{LEAD}=10", "--participating", f"{OTHER}=2")
    assert [a["unit"] for a in state["assignments"]] == [LEAD, OTHER]
    county.run("topics", "instruct", uid, "--leader", "张区长", "--body", "请交通局牵头,汛期前完工")
    later = (dt.date.today() + dt.timedelta(days=10)).isoformat()
    marked = county.run_json("topics", "supervise", "--as-of", later)
    assert [a["unit"] for a in marked["assignments"]] == [OTHER]

    progress = county.run_json("topics", "report", uid, "--as", "cz", "--kind", "progress", "--body", "资金已拨付一半")
    county.run("topics", "review-report", uid, str(progress["id"]), "--decision", "accept")
    final = county.run_json("topics", "report", uid, "--as", "jt", "--kind", "final", "--body", "道路已修复,验收合格")
    county.run("topics", "review-report", uid, str(final["id"]), "--decision", "accept")

    def reports_home():
        events = [e for e in show(township, uid)["events"] if e["action"] == "implementation_report"]
        return events if len(events) == 2 else None

    progress_event, final_event = wait_until("both reports at the township", reports_home)
    assert OTHER in progress_event["note"] and "资金已拨付一半" in progress_event["note"]
    assert LEAD in final_event["note"] and "道路已修复,验收合格" in final_event["note"]
    assert final_event["node"] == COUNTY and final_event["to_stage"] is None
    assert show(township, uid)["stage"] == "implementing"

    county.run("topics", "advance", uid, "--to", "feedback")
    county.run("topics", "result", uid, "--title", "道路已修复", "--summary", "两镇连接道路修复完成")
    def closed_home():
        data = show(township, uid)
        return data if data["stage"] == "closed" else None

    home = wait_until("the result at the township", closed_home)
    assert home["result"]["handling_units"] == [LEAD, OTHER]
    text = township.run("topics", "show", uid)
    assert "implementation_report" in text and "道路已修复,验收合格" in text
    # and on the township's topic page, in the history
    township.run("users", "add", "wang", "--role", "office", "--name", "王主任", "--password-stdin",
                 input=PASSWORD + "\n")
    app = make_app(township.dir)
    try:
        client = app.test_client()
        signed_in = client.post("/login", data={"username": "wang", "password": PASSWORD})
        assert signed_in.status_code == 302
        history = client.get(f"/topics/{uid}").get_data(as_text=True).split('id="history"')[1]
        assert "道路已修复,验收合格" in history and LEAD in history
    finally:
        app.extensions["shangliang.db"].engine.dispose()
