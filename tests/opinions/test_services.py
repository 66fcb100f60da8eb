"""The social-opinion report rules at the service: who writes what (a member their own, the office a body's or a
member's, a higher committee's member through this node), editing with its event, the decisions and their
refusals, issues of the periodical, the counts and the duty-record hook — nothing stored after a refusal; and
the federation's refusals of messages that do not fit (a forward not from a child, a decision about a report
not forwarded to the sender, bad fields)."""

from __future__ import annotations

import dataclasses

import pytest

from shangliang.core.context import node_context
from shangliang.core.db import get_session, transaction
from shangliang.core.errors import InputError, NotFound
from shangliang.core.opinions import schemas as s, services, statistics
from shangliang.core.opinions.errors import (IssueTaken, NoParent, NotAllowed, NotAMember, NotLinked, NotOffice,
                                             WrongStatus)
from shangliang.federation.errors import InvalidBody

from .conftest import REPORT, pair_child, pair_parent, rows


def run(app, work, node=None):
    with app.app_context():
        node = node or node_context()
        with transaction("test") as session:
            return work(session, node)


def who(app, username):
    with app.app_context():
        return services.who_named(get_session(), username)


def write(app, user="li", **changes):
    actor = who(app, user)
    return run(app, lambda session, node: services.write(session, node, s.OpinionIn(**{**REPORT, **changes}), actor,
                                                         f"test:{user}").as_dict())


def decide(app, ref, user="wang", **fields):
    actor = who(app, user)
    return run(app, lambda session, node: services.decide(session, node, ref, s.OpinionDecisionIn(**fields), actor,
                                                          f"test:{user}")[0].as_dict())


def assert_refused(app, error, match, work):
    before = rows(app)
    with pytest.raises(error, match=match):
        work()
    assert rows(app) == before


def test_a_member_writes_their_own_report_and_the_author_is_kept(app):
    o = write(app)
    assert o["author"] == {"kind": "member", "name": "李强", "member_no": "J001", "node": "620302"}
    assert o["status"] == "pending" and o["written"]["node"] == "620302" and o["events"] == []
    assert o["year"] == 2026 and o["origin"] is None


def test_who_writes_and_bad_input_store_nothing(app):
    assert_refused(app, NotLinked, "not linked", lambda: write(app, "loose"))
    assert_refused(app, NotAllowed, "public", lambda: write(app, "zhang"))
    assert_refused(app, InputError, "for the office", lambda: write(app, member_no="J002"))
    assert_refused(app, InputError, "title is empty", lambda: write(app, title="  "))
    assert_refused(app, InputError, "sentiment is longer", lambda: write(app, sentiment="情" * 20_001))
    assert_refused(app, InputError, "year", lambda: write(app, year=1800))
    assert_refused(app, NotOffice, "body's report", lambda: write(app, author_kind="sector", author_name="农业界"))
    assert_refused(app, InputError, "unknown author kind", lambda: write(app, "wang", author_kind="party"))
    assert_refused(app, InputError, "member's number", lambda: write(app, "wang"))
    assert_refused(app, NotAMember, "J999", lambda: write(app, "wang", member_no="J999"))
    assert_refused(app, InputError, "not a committee above", lambda: write(app, "wang", author_node="620321",
                                                                        author_name="赵六", member_no="C001"))
    assert_refused(app, InputError, "no member number", lambda: write(app, "wang", author_kind="station",
                                                                     author_name="工作站", member_no="J001"))


def test_the_office_writes_for_a_member_a_body_and_a_higher_committees_member(app):
    for_member = write(app, "wang", member_no="J002")
    assert for_member["author"]["name"] == "王芳" and for_member["author"]["node"] == "620302"
    body = write(app, "wang", author_kind="special_committee", author_name="社会和法制委员会")
    assert body["author"] == {"kind": "special_committee", "name": "社会和法制委员会", "member_no": None,
                              "node": "620302"}
    higher = write(app, "wang", author_node="6203", author_name="赵市委员", member_no="C001")
    assert higher["author"] == {"kind": "member", "name": "赵市委员", "member_no": "C001", "node": "6203"}


