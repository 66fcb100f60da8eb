"""The duty pages: the office's assessment table (Chinese first) and its .xlsx, a member's record and its .docx
(a member their own only), the office's form for an item by hand refused without evidence (nothing stored) and
kept with a file, whose evidence downloads."""

from __future__ import annotations

import io

import docx
import openpyxl

from .conftest import PASSWORD, YEAR, duty_rows, plenary_and_speech, proposal


def sign_in(client, user):
    answer = client.post("/login", data={"username": user, "password": PASSWORD})
    assert answer.status_code == 302, answer.get_data(as_text=True)


def test_the_assessment_page_and_its_spreadsheet(client, app):
    sign_in(client, "wang")
    page = client.get(f"/duty?year={YEAR}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "李强" in text and 'id="xlsx-link"' in text
    download = client.get(f"/duty?year={YEAR}&format=xlsx")
    assert download.status_code == 200 and "attachment" in download.headers["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(download.data)).active
    rows = list(sheet.values)
    assert rows[0][:3] == ("委员编号 Member no.", "姓名 Name", "考核结果 Standing")
    assert {r[1] for r in rows[1:]} == {"李强", "王芳", "张伟"}


def test_a_members_record_and_its_word_document(client, app):
    plenary_and_speech(app)
    proposal(app)
    sign_in(client, "li")
    page = client.get(f"/duty/members/J001?year={YEAR}")
    assert page.status_code == 200 and "全体会议" in page.get_data(as_text=True)
    download = client.get(f"/duty/members/J001?year={YEAR}&format=docx")
    assert download.status_code == 200 and download.headers["Content-Disposition"].endswith(".docx")
    document = docx.Document(io.BytesIO(download.data))
    assert document.paragraphs[0].text == f"李强 {YEAR}年度委员履职档案"
    cells = [c.text for t in document.tables for row in t.rows for c in row.cells]
    assert "全体会议" in cells and "proposal" in cells
    assert client.get("/duty/members/J002").status_code == 403
    own = client.get("/duty")  # a member's nav item: their own record
    assert own.status_code == 200 and 'id="docx-link"' in own.get_data(as_text=True) and "李强" in own.get_data(
        as_text=True)


def test_the_office_records_an_item_by_hand_only_with_evidence(client, app):
    sign_in(client, "wang")
    form = {"member": "J003", "kind": "good_deed", "title": "修缮村道", "date": f"{YEAR}-04-01", "evidence": ""}
    refused = client.post("/duty/items", data=form, follow_redirects=True)
    assert refused.status_code == 200 and "needs evidence" in refused.get_data(as_text=True)
    assert duty_rows(app) == 0
    kept = client.post("/duty/items", data={**form, "file": (io.BytesIO(b"photo"), "村道.jpg")},
                       content_type="multipart/form-data")
    assert kept.status_code == 303
    assert "修缮村道" in client.get(kept.headers["Location"]).get_data(as_text=True)  # the flash
    assert duty_rows(app) == 1
    page = client.get(f"/duty/members/J003?year={YEAR}").get_data(as_text=True)
    assert "修缮村道" in page and "/duty/items/1/evidence" in page
    evidence = client.get("/duty/items/1/evidence")
    assert evidence.status_code == 200 and evidence.data == b"photo"
    assert client.get("/duty/items/99/evidence").status_code == 404


def test_the_report_form_shows_with_a_parent_and_refuses_without_one(client, app, county, runner):
    from shangliang.federation.signing import b64u_encode, public_from_seed

    from ..conftest import invoke

    sign_in(client, "wang")
    form = {"target": "6203", "member_no": "S001", "name": "赵敏", "kind": "research", "title": "乡村调研",
            "date": f"{YEAR}-05-01"}
    assert 'action="/duty/reports"' not in client.get("/duty").get_data(as_text=True)
    refused = client.post("/duty/reports", data=form, follow_redirects=True)
    assert "本节点没有配对的上级节点" in refused.get_data(as_text=True)
    result = invoke(runner, county, "peers", "add", "6203", "http://127.0.0.1:9",
                    f"ed25519:parent:{b64u_encode(public_from_seed(bytes(range(1, 33))))}")
    assert result.exit_code == 0, result.output
    assert 'action="/duty/reports"' in client.get("/duty").get_data(as_text=True)
    sent = client.post("/duty/reports", data=form, follow_redirects=True)
    assert "6203" in sent.get_data(as_text=True) and "Refused" not in sent.get_data(as_text=True)


def test_a_node_with_a_parent_offers_the_report_form_in_the_page_not_in_its_title(client, county, runner):
    """The form reporting a higher committee's member's items shows where the node has a parent, once, in the page."""
    import re

    from shangliang.federation.signing import b64u_encode, public_from_seed

    from ..conftest import invoke

    result = invoke(runner, county, "peers", "add", "6203", "http://127.0.0.1:9",
                    f"ed25519:parent:{b64u_encode(public_from_seed(bytes(range(1, 33))))}")
    assert result.exit_code == 0, result.output
    sign_in(client, "wang")
    text = client.get(f"/duty?year={YEAR}").get_data(as_text=True)
    title = re.search(r"<title>(.*?)</title>", text, re.S).group(1)
    assert "<" not in title and "form" not in title, title
    assert text.count('action="/duty/reports"') == 1
