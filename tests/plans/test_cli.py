"""The ``plans`` commands: their --json output, exit codes, and that a refusal stores nothing."""

import json

from ..conftest import invoke


def j(runner, node, *args):
    result = invoke(runner, node, "plans", *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


NEW_TOPIC = ("--title", "城区道路改造", "--category", "交通", "--area", "620302001", "--raised-by-kind",
             "special_committee", "--raised-by-name", "提案委")


def test_a_year_through_the_commands(runner, county):
    forms = j(runner, county, "forms")
    assert [f["key"] for f in forms["forms"]][:2] == ["plenary", "standing_committee"]
    assert forms["steps"][0]["label"] == "政协主席会议审议"  # the node's language
    assert j(runner, county, "create", "--year", "2027")["status"] == "draft"
    item = j(runner, county, "add-item", "2027", *NEW_TOPIC, "--form", "forum", "--month", "3", "--lead", "提案委员会",
             "--department", "区交通局", "--member", "李委员")
    assert item["participants"] == {"departments": ["区交通局"], "sectors": [], "members": ["李委员"]}
    other = j(runner, county, "add-item", "2027", "--title", "另一个议题", "--category", "教育", "--area", "620302",
              "--raised-by-kind", "public", "--raised-by-name", "群众", "--form", "special", "--date", "2027-05-20",
              "--lead", "教科卫体委")
    assert other["planned_month"] == 5
    assert j(runner, county, "remove-item", "2027", str(other["id"]))["removed"] == other["id"]
    first = j(runner, county, "step", "2027", "--step", "chair_meeting", "--approver", "主席会议", "--decision",
              "approved")
    assert first["status"] == "in_approval" and first["step"] == "chair_meeting"
    j(runner, county, "step", "2027", "--step", "standing_committee", "--approver", "区委常委会", "--decision",
      "approved", "--reference", "纪要3号")
    published = j(runner, county, "publish", "2027")
    assert published["status"] == "published" and published["determined"] == [item["topic_uid"]]
    amendment = j(runner, county, "amend", "2027", "--kind", "move", "--item", str(item["id"]), "--month", "6",
                  "--reason", "调整", "--approved-by", "主席会议", "--reference", "纪要5号")
    assert amendment["changes"] == {"planned_month": [3, 6]}
    shown = j(runner, county, "show", "2027")
    assert shown["items"][0]["planned_month"] == 6 and shown["approval"]["steps"][1]["state"] == "done"
    assert [p["year"] for p in j(runner, county, "list")] == [2027]
    text = invoke(runner, county, "plans", "show", "2027").output
    assert "consulted: no" in text and "amendment: move" in text


def test_refusals_exit_2_and_store_nothing(runner, county):
    j(runner, county, "create", "--year", "2027")
    again = invoke(runner, county, "plans", "create", "--year", "2027")
    assert again.exit_code == 2 and "already has a plan for 2027" in again.output
    bad = invoke(runner, county, "plans", "add-item", "2027", *NEW_TOPIC, "--form", "tea", "--month", "3", "--lead", "x")
    assert bad.exit_code == 2 and "unknown consultation form 'tea'" in bad.output
    j(runner, county, "add-item", "2027", *NEW_TOPIC, "--form", "forum", "--month", "3", "--lead", "x")
    skipped = invoke(runner, county, "plans", "step", "2027", "--step", "standing_committee", "--approver", "x",
                     "--decision", "approved")
    assert skipped.exit_code == 2 and "out of order" in skipped.output
    shown = j(runner, county, "show", "2027")
    assert len(shown["items"]) == 1 and shown["steps"] == [] and shown["status"] == "draft"
    topics = json.loads(invoke(runner, county, "topics", "list", "--json").output)
    assert len(topics) == 1  # the refused item raised no topic


def test_dry_run_checks_everything_and_stores_nothing(runner, county):
    rehearsed = invoke(runner, county, "plans", "create", "--year", "2027", "--dry-run", "--json")
    assert rehearsed.exit_code == 0, rehearsed.output
    assert json.loads(rehearsed.stdout)["status"] == "draft"
    assert "dry run: accepted, 1 unit(s) of work rolled back; nothing was stored" in rehearsed.stderr
    assert j(runner, county, "list") == []
    j(runner, county, "create", "--year", "2027")
    j(runner, county, "add-item", "2027", *NEW_TOPIC, "--form", "forum", "--month", "3", "--lead", "x")
    # A refusal under --dry-run is the same refusal, with the same exit status and no "accepted" line.
    skipped = invoke(runner, county, "plans", "step", "2027", "--step", "standing_committee", "--approver", "x",
                     "--decision", "approved", "--dry-run")
    assert skipped.exit_code == 2 and "out of order" in skipped.output and "dry run" not in skipped.output
    # Every rule ran (the topic advanced, the audit chain grew) and was rolled back.
    for step, ref in (("chair_meeting", ""), ("standing_committee", "纪要3号")):
        j(runner, county, "step", "2027", "--step", step, "--approver", "会议", "--decision", "approved",
          "--reference", ref)
    published = invoke(runner, county, "plans", "publish", "2027", "--dry-run", "--json")
    assert published.exit_code == 0 and json.loads(published.stdout)["status"] == "published"
    shown = j(runner, county, "show", "2027")
    assert shown["status"] == "in_approval"
    topic = json.loads(invoke(runner, county, "topics", "show", shown["items"][0]["topic_uid"], "--json").stdout)
    assert topic["stage"] == "collected"
    assert j(runner, county, "publish", "2027")["status"] == "published"
