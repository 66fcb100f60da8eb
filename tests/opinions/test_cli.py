"""``shangliang opinions``: each command's output with and without ``--json``, ``--as`` a member, exit status 2 and
nothing stored on a refusal, ``--dry-run``, and the .xlsx of ``statistics --xlsx``."""

from __future__ import annotations

import json

from openpyxl import load_workbook

from ..conftest import invoke
from .conftest import rows

WRITE = ["opinions", "write", "--title", "关于村级垃圾转运的情况反映", "--sentiment", "垃圾清运不及时",
         "--suggestion", "增加转运频次", "--category", "生态环境", "--year", "2026"]


def run_json(runner, node, *args):
    result = invoke(runner, node, *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_write_as_a_member_decide_compile_and_count(runner, county, app, tmp_path):
    o = run_json(runner, county, *WRITE, "--as", "li")
    assert o["author"]["member_no"] == "J001" and o["written"]["by"].endswith("as li")
    text = invoke(runner, county, "opinions", "show", str(o["id"]))
    assert text.exit_code == 0 and "李强" in text.output and "生态环境" in text.output
    assert [r["id"] for r in run_json(runner, county, "opinions", "list", "--mine", "--as", "li")] == [o["id"]]
    assert run_json(runner, county, "opinions", "list", "--mine", "--as", "fang") == []
    edited = run_json(runner, county, "opinions", "edit", str(o["id"]), "--analysis", "转运车辆不足")
    assert edited["analysis"] == "转运车辆不足"
    decided = run_json(runner, county, "opinions", "decide", str(o["id"]), "--decision", "reported",
                       "--body-kind", "government", "--body", "金川区政府")
    assert decided["opinion"]["events"][-1]["body"] == "金川区政府" and decided["sent"] == []
    issue = run_json(runner, county, "opinions", "compile", "--year", "2026", "--number", "5", "--opinion",
                     str(o["id"]))
    assert issue["label"] == "2026年第5期"
    assert [i["ref"] for i in run_json(runner, county, "opinions", "issues")] == ["2026-5"]
    stats = run_json(runner, county, "opinions", "statistics", "--year", "2026", "--xlsx", str(tmp_path / "s.xlsx"))
    assert stats["totals"]["reported"] == 1
    assert load_workbook(tmp_path / "s.xlsx").sheetnames[0]
    plain = invoke(runner, county, "opinions", "statistics", "--year", "2026")
    assert plain.exit_code == 0 and "李强" in plain.output


def test_refusals_exit_2_and_store_nothing_and_dry_run_stores_nothing(runner, county, app):
    before = rows(app)
    refused = invoke(runner, county, *WRITE, "--as", "zhang")
    assert refused.exit_code == 2 and "public" in refused.output
    assert invoke(runner, county, *WRITE, "--as", "nobody").exit_code == 2
    assert invoke(runner, county, *WRITE).exit_code == 2  # the office names the member or the body
    assert rows(app) == before
    rehearsed = invoke(runner, county, *WRITE, "--as", "li", "--dry-run")
    assert rehearsed.exit_code == 0
    assert rows(app) == before
    o = run_json(runner, county, *WRITE, "--as", "li")
    refused = invoke(runner, county, "opinions", "decide", str(o["id"]), "--decision", "used", "--as", "li")
    assert refused.exit_code == 2 and "office" in refused.output
    assert invoke(runner, county, "opinions", "show", "404").exit_code == 2


def test_a_report_from_a_proposal_not_filed(runner, county, app):
    p = run_json(runner, county, "proposals", "submit", "--title", "关于农村公路养护的建议", "--reasons", "道路破损",
                 "--suggestions", "设立养护资金", "--category", "城乡建设", "--term", "12", "--session", "1",
                 "--year", "2026", "--as", "li")
    refused = invoke(runner, county, "opinions", "from-proposal", str(p["id"]))
    assert refused.exit_code == 2 and "social_opinion" in refused.output
    run_json(runner, county, "proposals", "review", str(p["id"]), "--decision", "not_filed", "--reason", "转社情民意",
             "--disposal", "social_opinion")
    o = run_json(runner, county, "opinions", "from-proposal", str(p["id"]))
    assert o["author"]["member_no"] == "J001" and o["title"] == "关于农村公路养护的建议"
    assert run_json(runner, county, "proposals", "show", str(p["id"]))["opinion"]["ref"] == str(o["id"])
