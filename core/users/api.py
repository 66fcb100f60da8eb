"""The users JSON API (/api/v1/users): handlers that take the validated request, call one service and answer
JSON; the URL table is in ``blueprint.py``."""

from __future__ import annotations

from flask import current_app, url_for
from shangliang.core.db import get_session, transaction
from shangliang.core.web.api import actor, json_response

from . import services
from .schemas import UserIn, UserListQuery, UserPassword, UserPath, UserUpdate


def list_users(query: UserListQuery):
    """List users.

    The accounts that sign in to this node, the newest first, with their role, linked member and whether they
    are active.
    """
    found = services.page_users(get_session(), query.limit, query.cursor, query.role)
    return json_response({"users": [services.user_detail(u) for u in found.items], "next_cursor": found.next_cursor})


def create_user(body: UserIn):
    """Add a user.

    An account with a role and an initial password (`shangliang users add`); refused for a user name taken
    or malformed, an unknown role or a password under 8 characters.
    """
    with transaction(actor()) as session:
        user = services.add_user(session, body.username, body.role, body.password, body.display_name,
                                 body.member_no, method=current_app.config["USERS_HASH_METHOD"])
        data = services.user_detail(user)
    return json_response({"user": data}, 201, {"Location": url_for("users_api.show_user", username=data["username"])})


def show_user(path: UserPath):
    """Show a user."""
    return json_response({"user": services.user_detail(services.get_user(get_session(), path.username))})


def update_user(path: UserPath, body: UserUpdate):
    """Change the role of a user, or turn the account on or off.

    The last active admin can be neither demoted nor turned off (409 `conflict`): a node always keeps one
    administrator. Turning an account off ends its signed-in sessions.
    """
    with transaction(actor()) as session:
        if body.role is not None:
            services.set_role(session, path.username, body.role)
        if body.active is not None:
            services.set_active(session, path.username, body.active)
        data = services.user_detail(services.get_user(session, path.username))
    return json_response({"user": data})


def set_password(path: UserPath, body: UserPassword):
    """Set the password of a user.

    Every session signed in with the old password ends (`shangliang users password`).
    """
    with transaction(actor()) as session:
        ended = services.set_password(session, path.username, body.password,
                                      method=current_app.config["USERS_HASH_METHOD"])
    return json_response({"username": path.username, "sessions_ended": ended})
