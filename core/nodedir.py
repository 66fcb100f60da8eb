"""A node directory: creating one (``shangliang init``) and changing which plugins it enables.

Both are all or nothing: a refused init leaves no directory behind, a refused plugin change leaves
``node.toml`` as it was.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
import shutil
import tempfile
from pathlib import Path
from typing import Any, Iterable, Mapping

import tomlkit
from shangliang.core.i18n import N_

from . import audit, config as node_config
from .errors import ConfigError, NodeDirectoryError, UnknownPluginError


def create(directory: Path, node_id: str, name: str, url: str, *, level: str | None = None,
           parent: str | None = None, database_url: str | None = None, broker_url: str | None = None,
           locale: str = "zh_CN", plugins: Iterable[str] = (), actor: str = "system"):
    """Create a node directory: ``node.toml``, a secret key, a migrated database, and what every
    built-in plugin sets up for a new node (``node_created``: the federation signing key). Returns the
    new node's app configuration."""
    from . import migrate
    from .app import create_app
    from .celery_app import check_broker
    from .context import node_context
    from .db import get_db, transaction

    directory = directory.resolve()
    if directory.exists():
        raise NodeDirectoryError(N_("node directory %(directory)s already exists; choose another or remove it",
                                    directory=directory))
    document = tomlkit.document()
    document.add(tomlkit.comment("Shangliang node configuration. Secrets go in the environment or secret_key, never here."))
    document["id"] = node_id
    document["name"] = name
    document["url"] = url
    if level:
        document["level"] = level
    if parent:
        document["parent"] = parent
    document["locale"] = locale
    if database_url:
        document["database_url"] = database_url
    if broker_url:
        document["broker_url"] = broker_url
    plugins_table = tomlkit.table()
    plugins_table["enabled"] = list(plugins)
    document["plugins"] = plugins_table
    calendar = tomlkit.table()
    calendar.add(tomlkit.comment("Public holidays and the weekend days worked instead (调休), as YYYY-MM-DD."))
    calendar["holidays"] = []
    calendar["workdays"] = []
    document["calendar"] = calendar

    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}.init-", dir=directory.parent))
    try:
        (staging / node_config.NODE_FILE).write_text(tomlkit.dumps(document), encoding="utf-8")
        secret = staging / node_config.SECRET_FILE
        fd = os.open(secret, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48) + "\n")
        # Validate everything (ids, plugins, URLs) before touching any database.
        app = create_app(staging)
        check_broker(app.extensions["celery"])
        get_db(app).engine.dispose()
        migrate.upgrade(app.config["DATABASE_URL"])
        migrate.upgrade_plugins(app.config["DATABASE_URL"], app.config["PLUGINS_ENABLED"])
        with app.app_context():
            node = node_context(app)
            with transaction(actor=actor) as session:
                node.pm.hook.node_created(session=session, node=node)
        get_db(app).engine.dispose()
        os.replace(staging, directory)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return app.config


@contextlib.contextmanager
def _node_toml_lock(node_dir: Path):
    """Hold the node directory's lock for a read-modify-write of ``node.toml``: two changes at once (two
    administrators, two gunicorn workers, a command beside the page) are made one after the other, so neither is
    lost (``flock`` on ``.node.toml.lock``, released by the kernel if the process dies)."""
    with open(node_dir / ".node.toml.lock", "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _installed_plugin(name: str, setting: str):
    """The entry point of installed plugin ``name``; an :class:`UnknownPluginError` naming ``setting`` otherwise."""
    from .plugins import installed_plugins

    available = installed_plugins()
    if name not in available:
        known = ", ".join(sorted(available)) or "none"
        raise UnknownPluginError(N_("unknown plugin %(name)s; installed: %(known)s", name=repr(name),
                                    known=known), setting)
    return available[name]


def _proposed(node_dir: Path, path: Path, document) -> tuple[str, dict, dict, list[str]]:
    """``node.toml`` as ``document`` would make it: its text, the node's configuration, the plugins' settings,
    and the problems the enabled plugins' ``node_configured`` checks find in them."""
    from .plugins import create_plugin_manager, flatten, plugin_config

    new_text = tomlkit.dumps(document)
    config = node_config.build_config(
        node_dir, node_toml=node_config.toml_to_config(tomlkit.parse(new_text).unwrap(), str(path)))
    pm = create_plugin_manager(config["PLUGINS_ENABLED"])
    settings = plugin_config(pm, config.get("PLUGIN_CONFIG") or {})
    return new_text, config, settings, flatten(pm.hook.node_configured(config=config, plugin_config=settings))


def set_plugin_enabled(node_dir: Path, name: str, enable: bool, actor: str = "system", purge: bool = False) -> bool:
    """Enable or disable an installed plugin in ``node.toml``; False when it already was (and nothing was purged).

    The new configuration must hold (the plugin installed and made for this core version, its settings, the
    plugins' checks) before it replaces the old one. Enabling applies the plugin's migrations; ``purge`` (with
    ``enable`` false) drops its tables (its migrations downgraded to base). The migrations, the audit record and
    the replacement of ``node.toml`` are one step: a migration that fails leaves ``node.toml`` and the database
    as they were. Disabling without ``purge`` keeps the plugin's tables and their rows.
    """
    with _node_toml_lock(node_dir):
        return _set_plugin_enabled(node_dir, name, enable, actor, purge)


def _set_plugin_enabled(node_dir: Path, name: str, enable: bool, actor: str = "system", purge: bool = False) -> bool:
    from sqlalchemy.orm import Session

    from . import migrate
    from .db import make_engine

    if purge and enable:
        raise ConfigError(N_("--purge goes with disabling a plugin, not enabling it"))
    path = node_dir / node_config.NODE_FILE
    node_config.read_node_toml(node_dir)  # refuse a broken node.toml before editing it
    _installed_plugin(name, "plugins.enabled")
    document = tomlkit.parse(path.read_text(encoding="utf-8"))
    plugins_table = document.setdefault("plugins", tomlkit.table())
    enabled = list(plugins_table.get("enabled", []))
    changed = enable != (name in enabled)
    if not changed and not purge:
        return False
    enabled = [*enabled, name] if enable else [n for n in enabled if n != name]
    plugins_table["enabled"] = enabled
    new_text, config, _settings, problems = _proposed(node_dir, path, document)
    if problems:
        raise ConfigError("plugin configuration refused: " + "; ".join(problems))
    temp = path.with_name(f".{path.name}.new")
    temp.write_text(new_text, encoding="utf-8")
    engine = make_engine(config["DATABASE_URL"])
    try:
        if enable and migrate.plugin_migrations(name) is not None:
            # A plugin's tables are made on the core's current schema, never on an older one.
            migrate.require_current(config["DATABASE_URL"], engine)
        with migrate.write_connection(engine) as connection, connection.begin():
            data: dict = {"enabled": enabled}
            if enable:
                applied = migrate.upgrade_plugin(connection, name)
                if applied is not None:
                    data["migrations"] = {"from": applied[0], "to": applied[1]}
            if purge:
                data["purged"] = {"from": migrate.purge_plugin(connection, name)}
            with Session(bind=connection) as session:
                session.info["actor"] = actor
                if changed:
                    audit.record(session, "plugin.enable" if enable else "plugin.disable", "plugin", name, data)
                if purge:
                    audit.record(session, "plugin.purge", "plugin", name, data)
                session.flush()
            if changed:
                os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)
        engine.dispose()
    return True


