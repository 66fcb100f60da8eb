"""The implementation commands: implement, instruct, report --as, review-report, assignments, supervise."""

from __future__ import annotations

import datetime as dt
import json

from ..conftest import invoke
from .conftest import IDLE, LEAD, OTHER, implementation_rows, implementing_topic


def cli(runner, node, *args):
    return invoke(runner, node, "topics", *args)


def test_the_whole_implementation_from_the_command_line(unit_app, client, runner, township):
    uid = implementing_topic(client)
    done = cli(runner, township, "implement", uid, "--lead", f"{LEAD}=10", "--participating", f"{OTHER}=+3", "--json")
    assert done.exit_code == 0, done.output
    state = json.loads(done.output)
    assert [(a["unit"], a["role"], a["working_days"]) for a in state["assignments"]] == [
        (LEAD, "lead", 10), (OTHER, "participating", None)]

    given = cli(runner, township, "instruct", uid, "--leader", "张区长", "--body", "请抓紧办理", "--json")
    assert given.exit_code == 0 and json.loads(given.output)["leader"] == "张区长"

    before = implementation_rows(unit_app)
    refused = cli(runner, township, "report", uid, "--as", "mz", "--kind", "final", "--body", "完成")
    assert refused.exit_code == 2 and f"{IDLE} is not assigned" in refused.output
    nobody = cli(runner, township, "report", uid, "--as", "nobody", "--kind", "final", "--body", "完成")
    assert nobody.exit_code == 2 and "no user 'nobody'" in nobody.output
    assert implementation_rows(unit_app) == before

    filed = cli(runner, township, "report", uid, "--as", "jt", "--kind", "final", "--body", "道路已修复", "--json")
    assert filed.exit_code == 0, filed.output
    report_id = json.loads(filed.output)["id"]
    early = cli(runner, township, "advance", uid, "--to", "feedback")
    assert early.exit_code == 2 and "final report of its lead unit" in early.output
    accepted = cli(runner, township, "review-report", uid, str(report_id), "--decision", "accept")
    assert accepted.exit_code == 0 and "accepted" in accepted.output

    mine = json.loads(cli(runner, township, "assignments", "--as", "cz", "--json").output)
    assert [(a["unit"], a["topic"]) for a in mine] == [(OTHER, uid)]
    everyone = cli(runner, township, "assignments")
    assert LEAD in everyone.output and OTHER in everyone.output

    text = cli(runner, township, "implement", uid, "--participating", f"{IDLE}=soon")
    assert text.exit_code == 2 and "not understood" in text.output
    assert cli(runner, township, "advance", uid, "--to", "feedback").exit_code == 0


def test_supervise_as_of_a_later_day_marks_the_late_unit(unit_app, client, runner, township):
    uid = implementing_topic(client)
    assert cli(runner, township, "implement", uid, "--lead", f"{LEAD}=30", "--participating", f"{OTHER}=2").exit_code == 0
    past = cli(runner, township, "supervise", "--as-of", "2020-01-01")
    assert past.exit_code == 2 and "has passed" in past.output
    now = cli(runner, township, "supervise", "--json")
    assert now.exit_code == 0 and json.loads(now.output)["assignments"] == []
    later = (dt.date.today() + dt.timedelta(days=12)).isoformat()
    marked = cli(runner, township, "supervise", "--as-of", later, "--json")
    assert marked.exit_code == 0, marked.output
    assert [(a["unit"], a["topic"]) for a in json.loads(marked.output)["assignments"]] == [(OTHER, uid)]
    again = cli(runner, township, "supervise", "--as-of", later)
    assert again.exit_code == 0 and "nothing newly overdue" in again.output
    listed = json.loads(cli(runner, township, "assignments", "--json").output)
    assert [(a["unit"], a["overdue"]) for a in listed] == [(OTHER, True), (LEAD, False)]
