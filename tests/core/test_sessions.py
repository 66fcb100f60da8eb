"""A sign-in is kept on the node: signing out ends it for every copy of the cookie; it lasts
``[users] session_hours``; an account turned off signs out everywhere."""

from __future__ import annotations

import pytest

from shangliang.core.app import create_app
from shangliang.core.db import get_session, transaction
from shangliang.core.users import services as users
from shangliang.core.users.models import SignIn, User

from ..conftest import invoke

PASSWORD = "correct-horse"


@pytest.fixture
def app(make_node, runner):
    node_dir = make_node()
    result = invoke(runner, node_dir, "users", "add", "clerk", "--role", "office", "--password-stdin",
                    input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    app = create_app(node_dir, test_config={"WTF_CSRF_ENABLED": False})
    yield app
    app.extensions["shangliang.db"].engine.dispose()


def sign_in(app):
    client = app.test_client()
    answer = client.post("/login", data={"username": "clerk", "password": PASSWORD})
    assert answer.status_code == 302
    return client


def cookie(client) -> str:
    return client.get_cookie("session").value


def signed_in(app, saved_cookie: str) -> bool:
    """Whether a browser holding only ``saved_cookie`` is signed in."""
    other = app.test_client()
    other.set_cookie("session", saved_cookie)
    page = other.get("/topics")
    api = other.get("/api/v1/topics")
    assert (page.status_code == 200) == (api.status_code == 200), (page.status_code, api.status_code)
    return page.status_code == 200


def test_a_cookie_saved_before_signing_out_signs_no_one_in_after(app):
    client = sign_in(app)
    saved = cookie(client)
    assert signed_in(app, saved)
    assert client.post("/logout").status_code == 302
    assert not signed_in(app, saved)
    assert client.get("/topics").status_code == 302  # the browser that signed out, too
    with app.app_context():
        assert get_session().query(SignIn).count() == 0


def test_signing_out_one_browser_leaves_the_other_signed_in(app):
    first, second = sign_in(app), sign_in(app)
    saved = cookie(second)
    first.post("/logout")
    assert signed_in(app, saved)


def test_a_sign_in_ends_after_its_hours(app):
    client = sign_in(app)
    with app.app_context():
        row = get_session().query(SignIn).one()
        assert row.expires_ms - row.created_ms == 12 * 3600 * 1000
        session_id = f"{row.user_id}:unknown"
        assert users.session_user(get_session(), session_id, row.created_ms) is None  # a forged token
    assert signed_in(app, cookie(client))
    with app.app_context():
        with transaction("test") as session:
            session.query(SignIn).one().expires_ms = 1
    assert not signed_in(app, cookie(client))


def test_ending_every_session_of_an_account_signs_it_out_everywhere(app):
    saved = [cookie(sign_in(app)) for _ in range(2)]
    with app.app_context():
        with transaction("test") as session:
            user = session.query(User).filter_by(username="clerk").one()
            assert users.end_sessions(session, user) == 2
    assert not any(signed_in(app, c) for c in saved)


def test_a_new_password_or_a_disabled_account_ends_the_sessions(app, runner):
    node_dir = app.config["NODE_DIR"]
    saved = cookie(sign_in(app))
    changed = invoke(runner, node_dir, "users", "password", "clerk", "--password-stdin", input="another-horse\n")
    assert changed.exit_code == 0 and "1 signed-in session(s) ended" in changed.output, changed.output
    assert not signed_in(app, saved)
    assert app.test_client().post("/login", data={"username": "clerk", "password": PASSWORD}).status_code == 401
    client = app.test_client()
    assert client.post("/login", data={"username": "clerk", "password": "another-horse"}).status_code == 302
    saved = cookie(client)
    disabled = invoke(runner, node_dir, "users", "disable", "clerk")
    assert disabled.exit_code == 0 and "1 signed-in session(s) ended" in disabled.output
    assert not signed_in(app, saved)
    assert app.test_client().post("/login", data={"username": "clerk", "password": "another-horse"}).status_code == 401
    assert invoke(runner, node_dir, "users", "enable", "clerk").exit_code == 0
    assert app.test_client().post("/login", data={"username": "clerk", "password": "another-horse"}).status_code == 302
    missing = invoke(runner, node_dir, "users", "password", "nobody", "--password-stdin", input="long-enough-1\n")
    assert missing.exit_code == 2 and "no user 'nobody'" in missing.output



def test_a_session_id_signs_in_only_as_the_node_wrote_it(app):
    """The id's user part is the user's number as the node wrote it: another user's number, or the same number
    spelled otherwise (a leading zero, other digits, a sign, spaces), signs no one in with the right token."""
    with app.app_context():
        with transaction("test") as session:
            user = session.query(User).filter_by(username="clerk").one()
            session_id = users.start_session(session, user, 1_000, 1)
        user_id, token = session_id.split(":")
        session = get_session()
        assert users.session_user(session, session_id, 2_000).username == "clerk"
        assert users.session_user(session, session_id, 1_000 + 3600 * 1000) is None  # expired
        for spelling in (f"0{user_id}", "\u0661" * len(user_id) if user_id == "1" else f"{user_id}\u0660",
                         f"+{user_id}", f" {user_id}", str(int(user_id) + 1), "", "x"):
            assert users.session_user(session, f"{spelling}:{token}", 2_000) is None, spelling
        assert users.session_user(session, f"{user_id}:", 2_000) is None
