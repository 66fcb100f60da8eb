"""The JSON API's shared plumbing: one error format, authentication, writes, pagination, the OpenAPI document.

Every feature's ``api.py`` builds its routes on :func:`api_blueprint` (flask-openapi3's
``APIBlueprint``), declares request and response shapes with pydantic in its ``schemas.py`` and
answers with :func:`json_response`; refusals are the named errors of ``core.errors`` raised by the
services, turned into ``{"error": {"code", "message", "field"}}`` here. The document is generated
from those declarations and served at ``/api/v1/openapi.json``, readable at ``/api/v1/docs``.
"""

from __future__ import annotations

import inspect
import json
from typing import Annotated, Any, Callable, Collection, Mapping, Union, get_args

import flask
from flask import Blueprint, Response, render_template
from flask_openapi3 import APIBlueprint, Info, Tag
from flask_wtf.csrf import CSRFError
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from werkzeug.exceptions import HTTPException

from ..errors import Conflict, InputError, NotFound, PluginFailed
from ..i18n import N_
from . import auth

PREFIX = "/api/v1"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
JSON = "application/json"

#: The ``code`` of an error answer for each status (docs/api.md).
ERROR_CODES = {400: "invalid_input", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_media_type",
               500: "error"}
#: The ``code`` of a 500 answer when an installed plugin failed inside a hook (``PluginFailed``): the message names
#: the plugin and the hook; nothing of the request was stored.
PLUGIN_FAILED = "plugin_failed"


# ---------------------------------------------------------------------------------------------
# Shapes shared by every feature's API


class ErrorDetail(BaseModel):
    code: str = Field(description="what went wrong, by name: "
                      + ", ".join(sorted({*ERROR_CODES.values(), PLUGIN_FAILED})))
    message: str = Field(description="one line a person can act on")
    field: str | None = Field(None, description="the request field the refusal is about, when there is one")


class ErrorBody(BaseModel):
    """Every refusal: a status and this object; nothing was stored."""

    error: ErrorDetail


class PageQuery(BaseModel):
    """``limit`` and ``cursor`` of every list: a page of at most ``limit`` items; the answer's
    ``next_cursor`` (null on the last page) asks for the next one."""

    model_config = ConfigDict(extra="ignore")

    limit: int = Field(50, ge=1, le=500, description="items per page, 1 to 500")
    cursor: str | None = Field(None, max_length=500, description="the previous page's next_cursor")


class Request(BaseModel):
    """Base of request bodies: unknown fields are ignored, as the protocol ignores unknown body fields."""

    model_config = ConfigDict(extra="ignore")


#: The tags of the tagged unions declared with :func:`one_of`: pydantic puts the tag first in an error's
#: location (``advance.to_stage``), which a person did not write.
_UNION_TAGS: set[str] = set()


def one_of(*models: type[BaseModel], key: str) -> Any:
    """A request that is one of ``models``, told apart by the literal field ``key`` (``action``)."""
    for model in models:
        _UNION_TAGS.update(get_args(model.model_fields[key].annotation))
    return Annotated[Union[models], Field(discriminator=key)]  # type: ignore[valid-type]


#: A request line over 4 KiB (a very long query) is refused by the web server (gunicorn) before the node
#: reads it: 414, with the server's own short page rather than the error body.
URI_TOO_LONG: dict[int, dict[str, str]] = {
    414: {"description": "the request line (path and query) is over 4 KiB; the web server refuses it before "
                         "the node reads it, with a page of its own rather than the error body"}}


def errors(*statuses: int) -> dict[int, type[BaseModel]]:
    """``responses=`` entries for the refusals an endpoint can answer."""
    return {status: ErrorBody for status in statuses}


def openapi_options() -> dict[str, Any]:
    """The flask-openapi3 settings of the node's app (``create_app``)."""
    return {
        "info": Info(title="Shangliang node API", version="1",
                     description="The JSON API of one Shangliang node (docs/api.md). Bodies are UTF-8 JSON; "
                                 "times are epoch milliseconds (`*_ms`)."),
        "security_schemes": {
            "basic": {"type": "http", "scheme": "basic",
                      "description": "a node user's name and password; for scripts (no CSRF token needed)"},
            "session": {"type": "apiKey", "in": "cookie", "name": "session",
                        "description": "the signed-in session of the node's pages; writes also send the "
                                       "page's CSRF token in the X-CSRFToken header"},
        },
        "validation_error_status": 400,
        "validation_error_model": ErrorBody,
        "validation_error_callback": validation_error,
        "doc_ui": False,
    }


