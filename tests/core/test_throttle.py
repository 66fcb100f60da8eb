"""Wrong passwords are throttled per account and per address, on the sign-in page and for HTTP Basic,
before any password is checked; counters in the node's database, or in Redis where the broker is."""

from __future__ import annotations

import base64

import pytest

from shangliang.core.app import create_app
from shangliang.core.web import throttle

from ..conftest import invoke

PASSWORD = "correct-horse"


@pytest.fixture
def app(make_node, runner):
    node_dir = make_node()
    for name in ("clerk", "other"):
        result = invoke(runner, node_dir, "users", "add", name, "--role", "office", "--password-stdin",
                        input=PASSWORD + "\n")
        assert result.exit_code == 0, result.output
    app = create_app(node_dir, test_config={"WTF_CSRF_ENABLED": False})
    yield app
    with app.app_context():
        app.extensions[throttle.EXTENSION].limiter.storage.reset()
    app.extensions["shangliang.db"].engine.dispose()


def login(client, username: str, password: str):
    return client.post("/login", data={"username": username, "password": password})


def basic(username: str, password: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()}


def test_five_wrong_passwords_hold_the_account_even_for_the_right_one(app):
    client = app.test_client()
    assert [login(client, "clerk", "wrong-password").status_code for _ in range(throttle.PER_ACCOUNT.amount)] \
        == [401] * throttle.PER_ACCOUNT.amount
    held = login(client, "clerk", PASSWORD)
    assert held.status_code == 429 and 0 < int(held.headers["Retry-After"]) <= 300
    assert "秒后再试" in held.get_data(as_text=True) or "Try again in" in held.get_data(as_text=True)
    api = app.test_client().get("/api/v1/topics", headers=basic("clerk", PASSWORD))
    assert api.status_code == 429 and api.get_json()["error"]["code"] == "too_many_attempts"
    assert int(api.headers["Retry-After"]) > 0
    # Another account from the same address is not held.
    assert login(app.test_client(), "other", PASSWORD).status_code == 302
    # When the window has passed, the right password works again.
    with app.app_context():
        app.extensions[throttle.EXTENSION].limiter.storage.reset()
    assert login(app.test_client(), "clerk", PASSWORD).status_code == 302


def test_wrong_basic_credentials_count_as_wrong_passwords(app):
    client = app.test_client()
    for _ in range(throttle.PER_ACCOUNT.amount):
        assert client.get("/api/v1/topics", headers=basic("clerk", "nope-nope")).status_code == 401
    assert client.get("/api/v1/topics", headers=basic("clerk", PASSWORD)).status_code == 429
    assert login(client, "clerk", PASSWORD).status_code == 429


def test_a_right_password_does_not_count(app):
    for _ in range(throttle.PER_ACCOUNT.amount * 2):
        assert app.test_client().get("/api/v1/topics", headers=basic("clerk", PASSWORD)).status_code == 200


def test_many_accounts_tried_from_one_address_hold_the_address(app):
    client = app.test_client()
    for n in range(throttle.PER_ADDRESS.amount):
        assert login(client, f"guess{n}", "wrong-password").status_code == 401
    assert login(client, "other", PASSWORD).status_code == 429
    elsewhere = app.test_client().post("/login", data={"username": "other", "password": PASSWORD},
                                       environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert elsewhere.status_code == 302
