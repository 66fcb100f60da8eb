"""Topic pages (/topics) and the JSON API (/api/v1/topics): list, raise, show with its route, act."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any, Callable, Mapping

import flask
import flask_login
from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask_babel import format_datetime, gettext as _
from flask_login import login_required
from flask_wtf.csrf import CSRFError
from sqlalchemy import select
from werkzeug.exceptions import HTTPException

from shangliang.core import divisions
from shangliang.core.db import get_session, transaction
from shangliang.core.errors import InputError
from shangliang.core.models import Role, User
from shangliang.core.plugins import get_plugin_manager, hookimpl
from shangliang.core.users import check_password

from . import actions, services
from .models import RAISED_BY_KINDS, STAGES, Topic

# Flask's context-bound proxies (request, g, current_app, current_user) are used through their modules:
# a proxy bound to a name here would be probed outside any app context by `plugins list`.

#: Roles that may change topics; every signed-in user may read them.
WRITERS = frozenset({Role.ADMIN.value, Role.OFFICE.value})
ACTIONS = ("advance", "escalate", "delegate", "accept", "return", "result")
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

api = Blueprint("topics_api", __name__, url_prefix="/api/v1/topics")
pages = Blueprint("topics", __name__, url_prefix="/topics", template_folder="../templates")


@hookimpl
def register_blueprints(app):
    # The API checks CSRF itself: required for session-cookie writes, not for HTTP Basic (see _authenticate).
    app.extensions["csrf"].exempt(api)
    if app.config.get("MAX_CONTENT_LENGTH") is None:
        # No request body larger than an attachment (and a form's other fields) is read, signed in or not.
        app.config["MAX_CONTENT_LENGTH"] = services.attachment_limit(app.config) + 1024 * 1024
    return [api, pages]


# ---------------------------------------------------------------------------------------------
# Shared by the API and the pages


class FieldError(InputError):
    """A request field is missing or has the wrong type; ``field`` names it."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(message)


class TopicNotFound(Exception):
    def __init__(self, uid: str, message: str | None = None):
        self.uid = uid
        super().__init__(message or f"no topic {uid[:120]!r} on this node")


def _find(session, uid: str, for_update: bool = False) -> Topic:
    if session.execute(select(Topic.id).where(Topic.uid == uid)).first() is None:
        raise TopicNotFound(uid)
    return services.get_topic(session, uid, for_update=for_update)


def _text(fields: Mapping[str, Any], name: str, required: bool = True, default: str = "") -> str:
    value = fields.get(name)
    if value is None:
        if required:
            raise FieldError(name, f"missing field: {name}")
        return default
    if not isinstance(value, str):
        raise FieldError(name, f"field {name} must be text")
    return value


def _list(fields: Mapping[str, Any], name: str, required: bool = False) -> list[str]:
    value = fields.get(name)
    if value is None:
        if required:
            raise FieldError(name, f"missing field: {name}")
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise FieldError(name, f"field {name} must be a list of text")
    return value


def _due_ms(text: str) -> int | None:
    if not text.strip():
        return None
    from . import supervision

    return supervision.parse_due(text.strip(), flask.current_app.config)


def _create(fields: Mapping[str, Any], actor: str) -> tuple[Topic, dict[str, Any]]:
    """Raise a topic from request fields; returns it and the routing suggestion."""
    config = flask.current_app.config
    values = {
        "title": _text(fields, "title"), "description": _text(fields, "description", required=False),
        "category": _text(fields, "category"), "areas": _list(fields, "areas", required=True),
        "raised_by_kind": _text(fields, "raised_by_kind"), "raised_by_name": _text(fields, "raised_by_name"),
    }
    if not values["areas"]:
        raise FieldError("areas", "areas is empty: a topic concerns at least one division code")
    with transaction(actor) as session:
        topic = services.create_topic(session, config, values["title"], values["description"], values["category"],
                                      values["areas"], values["raised_by_kind"], values["raised_by_name"], actor=actor)
    return topic, services.suggest_route(get_plugin_manager(), config, topic).as_dict()