# ---------------------------------------------------------------------------------------------
# Answers


def json_response(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    """UTF-8 JSON with Chinese left readable (no ``\\u`` escapes)."""
    return Response(json.dumps(body, ensure_ascii=False), status=status, headers=dict(headers or {}), mimetype=JSON)


def error_response(status: int, code: str | None, message: str, field: str | None = None) -> Response:
    body: dict[str, Any] = {"code": code or ERROR_CODES.get(status, "error"), "message": message}
    if field:
        body["field"] = field
    headers = {"WWW-Authenticate": 'Basic realm="shangliang", charset="UTF-8"'} if status == 401 else None
    return json_response({"error": body}, status, headers)


def validation_error(exc: ValidationError) -> Response:
    """A request that does not fit its declared shape: 400 ``invalid_input`` naming the first problem."""
    message, field = describe(exc)
    return error_response(400, "invalid_input", message, field)


def describe(exc: ValidationError) -> tuple[str, str | None]:
    """The first problem of a pydantic error as one line, and the field it is about."""
    problem = exc.errors(include_url=False)[0]
    kind, loc, ctx = problem["type"], list(problem["loc"]), problem.get("ctx") or {}
    if len(loc) > 1 and loc[0] in _UNION_TAGS:
        loc = loc[1:]
    names = [str(p) for p in loc if isinstance(p, str)]
    field = names[0] if names else None
    where = ".".join(names)
    if kind in ("union_tag_not_found",):
        name = str(ctx.get("discriminator", "")).strip("'")
        return N_("missing field: %(name)s", name=name), name
    if kind == "union_tag_invalid":
        name = str(ctx.get("discriminator", "")).strip("'")
        expected = str(ctx.get("expected_tags", "")).replace("'", "")
        return N_("unknown %(name)s %(tag)s; %(name)ss: %(expected)s", name=name, tag=repr(str(ctx.get("tag"))[:40]),
                  expected=expected), name
    if not where:
        return N_("the request body must be a JSON object"), None
    if kind == "missing":
        return N_("missing field: %(where)s", where=where), field
    if kind == "list_type" or (kind == "string_type" and any(isinstance(p, int) for p in loc)):
        return N_("field %(where)s must be a list of text", where=where), field
    if kind == "string_type":
        return N_("field %(where)s must be text", where=where), field
    # The commonest limits in words of their own (pydantic's text is English only).
    if kind == "string_too_long" and "max_length" in ctx:
        return N_("field %(where)s: at most %(limit)s characters", where=where, limit=ctx["max_length"]), field
    if kind == "string_too_short" and "min_length" in ctx:
        return N_("field %(where)s: at least %(limit)s characters", where=where, limit=ctx["min_length"]), field
    if kind in ("too_long",) and "max_length" in ctx:
        return N_("field %(where)s: at most %(limit)s items", where=where, limit=ctx["max_length"]), field
    if kind in ("greater_than_equal", "greater_than") and ("ge" in ctx or "gt" in ctx):
        bound = ctx.get("ge", ctx.get("gt"))
        if kind == "greater_than":
            return N_("field %(where)s must be greater than %(bound)s", where=where, bound=bound), field
        return N_("field %(where)s must be at least %(bound)s", where=where, bound=bound), field
    if kind in ("less_than_equal", "less_than") and ("le" in ctx or "lt" in ctx):
        bound = ctx.get("le", ctx.get("lt"))
        if kind == "less_than":
            return N_("field %(where)s must be less than %(bound)s", where=where, bound=bound), field
        return N_("field %(where)s must be at most %(bound)s", where=where, bound=bound), field
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return N_("field %(where)s must be a whole number", where=where), field
    if kind in ("bool_parsing", "bool_type"):
        return N_("field %(where)s must be true or false", where=where), field
    if kind == "string_pattern_mismatch":
        return N_("field %(where)s is not in the expected form", where=where), field
    if kind in ("literal_error", "enum") and "expected" in ctx:
        return N_("field %(where)s must be one of %(expected)s", where=where, expected=ctx["expected"]), field
    return N_("field %(where)s: %(problem)s", where=where, problem=problem["msg"]), field


# ---------------------------------------------------------------------------------------------
# Blueprints


def _described(func: Callable) -> dict[str, str]:
    """An operation's summary (the docstring's first line) and description (its later paragraphs, each
    paragraph's lines joined as one) — flask-openapi3 would join every line with ``<br/>``."""
    doc = inspect.getdoc(func) or ""
    summary, _, rest = doc.partition("\n")
    paragraphs = [" ".join(part.split()) for part in rest.strip().split("\n\n") if part.strip()]
    return {key: value for key, value in (("summary", summary.strip()), ("description", "\n\n".join(paragraphs)))
            if value}


#: What ``APIBlueprint._collect_openapi_info`` takes besides the rule, the handler and the method.
_DESCRIBING = ("tags", "summary", "description", "external_docs", "operation_id", "responses", "deprecated",
               "security", "servers", "openapi_extensions")


class FeatureAPI(APIBlueprint):
    """An :class:`APIBlueprint` whose operations are described by their handlers' docstrings as written, and
    described only when the document is first asked for (:meth:`describe`): flask-openapi3 would make a JSON
    schema of every request and answer model as each route is declared — about a quarter of the time a node's
    process (every command, worker and server) takes to start — though most processes never serve the
    document. A route is registered at once, with its request validation; only its description waits."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.undescribed: list[tuple[str, str, Callable, dict[str, Any]]] = []

    def _route(self, method: str, rule: str, **options: Any) -> Callable:
        register = getattr(APIBlueprint, method)

        def decorator(func: Callable) -> Callable:
            described = {**_described(func), **options}
            self.undescribed.append((method, rule, func, {k: v for k, v in described.items() if k in _DESCRIBING}))
            return register(self, rule, **{**described, "doc_ui": False})(func)

        return decorator

    def describe(self) -> None:
        """Describe the operations not described yet in ``paths`` and ``components_schemas`` (once each)."""
        while self.undescribed:
            method, rule, func, options = self.undescribed.pop(0)
            APIBlueprint._collect_openapi_info(self, rule, func, method=method.upper(), **options)

    def get(self, rule: str, **options: Any) -> Callable:  # type: ignore[override]
        return self._route("get", rule, **options)

    def post(self, rule: str, **options: Any) -> Callable:  # type: ignore[override]
        return self._route("post", rule, **options)

    def put(self, rule: str, **options: Any) -> Callable:  # type: ignore[override]
        return self._route("put", rule, **options)

    def patch(self, rule: str, **options: Any) -> Callable:  # type: ignore[override]
        return self._route("patch", rule, **options)

    def delete(self, rule: str, **options: Any) -> Callable:  # type: ignore[override]
        return self._route("delete", rule, **options)


def api_blueprint(name: str, import_name: str, path: str, tag: str, description: str,
                  write_roles: Collection[str]) -> FeatureAPI:
    """An API blueprint at ``/api/v1<path>``: every request authenticated (HTTP Basic or the session),
    every write by a user with one of ``write_roles`` (unless the view says otherwise with
    :func:`roles`) sending JSON (or the type :func:`raw_body` names), the services' named errors as
    JSON error answers."""
    bp = FeatureAPI(name, import_name, url_prefix=PREFIX + path, abp_tags=[Tag(name=tag, description=description)],
                      abp_security=[{"basic": []}, {"session": []}], abp_responses={**errors(401, 429), **URI_TOO_LONG})
    bp.write_roles = frozenset(write_roles)  # type: ignore[attr-defined]
    bp.before_request(_authenticate)
    bp.register_error_handler(InputError, lambda exc: error_response(400, "invalid_input", str(exc),
                                                                      getattr(exc, "field", None)))
    bp.register_error_handler(NotFound, lambda exc: error_response(404, "not_found", str(exc)))
    bp.register_error_handler(Conflict, lambda exc: error_response(409, "conflict", str(exc)))
    bp.register_error_handler(HTTPException, _http_error)
    return bp


def roles(*allowed: str) -> Callable:
    """The roles that may call this endpoint (default: any signed-in user for reads, the blueprint's
    ``write_roles`` for writes)."""

    def decorator(view: Callable) -> Callable:
        view.api_roles = frozenset(allowed)  # type: ignore[attr-defined]
        return view

    return decorator


def raw_body(mimetype: str) -> Callable:
    """A write whose body is not JSON but raw bytes of this type (a file)."""

    def decorator(view: Callable) -> Callable:
        view.body_mimetype = mimetype  # type: ignore[attr-defined]
        return view

    return decorator


def _view() -> Callable | None:
    return flask.current_app.view_functions.get(flask.request.endpoint or "")


def _authenticate() -> Response | None:
    """A node user by HTTP Basic or by the signed-in session; writes need their role, their content type,
    and, with a session, the CSRF token."""
    request = flask.request
    flask.g.api_user, flask.g.api_basic = None, False
    if request.headers.get("Authorization"):
        credentials = request.authorization
        if credentials is None or credentials.type != "basic" or credentials.username is None:
            return error_response(401, "unauthenticated",
                                  "only HTTP Basic authentication (user name and password) is accepted")
        try:
            user = auth.check_credentials(credentials.username, credentials.password or "")
        except auth.Throttled as exc:
            response = error_response(429, "too_many_attempts", str(exc))
            response.headers["Retry-After"] = str(exc.wait)
            return response
        if user is None:
            return error_response(401, "unauthenticated", "wrong user name or password")
        flask.g.api_user, flask.g.api_basic = user, True
    else:
        flask.g.api_user = auth.current_user()
        if flask.g.api_user is None:
            return error_response(401, "unauthenticated",
                                  "sign in, or send a node user's name and password by HTTP Basic")
    view = _view()
    writing = request.method in WRITE_METHODS
    blueprint = flask.current_app.blueprints.get(request.blueprint or "")
    allowed = getattr(view, "api_roles", None)
    if allowed is None and writing:
        allowed = getattr(blueprint, "write_roles", frozenset())
    if allowed is not None and not auth.has_role(flask.g.api_user, allowed):
        return error_response(403, "forbidden", f"role {flask.g.api_user.role} may not do this; it needs the role "
                                                f"{' or '.join(sorted(allowed))}")
    if writing:
        # A cross-site form cannot send these types without a CORS preflight, which this API never grants:
        # a browser holding Basic credentials cannot be made to write.
        mimetype = getattr(view, "body_mimetype", JSON)
        if request.mimetype != mimetype:
            return error_response(415, "unsupported_media_type",
                                  f"this write sends its body with Content-Type: {mimetype}")
        if mimetype == JSON:
            refused = _unreadable_json(request.get_data(cache=True))
            if refused is not None:
                return error_response(400, "invalid_input", *refused)
        config = flask.current_app.config
        checked = config.get("WTF_CSRF_ENABLED", True) and config.get("WTF_CSRF_CHECK_DEFAULT", True)
        if checked and not flask.g.api_basic:
            try:
                flask.current_app.extensions["csrf"].protect()
            except CSRFError as exc:
                return error_response(403, "forbidden", f"CSRF check failed ({exc.description}): a signed-in session "
                                                        "sends the page's CSRF token in the X-CSRFToken header; "
                                                        "scripts use HTTP Basic")
    return None


MAX_JSON_DEPTH = 32


def _unreadable_json(data: bytes) -> tuple[str, str | None] | None:
    """Why a JSON body cannot be taken as text at all (message, field), or None: not UTF-8 JSON, nested
    deeper than any request shape, or holding a lone surrogate (no character: it cannot be stored) or a NUL
    character (PostgreSQL's text cannot hold it, so neither does any node's)."""
    try:
        body = json.loads(data)
    except RecursionError:
        return f"the body is nested more than {MAX_JSON_DEPTH} levels deep", None
    except ValueError:
        return "the request body must be a JSON object; this is not JSON (UTF-8)", None
    stack: list[tuple[Any, str, int]] = [(body, "", 0)]
    while stack:
        value, where, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            return f"the body is nested more than {MAX_JSON_DEPTH} levels deep", None
        if isinstance(value, dict):
            for key, item in value.items():
                path = f"{where}.{key}" if where else str(key)
                if not _is_text(key):
                    return "a field name holds a lone surrogate (\\ud800–\\udfff), which is no character", None
                stack.append((item, path, depth + 1))
        elif isinstance(value, list):
            stack.extend((item, f"{where}[{index}]", depth + 1) for index, item in enumerate(value))
        elif isinstance(value, str) and not _is_text(value):
            field = where.split(".")[0].split("[")[0] or None
            return f"field {where} holds a lone surrogate (\\ud800–\\udfff), which is no character", field
        elif isinstance(value, str) and "\x00" in value:  # PostgreSQL text cannot hold it; SQLite would
            field = where.split(".")[0].split("[")[0] or None
            return f"field {where} holds a NUL character (\\u0000), which no text field can hold", field
    return None


def _is_text(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def api_user() -> Any:
    """The user the current API request was authenticated as."""
    return flask.g.api_user


def actor() -> str:
    """The audit actor of the current API request."""
    return f"api:{flask.g.api_user.username}"


def _http_error(exc: HTTPException) -> Response:
    if exc.code is None:  # an answer made already (flask-openapi3's validation error)
        return exc.get_response()
    return error_response(exc.code, None, exc.description or exc.name)


# ---------------------------------------------------------------------------------------------
# The document


docs = Blueprint("api", __name__, url_prefix=PREFIX)


def document(app: flask.Flask) -> dict[str, Any]:
    """The app's OpenAPI document, generated once. flask-openapi3 adds its validation answer to every
    operation that does not declare one, as a list of its error model; ours answers one error body."""
    doc = app.extensions.get("shangliang.openapi")
    if doc is None:
        for bp in app.extensions.get("shangliang.api", []):  # described now (FeatureAPI), in registration order
            bp.describe()
            for tag in bp.tags:
                if tag.name not in app.tag_names:
                    app.tags.append(tag)
                    app.tag_names.append(tag.name)
            app.paths.update(**bp.paths)
            app.components_schemas.update(**bp.components_schemas)
        doc = json.loads(json.dumps(app.api_doc))
        listed = {"type": "array", "items": {"$ref": "#/components/schemas/ErrorBody"}}
        for operations in doc.get("paths", {}).values():
            for operation in operations.values():
                for answer in operation.get("responses", {}).values():
                    content = answer.get("content", {}).get(JSON)
                    if content is not None and content.get("schema") == listed:
                        content["schema"] = {"$ref": "#/components/schemas/ErrorBody"}
        app.extensions["shangliang.openapi"] = doc
    return doc


@docs.get("/openapi.json")
def openapi_document() -> Response:
    """The OpenAPI 3.1 document of this node's API, generated from the features' declarations."""
    return json_response(document(flask.current_app))


@docs.get("/docs")
def openapi_page():
    """The document as a page: every endpoint with its parameters, body, answers and errors."""
    from .apidoc import page

    return render_template("api_docs.html", doc=page(document(flask.current_app)))


def init_app(app: flask.Flask) -> None:
    """Serve the document and answer JSON for unknown ``/api/`` paths."""
    app.register_blueprint(docs)

    @app.errorhandler(HTTPException)
    def _not_handled(exc: HTTPException):
        """An HTTP error no blueprint answered: JSON for ``/api/`` (unknown path or method), a page in the
        person's language for everything else."""
        if flask.request.path.startswith("/api/"):
            if exc.code in (404, 405):
                return error_response(exc.code, None, exc.description or exc.name)
            return exc
        if exc.code is None or exc.code < 400:
            return exc
        from .views import error_page

        response, status = error_page(exc.code)
        headers = {k: v for k, v in exc.get_headers() if k.lower() in ("allow", "retry-after")}
        return response, status, headers

    @app.errorhandler(CSRFError)
    def _form_expired(exc: CSRFError):
        if flask.request.path.startswith("/api/"):
            return error_response(403, "forbidden", f"CSRF check failed ({exc.description})")
        from .views import csrf_error_page

        return csrf_error_page(exc)

    @app.errorhandler(PluginFailed)
    def _plugin_failed(exc: PluginFailed):
        # The unit of work it was part of rolled back (db.transaction); the node goes on serving.
        if flask.request.path.startswith("/api/"):
            return error_response(500, PLUGIN_FAILED, str(exc))
        try:
            return render_template("plugin_failed.html", message=str(exc), plugin=exc.plugin, hook=exc.hook), 500
        except Exception:  # the page's own frame (the menu's nav_items) runs the plugins too
            return Response(str(exc), status=500, mimetype="text/plain")


def register(app: flask.Flask, bp: APIBlueprint) -> None:
    """Register a feature's API blueprint: described in the document; CSRF checked by ``_authenticate``."""
    app.extensions["csrf"].exempt(bp)
    app.register_api(bp)
    if isinstance(bp, FeatureAPI):
        app.extensions.setdefault("shangliang.api", []).append(bp)
