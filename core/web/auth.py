"""Who is asking: the signed-in user (Flask-Login) or HTTP Basic credentials, role checks, request sizes.

The core knows users only through two hooks, ``load_user`` and ``check_credentials`` (the users
feature implements them), so pages and the API of every feature check sign-in and roles here, the
same way.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Collection, Mapping

import flask
import flask_login
from flask import abort

from ..db import transaction
from ..plugins import get_plugin_manager
from . import throttle

# Flask's context-bound proxies are used through their modules: a proxy bound to a name here would be
# probed outside any app context by `plugins list`.


def init_app(app: flask.Flask) -> None:
    """Install the per-view request-size check; it runs before CSRF's, which reads the form."""
    app.before_request(_apply_request_limit)


def load_user(user_id: str) -> Any:
    """Flask-Login's user loader: the active user with this id, through the ``load_user`` hook."""
    return get_plugin_manager().hook.load_user(user_id=user_id)


class Throttled(Exception):
    """Too many wrong passwords for this account or from this address: try again in ``wait`` seconds."""

    def __init__(self, wait: int):
        self.wait = wait
        super().__init__(f"too many wrong passwords for this account or from this address; try again in {wait} s")


def check_credentials(username: str, password: str) -> Any:
    """The active user with this name and password (``check_credentials`` hook), else None; raises
    :class:`Throttled`, before any password is checked, after too many wrong ones."""
    gate, address = throttle.throttle(), throttle.address()
    wait = gate.wait(username, address)
    if wait:
        raise Throttled(wait)
    user = get_plugin_manager().hook.check_credentials(username=username, password=password)
    if user is None:
        gate.failed(username, address)
    return user


def start_session(user: Any) -> bool:
    """Keep a signed-in session for ``user`` on the node (``start_session`` hook); False if refused."""
    with transaction(f"user:{getattr(user, 'username', '?')}"):
        return get_plugin_manager().hook.start_session(user=user) is not None


def end_session() -> None:
    """End the current signed-in session on the node (``end_session`` hook), so its cookie is spent."""
    user = current_user()
    if user is not None:
        with transaction(f"user:{getattr(user, 'username', '?')}"):
            get_plugin_manager().hook.end_session(user_id=user.get_id())


def current_user() -> Any:
    """The signed-in user, or None."""
    user = flask_login.current_user
    return user._get_current_object() if user.is_authenticated else None


def has_role(user: Any, roles: Collection[str]) -> bool:
    return user is not None and user.role in roles


def roles_required(roles: Collection[str]) -> Callable:
    """A page that needs a signed-in user (else the sign-in page) with one of ``roles`` (else 403)."""

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            user = current_user()
            if user is None:
                return flask.current_app.login_manager.unauthorized()
            if not has_role(user, roles):
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorator


login_required = flask_login.login_required


def request_limit(limit: Callable[[Mapping[str, Any]], int]) -> Callable:
    """Let a view read request bodies up to ``limit(config)`` bytes instead of the node's
    ``max_request_bytes`` (a file upload). The check runs before anything reads the body."""

    def decorator(view: Callable) -> Callable:
        view.max_request_bytes = limit  # type: ignore[attr-defined]
        return view

    return decorator


def _apply_request_limit() -> None:
    view = flask.current_app.view_functions.get(flask.request.endpoint or "")
    limit = getattr(view, "max_request_bytes", None)
    if limit is not None:
        flask.request.max_content_length = limit(flask.current_app.config)