def _prepare(action: str, fields: Mapping[str, Any]) -> Callable:
    """The call ``f(session, pm, config, topic, actor)`` for ``action``; fields are checked here, before any write."""
    if action == "advance":
        to_stage, note = _text(fields, "to_stage"), _text(fields, "note", required=False)

        def advance(s, pm, c, t, a) -> None:  # the progress report it sends is not returned by advance
            services.advance(s, pm, c, t, to_stage, note, a)

        return advance
    if action == "escalate":
        note = _text(fields, "note")
        return lambda s, pm, c, t, a: actions.escalate(s, pm, c, t, note, a)
    if action == "delegate":
        to, instructions = _text(fields, "to"), _text(fields, "instructions")
        due_ms = _due_ms(_text(fields, "due", required=False))
        return lambda s, pm, c, t, a: actions.delegate(s, pm, c, t, to, instructions, due_ms, a)
    if action == "accept":
        return actions.accept
    if action == "return":
        reason = _text(fields, "reason")
        return lambda s, pm, c, t, a: actions.return_topic(s, pm, c, t, reason, a)
    if action == "result":
        kind = _text(fields, "kind", required=False, default="consultation")
        title, summary = _text(fields, "title"), _text(fields, "summary")
        measures, units = _list(fields, "measures"), _list(fields, "handling_units")
        return lambda s, pm, c, t, a: actions.record_result(s, pm, c, t, kind, title, summary, measures, units, a)
    raise FieldError("action", f"unknown action {str(action)[:40]!r}; actions: {', '.join(ACTIONS)}")


def _perform(uid: str, action: Any, fields: Mapping[str, Any], actor: str) -> tuple[dict[str, Any], dict | None]:
    """Run one action on a topic in one transaction: all of it is stored, or (on any error) nothing."""
    if not isinstance(action, str):
        raise FieldError("action", "missing field: action" if action is None else "field action must be text")
    with transaction(actor) as session:
        topic = _find(session, uid, for_update=True)
        call = _prepare(action, fields)
        envelope = call(session, get_plugin_manager(), flask.current_app.config, topic, actor)
        data = services.topic_dict(topic, events=True)
    return data, envelope


