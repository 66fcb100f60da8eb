"""Administration pages (/admin): the index of every administration page, the neighbours (this node's pairing
line, pinning one from its pasted line, naming and removing one, reaching one by bundle files, each one's health),
the outbox and its dead letters (inspect, retry), bundle files (download one for a neighbour, import one), and the audit log (browse, verify). Each handler parses the form, calls one service
and redirects with a flashed message; a refused form is shown again with what was typed and the reason (400)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

import flask
from flask import abort, flash, render_template, url_for
from flask_babel import gettext as _
from shangliang.core import audit
from shangliang.core.context import node_context
from shangliang.core.db import get_session, transaction
from shangliang.core.errors import InputError, NotFound, ShangliangError
from shangliang.core.i18n import N_, reason
from shangliang.core.web import auth, forms
from shangliang.federation import bundles, outbox, peers
from shangliang.federation.errors import BundleRefused

from . import services

STATUSES = ("pending", "dead", "sent")


def when(ms: int | None) -> str:
    """Epoch milliseconds as the node's local time (Asia/Shanghai), or a dash."""
    if ms is None:
        return "—"
    zone = dt.timezone(dt.timedelta(hours=8))
    return dt.datetime.fromtimestamp(ms / 1000, zone).strftime("%Y-%m-%d %H:%M:%S")