def test_the_office_edits_until_it_is_forwarded_and_the_edit_is_an_event(app, county, runner):
    o = write(app)
    actor = who(app, "wang")
    edit = lambda data, user=actor: run(app, lambda session, node: services.edit(  # noqa: E731
        session, node, o["id"], data, user, "test:wang").as_dict())
    assert_refused(app, NotOffice, "office", lambda: edit(s.OpinionEditIn(title="新"), who(app, "li")))
    assert_refused(app, InputError, "nothing to change", lambda: edit(s.OpinionEditIn(title=o["title"])))
    edited = edit(s.OpinionEditIn(title="关于留守老人就医难的建议", category="医疗卫生"))
    assert edited["title"] == "关于留守老人就医难的建议" and edited["events"][0]["kind"] == "edited"
    assert edited["events"][0]["text"] == "title, category"
    pair_parent(county, runner)
    decide(app, o["id"], decision="forwarded")
    assert_refused(app, WrongStatus, "forwarded", lambda: edit(s.OpinionEditIn(title="再改")))


def test_decisions_and_their_refusals(app, county, runner):
    o = write(app)
    ref = o["id"]
    assert_refused(app, NotOffice, "office", lambda: decide(app, ref, "li", decision="used"))
    assert_refused(app, InputError, "text is empty", lambda: decide(app, ref, decision="not_used"))
    assert_refused(app, NoParent, "no parent", lambda: decide(app, ref, decision="forwarded"))
    assert_refused(app, InputError, "body_kind", lambda: decide(app, ref, decision="reported", body="区委办"))
    assert_refused(app, InputError, "leader", lambda: decide(app, ref, decision="instruction", text="请落实",
                                                             date="2026-01-05"))
    assert_refused(app, InputError, "not a date", lambda: decide(app, ref, decision="instruction", leader="张区长",
                                                                 text="请落实", date="5 Jan"))
    assert_refused(app, InputError, "after today", lambda: decide(app, ref, decision="instruction", leader="张区长",
                                                                  text="请落实", date="2999-01-01"))
    assert_refused(app, NotFound, "no social-opinion report", lambda: decide(app, 9999, decision="used"))
    used = decide(app, ref, decision="used", text="编入信息专报")
    assert used["status"] == "decided" and used["events"][-1]["kind"] == "used"
    assert used["events"][-1]["level"] == "county" and used["events"][-1]["remote"] is False
    assert_refused(app, WrongStatus, "already", lambda: decide(app, ref, decision="used"))
    assert_refused(app, WrongStatus, "decided here already", lambda: decide(app, ref, decision="not_used",
                                                                          text="重复"))
    reported = decide(app, ref, decision="reported", body_kind="party_committee", body="金川区委")
    assert reported["events"][-1]["body"] == "金川区委"
    assert_refused(app, WrongStatus, "reported to 金川区委 already", lambda: decide(
        app, ref, decision="reported", body_kind="party_committee", body="金川区委"))
    adopted = decide(app, ref, decision="adopted", body="金川区委办公室")
    instructed = decide(app, ref, decision="instruction", leader="张书记", text="请卫健局研究", date="2026-03-02")
    assert [e["kind"] for e in instructed["events"]] == ["used", "reported", "adopted", "instruction"]
    assert adopted["events"][-1]["body"] == "金川区委办公室" and instructed["events"][-1]["date"] == "2026-03-02"
    # not used: with its reason, then nothing more
    other = write(app, title="另一条信息")
    not_used = decide(app, other["id"], decision="not_used", text="已有同类信息")
    assert not_used["status"] == "not_used" and not_used["events"][0]["text"] == "已有同类信息"
    assert_refused(app, WrongStatus, "not used", lambda: decide(app, other["id"], decision="used"))
    # forwarded once, with the message in this transaction
    pair_parent(county, runner)
    before = rows(app)["fed_outbox"]
    forwarded = decide(app, ref, decision="forwarded", text="请市政协参阅")
    assert forwarded["forwarded_to"] == "6203" and rows(app)["fed_outbox"] == before + 1
    assert_refused(app, WrongStatus, "forwarded here already", lambda: decide(app, ref, decision="forwarded"))


