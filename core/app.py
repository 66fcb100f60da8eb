"""The app factory: one Flask app per node, built in a fixed order."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterable, Mapping

from flask import Blueprint, Config, Flask, request
from flask_babel import Babel, get_locale
from flask_login import LoginManager
from flask_wtf import CSRFProtect

from . import config as node_config
from .celery_app import celery_init_app, collect_beat_schedule
from .db import Database, get_session
from .errors import ConfigError, NodeDirectoryError
from .plugins import EXTENSION as PLUGINS, create_plugin_manager, plugin_config

LOCALE_COOKIE = "lang"


def create_app(node_dir: str | os.PathLike | None = None, test_config: Mapping[str, Any] | None = None,
               plugins: Iterable[Any] = ()) -> Flask:
    """Build the app of the node kept in ``node_dir`` (default: ``SHANGLIANG_NODE``).

    ``plugins`` registers extra plugin objects after the enabled ones (tests use it).
    """
    node_path = node_config.resolve_node_dir(node_dir)
    if node_path is None and not (test_config and test_config.get("NODE_ID")):
        raise NodeDirectoryError("no node directory: give --node DIR or set SHANGLIANG_NODE")
    app = Flask(
        "shangliang.core",
        instance_path=str(node_path) if node_path else None,
        instance_relative_config=True,
    )

    # 1. Configuration: defaults -> node.toml -> SHANGLIANG_* environment -> test config.
    app.config.update(build_config(node_path, test_config))

    # 2. Extensions.
    Database(app)
    Babel(app, locale_selector=select_locale, default_locale=app.config["LOCALE"],
          default_timezone=app.config["TIMEZONE"])
    app.context_processor(lambda: {"get_locale": get_locale})
    CSRFProtect(app)
    login = LoginManager(app)
    login.login_view = "core.login"
    login.user_loader(_load_user)
    celery_app = celery_init_app(app)

    # 3. Core blueprints.
    from shangliang.federation.http import bp as federation_bp

    from .web.blueprint import bp as core_bp

    app.register_blueprint(core_bp)
    app.register_blueprint(federation_bp)
    app.extensions["csrf"].exempt(federation_bp)  # signed envelopes, not browser forms

    # 4. Plugins: built-ins, then the installed plugins this node enables.
    pm = create_plugin_manager(app.config["PLUGINS_ENABLED"], plugins)
    app.extensions[PLUGINS] = pm
    app.config["PLUGIN_SETTINGS"] = plugin_config(pm, app.config.get("PLUGIN_CONFIG") or {})
    problems = [p for found in pm.hook.node_configured(config=app.config, plugin_config=app.config["PLUGIN_SETTINGS"])
                for p in (found or [])]
    if problems:
        raise ConfigError("plugin configuration refused: " + "; ".join(problems))
    # From here on plugins are available: their hooks run, their tasks and schedules are known.

    # 5. Plugin blueprints and schedules.
    for found in pm.hook.register_blueprints(app=app):
        for blueprint in _as_list(found):
            if not isinstance(blueprint, Blueprint):
                raise ConfigError(f"a plugin returned {blueprint!r} where a Blueprint was expected", "plugins.enabled")
            app.register_blueprint(blueprint)
    celery_app.conf.beat_schedule = collect_beat_schedule(pm, app.config)
    return app


def build_config(node_path: Path | None, test_config: Mapping[str, Any] | None = None,
                 node_toml: Mapping[str, Any] | None = None) -> Config:
    """Defaults, then node.toml (or ``node_toml`` already read), then ``SHANGLIANG_*``, then test config; validated."""
    config = Config(str(node_path or "."), node_config.DEFAULTS)
    config["NODE_DIR"] = str(node_path) if node_path else None
    if node_toml is not None:
        config.update(node_toml)
    elif node_path is not None:
        config.update(node_config.read_node_toml(node_path))
    config.from_prefixed_env("SHANGLIANG", loads=_env_value)
    if test_config:
        config.update(test_config)
    node_config.finalize(config)
    return config


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _env_value(value: str) -> Any:
    """Environment values: JSON where they parse as JSON (numbers, lists), strings otherwise."""
    import json

    try:
        return json.loads(value)
    except ValueError:
        return value


def select_locale() -> str:
    from flask import current_app

    supported = node_config.SUPPORTED_LOCALES
    chosen = request.args.get("lang") or request.cookies.get(LOCALE_COOKIE)
    if chosen in supported:
        return chosen
    return current_app.config["LOCALE"]


def _load_user(user_id: str):
    from .models import User

    try:
        user = get_session().get(User, int(user_id))
    except ValueError:
        return None
    return user if user is not None and user.active else None


def node_path(app: Flask) -> Path | None:
    return Path(app.config["NODE_DIR"]) if app.config.get("NODE_DIR") else None
