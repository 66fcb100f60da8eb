"""The activity pages: the list with the planning form, one activity with its forms, a refusal flashed by
name with nothing stored, online opinions from a member's session, the nav item."""

from __future__ import annotations

from .conftest import FORUM, FUTURE, PASSWORD, act, determined_topic, ok, planned, rows, snapshot


def sign_in(client, user):
    answer = client.post("/login", data={"username": user, "password": PASSWORD})
    assert answer.status_code == 302


def test_the_list_and_planning_from_the_page(app, client):
    topic = determined_topic(client)
    sign_in(client, "wang")
    page = client.get("/activities")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'href="/activities"' in html  # the nav item
    assert 'action="/activities"' in html  # the planning form for office staff
    answer = client.post("/activities", data={**FORUM, "topics": topic})
    assert answer.status_code == 303
    shown = client.get(answer.headers["Location"])
    html = shown.get_data(as_text=True)
    assert FORUM["title"] in html and topic in html and FORUM["place"] in html


def test_bad_input_is_flashed_by_name_and_nothing_stored(app, client):
    topic = determined_topic(client)
    sign_in(client, "wang")
    before = rows(app)
    answer = client.post("/activities", data={**FORUM, "topics": topic, "ends": "2026-06-10 08:00"})
    assert answer.status_code == 400
    assert "协商活动的结束时间早于开始时间" in answer.get_data(as_text=True)
    assert rows(app) == before


def test_attendance_of_someone_not_invited_is_flashed_and_nothing_stored(app, client):
    uid, _ = planned(client)
    ok(act(client, uid, "invite", kind="member", member_no="J001"))
    sign_in(client, "wang")
    before = snapshot(client, uid)
    answer = client.post(f"/activities/{uid}/act", data={"action": "attend", "present": "李强\n路人甲"},
                         follow_redirects=True)
    assert "路人甲 未受邀参加协商活动" in answer.get_data(as_text=True)
    assert snapshot(client, uid) == before
    answer = client.post(f"/activities/{uid}/act", data={"action": "attend", "present": "李强"}, follow_redirects=True)
    assert snapshot(client, uid)["invitations"][0]["attended"] is True


def test_a_member_posts_online_only_while_the_window_is_open(app, client):
    uid, _ = planned(client)
    sign_in(client, "li")
    html = client.get(f"/activities/{uid}").get_data(as_text=True)
    assert f'action="/activities/{uid}/opinions"' not in html  # no window: no form
    answer = client.post(f"/activities/{uid}/opinions", data={"text": "修路"}, follow_redirects=True)
    assert "没有网络协商窗口" in answer.get_data(as_text=True)
    ok(act(client, uid, "open_window", closes=FUTURE))
    html = client.get(f"/activities/{uid}").get_data(as_text=True)
    assert f'action="/activities/{uid}/opinions"' in html
    assert f'action="/activities/{uid}/act"' not in html  # a member does not run the activity
    client.post(f"/activities/{uid}/opinions", data={"text": "先修东段"})
    assert [o["text"] for o in snapshot(client, uid)["opinions"]] == ["先修东段"]
    assert client.post(f"/activities/{uid}/act", data={"action": "close_window"}).status_code == 403


def test_the_whole_page_renders_with_everything_recorded(app, client):
    uid, _ = planned(client)
    ok(act(client, uid, "invite", kind="member", member_no="J001"))
    ok(act(client, uid, "opinion", speaker="李强", member_no="J001", text="东段优先"))
    ok(act(client, uid, "opinion", speaker="某人", text="广告"))
    ok(act(client, uid, "moderate", opinion=2, decision="hide", reason="与议题无关"))
    ok(act(client, uid, "consensus", text="东段优先"))
    ok(act(client, uid, "minutes", text="会议纪要正文", approved_by="主席会议"))
    sign_in(client, "wang")
    html = client.get(f"/activities/{uid}").get_data(as_text=True)
    for text in ("东段优先", "与议题无关", "会议纪要正文", "主席会议", "李强"):
        assert text in html
    client.post(f"/activities/{uid}/act", data={"action": "close"})
    assert snapshot(client, uid)["status"] == "closed"
    english = client.get(f"/activities/{uid}", headers={"Accept-Language": "en"})
    assert english.status_code == 200