def test_issues_of_the_periodical(app):
    a, b, c = write(app), write(app, title="第二条"), write(app, title="第三条")
    decide(app, c["id"], decision="not_used", text="不采用")
    actor = who(app, "wang")

    def compile_(user=actor, **fields):
        data = s.OpinionIssueIn(**{"year": 2026, "number": 3, "title": "社情民意专刊", "opinions": [a["id"]],
                                   **fields})
        return run(app, lambda session, node: services.compile_issue(session, node, data, user, "test").as_dict())

    assert_refused(app, NotOffice, "office", lambda: compile_(who(app, "li")))
    assert_refused(app, InputError, "1 to 200", lambda: compile_(opinions=[]))
    assert_refused(app, InputError, "named twice", lambda: compile_(opinions=[a["id"], a["id"]]))
    assert_refused(app, InputError, "9999", lambda: compile_(opinions=[a["id"], 9999]))
    assert_refused(app, WrongStatus, "not used", lambda: compile_(opinions=[a["id"], c["id"]]))
    assert_refused(app, InputError, "number", lambda: compile_(number=0))
    issue = compile_(opinions=[a["id"], b["id"]])
    assert issue["label"] == "2026年第3期" and [o["id"] for o in issue["opinions"]] == [a["id"], b["id"]]
    assert_refused(app, IssueTaken, "exists already", lambda: compile_(opinions=[c["id"]]))
    assert_refused(app, IssueTaken, "in issue 2026-3 already", lambda: compile_(number=4))
    with app.app_context():
        assert services.get_opinion(get_session(), a["id"]).as_dict()["issue"]["label"] == "2026年第3期"
        assert [i.ref for i in services.list_issues(get_session())] == ["2026-3"]


def _envelope(kind, origin, body, ident="m1"):
    return {"kind": kind, "origin": origin, "hops": [{"node": origin}], "body": body, "id": ident}


def _forward_body(ref="7", **changes):
    opinion = {"ref": ref, "title": "乡镇信息", "sentiment": "群众反映", "analysis": "", "suggestion": "建议",
               "category": "民生", "year": 2026, "author": {"kind": "member", "name": "李强", "member_no": "J001",
                                                            "node": "620302"},
               "written_node": "620302001", "written_ms": 1_780_000_000_000, **changes}
    return {"opinion": opinion, "note": ""}


def receive(app, envelope):
    from shangliang.core.opinions.federation import KINDS, apply_received

    kind = {k.name: k for k in KINDS}[envelope["kind"]]

    def work(session, node):
        kind.validate(envelope["body"])
        apply_received(session, node, envelope, {"received_ms": 1_780_000_100_000})

    return run(app, work)


def test_messages_that_do_not_fit_are_refused_and_store_nothing(app, county, runner):
    from shangliang.core.opinions.messages import DECISION, FORWARD

    # no peers yet: a forward from a node that is not a child
    assert_refused(app, InvalidBody, "child", lambda: receive(app, _envelope(FORWARD, "620302001", _forward_body())))
    pair_child(county, runner)
    pair_parent(county, runner)
    assert_refused(app, InvalidBody, "child", lambda: receive(app, _envelope(FORWARD, "6203", _forward_body())))
    assert_refused(app, InvalidBody, "author.kind", lambda: receive(app, _envelope(
        FORWARD, "620302001", _forward_body(author={"kind": "party", "name": "x", "member_no": None, "node": "1"}))))
    assert_refused(app, InvalidBody, "title is empty", lambda: receive(app, _envelope(
        FORWARD, "620302001", _forward_body(title=" "))))
    receive(app, _envelope(FORWARD, "620302001", _forward_body()))
    with app.app_context():
        got = services.list_opinions(get_session(), services.OPERATOR).items[0].as_dict()
    assert got["origin"] == {"node": "620302001", "ref": "7"} and got["author"]["node"] == "620302"
    assert got["written"]["node"] == "620302001" and got["status"] == "pending"
    assert_refused(app, InvalidBody, "already", lambda: receive(app, _envelope(
        FORWARD, "620302001", _forward_body(), "m2")))
    # a decision about a report this node never forwarded to the sender
    mine = write(app)
    decision = {"kind": "adopted", "node": "6203", "level": "city", "body": "金昌市委", "body_kind": None,
                "leader": None, "text": "", "date": "2026-04-01", "at_ms": 1_780_000_200_000}
    assert_refused(app, InvalidBody, "no report", lambda: receive(app, _envelope(
        DECISION, "6203", {"ref": str(mine["id"]), "decision": decision})))
    assert_refused(app, InvalidBody, "parent", lambda: receive(app, _envelope(
        DECISION, "620302001", {"ref": str(mine["id"]), "decision": decision})))
    decide(app, mine["id"], decision="forwarded")
    assert_refused(app, InvalidBody, "decision.kind", lambda: receive(app, _envelope(
        DECISION, "6203", {"ref": str(mine["id"]), "decision": {**decision, "kind": "liked"}})))
    assert_refused(app, InvalidBody, "leader, text and date", lambda: receive(app, _envelope(
        DECISION, "6203", {"ref": str(mine["id"]), "decision": {**decision, "kind": "instruction"}})))
    assert_refused(app, InvalidBody, "not at", lambda: receive(app, _envelope(
        DECISION, "6203", {"ref": str(mine["id"]), "decision": {**decision, "node": "620302"}})))
    receive(app, _envelope(DECISION, "6203", {"ref": str(mine["id"]), "decision": decision}, "m3"))
    with app.app_context():
        events = services.get_opinion(get_session(), mine["id"]).as_dict()["events"]
    assert [(e["kind"], e["node"], e["remote"]) for e in events] == [("forwarded", "620302", False),
                                                                     ("adopted", "6203", True)]