def _sent(envelope: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if envelope is None:
        return None
    return {"kind": envelope["kind"], "id": envelope["id"], "to": envelope["hops"][-1]["to"],
            "hops": len(envelope["hops"])}


def _full(session, topic: Topic) -> dict[str, Any]:
    """The topic with its events, the routing suggestion and its route, each hop re-verified."""
    data = services.mark_kept(flask.current_app.config, services.topic_dict(topic, events=True))
    data["suggestion"] = services.suggest_route(get_plugin_manager(), flask.current_app.config, topic).as_dict()
    data["route"] = actions.route(session, topic.uid)
    data["route_verified"] = actions.route_verified(data["route"])
    data["returns_to"] = actions.returns_to(actions.latest_received(session, topic.uid),
                                            flask.current_app.config["NODE_ID"])
    data["attachments_travel"] = actions.attachments_travel(session, topic)
    return data


# ---------------------------------------------------------------------------------------------
# JSON API


def _json(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status=status, headers=dict(headers or {}),
                    mimetype="application/json")


def _error(status: int, code: str, message: str, field: str | None = None) -> Response:
    body: dict[str, Any] = {"code": code, "message": message}
    if field:
        body["field"] = field
    headers = {"WWW-Authenticate": 'Basic realm="shangliang", charset="UTF-8"'} if status == 401 else None
    return _json({"error": body}, status, headers)


@api.before_request
def _authenticate() -> Response | None:
    """A node user by HTTP Basic or by the signed-in session; writes need a writer role, and CSRF for sessions."""
    flask.g.api_user, flask.g.api_basic = None, False
    if flask.request.headers.get("Authorization"):
        auth = flask.request.authorization
        if auth is None or auth.type != "basic" or auth.username is None:
            return _error(401, "unauthenticated", "only HTTP Basic authentication (user name and password) is accepted")
        user = get_session().execute(select(User).where(User.username == auth.username)).scalar_one_or_none()
        if user is None or not user.active or not check_password(user, auth.password or ""):
            return _error(401, "unauthenticated", "wrong user name or password")
        flask.g.api_user, flask.g.api_basic = user, True
    elif flask_login.current_user.is_authenticated:
        flask.g.api_user = flask_login.current_user._get_current_object()
    else:
        return _error(401, "unauthenticated", "sign in, or send a node user's name and password by HTTP Basic")
    if flask.request.method in WRITE_METHODS:
        # A cross-site form cannot send these types without a CORS preflight, which this API never grants:
        # a browser holding Basic credentials cannot be made to write.
        if flask.request.endpoint == "topics_api.api_attach":
            if flask.request.mimetype != "application/octet-stream":
                return _error(415, "unsupported_media_type", "an attachment is sent as the raw bytes of the file with "
                                                              "Content-Type: application/octet-stream")
        elif not flask.request.is_json:
            return _error(415, "unsupported_media_type", "a write sends its JSON body with "
                                                          "Content-Type: application/json")
        if flask.g.api_user.role not in WRITERS:
            return _error(403, "forbidden", f"role {flask.g.api_user.role} may read topics but not change them; "
                                            f"changes need the role {' or '.join(sorted(WRITERS))}")
        config = flask.current_app.config
        checked = config.get("WTF_CSRF_ENABLED", True) and config.get("WTF_CSRF_CHECK_DEFAULT", True)
        if checked and not flask.g.api_basic:
            try:
                flask.current_app.extensions["csrf"].protect()
            except CSRFError as exc:
                return _error(403, "forbidden", f"CSRF check failed ({exc.description}): a signed-in session sends the "
                                                "page's CSRF token in the X-CSRFToken header; scripts use HTTP Basic")
    return None


@api.errorhandler(InputError)
def _api_input_error(exc: InputError) -> Response:
    return _error(400, "invalid_input", str(exc), getattr(exc, "field", None))


@api.errorhandler(TopicNotFound)
def _api_not_found(exc: TopicNotFound) -> Response:
    return _error(404, "not_found", str(exc))


@api.errorhandler(HTTPException)
def _api_http_error(exc: HTTPException) -> Response:
    codes = {400: "invalid_input", 401: "unauthenticated", 403: "forbidden", 404: "not_found", 413: "too_large"}
    return _error(exc.code or 500, codes.get(exc.code or 500, "error"), exc.description or exc.name)


def _body() -> dict[str, Any]:
    body = flask.request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InputError("the request body must be a JSON object")
    return body


def _actor() -> str:
    return f"api:{flask.g.api_user.username}"


@api.get("")
def api_list() -> Response:
    stage = flask.request.args.get("stage") or None
    holder = flask.request.args.get("holder") or None
    topics = services.list_topics(get_session(), stage, holder)
    return _json({"topics": [services.topic_dict(t) for t in topics]})


@api.post("")
def api_create() -> Response:
    topic, suggestion = _create(_body(), _actor())
    data = services.topic_dict(topic, events=True)
    return _json({"topic": data, "suggestion": suggestion}, 201,
                 {"Location": url_for("topics_api.api_show", uid=topic.uid)})


@api.get("/<uid>")
def api_show(uid: str) -> Response:
    session = get_session()
    return _json(_full(session, _find(session, uid)))


@api.post("/<uid>/actions")
def api_act(uid: str) -> Response:
    body = _body()
    data, envelope = _perform(uid, body.get("action"), body, _actor())
    return _json({"topic": data, "sent": _sent(envelope)})


def _upload(uid: str, name: Any, read: Callable[[int], bytes], length: int | None, actor: str) -> dict[str, Any]:
    """Attach the bytes ``read`` gives to topic ``uid``, refusing by the declared size before reading."""
    config = flask.current_app.config
    limit = services.attachment_limit(config)
    if length is not None and length > limit:
        raise InputError(f"the file is {length} bytes; an attachment may have at most {limit}")
    data = read(limit + 1)
    if len(data) > limit:
        raise InputError(f"the file is over {limit} bytes, the most an attachment may have")
    with transaction(actor) as session:
        topic = _find(session, uid, for_update=True)
        attachment = services.add_attachment(session, config, topic, name, data, actor)
        return {"name": attachment.name, "size": attachment.size, "sha256": attachment.sha256,
                "travels": actions.attachments_travel(session, topic)}


def _download(uid: str, sha256: str) -> Response:
    session = get_session()
    topic = _find(session, uid)
    try:
        attachment, path = services.attachment_file(flask.current_app.config, topic, sha256)
    except InputError as exc:
        raise TopicNotFound(uid, str(exc)) from None
    if path is None:
        raise TopicNotFound(uid, f"the file {attachment.name} is kept at {uid.split(':', 1)[0]}, where the topic was "
                                 "raised; this node has its name, size and SHA-256 only")
    return flask.send_file(path, download_name=attachment.name, as_attachment=True,
                           mimetype="application/octet-stream", etag=sha256, max_age=0)


@api.post("/<uid>/attachments")
def api_attach(uid: str) -> Response:
    name = flask.request.args.get("name")
    if not name:
        raise FieldError("name", "missing query parameter: name (the file's name)")
    attachment = _upload(uid, name, flask.request.stream.read, flask.request.content_length, _actor())
    return _json({"attachment": attachment}, 201)


@api.get("/<uid>/attachments/<sha256>")
def api_attachment(uid: str, sha256: str) -> Response:
    return _download(uid, sha256)


# ---------------------------------------------------------------------------------------------
# Pages


def stage_label(stage: str | None) -> str:
    labels = {
        "collected": _("Collected"), "determined": _("Determined"), "researching": _("Researching"),
        "consulting": _("Consulting"), "implementing": _("Implementing"), "feedback": _("Feedback"),
        "closed": _("Closed"),
    }
    return labels.get(stage, stage or "")


def kind_label(kind: str) -> str:
    labels = {
        "public": _("The public"), "member": _("A member"), "sector": _("A sector"),
        "special_committee": _("A special committee"), "party_committee": _("The Party committee"),
        "government": _("The government"), "lower_level": _("A lower-level committee"),
    }
    return labels.get(kind, kind)


def action_label(action: str) -> str:
    labels = {
        "raised": _("raised"), "advanced": _("advanced"), "escalated": _("escalated"), "escalate": _("escalated"),
        "delegated": _("delegated"), "delegate": _("delegated"), "accepted": _("accepted"),
        "returned": _("returned"), "return": _("returned"), "progress": _("progress"), "result": _("result"),
        "reply": _("reply"), "overdue": _("overdue"), "overdue_cleared": _("no longer overdue"),
        "attached": _("attached"),
    }
    return labels.get(action, action)


def message_label(kind: str) -> str:
    labels = {
        "topic.escalate": _("topic escalated"), "topic.delegate": _("topic delegated"),
        "topic.accept": _("acceptance"), "topic.progress": _("progress report"), "topic.result": _("result"),
    }
    return labels.get(kind, kind)


def _moment(ms: int | None, pattern: str) -> str:
    if ms is None:
        return ""
    return format_datetime(dt.datetime.fromtimestamp(ms / 1000, dt.UTC), pattern)


def when(ms: int | None) -> str:
    return _moment(ms, "yyyy-MM-dd HH:mm")


def day(ms: int | None) -> str:
    return _moment(ms, "yyyy-MM-dd")


def can_write() -> bool:
    return flask_login.current_user.is_authenticated and flask_login.current_user.role in WRITERS


@pages.context_processor
def _helpers() -> dict[str, Any]:
    from shangliang.core.web.views import level_label

    return {"stage_label": stage_label, "kind_label": kind_label, "action_label": action_label,
            "message_label": message_label, "node_level": node_level, "when": when, "day": day,
            "level_label": level_label, "size_label": size_label,
            "attachment_limit": services.attachment_limit(flask.current_app.config),
            "can_write": can_write(), "STAGES": STAGES, "RAISED_BY_KINDS": RAISED_BY_KINDS,
            "node_id": flask.current_app.config["NODE_ID"]}


def size_label(size: int) -> str:
    for unit, scale in (("MiB", 1024 * 1024), ("KiB", 1024)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return _("%(n)s bytes", n=size)


def _web_actor() -> str:
    return f"web:{flask_login.current_user.username}"


def _writer_or_403() -> None:
    if not can_write():
        abort(403)


SEPARATORS = re.compile(r"[\s,，、;；]+")


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _index_page(form: Mapping[str, Any] | None = None, status: int = 200):
    session = get_session()
    args = flask.request.args
    stage = args.get("stage") if args.get("stage") in STAGES else None
    holder = args.get("holder") or None
    group = "holder" if args.get("group") == "holder" else "stage"
    rows = [services.topic_dict(t) for t in services.list_topics(session, stage, holder)]
    groups: dict[str, list[dict]] = {}
    if group == "stage":
        for key in STAGES:
            found = [r for r in rows if r["stage"] == key]
            if found:
                groups[key] = found
    else:
        for row in rows:
            groups.setdefault(row["holder"], []).append(row)
    holders = sorted(set(session.execute(select(Topic.holder).distinct()).scalars()))
    raised = None
    if args.get("raised"):
        found = session.execute(select(Topic).where(Topic.uid == args["raised"])).scalar_one_or_none()
        if found is not None:
            route = services.suggest_route(get_plugin_manager(), flask.current_app.config, found)
            raised = {"topic": services.topic_dict(found), "suggestion": route.as_dict()}
    return render_template("topics/index.html", groups=groups, group=group, count=len(rows),
                           overdue=sum(1 for r in rows if r["overdue"]), stage=stage, holder=holder, holders=holders,
                           raised=raised, form=form or {}), status


@pages.get("")
@login_required
def index():
    return _index_page()


@pages.post("")
@login_required
def raise_topic():
    _writer_or_403()
    form = flask.request.form
    fields = {key: form.get(key, "") for key in ("title", "description", "category", "raised_by_kind",
                                                 "raised_by_name")}
    fields["areas"] = [a for a in SEPARATORS.split(form.get("areas", "")) if a]
    try:
        topic, _suggestion = _create(fields, _web_actor())
    except InputError as exc:
        flash(_("Not raised: %(message)s", message=str(exc)), "error")
        return _index_page(form, 400)
    flash(_("Topic raised: %(title)s", title=topic.title), "success")
    return redirect(url_for("topics.index", raised=topic.uid), 303)


def _applicable(topic: dict[str, Any], suggestion: dict[str, Any], child_peers: list[str]) -> dict[str, Any]:
    """Which action forms apply to the topic on this node now."""
    config = flask.current_app.config
    held = topic["holder"] == config["NODE_ID"]
    awaiting = topic["awaiting_acceptance"]
    stage = topic["stage"]
    movable = held and stage in actions.MOVABLE
    following = STAGES[STAGES.index(stage) + 1] if stage != STAGES[-1] else None
    return {
        "accept": held and awaiting and stage != "closed",
        "return": movable and topic["returns_to"] is not None,
        "advance": held and not awaiting and following is not None,
        "next_stage": following,
        "escalate": movable and bool(config.get("NODE_PARENT")),
        "parent": config.get("NODE_PARENT"),
        "delegate": movable and (bool(child_peers) or suggestion["action"] == "delegate"),
        "children": child_peers,
        "delegate_to": suggestion["to"] if suggestion["action"] == "delegate" else "",
        "result": held and not awaiting and stage == "feedback",
        "suggest": movable,  # where the topic belongs matters while it may still move
    }


@pages.get("/<uid>")
@login_required
def show(uid: str):
    from shangliang.federation.models import Peer

    session = get_session()
    try:
        topic = _find(session, uid)
    except TopicNotFound:
        abort(404)
    data = _full(session, topic)
    children = sorted(session.execute(select(Peer.node_id).where(Peer.relation == "child")).scalars())
    return render_template("topics/show.html", topic=data, forms=_applicable(data, data["suggestion"], children),
                           diagram=route_diagram(data["route"]), progress=_progress(data["stage"]))


@pages.post("/<uid>/attach")
@login_required
def attach(uid: str):
    _writer_or_403()
    upload = flask.request.files.get("file")
    try:
        if upload is None or not upload.filename:
            raise InputError(_("choose a file to attach"))
        added = _upload(uid, upload.filename, upload.stream.read, upload.content_length or None, _web_actor())
    except TopicNotFound:
        abort(404)
    except InputError as exc:
        flash(_("Refused: %(message)s", message=str(exc)), "error")
        return redirect(url_for("topics.show", uid=uid) + "#attachments", 303)
    flash(_("Attached %(name)s.", name=added["name"]), "success")
    return redirect(url_for("topics.show", uid=uid) + "#attachments", 303)


@pages.get("/<uid>/attachments/<sha256>")
@login_required
def attachment(uid: str, sha256: str):
    try:
        return _download(uid, sha256)
    except TopicNotFound:
        abort(404)


@pages.post("/<uid>/act")
@login_required
def act(uid: str):
    _writer_or_403()
    form = flask.request.form
    action = form.get("action", "")
    fields: dict[str, Any] = {key: value for key, value in form.items() if key not in ("measures", "handling_units")}
    fields["measures"] = _lines(form.get("measures", ""))
    fields["handling_units"] = _lines(form.get("handling_units", ""))
    try:
        data, _envelope = _perform(uid, action, fields, _web_actor())
    except TopicNotFound:
        abort(404)
    except InputError as exc:
        flash(_("Refused: %(message)s", message=str(exc)), "error")
        return redirect(url_for("topics.show", uid=uid), 303)
    done = {
        "advance": _("Moved to the stage: %(stage)s.", stage=stage_label(data["stage"])),
        "escalate": _("Escalated to %(node)s; it waits for their acceptance.", node=data["holder"]),
        "delegate": _("Delegated to %(node)s; it waits for their acceptance.", node=data["holder"]),
        "accept": _("Accepted: this node is now responsible for the topic."),
        "return": _("Returned to %(node)s.", node=data["holder"]),
        "result": _("Result recorded; the topic is closed."),
    }
    flash(done[action], "success")
    return redirect(url_for("topics.show", uid=uid), 303)


def _progress(stage: str) -> list[dict[str, Any]]:
    """The six steps and the close, each done, current or to come."""
    index = STAGES.index(stage)
    return [{"stage": s, "number": i + 1, "state": "done" if i < index or stage == "closed" else
             "current" if i == index else "todo"} for i, s in enumerate(STAGES)]


# ---------------------------------------------------------------------------------------------
# The route as a diagram: one lane per level, each hop an arrow between lanes, in time order

LANE_H = 64
LABEL_W = 104
COL_W = 150
MARGIN = 44
DOT_R = 7


def node_level(node: str) -> str | None:
    """A node's level: from a standard id, else from this node's settings (itself, its parent, its children)."""
    level = divisions.level_of(node)
    if level is not None:
        return level
    config = flask.current_app.config
    mine = config["NODE_LEVEL"]
    index = divisions.LEVELS.index(mine)
    if node == config["NODE_ID"]:
        return mine
    if node == config.get("NODE_PARENT") and index > 0:
        return divisions.LEVELS[index - 1]
    from shangliang.federation.models import Peer

    peer = get_session().get(Peer, node)
    if peer is not None and peer.relation == "child" and index + 1 < len(divisions.LEVELS):
        return divisions.LEVELS[index + 1]
    return None


def route_diagram(entries: list[Mapping[str, Any]]) -> dict[str, Any]:
    """Lanes (levels, top down), hops (arrows, oldest first, each hop once) and the nodes they join."""
    me = flask.current_app.config["NODE_ID"]
    hops: dict[tuple, dict[str, Any]] = {}
    for entry in entries:
        for hop in entry["hops"]:
            key = (hop["from"], hop["to"], hop["action"], hop["at_ms"])
            seen = hops.get(key)
            if seen is None:
                hops[key] = dict(hop)
            elif not hop["verified"]:
                seen["verified"], seen["problem"] = False, seen["problem"] or hop["problem"]
    ordered = sorted(hops.values(), key=lambda h: h["at_ms"])
    nodes = {me} | {h["from"] for h in ordered} | {h["to"] for h in ordered}
    levels = {node: node_level(node) for node in nodes}
    used = set(levels.values())
    lanes = [lv for lv in divisions.LEVELS if lv in used or lv in ("province", "city", "county", "township")]
    if None in used:
        lanes.append(None)
    lane_y = {lv: i * LANE_H + LANE_H / 2 for i, lv in enumerate(lanes)}

    def x_at(column: int) -> float:
        return LABEL_W + MARGIN + column * COL_W

    dots: dict[tuple[int, str], dict[str, Any]] = {}

    def dot(column: int, node: str) -> dict[str, Any]:
        found = dots.get((column, node))
        if found is None:
            found = dots[(column, node)] = {"x": x_at(column), "y": lane_y[levels[node]], "id": node,
                                            "here": node == me}
        return found

    arrows = []
    for number, hop in enumerate(ordered, start=1):
        start, end = dot(number - 1, hop["from"]), dot(number, hop["to"])
        dx, dy = end["x"] - start["x"], end["y"] - start["y"]
        length = (dx * dx + dy * dy) ** 0.5 or 1.0
        ux, uy = dx / length, dy / length
        # The label sits on the arrow's left-hand side, clear of it: above a rising arrow, below a falling one.
        if abs(uy) < 0.05:
            nx, ny, anchor = 0.0, -1.0, "middle"
        else:
            nx, ny = (uy, -ux) if uy < 0 else (-uy, ux)
            anchor = "end"
        arrows.append({
            "number": number, "from": hop["from"], "to": hop["to"], "action": hop["action"], "at_ms": hop["at_ms"],
            "note": hop["note"], "verified": hop["verified"], "problem": hop["problem"],
            "x1": round(start["x"] + ux * (DOT_R + 1), 1), "y1": round(start["y"] + uy * (DOT_R + 1), 1),
            "x2": round(end["x"] - ux * (DOT_R + 4), 1), "y2": round(end["y"] - uy * (DOT_R + 4), 1),
            "lx": round((start["x"] + end["x"]) / 2 + nx * 8, 1),
            "ly": round((start["y"] + end["y"]) / 2 + ny * 8 + (10 if ny > 0 else 0), 1), "anchor": anchor,
        })
    if not ordered:
        dot(0, me)
    columns = max(len(ordered), 1)
    return {
        "lanes": [{"level": lv, "y": i * LANE_H, "mid": lane_y[lv]} for i, lv in enumerate(lanes)],
        "dots": list(dots.values()), "hops": arrows, "lane_h": LANE_H, "label_w": LABEL_W,
        "width": int(LABEL_W + 2 * MARGIN + columns * COL_W), "height": int(len(lanes) * LANE_H),
        "verified": actions.route_verified(entries), "sent": bool(entries),
        "envelopes": [{"direction": e["direction"], "kind": e["kind"], "origin": e["origin"], "at_ms": e["at_ms"],
                       "delivery": e["delivery"], "verified": e["verified"], "core_problem": e.get("core_problem")}
                      for e in entries],
    }
