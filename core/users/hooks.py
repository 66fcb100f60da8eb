"""The users feature's built-in plugin: who signs in (``load_user``, ``check_credentials``), who a
notification reaches, and the ``users`` commands."""

from __future__ import annotations

from shangliang.core.db import get_session
from shangliang.core.plugins import hookimpl

from . import models  # noqa: F401  (the users table)
from . import services


@hookimpl
def load_user(user_id):
    return services.active_user(get_session(), user_id)


@hookimpl
def check_credentials(username, password):
    return services.authenticate(get_session(), username, password)


@hookimpl
def notification_recipients(role, user_id):
    return services.recipients(get_session(), role, user_id)


@hookimpl
def register_commands(cli):
    from .cli import users

    return users