def test_a_decision_on_a_received_report_is_told_down_to_the_child(app, county, runner):
    from shangliang.core.opinions.messages import FORWARD

    pair_child(county, runner)
    pair_parent(county, runner)
    receive(app, _envelope(FORWARD, "620302001", _forward_body()))
    with app.app_context():
        ref = services.list_opinions(get_session(), services.OPERATOR).items[0].id
    actor = who(app, "wang")
    got = run(app, lambda session, node: services.decide(session, node, ref, s.OpinionDecisionIn(decision="used"),
                                                         actor, "test")[1])
    assert got == [{"kind": "x-opinions.decision", "id": got[0]["id"], "to": "620302001"}]


def test_counts_and_the_duty_record_items(app):
    a, b = write(app), write(app, title="第二条")
    write(app, "fang", title="王芳的信息")
    write(app, "wang", author_kind="sector", author_name="农业界", title="界别信息")
    write(app, year=2025, title="去年的信息")
    decide(app, a["id"], decision="used")
    decide(app, a["id"], decision="instruction", leader="张书记", text="请研究", date="2026-03-02")
    decide(app, b["id"], decision="not_used", text="同类")
    with app.app_context():
        node = dataclasses.replace(node_context())
        stats = statistics.opinion_statistics(get_session(), node, 2026)
        assert stats["totals"] == {"written": 4, "used": 1, "forwarded": 0, "reported": 0, "not_used": 1,
                                   "adopted": 1, "instructions": 1}
        li = stats["by_member"][0]
        assert (li["name"], li["member_no"], li["written"], li["adopted"], li["instructions"]) == \
            ("李强", "J001", 2, 1, 1)
        assert li["adopted_by_level"] == {"county": 1}
        assert stats["by_node"] == [{"node": "620302", "level": "county", "used": 1, "forwarded": 0, "reported": 0,
                                     "not_used": 1, "adopted": 1, "instructions": 1}]
        assert stats["by_level"] == [{"level": "county", "adopted": 1, "instructions": 1}]
        assert [(r["year"], r["written"]) for r in stats["by_year"]] == [(2025, 1), (2026, 4)]
        with pytest.raises(InputError, match="year"):
            statistics.opinion_statistics(get_session(), node, "soon")
        items = node.pm.hook.duty_record_items(session=get_session(), node=node,
                                               member={"id": 1, "member_no": "J001", "name": "李强"}, year=2026)
        mine = [i for found in items if found for i in found if i["source"] == "opinions"]
        kinds = sorted((i["kind"], i.get("decision", "")) for i in mine)
        assert all(isinstance(i["detail"], str) and i["detail"] for i in mine)  # text for the record's readers
        assert kinds == [("adoption", "instruction"), ("adoption", "used"), ("social_opinion", ""),
                         ("social_opinion", "")]
        assert all(i["date"].startswith("2026-") or i["kind"] == "social_opinion" for i in mine)
        by_name = node.pm.hook.duty_record_items(session=get_session(), node=node,
                                                 member={"id": 9, "member_no": None, "name": "李强"}, year=2026)
        assert not [i for found in by_name if found for i in found]  # his reports carry his number