def plugin_settings(node_dir: Path, name: str) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    """An installed plugin's module, its declared defaults and its settings as this node's ``node.toml`` sets
    them (the defaults overlaid by ``[plugins.<name>]``)."""
    from .plugins import _load

    module = _load(_installed_plugin(name, "plugins"))
    defaults = dict(getattr(module, "CONFIG_DEFAULTS", None) or {})
    own = (node_config.read_node_toml(node_dir).get("PLUGIN_CONFIG") or {}).get(name) or {}
    return module, defaults, {**defaults, **(dict(own) if isinstance(own, Mapping) else {})}


def set_plugin_settings(node_dir: Path, name: str, values: Mapping[str, Any], actor: str = "system") -> list[str]:
    """Change settings of an installed plugin in ``node.toml``'s ``[plugins.<name>]``; the keys changed ([] when
    nothing did).

    Each value is taken as the kind its declared default has (``CONFIG_DEFAULTS``: an int stays an int, a
    list may come as comma- or line-separated text); the whole new configuration must then pass the checks
    of the enabled plugins and the plugin's own (``node_configured``, run for it even while it is disabled)
    before it replaces the old one, recorded in the audit log (``plugin.configure``, the changed keys) in the
    same step. A refusal is a :class:`ConfigError` naming the setting; nothing is written.
    """
    with _node_toml_lock(node_dir):
        return _set_plugin_settings(node_dir, name, values, actor)


def _set_plugin_settings(node_dir: Path, name: str, values: Mapping[str, Any], actor: str = "system") -> list[str]:
    from sqlalchemy.orm import Session

    from .db import make_engine
    from .plugins import call_hookimpl, coerce_setting, flatten, guarded

    path = node_dir / node_config.NODE_FILE
    module, defaults, current = plugin_settings(node_dir, name)
    unknown = sorted(set(values) - set(defaults))
    if unknown:
        raise ConfigError(N_("unknown setting(s) %(unknown)s for plugin %(name)s; known: %(value)s",
                             unknown=', '.join(unknown), name=repr(name), value=', '.join(sorted(defaults)) or 'none'), f"plugins.{name}.{unknown[0]}")
    new = {key: coerce_setting(name, key, defaults[key], current.get(key), value) for key, value in values.items()}
    changed = [key for key in defaults if key in new and new[key] != current.get(key)]
    if not changed:
        return []
    document = tomlkit.parse(path.read_text(encoding="utf-8"))
    plugins_table = document.setdefault("plugins", tomlkit.table())
    if name not in plugins_table:
        plugins_table[name] = tomlkit.table()
    table = plugins_table[name]
    for key in changed:
        table[key] = new[key]
    new_text, config, settings, problems = _proposed(node_dir, path, document)
    check = getattr(module, "node_configured", None)
    if name not in config["PLUGINS_ENABLED"] and callable(check):
        own = (config.get("PLUGIN_CONFIG") or {}).get(name) or {}
        problems += flatten([call_hookimpl(guarded(name, "node_configured", check), config=config,
                                           plugin_config={**settings, name: {**defaults, **own}})])
    if problems:
        raise ConfigError("plugin configuration refused: " + "; ".join(problems), f"plugins.{name}")
    temp = path.with_name(f".{path.name}.new")
    temp.write_text(new_text, encoding="utf-8")
    engine = make_engine(config["DATABASE_URL"])
    try:
        with Session(engine) as session, session.begin():
            session.info["actor"] = actor
            audit.record(session, "plugin.configure", "plugin", name, {"changed": changed})
            os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)
        engine.dispose()
    return changed
