"""``shangliang appraisal``: every command with --json, the whole appraisal from the command line, refusals with
exit code 2 and nothing stored, --dry-run storing nothing."""

from __future__ import annotations

import json

from ..conftest import invoke
from .conftest import YEAR, key_topics, rows


def run(runner, node_dir, *args):
    result = invoke(runner, node_dir, "appraisal", *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def refused(runner, node_dir, app, *args, words=""):
    before = rows(app)
    result = invoke(runner, node_dir, "appraisal", *args)
    assert result.exit_code == 2, result.output
    assert words in result.output, result.output
    assert rows(app) == before


def test_the_appraisal_from_the_command_line(county, app, runner):
    uids = key_topics(app)
    assert [c["topic"] for c in run(runner, county, "candidates", str(YEAR))] == uids
    rehearsal = invoke(runner, county, "appraisal", "create", "--year", str(YEAR), "--kind", "key_topics",
                       "--title", "评议", "--dry-run", "--json")
    assert rehearsal.exit_code == 0 and "nothing was stored" in rehearsal.output, rehearsal.output
    assert json.JSONDecoder().raw_decode(rehearsal.output)[0]["status"] == "open"
    assert run(runner, county, "list") == []
    a = run(runner, county, "create", "--year", str(YEAR), "--kind", "key_topics", "--title", "重点议题落实评议")
    aid = str(a["id"])
    first = run(runner, county, "subject", aid, "--topic", uids[0], "--unit", "交通局")
    second = run(runner, county, "subject", aid, "--unit", "住建局", "--note", "群众反映集中")
    assert (first["kind"], first["unit"], second["kind"]) == ("topic", "交通局", "unit")
    group = run(runner, county, "group", aid, "--name", "第一组", "--leader", "J001", "--members", "J002,J003",
                "--subjects", f"{first['id']},{second['id']}")
    assert group["leader"] == "李强" and len(group["members"]) == 3
    visit = run(runner, county, "visit", aid, "--group", str(group["id"]), "--subject", str(first["id"]),
                "--date", "2026-11-02", "--place", "交通局", "--findings", "养护资金不足")
    assert visit["findings"] == "养护资金不足"
    for subject in (first, second):
        rated = run(runner, county, "rate", aid, "--subject", str(subject["id"]), "--member", "J001",
                    "--rating", "basically_satisfied")
    assert rated["tally"]["basically_satisfied"] == 1
    shown = run(runner, county, "show", aid)
    assert [s["tally"]["total"] for s in shown["subjects"]] == [1, 1]
    report = run(runner, county, "report", aid, "--body", "评议报告", "--to", "区委,区政府", "--sent-on", "2026-12-01")
    assert report["report"] == {**report["report"], "sent_on": "2026-12-01", "recipients": ["区委", "区政府"]}
    rect = run(runner, county, "rectify", aid, "--subject", str(first["id"]), "--requirements", "加强养护",
               "--working-days", "15")
    assert (rect["unit"], rect["working_days"]) == ("交通局", 15)
    assert [r["id"] for r in run(runner, county, "rectifications")] == [rect["id"]]
    filed = run(runner, county, "file", str(rect["id"]), "--as", "chen", "--kind", "final", "--body", "已整改")
    assert filed["state"] == "final_reported"
    refused(runner, county, app, "file", str(rect["id"]), "--as", "zhou", "--kind", "progress", "--body", "x")
    refused(runner, county, app, "file", str(rect["id"]), "--as", "nobody", "--kind", "progress", "--body", "x",
            words="no active user")
    reviewed = run(runner, county, "review", str(rect["id"]), str(filed["reports"][0]["id"]), "accept")
    assert reviewed["state"] == "accepted"
    assert run(runner, county, "mark-overdue") == []
    listed = run(runner, county, "list")
    assert [(x["year"], x["status"]) for x in listed] == [(YEAR, "reported")]


def test_refusals_exit_2_and_store_nothing(county, app, runner):
    a = run(runner, county, "create", "--year", str(YEAR), "--kind", "departments", "--title", "评议")
    aid = str(a["id"])
    subject = run(runner, county, "subject", aid, "--unit", "交通局")
    refused(runner, county, app, "create", "--year", str(YEAR), "--kind", "departments", "--title", "x",
            words="exists already")
    refused(runner, county, app, "subject", aid, "--unit", "没有的局", words="no handling unit")
    refused(runner, county, app, "rate", aid, "--subject", str(subject["id"]), "--member", "J001", "--rating",
            "satisfied", words="no appraisal group")
    refused(runner, county, app, "report", aid, "--body", "x", "--to", "区委", words="not rated yet")
    refused(runner, county, app, "rectify", aid, "--subject", str(subject["id"]), "--requirements", "x",
            "--working-days", "5", words="follows the report")
    refused(runner, county, app, "decide", aid, str(subject["id"]), "confirm", words="confirmed already")
    result = invoke(runner, county, "appraisal", "show", "999")
    assert result.exit_code != 0 and "no appraisal 999" in result.output
