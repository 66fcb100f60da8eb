"""``x-duty.items`` on one node: the body check refuses malformed items by name; what an accepted message does
(kept for a known member, refused for an unknown one, from a node that is not a child, or twice — nothing
stored); the report's own checks before anything is sent."""

from __future__ import annotations

import pytest

from shangliang.core.duty import federation, services
from shangliang.core.errors import InputError
from shangliang.federation.errors import InvalidBody

from ..conftest import invoke
from .conftest import YEAR, duty_rows, read, run

CHILD = "620302001"
GOOD = {"target": "620302", "member": {"member_no": "J001", "name": "李强"}, "year": YEAR,
        "items": [{"ref": "t-1", "kind": "work_station", "title": "接待群众", "date": f"{YEAR}-04-08", "detail": ""}]}


def with_item(**changes):
    return {**GOOD, "items": [{**GOOD["items"][0], **changes}]}


@pytest.mark.parametrize("body, words", [
    ({k: v for k, v in GOOD.items() if k != "target"}, "body.target is missing"),
    ({**GOOD, "items": []}, "1 to 200 items"),
    ({**GOOD, "items": ["x"]}, "must be an object"),
    (with_item(date=f"{YEAR + 1}-01-01"), "not in body.year"),
    (with_item(date="2026-13-01"), "is not a date"),
    (with_item(kind="好事"), "is not a short word"),
    (with_item(title=" "), "title is empty"),
    ({**GOOD, "items": GOOD["items"] * 2}, "given twice"),
    ({**GOOD, "member": {"member_no": "J001"}}, "body.member.name is missing"),
    ({**GOOD, "year": 1800}, "body.year"),
])
def test_malformed_bodies_are_refused_by_name(body, words):
    with pytest.raises(InvalidBody) as caught:
        federation._items(body)
    assert words in str(caught.value)


def envelope(body, sender=CHILD, origin=CHILD):
    return {"kind": federation.ITEMS, "origin": origin, "id": "m-1", "body": body,
            "hops": [{"from": sender, "to": "620302"}]}


def receive(app, env):
    return run(app, lambda s, n: federation.apply_received(s, n, env, {"received_ms": 1}))


@pytest.fixture
def paired(app, county, runner):
    from shangliang.federation.signing import b64u_encode, public_from_seed

    for node_id, seed in ((CHILD, bytes(range(32))), ("6203", bytes(range(1, 33)))):
        result = invoke(runner, county, "peers", "add", node_id, "http://127.0.0.1:9",
                        f"ed25519:k:{b64u_encode(public_from_seed(seed))}")
        assert result.exit_code == 0, result.output
    return app


def test_kept_for_a_known_member_once(paired):
    app = paired
    receive(app, envelope(GOOD))
    rec = read(app, lambda s, n: services.record(s, n, "J001", YEAR))
    assert [(i["kind"], i["reported_by"]) for i in rec["items"]] == [("work_station", CHILD)]
    with pytest.raises(InvalidBody, match="reported already"):
        receive(app, envelope(GOOD))
    assert duty_rows(app) == 1


@pytest.mark.parametrize("env, words", [
    (envelope({**GOOD, "member": {"member_no": "J404", "name": "李强"}}), "no member"),
    (envelope({**GOOD, "member": {"member_no": "J001", "name": "王芳"}}), "no member"),
    (envelope(GOOD, sender="6203", origin="6203"), "not this node's child"),
    (envelope(GOOD, sender="620303001", origin="620303001"), "not this node's child"),
])
def test_refused_and_nothing_stored(paired, env, words):
    with pytest.raises(InvalidBody, match=words):
        receive(paired, env)
    assert duty_rows(paired) == 0


def test_the_report_checks_before_sending(app):
    items = [{"kind": "research", "title": "调研", "date": f"{YEAR}-05-01"}]
    with pytest.raises(InputError, match="no paired parent"):
        run(app, lambda s, n: federation.report(s, n, "6203", "S001", "赵敏", items))
    with pytest.raises(InputError, match="this node"):
        run(app, lambda s, n: federation.report(s, n, "620302", "S001", "赵敏", items))


def test_the_report_refuses_bad_items_and_sends_nothing(paired):
    from sqlalchemy import func, select

    from shangliang.federation.models import OutboxMessage

    items = [{"kind": "research", "title": "调研", "date": f"{YEAR}-05-01"}]
    for bad, words in (([*items, {**items[0], "date": f"{YEAR + 1}-01-01"}], "one message per year"),
                       ([{**items[0], "date": "May 1"}], "not a date"), ([], "no items"),
                       ([{**items[0], "kind": ""}], "kind is empty")):
        with pytest.raises(InputError, match=words):
            run(paired, lambda s, n, bad=bad: federation.report(s, n, "6203", "S001", "赵敏", bad))
    assert read(paired, lambda s, n: s.scalar(select(func.count()).select_from(OutboxMessage))) == 0
    sent = run(paired, lambda s, n: federation.report(s, n, "6203", "S001", "赵敏", items))
    assert sent["to"] == "6203" and sent["items"] == 1
