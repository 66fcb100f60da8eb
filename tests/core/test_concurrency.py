"""Writes are serialised: identical actions sent at once take effect once, the rest are refused by name
(409 ``conflict``), and a form sent twice (a double click) runs once with both clicks shown the first
outcome. Between two real nodes (county 620302 and township 620302001, each its own ``serve``
process on loopback) on the suite's backend: SQLite by default, PostgreSQL when configured.
"""

from __future__ import annotations

import base64
import re
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from ..nodes import wait_for

COUNTY, TOWNSHIP = "620302", "620302001"
PASSWORD = "correct-horse"
AT_ONCE = 20
WAIT = 60.0


@pytest.fixture(scope="module")
def net(module_federation):
    nodes = module_federation(COUNTY, TOWNSHIP, in_process=True)
    for node in nodes.values():
        node.run("users", "add", "clerk", "--role", "office", "--password-stdin", input=PASSWORD + "\n")
    with ThreadPoolExecutor(len(nodes)) as pool:
        list(pool.map(lambda node: node.start(), nodes.values()))
    return nodes


BASIC = {"Authorization": "Basic " + base64.b64encode(f"clerk:{PASSWORD}".encode()).decode()}


def raise_topic(node, title: str) -> str:
    body = {"title": title, "category": "城乡建设", "areas": [TOWNSHIP], "raised_by_kind": "public",
            "raised_by_name": "村民"}
    response = requests.post(node.url + "/api/v1/topics", json=body, headers=BASIC, timeout=30)
    assert response.status_code == 201, response.text
    return response.json()["topic"]["uid"]


def at_once(node, uid: str, body: dict) -> list[requests.Response]:
    """``AT_ONCE`` identical action requests, all started together."""
    def send(_):
        return requests.post(f"{node.url}/api/v1/topics/{uid}/actions", json=body, headers=BASIC, timeout=60)

    with ThreadPoolExecutor(AT_ONCE) as pool:
        return list(pool.map(send, range(AT_ONCE)))


def applied_once(responses: list[requests.Response], *words: str) -> None:
    codes = sorted(r.status_code for r in responses)
    assert codes == [200] + [409] * (AT_ONCE - 1), [r.text for r in responses if r.status_code not in (200, 409)]
    for refused in (r for r in responses if r.status_code == 409):
        error = refused.json()["error"]
        assert error["code"] == "conflict" and all(w in error["message"] for w in words), error


def topic(node, uid: str) -> dict:
    response = requests.get(f"{node.url}/api/v1/topics/{uid}", headers=BASIC, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def sent_about(node, uid: str) -> list[dict]:
    return [m for m in node.run_json("outbox", "list") if m.get("topic") == uid]


def test_identical_escalations_at_once_send_one_envelope_and_both_nodes_agree(net):
    county, township = net[COUNTY], net[TOWNSHIP]
    uid = raise_topic(township, "两镇之间道路维修")
    applied_once(at_once(township, uid, {"action": "escalate", "note": "涉及两镇"}), "held by 620302")
    events = [e for e in topic(township, uid)["events"] if e["action"] == "escalated"]
    assert len(events) == 1
    assert [m["kind"] for m in sent_about(township, uid)] == ["topic.escalate"]
    arrived = wait_for(lambda: requests.get(f"{county.url}/api/v1/topics/{uid}", headers=BASIC, timeout=30)
                       .status_code == 200 and topic(county, uid), WAIT, "the county to hold the topic")
    assert arrived["holder"] == COUNTY and topic(township, uid)["holder"] == COUNTY

    applied_once(at_once(county, uid, {"action": "accept"}), "already accepted")
    assert [e["action"] for e in topic(county, uid)["events"]].count("accepted") == 1
    assert [m["kind"] for m in sent_about(county, uid)] == ["topic.accept"]
    wait_for(lambda: not topic(township, uid)["awaiting_acceptance"], WAIT, "the township to hear of the acceptance")


def test_identical_advances_at_once_move_one_stage(net):
    township = net[TOWNSHIP]
    uid = raise_topic(township, "村口路灯")
    applied_once(at_once(township, uid, {"action": "advance", "to_stage": "determined"}), "already determined")
    shown = topic(township, uid)
    assert shown["stage"] == "determined"
    assert [e["action"] for e in shown["events"]].count("advanced") == 1


def signed_in(node) -> requests.Session:
    browser = requests.Session()
    page = browser.get(node.url + "/login", timeout=30).text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    answer = browser.post(node.url + "/login", data={"csrf_token": token, "username": "clerk", "password": PASSWORD},
                          timeout=30, allow_redirects=False)
    assert answer.status_code == 302, answer.text[:500]
    return browser


def form_fields(html: str, action: str) -> dict[str, str]:
    """The hidden fields of the page's form for ``action``."""
    form = re.search(r'<form[^>]*>(?:(?!</form>).)*name="action" value="%s"(?:(?!</form>).)*</form>' % action,
                     html, re.S).group(0)
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))


def test_an_escalation_form_sent_twice_at_once_escalates_once_and_both_see_it_done(net):
    township = net[TOWNSHIP]
    uid = raise_topic(township, "学校门口交通")
    browser = signed_in(township)
    fields = {**form_fields(browser.get(f"{township.url}/topics/{uid}", timeout=30).text, "escalate"),
              "note": "需要区里协调"}
    assert fields.get("once"), "the form carries no one-time token"

    def click(_):
        return browser.post(f"{township.url}/topics/{uid}/act", data=fields, timeout=60, allow_redirects=False)

    with ThreadPoolExecutor(2) as pool:
        clicks = list(pool.map(click, range(2)))
    assert [c.status_code for c in clicks] == [303, 303]
    assert all(c.headers["Location"].endswith(f"/topics/{uid}") for c in clicks)
    assert [e["action"] for e in topic(township, uid)["events"]].count("escalated") == 1
    assert [m["kind"] for m in sent_about(township, uid)] == ["topic.escalate"]
    # Both clicks are answered with the first one's outcome, not a refusal.
    page = browser.get(f"{township.url}/topics/{uid}", timeout=30).text
    assert "Refused" not in page and "拒绝" not in page
    # The same form a third time, later: still the first outcome, nothing new.
    again = click(0)
    assert again.status_code == 303
    assert [m["kind"] for m in sent_about(township, uid)] == ["topic.escalate"]


def test_a_refused_form_keeps_its_token_for_the_corrected_one(net):
    township = net[TOWNSHIP]
    uid = raise_topic(township, "河道清理")
    browser = signed_in(township)
    fields = form_fields(browser.get(f"{township.url}/topics/{uid}", timeout=30).text, "escalate")
    refused = browser.post(f"{township.url}/topics/{uid}/act", data={**fields, "note": ""}, timeout=30)
    assert topic(township, uid)["holder"] == TOWNSHIP, refused.text[:300]
    done = browser.post(f"{township.url}/topics/{uid}/act", data={**fields, "note": "跨镇河道"}, timeout=30)
    assert done.status_code == 200
    assert topic(township, uid)["holder"] == COUNTY
