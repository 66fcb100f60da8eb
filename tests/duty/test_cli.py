"""``shangliang duty …``: every command with --json; an item by hand refused without evidence (exit 2, nothing
stored), kept with a file; the record with its .docx, the table with its .xlsx; rules; reminders; a report
refused without a parent; --dry-run stores nothing."""

from __future__ import annotations

import json

import docx
import openpyxl

from ..conftest import invoke
from .conftest import YEAR, duty_rows, make_app


def j(result):
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def count(county) -> int:
    app = make_app(county)
    try:
        return duty_rows(app)
    finally:
        app.extensions["shangliang.db"].engine.dispose()


def test_add_record_assessment_rules_remind(county, runner, tmp_path):
    refused = invoke(runner, county, "duty", "add", "J001", "--kind", "training", "--title", "履职培训",
                     "--date", f"{YEAR}-03-01")
    assert refused.exit_code == 2 and "evidence" in refused.output
    assert count(county) == 0
    rehearsed = invoke(runner, county, "duty", "add", "J001", "--kind", "training", "--title", "履职培训",
                       "--date", f"{YEAR}-03-01", "--evidence", "结业证书", "--dry-run")
    assert rehearsed.exit_code == 0 and count(county) == 0
    evidence = tmp_path / "证书.pdf"
    evidence.write_bytes(b"%PDF-1.4")
    item = j(invoke(runner, county, "duty", "add", "J001", "--kind", "training", "--title", "履职培训",
                    "--date", f"{YEAR}-03-01", "--file", str(evidence), "--json"))
    assert item["evidence"]["file"] == "证书.pdf" and count(county) == 1

    out = tmp_path / "record.docx"
    rec = j(invoke(runner, county, "duty", "record", "J001", "--year", str(YEAR), "--docx", str(out), "--json"))
    assert rec["counts"] == {"training": 1} and rec["assessment"]["standing"] == "no_rules"
    assert "履职培训" in [c.text for t in docx.Document(str(out)).tables for r in t.rows for c in r.cells]
    text = invoke(runner, county, "duty", "record", "J001", "--year", str(YEAR))
    assert text.exit_code == 0 and "履职培训" in text.output

    sheet = tmp_path / "table.xlsx"
    table = j(invoke(runner, county, "duty", "assessment", "--year", str(YEAR), "--xlsx", str(sheet), "--json"))
    assert len(table["members"]) == 3
    assert openpyxl.load_workbook(sheet).active.max_row == 4
    assert j(invoke(runner, county, "duty", "rules", "--json")) == []
    assert j(invoke(runner, county, "duty", "remind", "--year", str(YEAR), "--json"))["reminded"] == []

    gone = j(invoke(runner, county, "duty", "remove", str(item["id"]), "--json"))
    assert gone["id"] == item["id"] and count(county) == 0


def test_bad_input_exits_2(county, runner):
    assert invoke(runner, county, "duty", "record", "J999").exit_code == 2
    assert invoke(runner, county, "duty", "record", "J001", "--year", "1800").exit_code == 2
    report = invoke(runner, county, "duty", "report", "--target", "6203", "--member-no", "S001", "--name", "赵敏",
                    "--item", "research", f"{YEAR}-05-01", "乡村调研")
    assert report.exit_code == 2 and "parent" in report.output
