"""The proposals API: the whole path from submission to publication through HTTP, each refusal's status and
error body (who asks: 403; what is asked: 400/409), nothing stored after a refusal, what each user sees, and
every route in the OpenAPI document."""

from __future__ import annotations

from .conftest import (ROAD, SATISFIED, UNSATISFIED, assigned, basic, expect_error, filed, ok, post, replied, rows,
                       submitted)


def test_a_member_s_proposal_from_submission_to_publication(client):
    p = submitted(client, cosigners=["J002"])
    assert p["status"] == "signing"
    ok(post(client, f"/{p['id']}/signers/confirm", {}, "fang"))
    p = ok(post(client, f"/{p['id']}/review", {"decision": "filed"}))["proposal"]
    number = p["number"]
    assert number == "2027-1-0001"
    ok(post(client, f"/{number}/flags", {"key": True, "face_to_face": True}))
    p = ok(post(client, f"/{number}/assignments", {"lead": "交通局", "co": ["住建局"]}))["proposal"]
    assert p["status"] == "assigned"
    ok(post(client, f"/{number}/contacts", {"phase": "before", "kind": "face_to_face", "note": "面商"}, "chen"), 201)
    ok(post(client, f"/{number}/replies", {"classification": "planned", "text": "列入明年计划"}, "chen"), 201)
    p = ok(post(client, f"/{number}/ratings", UNSATISFIED, "li"), 201)["proposal"]
    assert p["status"] == "assigned" and p["round"] == 2
    ok(post(client, f"/{number}/replies", {"classification": "solved_or_solving", "text": "已开工"}, "chen"), 201)
    p = ok(post(client, f"/{number}/ratings", SATISFIED, "li"), 201)["proposal"]
    assert p["status"] == "rated"
    ok(post(client, f"/{number}/publication", {"proposal": True, "reply": True}))
    p = ok(post(client, f"/{number}/close", {}))["proposal"]
    assert p["status"] == "closed"
    public = ok(client.get("/api/v1/proposals/public", headers=basic("zhang")))["proposals"]
    assert [x["number"] for x in public] == [number] and public[0]["proposers"] is None
    assert [r["round"] for r in public[0]["replies"]] == [1, 2]


def test_who_asks_is_refused_with_403_and_nothing_is_stored(app, client):
    p = replied(client)
    number = p["number"]
    before = rows(app)
    expect_error(post(client, f"/{number}/ratings", SATISFIED, "fang"), 403, "forbidden", "only the proposer")
    expect_error(post(client, f"/{number}/ratings", SATISFIED, "chen"), 403, "forbidden", "needs the role")
    expect_error(post(client, f"/{number}/supervision", {"chair": "主席", "note": "x"}, "li"), 403, "forbidden")
    assert rows(app) == before


def test_bad_input_answers_400_or_409_naming_the_problem(app, client):
    p = assigned(client, co=())
    number = p["number"]
    before = rows(app)
    expect_error(post(client, "", {**ROAD, "cosigners": ["J999"]}, "li"), 400, "invalid_input",
                 "'J999' is not a member")
    expect_error(post(client, f"/{number}/replies", {"classification": "planned", "text": "x"}, "zhou"), 403,
                 "forbidden", "住建局 is not assigned")
    other = filed(client, title="另一件")
    expect_error(post(client, f"/{other['number']}/assignments", {"lead": "交通局", "deadline": "2020-01-01"}), 400,
                 "invalid_input", "has passed")
    expect_error(post(client, f"/{number}/replies", {"classification": "cannot_now", "text": "x"}, "chen"), 400,
                 "invalid_input", "reasons is empty")
    expect_error(post(client, f"/{number}/close", {}), 409, "conflict", "is assigned")
    expect_error(post(client, f"/{number}/review", {"decision": "maybe"}), 400, "invalid_input", "decision")
    after = rows(app)
    # only the second proposal filed above was stored; every refusal stored nothing
    assert {k: after[k] - before[k] for k in before if after[k] != before[k]} == {
        "proposals": 1, "proposal_signers": 1, "audit_events": after["audit_events"] - before["audit_events"]}


def test_a_reassignment_decided_by_anyone_but_the_office_is_refused(app, client):
    p = assigned(client, co=())
    number = p["number"]
    asked = ok(post(client, f"/{number}/reassignment-requests", {"reason": "属住建局职责", "suggested_unit": "住建局"},
                    "chen"), 201)["proposal"]
    request_id = asked["reassignments"][0]["id"]
    before = rows(app)
    for user in ("chen", "li", "zhang"):
        expect_error(post(client, f"/{number}/reassignment-requests/{request_id}/decision",
                          {"decision": "approved", "unit": "住建局"}, user), 403, "forbidden")
    assert rows(app) == before
    done = ok(post(client, f"/{number}/reassignment-requests/{request_id}/decision",
                   {"decision": "approved", "unit": "住建局"}))["proposal"]
    assert [a["unit"] for a in done["assignments"] if a["active"]] == ["住建局"]


def test_each_user_sees_what_is_theirs(client):
    mine = assigned(client, co=())
    other = submitted(client, "fang", title="王芳的提案")

    def listed(user):
        return sorted(p["ref"] for p in ok(client.get("/api/v1/proposals", headers=basic(user)))["proposals"])

    assert listed("wang") == sorted([mine["number"], str(other["id"])])
    assert listed("chen") == [mine["number"]] and listed("zhou") == []
    assert listed("li") == [mine["number"]] and listed("zhang") == []
    expect_error(client.get(f"/api/v1/proposals/{mine['number']}", headers=basic("zhou")), 404, "not_found")
    expect_error(client.get(f"/api/v1/proposals/{other['id']}", headers=basic("li")), 404, "not_found")
    assert ok(client.get(f"/api/v1/proposals/{mine['number']}", headers=basic("chen")))["proposal"]["number"]


def test_every_proposal_route_is_in_the_openapi_document(client):
    paths = ok(client.get("/api/v1/openapi.json"))["paths"]
    for path in ("/api/v1/proposals", "/api/v1/proposals/public", "/api/v1/proposals/standards", "/api/v1/proposals/{ref}",
                 "/api/v1/proposals/{ref}/signers/confirm", "/api/v1/proposals/{ref}/revision",
                 "/api/v1/proposals/{ref}/review", "/api/v1/proposals/{ref}/flags",
                 "/api/v1/proposals/{ref}/assignments", "/api/v1/proposals/{ref}/reassignment-requests",
                 "/api/v1/proposals/{ref}/reassignment-requests/{request_id}/decision",
                 "/api/v1/proposals/{ref}/replies", "/api/v1/proposals/{ref}/contacts",
                 "/api/v1/proposals/{ref}/ratings", "/api/v1/proposals/{ref}/supervision",
                 "/api/v1/proposals/{ref}/publication", "/api/v1/proposals/{ref}/close"):
        assert path in paths, path


def test_the_filing_standards_are_the_node_s(county):
    from shangliang.core.app import create_app

    app = create_app(county, test_config={"WTF_CSRF_ENABLED": False,
                                          "PROPOSALS_STANDARDS": ["属于本级职责范围", "一事一案"]})
    try:
        answer = ok(app.test_client().get("/api/v1/proposals/standards", headers=basic("wang")))
        assert answer == {"standards": ["属于本级职责范围", "一事一案"]}
    finally:
        app.extensions["shangliang.db"].engine.dispose()
