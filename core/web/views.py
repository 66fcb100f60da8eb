"""Views of the core web interface; thin callers of the core services."""

from __future__ import annotations

import time

from flask import current_app, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired

from .. import config as node_config
from ..celery_app import EXTENSION as CELERY, check_broker
from ..db import check_database, get_db, get_session
from ..errors import ServiceUnavailable
from ..models import Heartbeat
from ..notifications import unread_count
from ..plugins import get_plugin_manager
from . import auth, security


def home():
    """The workbench of the person signed in (what waits for them, from every feature's ``workbench_items``)
    and their unread notifications; the node's facts below it, and for everyone else."""
    from ..context import node_context
    from ..work import collect

    config = current_app.config
    pm = get_plugin_manager()
    enabled = [name for name, _plugin in pm.list_name_plugin() if name in config["PLUGINS_ENABLED"]]
    user = auth.current_user()
    items, unread = None, 0
    if user is not None:
        session = get_session()
        items = collect(pm, session, user, node_context())
        unread = unread_count(session, user)
    return render_template("home.html", node=config, enabled=enabled, level_label=level_label(config["NODE_LEVEL"]),
                           items=items, unread=unread, user=user)


def nav_items() -> list[tuple[str, str]]:
    """The navigation bar's entries, from every plugin's ``nav_items``."""
    from ..plugins import flatten

    # pluggy calls the last registered first: reversed, the entries come in registration order (built-ins first)
    return flatten(reversed(get_plugin_manager().hook.nav_items()))


def level_label(level: str) -> str:
    labels = {
        "province": _("Province"),
        "city": _("City"),
        "county": _("County"),
        "township": _("Township"),
        "village": _("Village"),
    }
    return labels.get(level, level)


def healthz():
    """Database and broker reachable; the last worker heartbeat, if any."""
    config = current_app.config
    body = {"node": config["NODE_ID"], "status": "ok"}
    try:
        check_database(config["DATABASE_URL"], get_db().engine)
        body["database"] = {"ok": True}
    except ServiceUnavailable as exc:
        body["database"] = {"ok": False, "error": str(exc)}
        body["status"] = "unavailable"
    try:
        check_broker(current_app.extensions[CELERY], timeout=2.0)
        body["broker"] = {"ok": True, "embedded": node_config.is_embedded_broker(config["BROKER_URL"])}
    except ServiceUnavailable as exc:
        body["broker"] = {"ok": False, "error": str(exc)}
        body["status"] = "unavailable"
    if body["database"]["ok"]:
        last = get_session().execute(select(Heartbeat.at_ms).order_by(Heartbeat.at_ms.desc())).scalar()
        body["worker"] = {"last_heartbeat_ms": last,
                          "age_seconds": None if last is None else round(time.time() - last / 1000, 1)}
    return jsonify(body), 200 if body["status"] == "ok" else 503


class LoginForm(FlaskForm):
    username = StringField("username", validators=[DataRequired()])
    password = PasswordField("password", validators=[DataRequired()])


def login():
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        try:
            user = auth.check_credentials(form.username.data, form.password.data)
        except auth.Throttled as exc:
            error = _("Too many wrong passwords. Try again in %(seconds)s seconds.", seconds=exc.wait)
            return render_template("login.html", form=form, error=error), 429, {"Retry-After": str(exc.wait)}
        if user is not None and auth.start_session(user):
            login_user(user)
            # Back to the page that asked for a sign-in (Flask-Login's ``next``), if it is one of this node's.
            return redirect(security.local_redirect(request.args.get("next"), url_for("core.home")))
        error = _("Wrong user name or password.")
    return render_template("login.html", form=form, error=error), 200 if error is None else 401


def logout():
    auth.end_session()
    logout_user()
    return redirect(url_for("core.home"))


def set_language(code: str):
    if code not in node_config.SUPPORTED_LOCALES:
        return error_page(404)
    response = redirect(security.local_redirect(request.referrer, url_for("core.home")))
    response.set_cookie("lang", code, max_age=365 * 24 * 3600, samesite="Lax", httponly=True,
                        secure=security.https(current_app))
    return response


def _error_texts() -> dict[int, tuple[str, str]]:
    """A page's error, by HTTP status: a title and what the person can do, in their language."""
    return {
        400: (_("The request could not be understood"),
              _("Something in what was sent is not valid. Go back, check the form and try again.")),
        403: (_("Not allowed"), _("Your account does not have the right to see this page or do this.")),
        404: (_("Page not found"), _("There is no such page on this node. Check the address, or start from the home page.")),
        405: (_("Not allowed this way"), _("This page cannot be used like this. Start from the home page.")),
        413: (_("Too large"), _("What was sent is larger than this node accepts.")),
        429: (_("Too many requests"), _("Please wait a moment and try again.")),
        500: (_("Something went wrong on this node"),
              _("Nothing was changed by this request. Try again later; if it keeps happening, tell the node's administrator.")),
    }


def error_page(status: int, title: str | None = None, detail: str | None = None):
    """An error as a page of this node, in the person's language (never Flask's English default page)."""
    default_title, default_detail = _error_texts().get(status, _error_texts()[500 if status >= 500 else 400])
    return render_template("error.html", status=status, title=title or default_title,
                           detail=detail or default_detail), status


def csrf_error_page(exc):
    return error_page(400, _("The form has expired"),
                      _("The form was open too long or came from another page. Reload the page and send it again."))
