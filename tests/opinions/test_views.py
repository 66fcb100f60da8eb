"""The report pages (/opinions): Chinese first, the member's form without the office's fields, the office's forms
on a report, a refusal flashed with nothing stored, the issues page and its form, the statistics page."""

from __future__ import annotations

from .conftest import PASSWORD, REPORT, decided, rows, written


def sign_in(client, user):
    response = client.post("/login", data={"username": user, "password": PASSWORD})
    assert response.status_code == 302


def test_a_member_writes_a_report_on_the_page_in_chinese(client, app):
    sign_in(client, "li")
    page = client.get("/opinions/new").get_data(as_text=True)
    assert '<html lang="zh-CN">' in page and 'name="member_no"' not in page
    form = {k: str(v) for k, v in REPORT.items()}
    answer = client.post("/opinions", data=form)
    assert answer.status_code == 303 and "/opinions/" in answer.headers["Location"]
    shown = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert REPORT["title"] in shown and "李强" in shown and 'id="office"' not in shown
    listed = client.get("/opinions?mine=1").get_data(as_text=True)
    assert REPORT["title"] in listed


def test_a_refused_form_is_shown_again_and_stores_nothing(client, app):
    sign_in(client, "li")
    before = rows(app)
    answer = client.post("/opinions", data={**{k: str(v) for k, v in REPORT.items()}, "sentiment": ""})
    assert answer.status_code == 400 and "sentiment" in answer.get_data(as_text=True)
    assert rows(app) == before


def test_the_office_decides_edits_and_compiles_on_the_pages(client, app):
    o = written(client)
    sign_in(client, "wang")
    page = client.get(f"/opinions/{o['id']}").get_data(as_text=True)
    assert 'id="office"' in page and 'value="forwarded"' not in page  # no parent paired: no forward offered
    refused = client.post(f"/opinions/{o['id']}/decide", data={"decision": "not_used"})
    assert refused.status_code == 303
    assert "text 不能为空" in client.get(f"/opinions/{o['id']}").get_data(as_text=True)
    client.post(f"/opinions/{o['id']}/decide", data={"decision": "instruction", "leader": "张书记",
                                                    "text": "请卫健局研究", "date": "2026-03-02"})
    client.post(f"/opinions/{o['id']}/edit", data={"category": "医疗卫生"})
    shown = client.get(f"/opinions/{o['id']}").get_data(as_text=True)
    assert "张书记" in shown and "请卫健局研究" in shown and "医疗卫生" in shown
    issues = client.get("/opinions/issues").get_data(as_text=True)
    assert 'id="compile"' in issues and REPORT["title"] in issues
    made = client.post("/opinions/issues", data={"year": "2026", "number": "3", "opinions": [str(o["id"])]})
    assert made.status_code == 303
    assert "2026年第3期" in client.get("/opinions/issues").get_data(as_text=True)
    stats = client.get("/opinions/statistics?year=2026").get_data(as_text=True)
    assert 'id="by-member"' in stats and "J001" in stats
    assert client.get("/opinions/statistics?year=abc").status_code == 400


def test_other_roles_read_but_do_not_decide(client, app):
    o = written(client)
    decided(client, o["id"], "used")
    sign_in(client, "zhang")
    assert client.get(f"/opinions/{o['id']}").status_code == 200
    assert client.post(f"/opinions/{o['id']}/decide", data={"decision": "adopted"}).status_code == 403
    assert client.get("/opinions/new").status_code == 403


def test_every_message_of_the_pages_has_its_chinese_line():
    """Each msgid of core/opinions is in the Chinese catalogue or in scripts/translations/opinions.tsv (which
    the merger compiles into it)."""
    from pathlib import Path

    from babel.messages.extract import extract_from_file
    from babel.messages.pofile import read_po

    root = Path(__file__).resolve().parents[2]
    feature = root / "core" / "opinions"
    found = set()
    for path in feature.rglob("*"):
        method = {".py": "python", ".html": "jinja2.ext:babel_extract"}.get(path.suffix)
        if method:
            for _line, message, _comments, _context in extract_from_file(method, str(path)):
                found.add(message if isinstance(message, str) else message[0])
    with open(root / "core/translations/zh/LC_MESSAGES/messages.po", "rb") as handle:
        catalogue = read_po(handle)
    lines = (root / "scripts/translations/opinions.tsv").read_text(encoding="utf-8").splitlines()
    tsv = dict(line.split("\t", 1) for line in lines if "\t" in line)
    missing = sorted(m for m in found if m not in tsv and not (catalogue.get(m) and catalogue.get(m).string))
    assert not missing, missing
    assert all(chinese.strip() for chinese in tsv.values())
