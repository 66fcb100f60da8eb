"""How passwords are hashed: werkzeug's scrypt by default (production); ``[users] hash_method`` changes it
for passwords set from then on (the test suite's fast one, tests/conftest.py)."""

import base64

import pytest
import werkzeug.security

from shangliang.core.app import create_app
from shangliang.core.db import get_session
from shangliang.core.errors import ConfigError
from shangliang.core.users import services

from ..conftest import TEST_HASH_METHOD, invoke

HASH_ENV = "SHANGLIANG_USERS_HASH_METHOD"


def _stored_hash(node_dir, username):
    app = create_app(node_dir)
    try:
        with app.app_context():
            return services.get_user(get_session(), username).password_hash
    finally:
        app.extensions["shangliang.db"].engine.dispose()


def _basic(username, password):
    return {"Authorization": "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()}


def test_a_node_hashes_passwords_with_scrypt_by_default(runner, node_dir, monkeypatch):
    monkeypatch.delenv(HASH_ENV)  # as a node outside the test suite: nothing sets the method
    app = create_app(node_dir)
    assert app.config["USERS_HASH_METHOD"] == services.DEFAULT_HASH_METHOD == "scrypt"
    app.extensions["shangliang.db"].engine.dispose()
    # werkzeug's own default, so a node hashes as werkzeug does unless told otherwise
    assert werkzeug.security.generate_password_hash("x").startswith("scrypt:32768:8:1$")
    result = invoke(runner, node_dir, "users", "add", "wang", "--role", "office", "--password-stdin",
                    input="long-enough-pw\n")
    assert result.exit_code == 0, result.output
    assert _stored_hash(node_dir, "wang").startswith("scrypt:32768:8:1$")
    result = invoke(runner, node_dir, "users", "password", "wang", "--password-stdin", input="another-long-pw\n")
    assert result.exit_code == 0, result.output
    stored = _stored_hash(node_dir, "wang")
    assert stored.startswith("scrypt:32768:8:1$") and werkzeug.security.check_password_hash(stored, "another-long-pw")
    # The hash that an unknown name is checked against is made the same way (equal time for both).
    assert services._no_user_hash(services.DEFAULT_HASH_METHOD).startswith("scrypt:32768:8:1$")


def test_the_hash_method_setting_hashes_new_passwords_and_sign_in_still_checks_them(runner, node_dir, monkeypatch):
    monkeypatch.setenv(HASH_ENV, TEST_HASH_METHOD)
    assert invoke(runner, node_dir, "users", "add", "li", "--role", "office", "--password-stdin",
                  input="long-enough-pw\n").exit_code == 0
    assert _stored_hash(node_dir, "li").startswith("pbkdf2:sha256:1$")
    app = create_app(node_dir)
    try:
        client = app.test_client()
        assert client.get("/api/v1/topics", headers=_basic("li", "long-enough-pw")).status_code == 200
        assert client.get("/api/v1/topics", headers=_basic("li", "wrong-password")).status_code == 401
        assert client.get("/api/v1/topics", headers=_basic("nobody", "long-enough-pw")).status_code == 401
    finally:
        app.extensions["shangliang.db"].engine.dispose()
    assert services._no_user_hash(TEST_HASH_METHOD).startswith("pbkdf2:sha256:1$")


@pytest.mark.parametrize("method", ["md5", "scrypt:1", "pbkdf2:sha256:many", ""])
def test_an_unusable_hash_method_stops_the_node_from_starting(node_dir, monkeypatch, method):
    monkeypatch.setenv(HASH_ENV, method)
    with pytest.raises(ConfigError) as raised:
        create_app(node_dir)
    assert "users.hash_method" in str(raised.value)
