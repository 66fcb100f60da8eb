"""The proposal pages: the lists for each user, submitting from the form, one proposal with the forms of the
steps the user may take, a refusal flashed by name with nothing stored, the public list without names, the
nav item."""

from __future__ import annotations

from .conftest import PASSWORD, ROAD, SATISFIED, assigned, filed, replied, rows, submitted


def sign_in(client, user):
    answer = client.post("/login", data={"username": user, "password": PASSWORD})
    assert answer.status_code == 302


def test_a_member_submits_from_the_form_and_finds_it_among_their_own(app, client):
    sign_in(client, "li")
    page = client.get("/proposals/new")
    assert page.status_code == 200 and 'action="/proposals"' in page.get_data(as_text=True)
    assert 'name="body_kind"' not in page.get_data(as_text=True)  # the office's fields only
    answer = client.post("/proposals", data={**{k: str(v) for k, v in ROAD.items()}, "cosigners": "J002、J003",
                                             "proposer": "J003"})
    assert answer.status_code == 303
    html = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert ROAD["title"] in html and "李强" in html and "王芳" in html and "张伟" in html
    mine = client.get("/proposals/mine").get_data(as_text=True)
    assert ROAD["title"] in mine
    assert 'href="/proposals"' in mine  # the nav item


def test_bad_input_is_flashed_by_name_and_nothing_stored(app, client):
    sign_in(client, "li")
    before = rows(app)
    answer = client.post("/proposals", data={**{k: str(v) for k, v in ROAD.items()}, "cosigners": "J999"})
    assert answer.status_code == 400
    assert "&#39;J999&#39; 不是本节点的委员" in answer.get_data(as_text=True)
    assert rows(app) == before


def test_the_office_reviews_and_assigns_from_the_page(app, client):
    p = submitted(client)
    sign_in(client, "wang")
    html = client.get(f"/proposals/{p['id']}").get_data(as_text=True)
    assert 'value="review"' in html
    answer = client.post(f"/proposals/{p['id']}/office", data={"action": "review", "decision": "filed"})
    assert answer.status_code == 303 and answer.headers["Location"].endswith("/proposals/2027-1-0001")
    before = rows(app)
    refused = client.post("/proposals/2027-1-0001/office", data={"action": "assign", "lead": "交通局",
                                                                "deadline": "2020-01-01"}, follow_redirects=True)
    assert "已过" in refused.get_data(as_text=True)
    assert rows(app) == before
    client.post("/proposals/2027-1-0001/office", data={"action": "assign", "lead": "交通局"})
    assert "交通局" in client.get("/proposals/2027-1-0001").get_data(as_text=True)


def test_a_unit_sees_only_its_proposals_and_replies_from_the_page(app, client):
    p = assigned(client, co=())
    other = filed(client, title="另一件提案")
    sign_in(client, "chen")
    listed = client.get("/proposals/assigned").get_data(as_text=True)
    assert p["title"] in listed and other["title"] not in listed
    assert client.get(f"/proposals/{other['number']}").status_code == 404
    answer = client.post(f"/proposals/{p['number']}/unit", data={"action": "reply", "classification": "planned",
                                                                 "text": "列入明年计划"})
    assert answer.status_code == 303
    assert "列入明年计划" in client.get(f"/proposals/{p['number']}").get_data(as_text=True)


def test_the_proposer_rates_from_the_page_and_another_member_is_refused(app, client):
    p = replied(client)
    sign_in(client, "fang")
    assert client.get(f"/proposals/{p['number']}").status_code == 404  # not hers, not public
    before = rows(app)
    refused = client.post(f"/proposals/{p['number']}/proposer", data={"action": "rate", **SATISFIED})
    assert refused.status_code == 303
    with client.session_transaction() as session:
        assert any("只有提案" in message for _, message in session["_flashes"])
    assert rows(app) == before
    client.post("/logout")
    sign_in(client, "li")
    assert 'value="rate"' in client.get(f"/proposals/{p['number']}").get_data(as_text=True)
    answer = client.post(f"/proposals/{p['number']}/proposer", data={"action": "rate", **SATISFIED})
    assert answer.status_code == 303
    shown = client.get(f"/api/v1/proposals/{p['number']}").get_json()["proposal"]
    assert shown["status"] == "rated" and shown["ratings"][0]["overall"] == "satisfied"


def test_the_public_list_shows_published_proposals_without_names(app, client):
    p = replied(client)
    sign_in(client, "wang")
    client.post(f"/proposals/{p['number']}/office", data={"action": "publish", "proposal": "1", "reply": "1"})
    client.post("/logout")
    html = app.test_client().get("/proposals/public").get_data(as_text=True)
    assert p["number"] in html and ROAD["title"] in html and "已安排资金" in html
    assert "李强" not in html
