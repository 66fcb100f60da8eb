"""The proposal rules at the service: each step and each refusal of the issue's "Bad input" — co-signers who
are not members, a reply by a unit not assigned, satisfaction by someone other than the proposer, deadlines in
the past, a merge into a closed proposal, a reassignment not decided by the office — with nothing stored after
a refusal; numbers per session without gaps; the guard hook; overdue marking telling ``item_overdue``."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from shangliang.core.app import create_app
from shangliang.core.context import node_context
from shangliang.core.db import get_session, transaction
from shangliang.core.errors import InputError, NotFound
from shangliang.core.plugins import hookimpl
from shangliang.core.proposals import schemas as s, services
from shangliang.core.proposals.errors import (DeadlinePassed, GuardRefused, MergeIntoClosed, NotAMember,
                                              NotAssignedUnit, NotLinked, NotOffice, NotProposer, NotSigner,
                                              WrongStatus)

from .conftest import ROAD, SATISFIED, UNSATISFIED, rows

DAY = 86_400_000


def run(app, work, node=None):
    """``work(session, node)`` in one write transaction of ``app``."""
    with app.app_context():
        node = node or node_context()
        with transaction("test") as session:
            return work(session, node)


def who(app, username):
    with app.app_context():
        return services.who_named(get_session(), username)


def step(app, name, ref, data, user="wang", node=None):
    """One service step as ``user``; the proposal after it as a dict."""
    actor = who(app, user)
    service = getattr(services, name)
    return run(app, lambda session, n: _as_dict(service(session, n, ref, data, actor, f"test:{user}")), node)


def _as_dict(found):
    return getattr(found, "proposal", found).as_dict()


def submit(app, user="li", **changes):
    actor = who(app, user)
    return run(app, lambda session, node: services.submit(session, node, s.ProposalIn(**{**ROAD, **changes}), actor,
                                                          f"test:{user}").as_dict())


def assert_refused(app, error, match, work, node=None):
    """``work`` is refused with ``error`` naming ``match``, and no row changes."""
    before = rows(app)
    with pytest.raises(error, match=match):
        run(app, work, node)
    assert rows(app) == before


def refused_step(app, error, match, name, ref, data, user="wang", node=None):
    actor = who(app, user)
    assert_refused(app, error, match, lambda session, n: getattr(services, name)(session, n, ref, data, actor, "t"),
                   node)


FILE = s.ProposalReviewIn(decision="filed")


def filed(app, **changes):
    p = submit(app, **changes)
    return step(app, "review", p["id"], FILE)


def assigned(app, co=("住建局",), deadline=None, **changes):
    p = filed(app, **changes)
    return step(app, "assign", p["number"], s.ProposalAssignmentIn(lead="交通局", co=list(co), deadline=deadline))


def reply(app, ref, user="chen", **fields):
    data = s.ProposalReplyIn(**{"classification": "solved_or_solving", "text": "已安排养护资金", **fields})
    return step(app, "reply", ref, data, user)


# -- submitting and signing -----------------------------------------------------------------------------------


def test_a_member_submits_alone_and_it_waits_for_the_filing_review(app):
    p = submit(app)
    assert p["status"] == "submitted" and p["number"] is None and p["kind"] == "member"
    assert [(x["name"], x["role"], x["member_no"]) for x in p["signers"]] == [("李强", "lead", "J001")]
    assert (p["term"], p["session"], p["year"]) == (12, 1, 2027)


def test_co_signers_confirm_before_the_review(app):
    p = submit(app, cosigners=["J002", "J003"])
    assert p["status"] == "signing"
    actor = who(app, "li")
    assert_refused(app, NotSigner, "not a co-signer", lambda session, node: services.confirm(
        session, node, p["id"], actor, "t"))
    fang, wei = who(app, "fang"), who(app, "wei")
    after = run(app, lambda session, node: services.confirm(session, node, p["id"], fang, "t").as_dict())
    assert after["status"] == "signing"
    assert_refused(app, WrongStatus, "confirmed proposal .* already", lambda session, node: services.confirm(
        session, node, p["id"], fang, "t"))
    after = run(app, lambda session, node: services.confirm(session, node, p["id"], wei, "t").as_dict())
    assert after["status"] == "submitted"
    assert all(x["confirmed_ms"] for x in after["signers"])


@pytest.mark.parametrize("cosigners, match", [
    (["J999"], "'J999' is not a member of this node"),
    (["J002", "王芳"], "'王芳' is not a member"),
    (["J001"], "named twice"),
])
def test_co_signers_who_are_not_members_are_refused(app, cosigners, match):
    actor = who(app, "li")
    assert_refused(app, NotAMember if "member" in match else InputError, match, lambda session, node: services.submit(
        session, node, s.ProposalIn(**ROAD, cosigners=cosigners), actor, "t"))


def test_a_member_user_not_linked_to_a_member_cannot_submit(app):
    actor = who(app, "loose")
    assert_refused(app, NotLinked, "not linked to a member", lambda session, node: services.submit(
        session, node, s.ProposalIn(**ROAD), actor, "t"))


@pytest.mark.parametrize("changes, field", [
    ({"title": " "}, "title"), ({"reasons": ""}, "reasons"), ({"category": "x" * 101}, "category"),
    ({"term": 0}, "term"), ({"session": 101}, "session"),
])
def test_bad_fields_are_refused_by_name(app, changes, field):
    actor = who(app, "li")
    before = rows(app)
    with pytest.raises(InputError) as refused:
        run(app, lambda session, node: services.submit(session, node, s.ProposalIn(**{**ROAD, **changes}), actor, "t"))
    assert refused.value.field == field
    assert rows(app) == before


def test_a_body_proposal_is_entered_by_the_office_only(app):
    body = submit(app, "wang", body_kind="party_group", body_name="民革金川区支部")
    assert body["kind"] == "body" and body["body"] == {"kind": "party_group", "name": "民革金川区支部"}
    assert body["status"] == "submitted"
    actor = who(app, "li")
    assert_refused(app, NotOffice, "office's decision", lambda session, node: services.submit(
        session, node, s.ProposalIn(**ROAD, body_kind="sector", body_name="农业界"), actor, "t"))
    office = who(app, "wang")
    assert_refused(app, InputError, "unknown body kind", lambda session, node: services.submit(
        session, node, s.ProposalIn(**ROAD, body_kind="club", body_name="x"), office, "t"))
    entered = submit(app, "wang", proposer="J002")
    assert entered["signers"][0]["name"] == "王芳"


# -- the filing review ----------------------------------------------------------------------------------------


def test_numbers_run_per_session_and_a_rolled_back_filing_leaves_no_gap(app):
    first = filed(app)
    assert first["number"] == "2027-1-0001" and first["status"] == "filed"
    other_session = filed(app, session=2)
    assert other_session["number"] == "2027-2-0001"
    p = submit(app)
    office = who(app, "wang")

    def file_then_fail(session, node):
        services.review(session, node, p["id"], FILE, office, "t")
        raise InputError("something later refused")

    assert_refused(app, InputError, "later refused", file_then_fail)
    assert step(app, "review", p["id"], FILE)["number"] == "2027-1-0002"


def test_not_filed_needs_a_reason_and_records_its_disposal(app):
    p = submit(app)
    refused_step(app, InputError, "reason is empty", "review", p["id"], s.ProposalReviewIn(decision="not_filed"))
    done = step(app, "review", p["id"], s.ProposalReviewIn(decision="not_filed", reason="属于个人诉求",
                                                           disposal="letter"))
    assert done["status"] == "not_filed" and done["number"] is None
    assert done["review"]["disposal"] == "letter" and done["review"]["reason"] == "属于个人诉求"
    refused_step(app, WrongStatus, "is not_filed", "review", p["id"], FILE)


def test_a_merge_keeps_the_proposers_of_both_and_a_merge_into_a_closed_one_is_refused(app):
    target = filed(app)
    other = submit(app, "fang", cosigners=["J003"])
    run(app, lambda session, node: services.confirm(session, node, other["id"], who(app, "wei"), "t"))
    merged = step(app, "review", other["id"], s.ProposalReviewIn(decision="merged", reason="内容相近",
                                                                 into=target["number"]))
    assert merged["status"] == "merged" and merged["review"]["merged_into"] == target["number"]
    with app.app_context():
        kept = services.get_proposal(get_session(), target["number"]).as_dict()
    assert [(x["name"], x["role"]) for x in kept["signers"]] == [("李强", "lead"), ("王芳", "merged"),
                                                                  ("张伟", "merged")]
    # into a closed proposal: refused, nothing stored
    closed = assigned(app)
    reply(app, closed["number"])
    step(app, "rate", closed["number"], s.ProposalRatingIn(**SATISFIED), "li")
    step(app, "close", closed["number"], s.ProposalCloseIn())
    late = submit(app, "fang")
    refused_step(app, MergeIntoClosed, "is closed", "review", late["id"],
                 s.ProposalReviewIn(decision="merged", reason="同题", into=closed["number"]))
    refused_step(app, InputError, "no proposal 'nope'", "review", late["id"],
                 s.ProposalReviewIn(decision="merged", reason="同题", into="nope"))


def test_returned_for_revision_the_proposer_edits_and_resubmits(app):
    p = submit(app)
    returned = step(app, "review", p["id"], s.ProposalReviewIn(decision="returned", reason="建议不够具体"))
    assert returned["status"] == "returned"
    refused_step(app, NotProposer, "only the proposer", "revise", p["id"],
                 s.ProposalRevisionIn(suggestions="x"), "fang")
    again = step(app, "revise", p["id"], s.ProposalRevisionIn(suggestions="每年安排养护资金不少于500万元"), "li")
    assert again["status"] == "submitted" and again["suggestions"].startswith("每年")


def test_the_review_and_flags_are_the_office_s(app):
    p = submit(app)
    refused_step(app, NotOffice, "the filing review is the office's decision", "review", p["id"], FILE, "li")
    f = step(app, "review", p["id"], FILE)
    refused_step(app, NotOffice, "office", "set_flags", f["number"], s.ProposalFlagsIn(key=True), "li")
    flagged = step(app, "set_flags", f["number"], s.ProposalFlagsIn(key=True, face_to_face=True))
    assert flagged["key"] and flagged["face_to_face"]


# -- handling units -------------------------------------------------------------------------------------------


def test_assignment_defaults_to_three_months_and_a_past_deadline_is_refused(app):
    p = filed(app)
    refused_step(app, DeadlinePassed, "has passed", "assign", p["number"],
                 s.ProposalAssignmentIn(lead="交通局", deadline="2020-01-01"))
    refused_step(app, InputError, "inactive", "assign", p["number"], s.ProposalAssignmentIn(lead="档案局"))
    refused_step(app, InputError, "no handling unit '水利局'", "assign", p["number"],
                 s.ProposalAssignmentIn(lead="水利局"))
    refused_step(app, InputError, "not a date", "assign", p["number"],
                 s.ProposalAssignmentIn(lead="交通局", deadline="next month"))
    done = step(app, "assign", p["number"], s.ProposalAssignmentIn(lead="交通局", co=["住建局"]))
    assert done["status"] == "assigned"
    assert [(a["unit"], a["role"]) for a in done["assignments"]] == [("交通局", "lead"), ("住建局", "co")]
    days = (done["assignments"][0]["deadline_ms"] - done["assignments"][0]["assigned_ms"]) / DAY
    assert 88 <= days <= 93


def test_a_reassignment_is_asked_by_the_unit_and_decided_by_the_office_only(app):
    p = assigned(app, co=())
    refused_step(app, NotAssignedUnit, "住建局 is not assigned", "request_reassignment", p["number"],
                 s.ProposalReassignmentIn(reason="不属本单位职责"), "zhou")
    with_request = step(app, "request_reassignment", p["number"],
                        s.ProposalReassignmentIn(reason="属住建局职责", suggested_unit="住建局"), "chen")
    request_id = with_request["reassignments"][0]["id"]
    approve = s.ProposalDecisionIn(decision="approved", unit="住建局")
    for user in ("chen", "li", "zhou"):
        actor = who(app, user)
        assert_refused(app, NotOffice, "deciding a reassignment is the office's decision", lambda session, node, a=actor:
                       services.decide_reassignment(session, node, p["number"], request_id, approve, a, "t"))
    office = who(app, "wang")
    done = run(app, lambda session, node: services.decide_reassignment(session, node, p["number"], request_id,
                                                                       approve, office, "t").as_dict())
    assert [(a["unit"], a["active"]) for a in done["assignments"]] == [("交通局", False), ("住建局", True)]
    assert done["reassignments"][0]["decision"] == "approved"
    # the old unit no longer replies; the new one does
    refused_step(app, NotAssignedUnit, "not assigned", "reply", p["number"],
                 s.ProposalReplyIn(classification="planned", text="x"), "chen")
    assert reply(app, p["number"], "zhou")["status"] == "replied"
    with app.app_context():  # the part is no longer 交通局's: its user no longer sees the proposal
        session = get_session()
        assert [x.ref for x in services.list_proposals(session, services.who_named(session, "chen")).items] == []
        with pytest.raises(NotFound):
            services.get_visible(session, p["number"], services.who_named(session, "chen"))


def test_only_an_assigned_unit_replies_and_cannot_now_needs_reasons(app):
    p = assigned(app, co=())
    refused_step(app, NotAssignedUnit, "住建局 is not assigned", "reply", p["number"],
                 s.ProposalReplyIn(classification="planned", text="x"), "zhou")
    refused_step(app, NotAssignedUnit, "only a contact user", "reply", p["number"],
                 s.ProposalReplyIn(classification="planned", text="x"), "wang")
    refused_step(app, InputError, "reasons is empty", "reply", p["number"],
                 s.ProposalReplyIn(classification="cannot_now", text="暂无资金"), "chen")
    refused_step(app, InputError, "unknown classification", "reply", p["number"],
                 s.ProposalReplyIn(classification="maybe", text="x"), "chen")
    done = reply(app, p["number"], classification="cannot_now", reasons="财政预算已定")
    assert done["status"] == "replied" and done["replies"][0]["reasons"] == "财政预算已定"
    refused_step(app, WrongStatus, "replied .* already", "reply", p["number"],
                 s.ProposalReplyIn(classification="planned", text="x"), "chen")


def test_contacts_are_recorded_with_phase_and_kind(app):
    p = assigned(app)
    done = step(app, "record_contact", p["number"], s.ProposalContactIn(phase="before", kind="face_to_face",
                                                                        note="面商", date="2027-03-01"), "chen")
    done = step(app, "record_contact", p["number"], s.ProposalContactIn(phase="during", kind="call"), "wang")
    assert [(c["unit"], c["phase"], c["kind"]) for c in done["contacts"]] == [("交通局", "before", "face_to_face"),
                                                                              (None, "during", "call")]
    refused_step(app, InputError, "unknown phase", "record_contact", p["number"],
                 s.ProposalContactIn(phase="later", kind="call"), "chen")
    refused_step(app, NotAssignedUnit, "only a contact user", "record_contact", p["number"],
                 s.ProposalContactIn(phase="after", kind="call"), "li")


# -- satisfaction, supervision, publication, closing ----------------------------------------------------------


def test_only_the_proposer_rates_and_unsatisfied_means_another_round(app):
    p = assigned(app)
    reply(app, p["number"])
    for user in ("fang", "wang", "chen"):
        refused_step(app, NotProposer, "only the proposer", "rate", p["number"], s.ProposalRatingIn(**SATISFIED), user)
    again = step(app, "rate", p["number"], s.ProposalRatingIn(**UNSATISFIED), "li")
    assert again["status"] == "assigned" and again["round"] == 2 and again["ratings"][0]["overall"] == "unsatisfied"
    refused_step(app, WrongStatus, "is assigned", "rate", p["number"], s.ProposalRatingIn(**SATISFIED), "li")
    reply(app, p["number"], text="追加专项资金,已开工")
    rated = step(app, "rate", p["number"], s.ProposalRatingIn(**{**SATISFIED, "overall": "basically"}), "li")
    assert rated["status"] == "rated" and [r["round"] for r in rated["replies"]] == [1, 2]
    refused_step(app, NotOffice, "closing", "close", p["number"], s.ProposalCloseIn(), "li")
    closed = step(app, "close", p["number"], s.ProposalCloseIn())
    assert closed["status"] == "closed" and closed["closed_ms"]


def test_supervision_is_of_key_or_overdue_proposals(app):
    p = assigned(app)
    sup = s.ProposalSupervisionIn(chair="李副主席", note="请加快办理")
    refused_step(app, InputError, "neither a key proposal nor overdue", "supervise", p["number"], sup)
    step(app, "set_flags", p["number"], s.ProposalFlagsIn(key=True))
    done = step(app, "supervise", p["number"], sup)
    assert done["supervisions"][0]["chair"] == "李副主席" and done["supervisions"][0]["reason"] == "key"
    refused_step(app, NotOffice, "supervision", "supervise", p["number"], sup, "li")


def test_publication_and_the_public_list_hide_the_proposers(app):
    p = assigned(app)
    refused_step(app, InputError, "no reply to publish", "publish", p["number"],
                 s.ProposalPublicationIn(proposal=True, reply=True))
    reply(app, p["number"])
    step(app, "publish", p["number"], s.ProposalPublicationIn(proposal=True, reply=True))
    with app.app_context():
        (shown,) = services.public_list(get_session(), app.config)
    assert shown["number"] == p["number"] and shown["proposers"] is None
    assert shown["replies"][0]["unit"] == "交通局"
    with app.app_context():
        (named,) = services.public_list(get_session(), {**app.config, "PROPOSALS_PUBLIC_ANONYMOUS": False})
    assert named["proposers"] == ["李强"]
    unpublished = submit(app)
    refused_step(app, WrongStatus, "is submitted", "publish", unpublished["id"], s.ProposalPublicationIn(proposal=True))


def test_each_user_sees_what_is_theirs(app):
    mine = assigned(app, co=())
    other = filed(app, title="另一件")
    with app.app_context():
        session = get_session()

        def seen(user, scope="all"):
            return sorted(p.ref for p in services.list_proposals(session, services.who_named(session, user),
                                                                 scope).items)

        assert seen("wang") == sorted([mine["number"], other["number"]])
        assert seen("chen") == [mine["number"]] and seen("zhou") == []
        assert seen("li", "mine") == sorted([mine["number"], other["number"]]) and seen("fang") == []
        assert seen("zhang") == []
        with pytest.raises(NotFound):
            services.get_visible(session, mine["number"], services.who_named(session, "zhou"))
        with pytest.raises(NotFound):
            services.get_visible(session, mine["number"], services.who_named(session, "fang"))


# -- overdue and the guard ------------------------------------------------------------------------------------


class Practice:
    """A practice that refuses closing without a face-to-face contact and hears of overdue items."""

    def __init__(self):
        self.overdue = []
        self.asked = []

    @hookimpl
    def proposal_guard(self, proposal, action, fields, config):
        self.asked.append(action)
        if action == "close" and not any(c["kind"] == "face_to_face" for c in proposal["contacts"]):
            return ["record a face-to-face contact first (面对面)"]
        return None

    @hookimpl
    def item_overdue(self, session, item, config):
        self.overdue.append(dict(item))


def test_overdue_units_are_marked_once_and_told_to_item_overdue_and_the_guard_refuses(county):
    practice = Practice()
    app = create_app(county, test_config={"WTF_CSRF_ENABLED": False}, plugins=[practice])
    try:
        p = assigned(app, deadline=(dt.date.today() + dt.timedelta(days=2)).isoformat())
        reply(app, p["number"], "zhou")  # the co-handling unit replied in time
        with app.app_context():
            later = dataclasses.replace(node_context(), clock=lambda: node_context().now_ms() + 5 * DAY)
        marked = run(app, lambda session, node: [(a.unit.name, a.overdue) for a in services.mark_overdue(session, node)],
                     later)
        assert marked == [("交通局", True)]
        assert practice.overdue == [{"kind": "proposal", "ref": p["number"], "title": ROAD["title"],
                                     "due_ms": p["assignments"][0]["deadline_ms"], "unit": "交通局", "areas": []}]
        assert run(app, lambda session, node: services.mark_overdue(session, node), later) == []
        overdue = step(app, "supervise", p["number"], s.ProposalSupervisionIn(chair="主席", note="逾期督办"))
        assert overdue["supervisions"][0]["reason"] == "overdue"
        reply(app, p["number"])
        step(app, "rate", p["number"], s.ProposalRatingIn(**SATISFIED), "li")
        refused_step(app, GuardRefused, r"refused \(close\): record a face-to-face contact first", "close",
                     p["number"], s.ProposalCloseIn())
        step(app, "record_contact", p["number"], s.ProposalContactIn(phase="after", kind="face_to_face"), "chen")
        assert step(app, "close", p["number"], s.ProposalCloseIn())["status"] == "closed"
        assert {"submit", "review", "assign", "reply", "rate", "contact", "close"} <= set(practice.asked)
    finally:
        app.extensions["shangliang.db"].engine.dispose()


def test_an_unknown_proposal_is_not_found(app):
    with pytest.raises(NotFound, match="no proposal"):
        step(app, "close", "2027-9-9999", s.ProposalCloseIn())


def test_the_beat_task_marks_units_past_their_deadline_now(app, client):
    from shangliang.core.proposals.models import ProposalAssignment
    from shangliang.core.proposals.tasks import mark_overdue_task

    p = assigned(app, co=())
    with app.app_context(), transaction("test") as session:
        session.get(ProposalAssignment, p["assignments"][0]["id"]).deadline_ms = node_context().now_ms() - 60_000
    assert "shangliang.proposals.mark_overdue" in app.extensions["celery"].tasks
    assert app.extensions["celery"].conf.beat_schedule["proposals.mark_overdue"]["schedule"] == 300.0
    assert mark_overdue_task.apply().get() == 1
    assert mark_overdue_task.apply().get() == 0
    with app.app_context():
        assert services.get_proposal(get_session(), p["number"]).assignments[0].overdue is True


def test_a_reference_of_other_digits_is_not_found(app):
    for ref in ("³", "١٢", "99999999999"):
        with pytest.raises(NotFound, match="no proposal"):
            with app.app_context():
                services.get_proposal(get_session(), ref)
