"""Unit pages (/units): the units this node works with, adding one, importing a CSV file, and one unit with its
contacts and the form to change it. Each handler parses the form, calls one service and redirects with a flashed
message; a refused form is shown again with what was typed and the reason."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import flask
from flask import abort, flash, render_template, url_for
from flask_babel import gettext as _
from shangliang.core.db import get_session
from shangliang.core.errors import InputError, NotFound
from shangliang.core.i18n import reason
from shangliang.core.i18n import N_
from shangliang.core.web import auth, forms

from . import services
from .models import KINDS

SEPARATORS = re.compile(r"[\s,，、;；]+")
MAX_UPLOAD = 1024 * 1024


def kind_label(kind: str) -> str:
    labels = {"party": _("Party committee department"), "government": _("Government department"),
              "other": _("Other body")}
    return labels.get(kind, kind)


def can_write() -> bool:
    return auth.has_role(auth.current_user(), services.WRITERS)


def template_helpers() -> dict[str, Any]:
    return {"unit_kind_label": kind_label, "can_write": can_write(), "KINDS": KINDS}


def _actor() -> str:
    return f"web:{auth.current_user().username}"


def _names(value: str | None) -> list[str]:
    return [part for part in SEPARATORS.split(value or "") if part]


def _index_page(form: Mapping[str, Any] | None = None, problems: list | None = None, csv_text: str = "",
                status: int = 200):
    session = get_session()
    seen = services.readable_by(session, auth.current_user())
    units = [] if seen is None else services.page_units(session, only=None if seen is True else seen).items
    return render_template("units/index.html", units=units, form=form or {}, problems=problems or [],
                           csv_text=csv_text), status


def index():
    return _index_page()


def create():
    form = flask.request.form

    def work(session):
        unit = services.add_unit(session, form.get("name", ""), form.get("kind", ""), form.get("phone"),
                                 _names(form.get("contacts")))
        return "success", _("Unit added: %(name)s", name=unit.name), url_for("units.show", ref=str(unit.id))

    try:
        return forms.run_once(_actor(), work)
    except InputError as exc:
        flash(_("Not added: %(message)s", message=reason(exc)), "error")
        return _index_page(form, status=400)


def import_csv():
    request = flask.request
    upload = request.files.get("file")
    text = request.form.get("csv", "")
    data: bytes | str = text
    source = "units.csv"
    if upload is not None and upload.filename:
        data = upload.stream.read(MAX_UPLOAD + 1)
        source = upload.filename[:100]
        if len(data) > MAX_UPLOAD:
            flash(_("Not imported: the file is larger than 1 MiB."), "error")
            return _index_page(csv_text=text, status=400)

    def work(session):
        units = services.import_units_text(session, data, source)
        return "success", _("Imported %(n)s units.", n=len(units)), url_for("units.index")

    try:
        if not data:
            raise InputError(N_("choose a CSV file or paste its text"), field="file")
        return forms.run_once(_actor(), work)
    except InputError as exc:
        problems = getattr(exc, "problems", None) or []
        flash(_("Not imported: %(message)s", message=reason(exc)), "error")
        return _index_page(problems=problems, csv_text=text, status=400)


def _unit_or_404(session, ref: str):
    try:
        unit = services.get_unit(session, ref)
    except (NotFound, InputError):
        abort(404)
    if not services.may_read(session, auth.current_user(), unit):
        abort(403)
    return unit


def _show_page(ref: str, form: Mapping[str, Any] | None = None, status: int = 200):
    session = get_session()
    unit = _unit_or_404(session, ref)
    return render_template("units/show.html", unit=unit, form=form, status=status), status


def show(ref: str):
    return _show_page(ref)


def update(ref: str):
    form = flask.request.form
    session = get_session()
    unit = _unit_or_404(session, ref)
    unit_id = unit.id
    session.rollback()

    def work(session):
        changed = services.update_unit(session, unit_id, form.get("name", ""), form.get("kind", ""),
                                       form.get("phone", ""), form.get("active") == "on",
                                       _names(form.get("contacts")))
        return "success", _("Unit changed: %(name)s", name=changed.name), url_for("units.show", ref=str(unit_id))

    try:
        return forms.run_once(_actor(), work)
    except InputError as exc:
        flash(_("Not changed: %(message)s", message=reason(exc)), "error")
        return _show_page(str(unit_id), form, 400)
