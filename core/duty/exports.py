"""The duty downloads: a member's record as a .docx (委员履职档案) and the year's assessment table as an .xlsx
(履职考核表), built from what the services answer (nothing is counted here)."""

from __future__ import annotations

from typing import Any
from collections.abc import Mapping

from shangliang.core.exports import Section, Sheet, document, workbook

STANDING = {"met": "达标 met", "behind": "未达标 behind", "no_rules": "无考核规则 no rules"}


def record_sections(rec: Mapping[str, Any]) -> tuple[str, list[Section]]:
    member, year = rec["member"], rec["year"]
    title = f"{member['name']} {year}年度委员履职档案"
    head = [f"委员编号 Member no.: {member['member_no'] or '—'}", f"年度 Year: {year}",
            f"履职事项 Items: {len(rec['items'])}"]
    items = Section("履职事项 Duty items", [], ["日期 Date", "类别 Kind", "事项 Title", "说明 Detail", "来源 Source"],
                    [[i["date"], i["kind"], i["title"], i.get("detail") or "",
                      i.get("source") or "" if not i.get("reported_by") else f"{i['reported_by']} 报送"]
                     for i in rec["items"]])
    counts = Section("分类统计 Counts by kind", [], ["类别 Kind", "数量 Count"],
                     [[k, v] for k, v in rec["counts"].items()])
    sections = [Section("基本情况 The member", head), items, counts]
    standing = rec.get("assessment")
    if standing:
        sections.append(Section(
            "年度考核 Assessment", [f"{STANDING.get(standing['standing'], standing['standing'])}; "
                                   f"剩余月份 months left: {standing['months_left']}"],
            ["规则 Rule", "结果 Outcome", "说明 Reason"],
            [[o["label"], "达标 met" if o["met"] else ("规则出错 rule failure" if o["failed"] else "未达标 not met"),
              o["reason"]] for o in standing["outcomes"]]))
    return title, sections


def record_docx(rec: Mapping[str, Any]) -> bytes:
    title, sections = record_sections(rec)
    return document(title, sections)


def assessment_sheets(table: Mapping[str, Any]) -> list[Sheet]:
    rules = table["rules"]
    headers = ["委员编号 Member no.", "姓名 Name", "考核结果 Standing", *[r["label"] for r in rules],
               "尚缺 Missing", "剩余月份 Months left"]
    rows = []
    for row in table["members"]:
        by_rule = {o["rule"]: o for o in row["outcomes"]}
        marks = []
        for r in rules:
            o = by_rule.get(r["rule"])
            marks.append("" if o is None else "✓" if o["met"] else "规则出错 failure" if o["failed"] else "✗")
        rows.append([row["member"]["member_no"] or "", row["member"]["name"],
                     STANDING.get(row["standing"], row["standing"]), *marks, "；".join(row["missing"]),
                     row["months_left"]])
    return [Sheet(f"{table['year']}年度履职考核", headers, rows)]


def assessment_xlsx(table: Mapping[str, Any]) -> bytes:
    return workbook(assessment_sheets(table))
