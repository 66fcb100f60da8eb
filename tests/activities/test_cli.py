"""``shangliang activities``: every command with --json, the named error and exit status of a refusal."""

from __future__ import annotations

import json

from icalendar import Calendar

from ..conftest import invoke
from .conftest import FORUM, determined_topic


def run_json(runner, node_dir, *args):
    result = invoke(runner, node_dir, "activities", *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_the_commands_take_an_activity_from_planning_to_closing(runner, township, client, tmp_path):
    topic = determined_topic(client)
    made = run_json(runner, township, "create", "--form", "forum", "--title", FORUM["title"], "--topic", topic,
                    "--starts", FORUM["starts"], "--ends", FORUM["ends"], "--place", FORUM["place"],
                    "--organiser", FORUM["organiser"])
    uid = made["uid"]
    assert [a["uid"] for a in run_json(runner, township, "list")] == [uid]
    data = run_json(runner, township, "invite", uid, "--kind", "member", "--member", "J001")
    invitation = data["activity"]["invitations"][0]["id"]
    run_json(runner, township, "invite", uid, "--kind", "department", "--name", "县交通运输局")
    run_json(runner, township, "reply", uid, "--invitation", str(invitation), "--reply", "attend")
    run_json(runner, township, "research", uid, "--who", "提案委", "--place", "沿线", "--date", "2026-05-20",
             "--findings", "破损")
    run_json(runner, township, "attend", uid, "J001")
    data = run_json(runner, township, "opinion", uid, "--speaker", "李强", "--member", "J001", "--text", "东段优先")
    first = data["activity"]["opinions"][0]["id"]
    run_json(runner, township, "opinion", uid, "--speaker", "王芳", "--kind", "written", "--text", "同意东段")
    run_json(runner, township, "window", uid, "open", "--closes", "2099-01-01 00:00")
    assert run_json(runner, township, "show", uid)["window_open"] is True
    run_json(runner, township, "window", uid, "close")
    data = run_json(runner, township, "moderate", uid, "--opinion", str(first + 1), "--merge-into", str(first),
                    "--reason", "意见相同")
    assert data["activity"]["opinions"][1]["merged_into"] == first
    run_json(runner, township, "consensus", uid, "--text", "东段优先")
    material = tmp_path / "议程.txt"
    material.write_text("议程", encoding="utf-8")
    assert run_json(runner, township, "material", uid, str(material))[0]["name"] == "议程.txt"
    run_json(runner, township, "minutes", uid, "--text", "纪要", "--approved-by", "主席会议")
    closed = run_json(runner, township, "close", uid)
    assert closed["activity"]["status"] == "closed"
    assert closed["participation"][0] == {"member_id": 1, "name": "李强", "invited": True, "reply": "attend",
                                          "attended": True, "opinions": 1}
    ics = run_json(runner, township, "ics")["ics"]
    assert [str(e["uid"]) for e in Calendar.from_ical(ics).walk("VEVENT")] == [f"{uid}@shangliang"]
    text = invoke(runner, township, "activities", "show", uid)
    assert text.exit_code == 0 and "status: closed" in text.output


def test_a_refusal_is_a_named_error_with_exit_status_2(runner, township, client):
    topic = determined_topic(client)
    made = run_json(runner, township, "create", "--form", "forum", "--title", "t", "--topic", topic, "--starts",
                    FORUM["starts"], "--ends", FORUM["ends"], "--place", "p", "--organiser", "o")
    result = invoke(runner, township, "activities", "attend", made["uid"], "路人甲", "--json")
    assert result.exit_code == 2 and "路人甲 was not invited" in result.output
    result = invoke(runner, township, "activities", "create", "--form", "tea", "--title", "t", "--topic", topic,
                    "--starts", FORUM["starts"], "--ends", FORUM["ends"], "--place", "p", "--organiser", "o")
    assert result.exit_code == 2 and "unknown consultation form 'tea'" in result.output
    run_json(runner, township, "cancel", made["uid"], "--reason", "推迟")
    assert run_json(runner, township, "list", "--status", "cancelled")[0]["cancelled_reason"] == "推迟"


def test_dry_run_checks_an_action_and_stores_nothing(runner, township, client):
    topic = determined_topic(client)
    args = ("activities", "create", "--form", "forum", "--title", FORUM["title"], "--topic", topic, "--starts",
            FORUM["starts"], "--ends", FORUM["ends"], "--place", FORUM["place"], "--organiser", FORUM["organiser"])
    rehearsed = invoke(runner, township, *args, "--dry-run", "--json")
    assert rehearsed.exit_code == 0, rehearsed.output
    assert json.loads(rehearsed.stdout)["status"] == "planned" and "nothing was stored" in rehearsed.stderr
    assert run_json(runner, township, "list") == []
    uid = json.loads(invoke(runner, township, *args, "--json").stdout)["uid"]
    stranger = invoke(runner, township, "activities", "attend", uid, "陌生人", "--dry-run")
    assert stranger.exit_code == 2 and "not invited" in stranger.output and "dry run" not in stranger.output
    invited = invoke(runner, township, "activities", "invite", uid, "--kind", "department", "--name", "县交通运输局",
                     "--dry-run", "--json")
    assert invited.exit_code == 0 and json.loads(invited.stdout)["activity"]["invitations"][0]["name"] == "县交通运输局"
    assert run_json(runner, township, "show", uid)["invitations"] == []
