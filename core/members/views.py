"""Member pages (/admin/members): the members of this node, adding one, importing a CSV file. Each handler parses
the form, calls one service and redirects with a flashed message; a refused form is shown again with what was
typed and the reason (400), a refused file with its bad line."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import flask
from flask import flash, render_template, url_for
from flask_babel import gettext as _
from shangliang.core.db import get_session
from shangliang.core.errors import InputError
from shangliang.core.i18n import reason
from shangliang.core.i18n import N_
from shangliang.core.web import auth, forms

from . import services

READERS = frozenset({"admin", "office"})
WRITERS = frozenset({"admin", "office"})
MAX_UPLOAD = 1024 * 1024


def _actor() -> str:
    return f"web:{auth.current_user().username}"


def _page(form: Mapping[str, Any] | None = None, error: InputError | None = None, csv_text: str = "",
          status: int = 200):
    found = services.page_members(get_session(), 200, flask.request.args.get("cursor") or None)
    return render_template("members/index.html", members=found.items, next_cursor=found.next_cursor,
                           form=form or {}, error=error, error_field=getattr(error, "field", None),
                           error_line=getattr(error, "line", None), csv_text=csv_text,
                           can_write=auth.has_role(auth.current_user(), WRITERS)), status


def index():
    try:
        return _page()
    except InputError:
        flask.abort(400)


def create():
    form = flask.request.form

    def work(session):
        member = services.add_member(session, form.get("name", ""), form.get("sector", ""),
                                     form.get("special_committee"), form.get("township_group"),
                                     form.get("member_no"), form.get("phone"))
        return "success", _("Member added: %(name)s", name=member.name), url_for("members.index")

    try:
        return forms.run_once(_actor(), work)
    except InputError as exc:
        flash(_("Not added: %(message)s", message=reason(exc)), "error")
        return _page({**form, "action": "add"}, exc, status=400)


def import_csv():
    request = flask.request
    upload = request.files.get("file")
    text = request.form.get("csv", "")
    data: bytes | str = text
    source = "members.csv"
    if upload is not None and upload.filename:
        data = upload.stream.read(MAX_UPLOAD + 1)
        source = upload.filename[:100]
        if len(data) > MAX_UPLOAD:
            flash(_("Not imported: the file is larger than 1 MiB."), "error")
            return _page({"action": "import"}, csv_text=text, status=400)

    def work(session):
        members = services.import_members_text(session, data, source)
        return "success", _("Imported %(n)s members.", n=len(members)), url_for("members.index")

    try:
        if not data:
            raise InputError(N_("choose a CSV file or paste its text"), field="file")
        return forms.run_once(_actor(), work)
    except InputError as exc:
        flash(_("Not imported: %(message)s", message=reason(exc)), "error")
        return _page({"action": "import"}, exc, csv_text=text, status=400)
