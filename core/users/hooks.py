"""The users feature's built-in plugin: who signs in (``load_user``, ``check_credentials``), who a
notification reaches, and the ``users`` commands."""

from __future__ import annotations

from shangliang.core.clock import now_ms
from shangliang.core.context import node_context
from shangliang.core.db import get_session
from shangliang.core.i18n import N_
from shangliang.core.plugins import hookimpl
from shangliang.core.settings import Setting, number

from . import models  # noqa: F401  (the users table)
from . import services


@hookimpl
def declare_settings():
    return [Setting("users", "session_hours", 12, "how long a sign-in lasts on the node before the person signs in "
                    "again (signing out ends it at once)", number(0.1, 24 * 31, unit="hours")),
            Setting("users", "hash_method", services.DEFAULT_HASH_METHOD,
                    "how new passwords are hashed (werkzeug's method string); the test suite sets a fast one, a "
                    "node never should", services.check_hash_method)]


@hookimpl
def load_user(user_id):
    return services.session_user(get_session(), user_id, now_ms())


@hookimpl
def start_session(user):
    return services.start_session(get_session(), user, now_ms(), node_context().config["USERS_SESSION_HOURS"])


@hookimpl
def end_session(user_id):
    services.end_session(get_session(), user_id)


@hookimpl
def check_credentials(username, password):
    return services.authenticate(get_session(), username, password,
                                 method=node_context().config["USERS_HASH_METHOD"])


@hookimpl
def notification_recipients(role, user_id):
    return services.recipients(get_session(), role, user_id)


@hookimpl
def register_commands(cli):
    from .cli import users

    return users


@hookimpl
def register_blueprints(app):
    from .blueprint import api, pages

    return [api, pages]

#: The plugin's line on the plugins page, in the page's language.
SUMMARY = N_("The users feature's built-in plugin: who signs in (``load_user``, ``check_credentials``), who a")
