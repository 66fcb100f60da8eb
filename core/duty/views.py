"""The duty pages: the year's assessment table (``/duty``, ``?format=xlsx``) with the office's form for an item
recorded by hand, a member's record (``/duty/members/<ref>``, ``?format=docx``) and an item's evidence file."""

from __future__ import annotations

import io

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from shangliang.core import exports
from shangliang.core.context import node_context
from shangliang.core.db import get_session
from shangliang.core.errors import InputError, NotFound
from shangliang.core.i18n import reason
from shangliang.core.web import auth, forms

from . import exports as duty_exports
from . import federation, services
from .models import HAND_KINDS

STANDING_LABELS = {"met": _l("Met"), "behind": _l("Behind"), "no_rules": _l("No rules")}


def _actor() -> str:
    return f"web:{auth.current_user().username}"


def _year():
    try:
        return services.year_of(node_context(), request.args.get("year"))
    except InputError:
        abort(400)


def not_allowed(exc):
    return render_template("duty/refused.html", message=reason(exc)), 403


def index():
    """The office's assessment table; a member is shown their own record (the nav item leads everyone here)."""
    user = auth.current_user()
    if not auth.has_role(user, services.OFFICE):
        if getattr(user, "member_id", None) is None:
            abort(403)
        return member(str(user.member_id))
    node = node_context()
    table = services.assessment(get_session(), node, _year())
    if request.args.get("format") == "xlsx":
        return exports.xlsx_response(duty_exports.assessment_sheets(table), f"{table['year']}年度履职考核")
    from .federation import parent_peer

    return render_template("duty/index.html", table=table, kinds=HAND_KINDS, standing_label=_standing,
                           parent=parent_peer(get_session()))


def _standing(value: str) -> str:
    return str(STANDING_LABELS.get(value, value))


def member(ref: str):
    node = node_context()
    try:
        rec = services.member_record(get_session(), node, ref, _year(), auth.current_user())
    except NotFound:
        abort(404)
    if request.args.get("format") == "docx":
        title, sections = duty_exports.record_sections(rec)
        return exports.docx_response(title, sections, f"{rec['member']['name']}{rec['year']}年度履职档案")
    is_office = auth.has_role(auth.current_user(), services.OFFICE)
    return render_template("duty/member.html", rec=rec, standing_label=_standing, is_office=is_office)


def add_item():
    form = request.form
    upload = request.files.get("file")
    back = form.get("back") or url_for("duty.index")
    if not back.startswith("/duty"):
        back = url_for("duty.index")

    def work(session):
        data = upload.stream.read(services.MAX_FILE + 1) if upload is not None and upload.filename else None
        row = services.add_item(session, node_context(), form.get("member"), form.get("kind"), form.get("title"),
                                form.get("date"), form.get("detail", ""), form.get("evidence"),
                                upload.filename if data else None, upload.mimetype if data else None, data,
                                actor=_actor())
        return "success", _("Duty item recorded: %(title)s", title=row.title), back

    try:
        return forms.run_once(_actor(), work)
    except (InputError, NotFound) as exc:
        flash(_("Refused: %(message)s", message=reason(exc)), "error")
        return redirect(back, 303)


def report():
    """Report an item of a higher committee's member who takes part here (x-duty.items, passed on up)."""
    form = request.form
    back = url_for("duty.index")

    def work(session):
        item = {key: form.get(key, "") for key in ("kind", "title", "date", "detail")}
        sent = federation.report(session, node_context(), form.get("target"), form.get("member_no"),
                                 form.get("name"), [item])
        return "success", _("Reported to %(target)s (sent to %(to)s).", target=sent["target"], to=sent["to"]), back

    try:
        return forms.run_once(_actor(), work)
    except InputError as exc:
        flash(_("Refused: %(message)s", message=reason(exc)), "error")
        return redirect(back, 303)


def evidence(item_id: int):
    try:
        row = services.get_item(get_session(), item_id)
    except NotFound:
        abort(404)
    if row.evidence_data is None:
        abort(404)
    return send_file(io.BytesIO(row.evidence_data), mimetype="application/octet-stream", as_attachment=True,
                     download_name=row.evidence_name or "evidence")
