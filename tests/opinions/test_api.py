"""The opinions API (/api/v1/opinions): parsing, status codes and error bodies, who may call what, and nothing
stored on a refusal."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from .conftest import REPORT, basic, decided, expect_error, ok, pair_parent, post, rows, written


def test_write_show_list_and_the_location(client, app):
    response = post(client, "", REPORT, "li")
    body = ok(response, 201)["opinion"]
    assert response.headers["Location"].endswith(f"/api/v1/opinions/{body['id']}")
    assert body["author"]["member_no"] == "J001" and body["status"] == "pending"
    shown = ok(client.get(f"/api/v1/opinions/{body['id']}", headers=basic("zhang")))["opinion"]
    assert shown["title"] == REPORT["title"]
    listed = ok(client.get("/api/v1/opinions?limit=1", headers=basic("fang")))
    assert [o["id"] for o in listed["opinions"]] == [body["id"]] and listed["next_cursor"] is None
    assert ok(client.get("/api/v1/opinions?year=2025", headers=basic("fang")))["opinions"] == []
    expect_error(client.get("/api/v1/opinions?status=lost", headers=basic("fang")), 400, "invalid_input", "status")
    expect_error(client.get("/api/v1/opinions/777", headers=basic("fang")), 404, "not_found")
    expect_error(client.get("/api/v1/opinions"), 401, "unauthenticated")


def test_refusals_answer_by_their_name_and_store_nothing(client, app):
    before = rows(app)
    expect_error(post(client, "", REPORT, "zhang"), 403, "forbidden")
    expect_error(post(client, "", REPORT, "loose"), 403, "forbidden", "not linked")
    expect_error(post(client, "", {**REPORT, "title": ""}, "li"), 400, "invalid_input", "title")
    expect_error(post(client, "", {k: v for k, v in REPORT.items() if k != "sentiment"}, "li"), 400,
                 "invalid_input")
    expect_error(post(client, "", {**REPORT, "author_kind": "sector", "author_name": "农业界"}, "li"), 403,
                 "forbidden", "office")
    expect_error(client.post("/api/v1/opinions", data="x", headers={**basic("li"), "Content-Type": "text/plain"}),
                 415, "unsupported_media_type")
    assert rows(app) == before


def test_edit_decide_and_compile(client, app, county, runner):
    o = written(client)
    edited = ok(client.patch(f"/api/v1/opinions/{o['id']}", json={"category": "医疗卫生"}, headers=basic("wang")))
    assert edited["opinion"]["category"] == "医疗卫生" and edited["opinion"]["events"][0]["kind"] == "edited"
    expect_error(client.patch(f"/api/v1/opinions/{o['id']}", json={"category": "x"}, headers=basic("li")), 403,
                 "forbidden")
    before = rows(app)
    expect_error(post(client, f"/{o['id']}/decisions", {"decision": "liked"}), 400, "invalid_input")
    expect_error(post(client, f"/{o['id']}/decisions", {"decision": "forwarded"}), 400, "invalid_input",
                 "no parent")
    expect_error(post(client, f"/{o['id']}/decisions", {"decision": "used"}, "li"), 403, "forbidden")
    assert rows(app) == before
    answer = decided(client, o["id"], "used")
    assert answer["opinion"]["status"] == "decided" and answer["sent"] == []
    expect_error(post(client, f"/{o['id']}/decisions", {"decision": "used"}), 409, "conflict", "already")
    pair_parent(county, runner)
    forwarded = decided(client, o["id"], "forwarded")
    assert forwarded["sent"][0]["kind"] == "x-opinions.forward" and forwarded["sent"][0]["to"] == "6203"
    issue = ok(post(client, "/issues", {"year": 2026, "number": 1, "opinions": [o["id"]]}), 201)["issue"]
    assert issue["label"] == "2026年第1期"
    expect_error(post(client, "/issues", {"year": 2026, "number": 1, "opinions": [o["id"]]}), 409, "conflict")
    expect_error(post(client, "/issues", {"year": 2026, "number": 2, "opinions": [o["id"]]}, "li"), 403,
                 "forbidden")
    assert [i["ref"] for i in ok(client.get("/api/v1/opinions/issues", headers=basic("li")))["issues"]] == ["2026-1"]


def test_statistics_and_the_xlsx_download(client, app):
    o = written(client)
    decided(client, o["id"], "instruction", leader="张书记", text="请研究", date="2026-03-02")
    decided(client, o["id"], "adopted", body="区委办公室")
    stats = ok(client.get("/api/v1/opinions/statistics?year=2026", headers=basic("zhang")))
    assert stats["totals"]["adopted"] == 1 and stats["totals"]["instructions"] == 1
    assert stats["by_member"][0]["adopted_by_level"] == {"county": 1}
    expect_error(client.get("/api/v1/opinions/statistics?year=12", headers=basic("zhang")), 400, "invalid_input")
    client.post("/login", data={"username": "zhang", "password": "correct-horse"})
    download = client.get("/opinions/statistics?year=2026&format=xlsx")
    assert download.status_code == 200 and download.mimetype.endswith("spreadsheetml.sheet")
    book = load_workbook(io.BytesIO(download.data))
    assert len(book.sheetnames) == 5
    sheet = book[book.sheetnames[1]]
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[1][:3] == ["李强", "J001", "620302"] and values[1][8] == 1  # adopted


def _not_filed(client, disposal="social_opinion", **changes) -> dict:
    proposal = {"title": "关于农村公路养护的建议", "reasons": "部分乡村道路破损严重", "suggestions": "设立养护专项资金",
                "category": "城乡建设", "term": 12, "session": 1, "year": 2026, **changes}
    p = ok(client.post("/api/v1/proposals", json=proposal, headers=basic("li")), 201)["proposal"]
    return ok(client.post(f"/api/v1/proposals/{p['id']}/review", headers=basic("wang"),
                          json={"decision": "not_filed", "reason": "不属提案范围", "disposal": disposal}))["proposal"]


def test_a_proposal_not_filed_becomes_a_report(client, app):
    p = _not_filed(client)
    assert p["opinion"] == {"intended": True, "ref": None}
    before = rows(app)
    expect_error(post(client, "/from-proposal", {"proposal": str(p["id"])}, "li"), 403, "forbidden")
    expect_error(post(client, "/from-proposal", {"proposal": "88888"}), 404, "not_found")
    letter = _not_filed(client, "letter")
    expect_error(post(client, "/from-proposal", {"proposal": str(letter["id"])}), 409, "conflict", "social_opinion")
    assert rows(app)["opinions"] == before["opinions"]
    response = post(client, "/from-proposal", {"proposal": str(p["id"])})
    o = ok(response, 201)["opinion"]
    assert response.headers["Location"].endswith(f"/api/v1/opinions/{o['id']}")
    assert (o["title"], o["sentiment"], o["suggestion"], o["year"]) == (p["title"], p["reasons"], p["suggestions"],
                                                                        2026)
    assert o["author"] == {"kind": "member", "name": "李强", "member_no": "J001", "node": "620302"}
    shown = ok(client.get(f"/api/v1/proposals/{p['id']}", headers=basic("wang")))["proposal"]
    assert shown["opinion"] == {"intended": True, "ref": str(o["id"])}
    expect_error(post(client, "/from-proposal", {"proposal": str(p["id"])}), 409, "conflict", "already")
    body = ok(client.post("/api/v1/proposals", headers=basic("wang"), json={
        "title": "关于加强界别协商的建议", "reasons": "界别作用发挥不够", "suggestions": "建立界别协商制度",
        "category": "政协工作", "term": 12, "session": 1, "year": 2026, "body_kind": "party_group",
        "body_name": "民革支部"}), 201)["proposal"]
    ok(client.post(f"/api/v1/proposals/{body['id']}/review", headers=basic("wang"),
                   json={"decision": "not_filed", "reason": "转社情民意", "disposal": "social_opinion"}))
    made = ok(post(client, "/from-proposal", {"proposal": str(body["id"])}), 201)["opinion"]
    assert made["author"] == {"kind": "party_group", "name": "民革支部", "member_no": None, "node": "620302"}
