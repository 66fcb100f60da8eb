"""The appraisal API (/api/v1/appraisals): each step through JSON with its status code, the roles that may take
it, bad input answered by name with nothing stored, and a handling unit seeing only its own rectifications."""

from __future__ import annotations

from .conftest import YEAR, basic, expect_error, key_topics, ok, rows

API = "/api/v1/appraisals"


def post(client, path, body, user="wang"):
    return client.post(f"{API}{path}", json=body, headers=basic(user))


def get(client, path, user="wang"):
    return client.get(f"{API}{path}", headers=basic(user))


def created(client, kind="departments") -> dict:
    return ok(post(client, "", {"year": YEAR, "kind": kind, "title": "政府部门民主评议"}), 201)["appraisal"]


def test_the_appraisal_through_the_api_to_an_accepted_rectification(app, client):
    uids = key_topics(app)
    assert [c["topic"] for c in ok(get(client, f"/candidates?year={YEAR}", "li"))["candidates"]] == uids
    response = post(client, "", {"year": YEAR, "kind": "departments", "title": "政府部门民主评议"})
    a = ok(response, 201)["appraisal"]
    assert response.headers["Location"].endswith(f"{API}/{a['id']}") and a["status"] == "open"
    path = f"/{a['id']}"
    a = ok(post(client, f"{path}/subjects", {"unit": "交通局"}), 201)["appraisal"]
    a = ok(post(client, f"{path}/subjects", {"topic": uids[1], "unit": "住建局"}), 201)["appraisal"]
    traffic, housing = (s["id"] for s in a["subjects"])
    a = ok(post(client, f"{path}/groups", {"name": "第一组", "leader": "J001", "members": ["J002"],
                                           "subjects": [traffic, housing]}), 201)["appraisal"]
    group = a["groups"][0]["id"]
    ok(post(client, f"{path}/visits", {"group": group, "subject": traffic, "date": "2026-11-02", "place": "交通局",
                                       "findings": "养护资金不足"}), 201)
    for subject in (traffic, housing):
        for member, rating in (("J001", "satisfied"), ("J002", "unsatisfied")):
            ok(post(client, f"{path}/ratings", {"subject": subject, "member": member, "rating": rating}), 201)
    a = ok(post(client, f"{path}/report", {"body": "评议报告", "recipients": ["区委", "区政府"]}))["appraisal"]
    assert a["status"] == "reported" and a["report"]["recipients"] == ["区委", "区政府"]
    rect = ok(post(client, f"{path}/rectifications", {"subject": traffic, "requirements": "加强养护",
                                                      "working_days": 20}), 201)["rectification"]
    assert (rect["unit"], rect["state"], rect["working_days"]) == ("交通局", "assigned", 20)
    other = ok(post(client, f"{path}/rectifications", {"subject": housing, "requirements": "加快改造",
                                                       "due": "+30"}), 201)["rectification"]
    assert other["unit"] == "住建局"

    # a handling unit sees only its own rectifications
    assert [r["id"] for r in ok(get(client, "/rectifications", "chen"))["rectifications"]] == [rect["id"]]
    assert [r["id"] for r in ok(get(client, "/rectifications", "zhou"))["rectifications"]] == [other["id"]]
    assert ok(get(client, "/rectifications", "loner"))["rectifications"] == []
    assert len(ok(get(client, "/rectifications"))["rectifications"]) == 2
    expect_error(get(client, f"/rectifications/{other['id']}", "chen"), 404, "not_found")
    seen = ok(get(client, path, "chen"))["appraisal"]
    assert [s["rectification"] and s["rectification"]["id"] for s in seen["subjects"]] == [rect["id"], None]
    assert seen["subjects"][0]["ratings"] is None and seen["subjects"][0]["tally"]["total"] == 2
    assert ok(get(client, path))["appraisal"]["subjects"][0]["ratings"][0]["member_no"] == "J001"

    r = f"/rectifications/{rect['id']}"
    expect_error(post(client, f"/rectifications/{other['id']}/reports", {"kind": "final", "body": "x"}, "chen"),
                 404, "not_found")
    expect_error(post(client, f"{r}/reports", {"kind": "final", "body": "x"}, "wang"), 403, "forbidden")
    got = ok(post(client, f"{r}/reports", {"kind": "final", "body": "已整改"}, "chen"), 201)["rectification"]
    report = got["reports"][0]["id"]
    expect_error(post(client, f"{r}/reports/{report}/review", {"decision": "accept"}, "chen"), 403, "forbidden")
    done = ok(post(client, f"{r}/reports/{report}/review", {"decision": "accept"}))["rectification"]
    assert done["state"] == "accepted"


def test_the_api_refuses_bad_input_by_name_and_stores_nothing(app, client):
    a = created(client)
    path = f"/{a['id']}"
    subject = ok(post(client, f"{path}/subjects", {"unit": "交通局"}), 201)["appraisal"]["subjects"][0]["id"]
    before = rows(app)
    expect_error(post(client, "", {"year": YEAR, "kind": "departments", "title": "again"}), 409, "conflict",
                 "exists already")
    expect_error(post(client, "", {"year": YEAR, "kind": "people", "title": "x"}), 400, "invalid_input",
                 "unknown appraisal kind")
    expect_error(post(client, "", {"year": "soon", "kind": "departments", "title": "x"}), 400, "invalid_input")
    expect_error(post(client, f"{path}/subjects", {"unit": "没有的局"}), 400, "invalid_input", "no handling unit")
    expect_error(post(client, f"{path}/ratings", {"subject": subject, "member": "J001", "rating": "satisfied"}),
                 400, "invalid_input", "no appraisal group")
    expect_error(post(client, f"{path}/report", {"body": "x", "recipients": ["区委"]}), 409, "conflict",
                 "not rated yet")
    expect_error(post(client, f"{path}/rectifications", {"subject": subject, "requirements": "x",
                                                         "working_days": 5}), 409, "conflict", "follows the report")
    expect_error(post(client, f"{path}/subjects/999/decision", {"decision": "confirm"}), 404, "not_found")
    expect_error(post(client, "/999/subjects", {"unit": "交通局"}), 404, "not_found")
    expect_error(get(client, "/999"), 404, "not_found")
    expect_error(post(client, f"{path}/subjects", {"unit": "住建局"}, "li"), 403, "forbidden")
    expect_error(post(client, "", {"year": YEAR + 1, "kind": "departments", "title": "x"}, "chen"), 403, "forbidden")
    assert rows(app) == before


def test_any_user_reads_the_list(client):
    a = created(client)
    for user in ("li", "chen", "zhang", "admin"):
        assert [x["id"] for x in ok(get(client, "", user))["appraisals"]] == [a["id"]]
    assert ok(get(client, f"?year={YEAR + 1}"))["appraisals"] == []
    assert client.get(API).status_code == 401
