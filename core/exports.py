"""Spreadsheet exports (.xlsx, Office Open XML) of tables a feature has already counted.

A feature hands over named sheets — a title, its column headers (Chinese first) and its rows — and gets the
workbook's bytes, or a download answer with a safe file name. Nothing here decides what is counted.

Every text cell that a spreadsheet program would read as a formula (it starts with ``=``, ``+``, ``-``,
``@``, or a tab or carriage return followed by one) is written with a leading apostrophe, so that a topic
titled ``=HYPERLINK(…)`` stays text when the office opens the file (OWASP "CSV injection"; the same holds
for .xlsx, whose readers evaluate a formula typed into a cell that was stored as one). Numbers, dates and
booleans are written as they are.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from shangliang.core.i18n import N_

from .errors import InputError

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: What opens a formula in Excel, LibreOffice and WPS; a cell starting with one gets a leading apostrophe.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")
#: The characters a sheet title may not hold (Excel), and its greatest length.
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
SHEET_TITLE_LIMIT = 31
#: Column widths in characters: at least, at most; a CJK character counts as two.
MIN_WIDTH, MAX_WIDTH = 6, 60


@dataclass
class Sheet:
    """One sheet of a workbook: ``title`` (Chinese is fine), ``headers`` and ``rows`` of cell values."""

    title: str
    headers: Sequence[str]
    rows: Iterable[Sequence[Any]] = field(default_factory=list)


def neutralise(value: Any) -> Any:
    """``value`` as a cell holds it: text that would start a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def display_width(value: Any) -> int:
    """How many columns ``value`` takes on screen: wide (CJK) characters count twice."""
    text = "" if value is None else str(value)
    longest = max((line for line in text.splitlines() or [""]), key=len)
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in longest)


def _sheet_title(title: str, taken: set[str]) -> str:
    clean = _SHEET_FORBIDDEN.sub("_", str(title or "").strip()).strip("'")[:SHEET_TITLE_LIMIT] or "Sheet"
    name, n = clean, 2
    while name.lower() in taken:
        suffix = f" ({n})"
        name, n = clean[:SHEET_TITLE_LIMIT - len(suffix)] + suffix, n + 1
    taken.add(name.lower())
    return name


def _cell(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, dt.date, dt.datetime)):
        return value
    return neutralise(str(value))


def workbook(sheets: Sequence[Sheet]) -> bytes:
    """The .xlsx file of ``sheets``: headers bold and frozen, columns as wide as their widest cell."""
    if not sheets:
        raise InputError(N_("an export needs at least one sheet"), field="sheets")
    # Imported here, as python-docx is below: openpyxl takes longer to import than the rest of a node's web
    # process, which every node process would otherwise pay at start-up for the few that export.
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    book.remove(book.active)
    taken: set[str] = set()
    bold = Font(bold=True)
    for sheet in sheets:
        ws = book.create_sheet(_sheet_title(sheet.title, taken))
        headers = [_cell(h) for h in sheet.headers]
        ws.append(headers)
        widths = [display_width(h) for h in headers]
        for row in sheet.rows:
            cells = [_cell(v) for v in row]
            if len(cells) > len(headers):
                raise InputError(N_("a row of sheet %(title)s has %(count)s cells for %(count2)s headers",
                                    title=repr(sheet.title), count=len(cells), count2=len(headers)),
                                 field="rows")
            ws.append(cells)
            for i, value in enumerate(cells):
                widths[i] = max(widths[i], display_width(value))
        for cell in ws[1]:
            cell.font = bold
        ws.freeze_panes = "A2"
        for i, width in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(i)].width = min(MAX_WIDTH, max(MIN_WIDTH, width + 2))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def safe_filename(name: str, extension: str = ".xlsx") -> str:
    """``name`` fit to be a downloaded file's name: no path, no control or reserved characters, with
    ``extension``; Chinese kept."""
    text = unicodedata.normalize("NFC", str(name or ""))
    text = "".join("_" if unicodedata.category(ch).startswith("C") or ch in '<>:"/\\|?*;' else ch for ch in text)
    text = text.strip(" ._") or "export"
    if text.lower().endswith(extension):
        text = text[: -len(extension)].rstrip(" ._") or "export"
    return text[:120] + extension


def content_disposition(filename: str) -> str:
    """An ``attachment`` header for ``filename``: an ASCII ``filename`` for old clients and the exact name as
    RFC 5987/6266 ``filename*`` (UTF-8, percent-encoded) for everyone else."""
    ascii_name = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\%' else "_" for ch in filename)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


def xlsx_response(sheets: Sequence[Sheet], filename: str):
    """A Flask answer downloading ``sheets`` as ``filename`` (made safe; ``.xlsx`` added)."""
    from flask import Response

    name = safe_filename(filename)
    return Response(workbook(sheets), mimetype=XLSX_MIMETYPE,
                    headers={"Content-Disposition": content_disposition(name), "Cache-Control": "no-store"})


# ---------------------------------------------------------------------------------------------
# Word documents (.docx): one record, laid out as a heading, lines and tables


DOCX_MIMETYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@dataclass
class Section:
    """A part of a document: a ``heading``, ``lines`` of text, and a table of ``headers`` and ``rows``."""

    heading: str
    lines: Sequence[str] = field(default_factory=list)
    headers: Sequence[str] = field(default_factory=list)
    rows: Iterable[Sequence[Any]] = field(default_factory=list)


def _text(value: Any) -> str:
    if value is None:
        return ""
    # XML 1.0 forbids most control characters: a title holding one must not break the document.
    return "".join(ch for ch in str(value) if ch in "\t\n" or not unicodedata.category(ch).startswith("C"))


def document(title: str, sections: Sequence[Section]) -> bytes:
    """A .docx of ``title`` and ``sections`` (python-docx), as bytes."""
    from docx import Document
    from docx.oxml.ns import qn

    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = "SimSun"
    style.element.rPr.rFonts.set(qn("w:eastAsia"), "SimSun")  # Chinese text in a Chinese font
    doc.add_heading(_text(title), level=0)
    for section in sections:
        doc.add_heading(_text(section.heading), level=1)
        for line in section.lines:
            doc.add_paragraph(_text(line))
        rows = [list(r) for r in section.rows]
        if section.headers:
            table = doc.add_table(rows=1, cols=len(section.headers))
            table.style = "Table Grid"
            for cell, header in zip(table.rows[0].cells, section.headers):
                cell.text = _text(header)
                for run in cell.paragraphs[0].runs:
                    run.bold = True
            for row in rows:
                cells = table.add_row().cells
                for cell, value in zip(cells, row):
                    cell.text = _text(value)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def docx_response(title: str, sections: Sequence[Section], filename: str):
    """A Flask answer downloading the document as ``filename`` (made safe; ``.docx`` added)."""
    from flask import Response

    name = safe_filename(filename, ".docx")
    return Response(document(title, sections), mimetype=DOCX_MIMETYPE,
                    headers={"Content-Disposition": content_disposition(name), "Cache-Control": "no-store"})
