"""The app factory: one Flask app per node, built in a fixed order."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterable, Mapping

from flask import Blueprint, Flask, has_request_context, request
from flask_babel import Babel, get_locale, lazy_gettext
from flask_login import LoginManager
from flask_openapi3 import APIBlueprint, OpenAPI
from flask_wtf import CSRFProtect
from shangliang.core.i18n import N_

from . import config as node_config, i18n
from .celery_app import celery_init_app, collect_beat_schedule
from .context import EXTENSION as NODE, NodeContext
from .db import Database
from .errors import ConfigError, NodeDirectoryError
from .plugins import EXTENSION as PLUGINS, create_plugin_manager, flatten, plugin_config
from .web.rules import LazyRule, NodeMap

LOCALE_COOKIE = "lang"



class NodeApp(OpenAPI):
    """The node's Flask app: flask-openapi3's (API blueprints describe themselves in the OpenAPI document),
    with URL rules that build their URL functions on first use and an ``int`` converter bounded to a database
    integer (``core/web/rules.py``)."""

    url_rule_class = LazyRule
    url_map_class = NodeMap


def create_app(node_dir: str | os.PathLike | None = None, test_config: Mapping[str, Any] | None = None,
               plugins: Iterable[Any] = ()) -> Flask:
    """Build the app of the node kept in ``node_dir`` (default: ``SHANGLIANG_NODE``).

    ``plugins`` registers extra plugin objects after the enabled ones (tests use it).
    """
    from .web import api as web_api

    node_path = node_config.resolve_node_dir(node_dir)
    if node_path is None and not (test_config and test_config.get("NODE_ID")):
        raise NodeDirectoryError(N_("no node directory: give --node DIR or set SHANGLIANG_NODE"))
    # flask-openapi3's Flask subclass: API blueprints registered with register_api describe themselves
    # in the OpenAPI document (served by core.web at /api/v1/openapi.json, not by its own UI).
    app = NodeApp(
        "shangliang.core",
        # Vendored browser libraries (Apache ECharts) and the small scripts that start them: same-origin only.
        static_folder="web/static",
        instance_path=str(node_path) if node_path else None,
        instance_relative_config=True,
        **web_api.openapi_options(),
    )

    # 1. Configuration: defaults -> node.toml -> SHANGLIANG_* environment -> test config.
    app.config.update(node_config.build_config(node_path, test_config))

    # 2. Logging (log_format), then the extensions. Each request is timed from before any other check;
    #    the request-size check runs before CSRF's, which reads the form.
    from . import logs
    from .web import auth, forms, security, throttle

    logs.init_app(app)
    auth.init_app(app)
    forms.init_app(app)
    security.init_app(app)
    Database(app)
    throttle.init_app(app, app.extensions["shangliang.db"].engine)
    Babel(app, locale_selector=select_locale, default_locale=app.config["LOCALE"],
          default_timezone=app.config["TIMEZONE"])
    app.context_processor(lambda: {"get_locale": get_locale})
    # A refusal put on a page as it is (``{{ error }}``: an exception or its message) is shown in the page's
    # language (core/i18n.py).
    app.jinja_env.finalize = i18n.for_page
    CSRFProtect(app)
    login = LoginManager(app)
    login.login_view = "core.login"
    login.login_message = lazy_gettext("Please sign in to see this page.")
    login.login_message_category = "info"
    login.user_loader(auth.load_user)
    celery_app = celery_init_app(app)

    # 3. Core blueprint: home, health, sign-in, language, the API description.
    from .web.blueprint import bp as core_bp

    app.register_blueprint(core_bp)
    web_api.init_app(app)

    # 4. Plugins: built-ins, then the installed plugins this node enables.
    pm = create_plugin_manager(app.config["PLUGINS_ENABLED"], plugins)
    app.extensions[PLUGINS] = pm
    app.config["PLUGIN_SETTINGS"] = plugin_config(pm, app.config.get("PLUGIN_CONFIG") or {})
    problems = flatten(pm.hook.node_configured(config=app.config, plugin_config=app.config["PLUGIN_SETTINGS"]))
    if problems:
        raise ConfigError("plugin configuration refused: " + "; ".join(problems))
    app.extensions[NODE] = NodeContext.from_config(app.config, pm)
    # From here on plugins are available: their hooks run, their tasks and schedules are known.

    # 5. Blueprints of the built-in features and the plugins, and their schedules.
    for blueprint in flatten(pm.hook.register_blueprints(app=app)):
        if isinstance(blueprint, APIBlueprint):
            web_api.register(app, blueprint)
        elif isinstance(blueprint, Blueprint):
            app.register_blueprint(blueprint)
        else:
            raise ConfigError(N_("a plugin returned %(blueprint)s where a Blueprint was expected",
                                 blueprint=repr(blueprint)), "plugins.enabled")
    celery_app.conf.beat_schedule = collect_beat_schedule(pm, app.config)
    return app


def select_locale() -> str:
    from flask import current_app

    supported = node_config.SUPPORTED_LOCALES
    if not has_request_context():  # a command or a task: the node's language
        return current_app.config["LOCALE"]
    chosen = request.args.get("lang") or request.cookies.get(LOCALE_COOKIE)
    if chosen in supported:
        return chosen
    return current_app.config["LOCALE"]


def node_path(app: Flask) -> Path | None:
    return Path(app.config["NODE_DIR"]) if app.config.get("NODE_DIR") else None
