"""User pages (/admin/users): the accounts of this node, adding one, changing its role, turning it off or on and
setting its password. Each handler parses the form, calls one service and redirects with a flashed message; a
refused form is shown again with what was typed and the reason (400)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import flask
from flask import current_app, flash, render_template, url_for
from flask_babel import gettext as _
from shangliang.core.db import get_session
from shangliang.core.errors import ShangliangError
from shangliang.core.i18n import reason
from shangliang.core.web import auth, forms

from . import services


def role_label(role: str) -> str:
    return {"admin": _("Administrator"), "office": _("Office staff"), "member": _("Member"),
            "handling_unit": _("Handling unit"), "public": _("Public")}.get(role, role)


def template_helpers() -> dict[str, Any]:
    return {"role_label": role_label, "ROLES": services.ROLES}


def _actor() -> str:
    return f"web:{auth.current_user().username}"


def _page(form: Mapping[str, Any] | None = None, error: ShangliangError | None = None, status: int = 200):
    users = services.list_users(get_session())
    return render_template("users/index.html", users=users, form=form or {}, error=error,
                           error_field=getattr(error, "field", None)), status


def index():
    return _page()


def _run(action: str, username: str | None, work, refused: Callable[[str], str]):
    """Run a form's unit of work; a refusal is flashed as ``refused(reason)``
    and the page drawn again with what was typed (never a password) and the reason beside the form."""
    form = flask.request.form
    try:
        return forms.run_once(_actor(), work)
    except ShangliangError as exc:  # InputError (400) and LastAdmin (a Conflict) alike: shown beside the form
        flash(refused(reason(exc)), "error")
        typed = {key: value for key, value in form.items() if key != "password"}
        return _page({**typed, "action": action, "username_of": username}, exc, 400)


def create():
    form = flask.request.form

    def work(session):
        user = services.add_user(session, form.get("username", "").strip(), form.get("role", ""),
                                 form.get("password") or None, form.get("display_name") or None,
                                 form.get("member_no") or None, method=current_app.config["USERS_HASH_METHOD"])
        return "success", _("User added: %(name)s", name=user.username), url_for("users.index")

    return _run("add", None, work, lambda reason: _("Not added: %(message)s", message=reason))


def set_role(username: str):
    form = flask.request.form

    def work(session):
        user = services.set_role(session, username, form.get("role", ""))
        return "success", _("%(name)s is now: %(role)s", name=user.username, role=role_label(user.role)), \
            url_for("users.index")

    return _run("role", username, work, lambda reason: _("Role not changed: %(message)s", message=reason))


def set_active(username: str):
    form = flask.request.form
    active = form.get("active") == "on"

    def work(session):
        services.set_active(session, username, active)
        message = _("%(name)s enabled.", name=username) if active else _("%(name)s disabled.", name=username)
        return "success", message, url_for("users.index")

    return _run("active", username, work, lambda reason: _("Not changed: %(message)s", message=reason))


def set_password(username: str):
    form = flask.request.form

    def work(session):
        ended = services.set_password(session, username, form.get("password", ""),
                                      method=current_app.config["USERS_HASH_METHOD"])
        return "success", _("Password of %(name)s set; %(n)s signed-in sessions ended.", name=username, n=ended), \
            url_for("users.index")

    return _run("password", username, work, lambda reason: _("Password not set: %(message)s", message=reason))
