"""The inbox page; thin callers of the workbench services (the workbench itself is the home page,
``core/web/views.py``)."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _

from shangliang.core.db import get_session, transaction
from shangliang.core.errors import NotFound
from shangliang.core.web import auth

from . import services


def role_label(role: str | None) -> str:
    return {"admin": _("Administrators"), "office": _("The office"), "member": _("Members"),
            "handling_unit": _("Handling units"), "public": _("The public")}.get(role or "", role or "")


def template_helpers() -> dict:
    return {"role_label": role_label}


def inbox():
    session, user = get_session(), auth.current_user()
    unread_only = request.args.get("unread") == "1"
    found = services.inbox(session, user, unread_only=unread_only)
    return render_template("workbench/inbox.html", notifications=found, unread_only=unread_only,
                           unread=services.unread_count(session, user))


def mark_read():
    user = auth.current_user()
    raw = request.form.get("id", "")
    with transaction(f"web:{user.username}") as session:
        if raw == "all":
            services.mark_read(session, user)
        else:
            try:
                services.mark_read(session, user, int(raw) if raw.isascii() and raw.isdigit() else -1)
            except NotFound:
                return render_template("error.html", status=404, title=_("Not in your inbox"),
                                       detail=_("This notification is not in your inbox.")), 404
    return redirect(url_for("workbench.inbox", unread=request.args.get("unread")))
