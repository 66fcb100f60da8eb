"""The .xlsx export (core/exports.py): read back with openpyxl, formulas neutralised, safe file names."""

from __future__ import annotations

import io
from urllib.parse import unquote

import pytest
from openpyxl import load_workbook
from shangliang.core import exports
from shangliang.core.errors import InputError


def _read(data: bytes):
    return load_workbook(io.BytesIO(data))


def test_sheets_come_back_with_chinese_headers_and_values():
    data = exports.workbook([
        exports.Sheet("按阶段", ["阶段", "代码", "议题数"], [["收集议题", "collected", 3], ["确定议题", "determined", 0]]),
        exports.Sheet("按地区", ["地区", "议题数"], [["620302001", 2]]),
    ])
    assert data[:2] == b"PK"  # a zip: Office Open XML
    book = _read(data)
    assert book.sheetnames == ["按阶段", "按地区"]
    rows = list(book["按阶段"].iter_rows(values_only=True))
    assert rows == [("阶段", "代码", "议题数"), ("收集议题", "collected", 3), ("确定议题", "determined", 0)]
    assert isinstance(rows[1][2], int)  # numbers stay numbers
    assert list(book["按地区"].iter_rows(values_only=True)) == [("地区", "议题数"), ("620302001", 2)]


def test_header_is_bold_frozen_and_columns_are_sized():
    book = _read(exports.workbook([exports.Sheet("s", ["阶段", "n"], [["一个很长很长的阶段名称", 1]])]))
    sheet = book["s"]
    assert sheet["A1"].font.b and sheet["B1"].font.b and not sheet["A2"].font.b
    assert sheet.freeze_panes == "A2"
    # eleven CJK characters are 22 columns wide, plus a margin; the short column gets the minimum
    assert sheet.column_dimensions["A"].width == 24
    assert sheet.column_dimensions["B"].width == exports.MIN_WIDTH


@pytest.mark.parametrize("text", ["=HYPERLINK(\"http://evil\",\"x\")", "+1+1", "-2+3", "@SUM(A1)", "\t=1", "＝1+1"])
def test_formula_injection_is_neutralised(text):
    book = _read(exports.workbook([exports.Sheet("s", ["标题"], [[text]])]))
    cell = book["s"]["A2"]
    assert cell.data_type == "s"  # stored as text, not as a formula
    assert cell.value == "'" + text


def test_plain_text_and_negative_numbers_are_left_alone():
    book = _read(exports.workbook([exports.Sheet("s", ["a", "b", "c"], [["道路=维修", -3, None]])]))
    assert list(book["s"].iter_rows(min_row=2, values_only=True)) == [("道路=维修", -3, None)]


def test_headers_are_neutralised_too():
    book = _read(exports.workbook([exports.Sheet("s", ["=cmd|' /C calc'!A0"], [])]))
    assert book["s"]["A1"].value == "'=cmd|' /C calc'!A0"


def test_sheet_titles_are_made_valid_and_distinct():
    long = "议题" * 20
    book = _read(exports.workbook([exports.Sheet("a/b:c?", ["x"]), exports.Sheet(long, ["x"]),
                                   exports.Sheet(long, ["x"])]))
    assert book.sheetnames[0] == "a_b_c_"
    assert len(book.sheetnames[1]) == exports.SHEET_TITLE_LIMIT
    assert book.sheetnames[2].endswith(" (2)") and len(book.sheetnames[2]) <= exports.SHEET_TITLE_LIMIT


def test_refusals():
    with pytest.raises(InputError) as no_sheet:
        exports.workbook([])
    assert no_sheet.value.field == "sheets"
    with pytest.raises(InputError) as wide:
        exports.workbook([exports.Sheet("s", ["a"], [[1, 2]])])
    assert wide.value.field == "rows"


def test_safe_filename_keeps_chinese_and_drops_paths():
    assert exports.safe_filename("金川区政协 议题统计 2026") == "金川区政协 议题统计 2026.xlsx"
    assert exports.safe_filename("../../etc/passwd") == "etc_passwd.xlsx"
    assert exports.safe_filename('a"b\r\nc;d') == "a_b__c_d.xlsx"
    assert exports.safe_filename("") == "export.xlsx"
    assert exports.safe_filename("报表.XLSX") == "报表.xlsx"


def test_content_disposition_has_an_ascii_fallback_and_rfc5987_name():
    header = exports.content_disposition("议题统计 2026.xlsx")
    assert header.startswith('attachment; filename="')
    plain = header.split('filename="', 1)[1].split('"', 1)[0]
    assert plain.isascii() and plain.endswith(" 2026.xlsx")
    star = header.split("filename*=", 1)[1]
    assert star.startswith("UTF-8''") and unquote(star[len("UTF-8''"):]) == "议题统计 2026.xlsx"
    assert " " not in star and "\n" not in header


def test_xlsx_response_downloads_the_workbook():
    import flask

    app = flask.Flask(__name__)
    with app.test_request_context():
        response = exports.xlsx_response([exports.Sheet("s", ["a"], [[1]])], "统计")
    assert response.mimetype == exports.XLSX_MIMETYPE
    assert "filename*=UTF-8''%E7%BB%9F%E8%AE%A1.xlsx" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    assert _read(response.get_data())["s"]["A2"].value == 1
