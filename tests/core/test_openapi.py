"""The JSON API is described: the generated document is valid OpenAPI 3.1, names every ``/api/v1`` route with
its errors, reads as a page without outside resources; lists come a page at a time."""

from __future__ import annotations

import base64
import json
import re

import pytest
from flask import Flask
from openapi_spec_validator import OpenAPIV31SpecValidator

from shangliang.core.app import create_app
from shangliang.core.web.api import document

from ..conftest import invoke

PASSWORD = "correct-horse"
# Routes that are the description itself, not operations of the API.
SELF = {"/api/v1/openapi.json", "/api/v1/docs"}


def operations(app: Flask) -> set[tuple[str, str]]:
    """Every (path, method) Flask routes under /api/v1, in OpenAPI's spelling of the path."""
    found = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1") and rule.rule not in SELF:
            path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
            found |= {(path, method.lower()) for method in rule.methods - {"HEAD", "OPTIONS"}}
    return found


def undescribed(app: Flask, doc: dict) -> list[str]:
    """Routes the document does not describe, or describes without their answers and errors."""
    problems = []
    for path, method in sorted(operations(app)):
        operation = doc["paths"].get(path, {}).get(method)
        if operation is None:
            problems.append(f"{method.upper()} {path} is not in the document")
            continue
        codes = set(operation.get("responses", {}))
        if not any(code.startswith("2") for code in codes):
            problems.append(f"{method.upper()} {path} describes no success answer")
        if "401" not in codes:
            problems.append(f"{method.upper()} {path} does not say it needs a signed-in user (401)")
        if method != "get" and not {"400", "403"} <= codes:
            problems.append(f"{method.upper()} {path} does not describe its errors 400 and 403")
        if not operation.get("summary"):
            problems.append(f"{method.upper()} {path} has no summary")
    return problems


@pytest.fixture
def api_app(make_node, runner):
    node_dir = make_node()
    result = invoke(runner, node_dir, "users", "add", "clerk", "--role", "office", "--password-stdin",
                    input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    app = create_app(node_dir)
    yield app
    app.extensions["shangliang.db"].engine.dispose()


def basic(user: str = "clerk") -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{PASSWORD}".encode()).decode()}


def test_the_document_is_valid_openapi_3_1(api_app):
    response = api_app.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    doc = response.get_json()
    assert doc["openapi"].startswith("3.1")
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in OpenAPIV31SpecValidator(doc).iter_errors()]
    assert errors == []


def test_the_document_describes_every_api_route_with_its_errors(api_app):
    doc = api_app.test_client().get("/api/v1/openapi.json").get_json()
    assert len(operations(api_app)) >= 6
    assert undescribed(api_app, doc) == []
    # Every error answer has the error body of docs/api.md.
    for path, methods in doc["paths"].items():
        for method, operation in methods.items():
            for code, answer in operation["responses"].items():
                if code == "414":  # the web server's own refusal of a long request line: no body of ours
                    assert "content" not in answer, (method, path)
                elif code.startswith(("4", "5")):
                    schema = answer["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (method, path, code)


def test_a_route_the_document_does_not_describe_is_found(api_app):
    """The check above can fail: a route added beside the API's tables is reported."""
    doc = document(api_app)
    api_app.add_url_rule("/api/v1/topics/<uid>/secret", "secret", lambda uid: "", methods=["DELETE"])
    assert undescribed(api_app, doc) == ["DELETE /api/v1/topics/{uid}/secret is not in the document"]


def test_descriptions_are_the_docstrings_as_written(api_app):
    doc = api_app.test_client().get("/api/v1/openapi.json").get_json()
    listing = doc["paths"]["/api/v1/topics"]["get"]
    assert listing["summary"] == "List topics."
    assert listing["description"].startswith("Topics known on this node, overdue first")
    assert "<br/>" not in json.dumps(doc)


def test_the_docs_page_shows_every_operation_and_loads_nothing_from_outside(api_app):
    client = api_app.test_client()
    doc = client.get("/api/v1/openapi.json").get_json()
    page = client.get("/api/v1/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    for path, methods in doc["paths"].items():
        for method, operation in methods.items():
            assert operation["summary"] in html, (method, path)
            assert path in html
    assert "<script" not in html
    assert not re.search(r"""(?:src|href)=["']?(?:https?:)?//""", html), "the page refers to another host"


def test_a_list_comes_a_page_at_a_time_and_every_item_once(api_app):
    client = api_app.test_client()
    raised = set()
    for n in range(5):
        body = {"title": f"议题 {n}", "category": "城乡建设", "areas": ["620302"], "raised_by_kind": "member",
                "raised_by_name": "委员"}
        response = client.post("/api/v1/topics", json=body, headers=basic())
        assert response.status_code == 201, response.get_data(as_text=True)
        raised.add(response.get_json()["topic"]["uid"])
    seen, cursor, sizes = [], None, []
    while True:
        query = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        answer = client.get("/api/v1/topics", query_string=query, headers=basic()).get_json()
        sizes.append(len(answer["topics"]))
        seen += [topic["uid"] for topic in answer["topics"]]
        cursor = answer["next_cursor"]
        if cursor is None:
            break
    assert sizes == [2, 2, 1]
    assert len(seen) == len(set(seen)) and set(seen) == raised
    everything = client.get("/api/v1/topics", headers=basic()).get_json()
    assert [topic["uid"] for topic in everything["topics"]] == seen and everything["next_cursor"] is None


def _cursor(values) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


@pytest.mark.parametrize("query, field", [
    ({"cursor": "not-a-cursor"}, "cursor"),
    ({"cursor": _cursor([True, 1])}, "cursor"),                         # one value short
    ({"cursor": _cursor(["x", "y", "z"])}, "cursor"),                   # values of the wrong kinds
    ({"cursor": _cursor([False, 2 ** 64, 1])}, "cursor"),               # beyond a database integer
    ({"cursor": _cursor([False, True, 1])}, "cursor"),                  # a bool is not a time
    ({"limit": 0}, "limit"),
    ({"limit": 501}, "limit"),
    ({"limit": "many"}, "limit"),
])
def test_a_bad_page_request_is_refused_naming_its_field(api_app, query, field):
    response = api_app.test_client().get("/api/v1/topics", query_string=query, headers=basic())
    assert response.status_code == 400, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] == "invalid_input" and error["field"] == field, error


def test_a_conflict_an_operation_answers_is_declared(api_app):
    """Found by the fuzzer: accepting a topic twice answers 409 `conflict` (docs/api.md), which the document
    did not declare for actions; acting and attaching (both refused by a topic's state) now declare it."""
    client = api_app.test_client()
    raised = client.post("/api/v1/topics", headers=basic(), json={
        "title": "道路维修", "category": "交通", "areas": ["620302001"], "raised_by_kind": "public",
        "raised_by_name": "村民"})
    assert raised.status_code == 201, raised.get_data(as_text=True)
    uid = raised.get_json()["topic"]["uid"]
    again = client.post(f"/api/v1/topics/{uid}/actions", headers=basic(), json={"action": "accept"})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "conflict"
    doc = client.get("/api/v1/openapi.json").get_json()
    for path in ("/api/v1/topics/{uid}/actions", "/api/v1/topics/{uid}/attachments"):
        assert "409" in doc["paths"][path]["post"]["responses"], path
