"""The units JSON API: create, list a page at a time, show by id or name, change, import CSV all or nothing;
who reads what; refusals in the error body with nothing stored."""

from __future__ import annotations

from .conftest import basic, expect_error, unit_count

UNITS = "/api/v1/units"


def post(client, body, user="wang"):
    return client.post(UNITS, json=body, headers=basic(user))


def test_a_unit_is_added_shown_by_id_or_name_and_changed(client):
    made = post(client, {"name": "区交通运输局", "kind": "government", "phone": "0935-1", "contacts": ["jtj"]})
    assert made.status_code == 201, made.get_data(as_text=True)
    unit = made.get_json()["unit"]
    assert made.headers["Location"].endswith(f"/api/v1/units/{unit['id']}")
    assert unit["contacts"] == ["jtj"] and unit["contact_users"][0]["username"] == "jtj"
    by_name = client.get(UNITS + "/区交通运输局", headers=basic("wang")).get_json()["unit"]
    assert by_name == client.get(f"{UNITS}/{unit['id']}", headers=basic("wang")).get_json()["unit"] == unit
    changed = client.patch(f"{UNITS}/{unit['id']}", json={"phone": "", "active": False, "contacts": ["zjj"]},
                           headers=basic("wang"))
    assert changed.status_code == 200, changed.get_data(as_text=True)
    assert changed.get_json()["unit"]["phone"] is None and changed.get_json()["unit"]["contacts"] == ["zjj"]
    assert changed.get_json()["unit"]["active"] is False


def test_the_list_goes_a_page_at_a_time(client):
    for n in range(3):
        assert post(client, {"name": f"局{n}", "kind": "other"}).status_code == 201
    first = client.get(UNITS + "?limit=2", headers=basic("wang")).get_json()
    assert [u["name"] for u in first["units"]] == ["局2", "局1"] and first["next_cursor"]
    second = client.get(UNITS + f"?limit=2&cursor={first['next_cursor']}", headers=basic("wang")).get_json()
    assert [u["name"] for u in second["units"]] == ["局0"] and second["next_cursor"] is None
    expect_error(client.get(UNITS + "?cursor=nonsense", headers=basic("wang")), 400, "invalid_input", field="cursor")


def test_a_handling_unit_user_reads_only_its_own_unit_and_a_member_none(client):
    own = post(client, {"name": "交通局", "kind": "government", "contacts": ["jtj"]}).get_json()["unit"]
    other = post(client, {"name": "住建局", "kind": "government"}).get_json()["unit"]
    listed = client.get(UNITS, headers=basic("jtj")).get_json()
    assert [u["name"] for u in listed["units"]] == ["交通局"]
    assert client.get(f"{UNITS}/{own['id']}", headers=basic("jtj")).status_code == 200
    expect_error(client.get(f"{UNITS}/{other['id']}", headers=basic("jtj")), 403, "forbidden")
    assert client.get(UNITS, headers=basic("zjj")).get_json()["units"] == []  # acts for no unit yet
    expect_error(client.get(UNITS, headers=basic("li")), 403, "forbidden")
    expect_error(post(client, {"name": "水务局", "kind": "government"}, user="jtj"), 403, "forbidden")
    assert unit_count(client.application) == 2


def test_bad_units_are_refused_by_name_and_nothing_is_stored(client):
    assert post(client, {"name": "交通局", "kind": "government", "contacts": ["jtj"]}).status_code == 201
    expect_error(post(client, {"name": "", "kind": "party"}), 400, "invalid_input", "empty", field="name")
    expect_error(post(client, {"name": "x" * 101, "kind": "party"}), 400, "invalid_input", "longer", field="name")
    expect_error(post(client, {"name": "2027", "kind": "party"}), 400, "invalid_input", "only digits", field="name")
    expect_error(post(client, {"name": "宣传部", "kind": "ministry"}), 400, "invalid_input", field="kind")
    expect_error(post(client, {"name": "宣传部", "kind": "party", "contacts": ["li"]}), 400, "invalid_input",
                 "not handling_unit", field="contacts")
    expect_error(post(client, {"name": "宣传部", "kind": "party", "contacts": ["nobody"]}), 400, "invalid_input",
                 "no user", field="contacts")
    expect_error(post(client, {"name": "宣传部", "kind": "party", "contacts": ["jtj"]}), 400, "invalid_input",
                 "already acts for 交通局", field="contacts")
    expect_error(post(client, {"name": "交通局", "kind": "party"}), 400, "invalid_input", "exists already")
    expect_error(post(client, {"kind": "party"}), 400, "invalid_input", "missing field: name", field="name")
    expect_error(client.patch(UNITS + "/交通局", json={"name": "123"}, headers=basic("wang")), 400, "invalid_input",
                 field="name")
    assert unit_count(client.application) == 1


def test_refs_that_are_no_unit_are_not_found(client):
    for ref in ("999", "9" * 40, "²³", "١٢", "-1", "x" * 300, "%00"):
        expect_error(client.get(f"{UNITS}/{ref}", headers=basic("wang")), 404, "not_found")
    expect_error(client.patch(f"{UNITS}/{'9' * 40}", json={"phone": "1"}, headers=basic("wang")), 404, "not_found")


def test_import_is_all_or_nothing_and_lists_every_bad_line(client):
    bad = "name,kind,contacts\n交通局,government,jtj\n住建局,ministry,\n123,party,\n交通局,other,\n"
    refused = client.post(UNITS + "/import", data=bad.encode(), content_type="text/csv", headers=basic("wang"))
    error = expect_error(refused, 400, "invalid_input", "nothing was imported", field="file")
    assert "line 3" in error["message"]
    assert [p["line"] for p in refused.get_json()["problems"]] == [3, 4, 5]
    assert "unknown unit kind" in refused.get_json()["problems"][0]["message"]
    assert "only digits" in refused.get_json()["problems"][1]["message"]
    assert "repeats line 2" in refused.get_json()["problems"][2]["message"]
    assert unit_count(client.application) == 0
    header = client.post(UNITS + "/import", data=b"name,boss\n", content_type="text/csv", headers=basic("wang"))
    assert header.get_json()["problems"] == [{"line": 1, "message": header.get_json()["error"]["message"]}]
    latin = client.post(UNITS + "/import", data="name,kind\né,party\n".encode("latin-1"), content_type="text/csv",
                        headers=basic("wang"))
    expect_error(latin, 400, "invalid_input", "not UTF-8")
    wrong_type = client.post(UNITS + "/import", data=b"name,kind\n", content_type="application/json",
                             headers=basic("wang"))
    expect_error(wrong_type, 415, "unsupported_media_type")
    good = "\ufeffname,kind,phone,contacts\n交通局,government,1,jtj\n宣传部,party,,\n"
    done = client.post(UNITS + "/import", data=good.encode(), content_type="text/csv", headers=basic("wang"))
    assert done.status_code == 201, done.get_data(as_text=True)
    assert done.get_json()["imported"] == 2 and done.get_json()["units"][0]["contacts"] == ["jtj"]
    assert unit_count(client.application) == 2


def test_every_units_operation_is_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert set(paths["/api/v1/units"]) == {"get", "post"}
    assert set(paths["/api/v1/units/{ref}"]) == {"get", "patch"}
    assert "text/csv" in paths["/api/v1/units/import"]["post"]["requestBody"]["content"]