def duration(ms: int | None) -> str:
    if ms is None:
        return "—"
    seconds = int(ms) // 1000
    days, rest = divmod(seconds, 86400)
    if days:
        return _("%(n)s days", n=days)
    return _("%(h)s h %(m)s min", h=rest // 3600, m=rest % 3600 // 60)


def skew(value: Mapping[str, Any]) -> str:
    if value["latest_ms"] is None:
        return "—"
    latest = "%+.1f" % (value["latest_ms"] / 1000)
    largest = "%.1f" % (value["max_abs_ms"] / 1000)
    return _("%(latest)s s (largest %(max)s s)", latest=latest, max=largest)


def data_text(data: Any, limit: int = 300) -> str:
    """An audit row's data as readable JSON (Chinese left as it is), cut at ``limit`` characters."""
    text = json.dumps(data, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= limit else text[:limit] + "…"


def status_label(status: str) -> str:
    return {"pending": _("Pending"), "sent": _("Delivered"), "dead": _("Dead letter")}.get(status, status)


def problem_label(problem: str) -> str:
    return {"dead_letters": _("dead letters"), "held": _("delivery held back"), "failing": _("deliveries failing"),
            "clock_skew": _("clock skew")}.get(problem, problem)


def template_helpers() -> dict[str, Any]:
    user = auth.current_user()
    return {"when": when, "duration": duration, "skew": skew, "status_label": status_label, "data_text": data_text,
            "problem_label": problem_label, "is_admin": auth.has_role(user, services.ADMIN) if user else False}


def _actor() -> str:
    return f"web:{auth.current_user().username}"




# -- /admin -------------------------------------------------------------------------------------------------


def index():
    return render_template("admin/index.html")


# -- /admin/peers -------------------------------------------------------------------------------------------


def _peers_page(form: Mapping[str, Any] | None = None, error: ShangliangError | None = None, status: int = 200):
    session = get_session()
    return render_template("admin/peers.html", own=services.own_pairing(session, node_context()),
                           rows=services.peers_health(session), form=form or {}, error=error,
                           error_field=getattr(error, "field", None)), status


def peers_index():
    return _peers_page()


def peers_add():
    form = flask.request.form

    def work(session):
        peer = services.add_peer(session, node_context(), form.get("pairing", ""), form.get("relation") or None,
                                 form.get("name") or None, "bundle" if form.get("bundle") == "on" else None)
        return "success", _("Neighbour pinned: %(id)s", id=peer.node_id), url_for("admin.peers")

    try:
        return forms.run_once(_actor(), work)
    except InputError as exc:
        flash(_("Not pinned: %(message)s", message=reason(exc)), "error")
        return _peers_page({**form, "action": "add"}, exc, 400)


def peers_rename(node_id: str):
    form = flask.request.form

    def work(session):
        peer = peers.set_name(session, node_id, form.get("name"))
        return "success", _("Neighbour %(id)s renamed.", id=peer.node_id), url_for("admin.peers")

    try:
        return forms.run_once(_actor(), work)
    except InputError as exc:
        flash(_("Not renamed: %(message)s", message=reason(exc)), "error")
        return _peers_page({**form, "action": "rename", "node_id": node_id}, exc, 400)


def peers_remove(node_id: str):
    form = flask.request.form

    def work(session):
        if form.get("confirm") != node_id:
            raise InputError(N_("type the neighbour's id %(node_id)s to confirm", node_id=node_id), field="confirm")
        peers.remove_peer(session, node_id)
        return "success", _("Neighbour %(id)s removed.", id=node_id), url_for("admin.peers")

    try:
        return forms.run_once(_actor(), work)
    except InputError as exc:
        flash(_("Not removed: %(message)s", message=reason(exc)), "error")
        return _peers_page({**form, "action": "remove", "node_id": node_id}, exc, 400)


def peers_delivery(node_id: str):
    form = flask.request.form

    def work(session):
        peer = peers.set_delivery(session, node_id, form.get("delivery") or "")
        message = (_("Neighbour %(id)s is now reached by bundle files.", id=peer.node_id) if peer.delivery == "bundle"
                   else _("Neighbour %(id)s is now reached over the network.", id=peer.node_id))
        return "success", message, url_for("admin.peers")

    try:
        return forms.run_once(_actor(), work)
    except InputError as exc:
        flash(_("Not changed: %(message)s", message=reason(exc)), "error")
        return _peers_page({**form, "action": "delivery", "node_id": node_id}, exc, 400)


# -- /admin/bundles (docs/bundles.md) ----------------------------------------------------------------------


def _bundles_page(report: Mapping[str, Any] | None = None, error: ShangliangError | None = None, status: int = 200,
                  form: Mapping[str, Any] | None = None):
    return render_template("admin/bundles.html", rows=services.peers_health(get_session()), report=report,
                           error=error, form=form or {}), status


def bundles_index():
    return _bundles_page()


def bundles_export():
    """The bundle for a neighbour, as a download; the messages in it are marked handed over."""
    form = flask.request.form
    to, again = form.get("to") or "", form.get("again") == "on"
    try:
        with transaction(_actor()) as session:
            exported = bundles.export(session, node_context(), to, again)
        if exported.empty:
            raise exported.nothing_waits(again)
    except InputError as exc:
        flash(_("No bundle written: %(message)s", message=reason(exc)), "error")
        return _bundles_page(error=exc, status=400, form={**form, "action": "export"})
    return flask.Response(exported.data, 200, mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="{bundles.file_name(exported)}"'})


def bundles_import():
    """Import an uploaded bundle and show what became of each of its messages."""
    upload = flask.request.files.get("bundle")
    if upload is None or not upload.filename:
        exc = InputError(_("choose a bundle file to import"), field="bundle")
        return _bundles_page(error=exc, status=400, form={"action": "import"})
    session = get_session()
    session.info["actor"] = _actor()
    try:
        report = bundles.import_bundle(flask.current_app._get_current_object(), session,
                                       upload.read(bundles.MAX_BYTES + 1))
    except BundleRefused as exc:
        flash(_("Bundle refused (%(code)s): %(message)s", code=exc.code, message=exc.message), "error")
        return _bundles_page(exc.report, exc, 400, {"action": "import"})
    flash(_("Bundle imported: %(accepted)s accepted, %(duplicate)s duplicate, %(refused)s refused.",
            accepted=report["accepted"], duplicate=report["duplicate"], refused=report["refused"]),
          "success" if not report["refused"] else "error")
    return _bundles_page(report)


# -- /admin/outbox ------------------------------------------------------------------------------------------


def _arg(name: str) -> str | None:
    """A query argument as text a database can compare (else 400)."""
    value = flask.request.args.get(name) or None
    if value is not None and (len(value) > 100 or not value.isprintable()):
        abort(400)
    return value


def outbox_index():
    args = flask.request.args
    status = args.get("status") or None
    if status not in (None, *STATUSES):
        abort(400)
    _arg("to")
    try:
        found = outbox.page_messages(get_session(), status, args.get("to") or None, 50, args.get("cursor") or None)
    except InputError:
        abort(400)
    return render_template("admin/outbox.html", messages=found.items, next_cursor=found.next_cursor,
                           status=status, to=args.get("to") or "", statuses=STATUSES)


def _message_page(outbox_id: int, error: ShangliangError | None = None, status: int = 200):
    try:
        message = services.message(get_session(), outbox_id)
    except NotFound:
        abort(404)
    return render_template("admin/outbox_message.html", message=message, error=error), status


def outbox_show(outbox_id: int):
    return _message_page(outbox_id)


def outbox_retry(outbox_id: int):
    def work(session):
        outbox.retry(session, outbox_id)
        return "success", _("Message %(id)s queued again.", id=outbox_id), url_for("admin.outbox_show",
                                                                                   outbox_id=outbox_id)

    try:
        return forms.run_once(_actor(), work)
    except InputError as exc:
        flash(_("Not retried: %(message)s", message=reason(exc)), "error")
        return _message_page(outbox_id, exc, 400)


# -- /admin/audit -------------------------------------------------------------------------------------------


def _audit_page(report: dict | None = None, error: ShangliangError | None = None, status: int = 200):
    args = flask.request.args
    session = get_session()
    action = _arg("action")
    try:
        found = audit.page_events(session, action, 50, args.get("cursor") or None)
    except InputError:
        abort(400)
    return render_template("admin/audit.html", events=[audit.event_dict(r) for r in found.items],
                           next_cursor=found.next_cursor, action=action or "", actions=audit.actions(session),
                           report=report, error=error), status


def audit_index():
    return _audit_page()


def audit_verify():
    against = flask.request.form.get("against_parent") == "on"
    try:
        report = services.verify_audit(get_session(), node_context(), against)
    except InputError as exc:
        return _audit_page(error=exc, status=400)
    return _audit_page(report)
