"""The unit pages (/units): the list, adding (a refused form keeps what was typed), importing, one unit with its
contacts and the form to change it; who sees what."""

from __future__ import annotations

import io

from .conftest import PASSWORD, unit_count


def signed_in(client, user):
    answer = client.post("/login", data={"username": user, "password": PASSWORD})
    assert answer.status_code == 302
    return client


def test_office_adds_a_unit_sees_it_and_changes_it(client):
    office = signed_in(client, "wang")
    page = office.get("/units")
    assert page.status_code == 200
    assert any(title in page.get_data(as_text=True) for title in ("承办单位", "Handling units"))
    added = office.post("/units", data={"name": "区交通局", "kind": "government", "phone": "0935",
                                        "contacts": "jtj"})
    assert added.status_code == 303
    shown = office.get(added.headers["Location"])
    text = shown.get_data(as_text=True)
    assert shown.status_code == 200 and "区交通局" in text and "jtj" in text
    changed = office.post("/units/区交通局", data={"name": "区交通运输局", "kind": "government", "phone": "",
                                                "contacts": "jtj, zjj", "active": "on"})
    assert changed.status_code == 303
    text = office.get("/units/区交通运输局").get_data(as_text=True)
    assert "zjj" in text and "jtj" in text
    assert "区交通运输局" in office.get("/units").get_data(as_text=True)


def test_a_refused_form_keeps_what_was_typed_and_says_why(client):
    office = signed_in(client, "wang")
    refused = office.post("/units", data={"name": "2027", "kind": "party", "phone": "0935-88", "contacts": "li"})
    assert refused.status_code == 400
    text = refused.get_data(as_text=True)
    assert 'value="2027"' in text and 'value="0935-88"' in text and 'value="li"' in text
    assert "不能全为数字" in text
    assert unit_count(client.application) == 0
    office.post("/units", data={"name": "交通局", "kind": "government"})
    edit = office.post("/units/交通局", data={"name": "交通局", "kind": "government", "phone": "0935-9",
                                            "contacts": "li", "active": "on"})
    assert edit.status_code == 400
    text = edit.get_data(as_text=True)
    assert "不是 handling_unit" in text and 'value="0935-9"' in text and 'value="li"' in text


def test_import_by_file_or_pasted_text_lists_bad_lines_and_keeps_the_text(client):
    office = signed_in(client, "wang")
    bad = "name,kind\n交通局,government\n住建局,ministry\n"
    refused = office.post("/units/import", data={"csv": bad})
    assert refused.status_code == 400
    text = refused.get_data(as_text=True)
    assert "unknown unit kind" in text and "住建局,ministry" in text
    assert unit_count(client.application) == 0
    upload = office.post("/units/import", data={"file": (io.BytesIO("name,kind\n交通局,government\n".encode()),
                                                         "units.csv")}, content_type="multipart/form-data")
    assert upload.status_code == 303
    assert unit_count(client.application) == 1
    empty = office.post("/units/import", data={"csv": ""})
    assert empty.status_code == 400


def test_a_handling_unit_user_sees_only_its_unit_and_cannot_write(client, app):
    office = signed_in(app.test_client(), "wang")
    office.post("/units", data={"name": "交通局", "kind": "government", "contacts": "jtj"})
    office.post("/units", data={"name": "住建局", "kind": "government"})
    unit_user = signed_in(client, "jtj")
    listed = unit_user.get("/units").get_data(as_text=True)
    assert "交通局" in listed and "住建局" not in listed and "/units/import" not in listed
    assert unit_user.get("/units/交通局").status_code == 200
    assert unit_user.get("/units/住建局").status_code == 403
    assert unit_user.post("/units", data={"name": "水务局", "kind": "other"}).status_code == 403
    member = signed_in(app.test_client(), "li")
    assert member.get("/units").status_code == 403
    assert office.get("/units/9999999999999999999").status_code == 404
    assert unit_count(app) == 2
