"""Security headers on every answer; Secure cookies and HSTS where the public URL is https; the language
switch returns only to a page of this node."""

from __future__ import annotations

import pytest

from shangliang.core.app import create_app


def node_app(node_dir, url: str | None = None):
    config = {"PUBLIC_URL": url} if url else {}
    return create_app(node_dir, test_config=config)


@pytest.fixture
def app(node_dir):
    app = node_app(node_dir)
    yield app
    app.extensions["shangliang.db"].engine.dispose()


@pytest.mark.parametrize("path", ["/", "/login", "/topics", "/api/v1/openapi.json", "/api/v1/docs", "/healthz",
                                  "/nowhere"])
def test_every_answer_carries_the_security_headers(app, path):
    response = app.test_client().get(path)
    policy = response.headers.get("Content-Security-Policy", "")
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy and "script-src 'self'" in policy
    assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    assert response.headers.get("X-Frame-Options") == "DENY"
    assert response.headers.get("X-Content-Type-Options") == "nosniff"
    assert response.headers.get("Referrer-Policy") == "same-origin"
    assert "Strict-Transport-Security" not in response.headers  # the node is reached over http here


def test_no_page_runs_inline_script(app):
    client = app.test_client()
    for path in ("/login", "/api/v1/docs"):
        assert "<script" not in client.get(path).get_data(as_text=True), path


def test_the_session_cookie_is_samesite_and_httponly_and_secure_on_https(node_dir):
    for url, secure in (("http://127.0.0.1:5999", False), ("https://zx.example.gov.cn", True)):
        app = node_app(node_dir, url)
        try:
            client = app.test_client()
            page = client.get("/login", base_url=url)
            cookie = page.headers.get("Set-Cookie", "")
            assert "SameSite=Lax" in cookie and "HttpOnly" in cookie, cookie
            assert ("Secure" in cookie) == secure, cookie
            hsts = page.headers.get("Strict-Transport-Security")
            assert (hsts is not None and "max-age=31536000" in hsts) == secure, hsts
        finally:
            app.extensions["shangliang.db"].engine.dispose()


@pytest.mark.parametrize("referrer, expected", [
    ("http://localhost/topics?stage=closed", "/topics?stage=closed"),
    ("/topics", "/topics"),
    ("https://evil.example/phish", "/"),
    ("//evil.example/phish", "/"),
    ("javascript:alert(1)", "/"),
    (None, "/"),
])
def test_the_language_switch_returns_only_to_this_node(app, referrer, expected):
    headers = {"Referer": referrer} if referrer else {}
    response = app.test_client().get("/lang/en", headers=headers)
    assert response.status_code == 302
    assert response.headers["Location"] == expected
