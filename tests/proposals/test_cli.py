"""``shangliang proposals``: a proposal from submission to closing by commands, each with --json, acting as a
member or a unit's contact with --as; a refusal's named error and exit status with nothing stored; --dry-run."""

from __future__ import annotations

import json

from ..conftest import invoke
from .conftest import ROAD, rows

LEVELS = ["--contact", "satisfied", "--attitude", "satisfied", "--measures", "satisfied", "--pertinence", "satisfied",
          "--leader-attention", "satisfied", "--result", "satisfied"]


def run_json(runner, node_dir, *args):
    result = invoke(runner, node_dir, "proposals", *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def submit_args(**changes):
    fields = {**ROAD, **changes}
    return ["submit", "--title", fields["title"], "--reasons", fields["reasons"], "--suggestions",
            fields["suggestions"], "--category", fields["category"], "--term", str(fields["term"]), "--session",
            str(fields["session"]), "--year", str(fields["year"])]


def test_the_commands_take_a_proposal_from_submission_to_closing(runner, county):
    p = run_json(runner, county, *submit_args(), "--cosigner", "J002", "--as", "li")
    assert p["status"] == "signing" and p["signers"][0]["name"] == "李强"
    ref = str(p["id"])
    assert run_json(runner, county, "confirm", ref, "--as", "fang")["status"] == "submitted"
    number = run_json(runner, county, "review", ref, "--decision", "filed")["number"]
    assert number == "2027-1-0001"
    run_json(runner, county, "flags", number, "--key")
    data = run_json(runner, county, "assign", number, "--lead", "交通局", "--co", "住建局")
    assert [a["unit"] for a in data["assignments"]] == ["交通局", "住建局"]
    run_json(runner, county, "contact", number, "--phase", "before", "--kind", "visit", "--as", "chen")
    run_json(runner, county, "reply", number, "--classification", "planned", "--text", "列入计划", "--as", "chen")
    again = run_json(runner, county, "rate", number, *LEVELS, "--overall", "unsatisfied", "--as", "li")
    assert again["status"] == "assigned" and again["round"] == 2
    run_json(runner, county, "supervise", number, "--chair", "李副主席", "--note", "重点督办")
    run_json(runner, county, "reply", number, "--classification", "solved_or_solving", "--text", "已完成",
             "--as", "chen")
    assert run_json(runner, county, "rate", number, *LEVELS, "--overall", "satisfied", "--as", "li")["status"] == "rated"
    run_json(runner, county, "publish", number, "--reply")
    assert run_json(runner, county, "close", number)["status"] == "closed"
    assert [r["number"] for r in run_json(runner, county, "public")] == [number]
    assert [r["number"] for r in run_json(runner, county, "list", "--as", "chen")] == [number]
    assert [r["number"] for r in run_json(runner, county, "list", "--as", "zhou")] == [number]  # 会办
    text = invoke(runner, county, "proposals", "show", number)
    assert text.exit_code == 0 and f"{number}  {ROAD['title']}" in text.output and "KEY" in text.output


def test_a_refusal_names_the_problem_exits_2_and_stores_nothing(runner, county, app):
    p = run_json(runner, county, *submit_args(), "--as", "li")
    number = run_json(runner, county, "review", str(p["id"]), "--decision", "filed")["number"]
    run_json(runner, county, "assign", number, "--lead", "交通局")
    run_json(runner, county, "reassign", number, "--reason", "不属本单位", "--as", "chen")
    other = run_json(runner, county, *submit_args(title="另一件"), "--as", "li")
    waiting = run_json(runner, county, "review", str(other["id"]), "--decision", "filed")["number"]
    before = rows(app)
    for args, words in (
            (("reply", number, "--classification", "planned", "--text", "x", "--as", "zhou"), "住建局 is not assigned"),
            (("rate", number, *LEVELS, "--overall", "satisfied", "--as", "fang"), "only the proposer"),
            ((*submit_args(), "--cosigner", "J999", "--as", "li"), "'J999' is not a member"),
            (("assign", waiting, "--lead", "交通局", "--deadline", "2020-01-01"), "has passed"),
            (("decide", number, "1", "--decision", "approved", "--unit", "住建局", "--as", "chen"),
             "deciding a reassignment is the office's decision"),
            (("review", number, "--decision", "filed", "--as", "li"), "office's decision"),
            (("show", number, "--as", "nobody"), "no active user 'nobody'")):
        result = invoke(runner, county, "proposals", *args)
        assert result.exit_code == 2, (args, result.output)
        assert words in result.output, (args, result.output)
    assert rows(app) == before


def test_dry_run_checks_and_stores_nothing(runner, county, app):
    before = rows(app)
    result = invoke(runner, county, "proposals", *submit_args(), "--as", "li", "--dry-run", "--json")
    assert result.exit_code == 0, result.output
    shown, _ = json.JSONDecoder().raw_decode(result.output)
    assert shown["status"] == "submitted" and "nothing was stored" in result.output
    assert rows(app) == before


def test_mark_overdue_reports_none_before_a_deadline(runner, county):
    assert run_json(runner, county, "mark-overdue") == []
