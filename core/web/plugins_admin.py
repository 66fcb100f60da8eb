"""The administrator's plugin page (/admin/plugins) and API (/api/v1/plugins): the installed plugins, enabling
and disabling them, editing their settings. Thin callers of the same services as ``shangliang plugins``
(``core.nodedir.set_plugin_enabled`` and ``set_plugin_settings``), which edit the node's ``node.toml``; the
node's processes apply a change when they restart."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import flask
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from pydantic import BaseModel, Field
from shangliang.core.i18n import N_
from shangliang.core.i18n import reason

from .. import config as node_config
from ..errors import ConfigError, ShangliangError
from ..plugins import describe, setting_kind
from . import auth
from .api import Request, api_blueprint, error_response, errors, json_response, roles

ADMIN = frozenset({"admin"})


# ---------------------------------------------------------------------------------------------
# What both show


def node_dir() -> Path:
    """The node directory the app was made from; a refusal when it was made without one (a test app)."""
    found = current_app.config.get("NODE_DIR")
    if not found:
        raise ConfigError(N_("this node was started without a node directory, so its node.toml cannot be edited"),
                          "NODE_DIR")
    return Path(found)


def _node_toml() -> dict[str, Any]:
    found = current_app.config.get("NODE_DIR")
    if not found:
        return {"PLUGINS_ENABLED": current_app.config.get("PLUGINS_ENABLED") or [],
                "PLUGIN_CONFIG": current_app.config.get("PLUGIN_CONFIG") or {}}
    return node_config.read_node_toml(Path(found))


def plugin_list() -> list[dict[str, Any]]:
    """Every plugin as ``plugins list --json`` gives it, with ``running`` (enabled in this running process)
    and each installed plugin's settings with their kinds (``settings_kinds``)."""
    toml = _node_toml()
    running = set(current_app.config.get("PLUGINS_ENABLED") or [])
    rows = []
    for info in describe(toml.get("PLUGINS_ENABLED") or [], toml.get("PLUGIN_CONFIG") or {}):
        row = info.as_dict()
        row["running"] = info.kind == "builtin" or info.name in running
        defaults: dict[str, Any] = {}
        if info.kind == "installed" and info.error is None:
            from ..plugins import installed_plugins

            defaults = dict(getattr(installed_plugins()[info.name].load(), "CONFIG_DEFAULTS", None) or {})
        row["setting_kinds"] = {key: setting_kind(defaults[key], value) for key, value in info.settings.items()
                                if key in defaults}
        rows.append(row)
    return rows


def shown(value: Any, kind: str) -> str:
    """A setting's value as its form field shows it."""
    if kind == "list":
        return "\n".join(str(item) for item in value or [])
    if kind == "json":
        return json.dumps(value, ensure_ascii=False, indent=2)
    return "" if value is None else str(value)


# ---------------------------------------------------------------------------------------------
# The page


def index(status: int = 200, failed: str | None = None, error: str | None = None, typed: dict | None = None):
    rows = plugin_list()
    return render_template("admin/plugins.html", rows=rows, shown=shown, failed=failed, error=error,
                           typed=typed or {}), status


def _actor() -> str:
    return f"web:{auth.current_user().username}"


def _set_enabled(name: str, enable: bool):
    from ..nodedir import set_plugin_enabled

    try:
        changed = set_plugin_enabled(node_dir(), name, enable, actor=_actor())
    except ShangliangError as exc:
        flash(_("Not changed: %(reason)s", reason=reason(exc)), "error")
        return redirect(url_for("plugin_admin.index"), 303)
    if not changed:
        flash(_("Plugin %(name)s was already enabled.", name=name) if enable
              else _("Plugin %(name)s was already disabled.", name=name), "info")
    else:
        flash(_("Plugin %(name)s enabled in node.toml. Restart the node's processes to apply it.", name=name)
              if enable else
              _("Plugin %(name)s disabled in node.toml. Restart the node's processes to apply it.", name=name),
              "success")
    return redirect(url_for("plugin_admin.index"), 303)


def enable(name: str):
    return _set_enabled(name, True)


def disable(name: str):
    return _set_enabled(name, False)


def configure(name: str):
    """The settings form of one installed plugin: every declared setting (a checkbox absent is false)."""
    from ..nodedir import plugin_settings, set_plugin_settings

    try:
        _module, defaults, current = plugin_settings(node_dir(), name)
        values = {}
        for key, default in defaults.items():
            field = f"setting-{key}"
            if setting_kind(default, current.get(key)) == "bool":
                values[key] = "true" if request.form.get(field) else "false"
            elif field in request.form:
                values[key] = request.form[field]
        changed = set_plugin_settings(node_dir(), name, values, actor=_actor())
    except ShangliangError as exc:
        typed = {key[len("setting-"):]: value for key, value in request.form.items() if key.startswith("setting-")}
        return index(400, failed=name, error=_("Settings not saved: %(reason)s", reason=reason(exc)), typed=typed)
    if changed:
        flash(_("Plugin %(name)s: %(keys)s changed in node.toml. Restart the node's processes to apply it.",
                name=name, keys=", ".join(changed)), "success")
    else:
        flash(_("Plugin %(name)s: nothing changed.", name=name), "info")
    return redirect(url_for("plugin_admin.index") + f"#plugin-{name}", 303)


pages = Blueprint("plugin_admin", __name__, url_prefix="/admin/plugins", template_folder="../templates")
_admin = auth.roles_required(ADMIN)
pages.add_url_rule("", "index", _admin(index))
pages.add_url_rule("/<name>/enable", "enable", _admin(enable), methods=["POST"])
pages.add_url_rule("/<name>/disable", "disable", _admin(disable), methods=["POST"])
pages.add_url_rule("/<name>/settings", "configure", _admin(configure), methods=["POST"])


# ---------------------------------------------------------------------------------------------
# The API: shapes


class PluginPath(BaseModel):
    name: str = Field(description="the plugin's name (its entry point in the shangliang.plugins group)")


class PluginSettingsIn(Request):
    """Settings to change; those not given keep their values."""

    settings: dict[str, Any] = Field(description="setting → new value, each of its declared kind (a number, "
                                                 "true/false, text, a list, a table); text is read as a form's "
                                                 "field is (a list as comma- or line-separated words)")


class PluginOut(BaseModel):
    name: str
    kind: str = Field(description="builtin (always on) or installed")
    enabled: bool = Field(description="enabled in node.toml")
    running: bool = Field(description="enabled in the node's running processes (a change applies on restart)")
    module: str
    level: str | None = Field(None, description="the level of a shipped practice (province, city, county, township)")
    hooks: list[str]
    summary: str
    error: str | None = Field(None, description="why the plugin could not be loaded")
    settings: dict[str, Any] = Field(description="its settings with the values this node sets")
    setting_kinds: dict[str, str] = Field(description="each setting's kind: bool, int, float, str, list or json")


class PluginList(BaseModel):
    plugins: list[PluginOut]


class PluginDetail(BaseModel):
    plugin: PluginOut
    changed: bool | list[str] = Field(description="enable/disable: whether node.toml changed; settings: the "
                                                  "keys changed")
    restart_needed: bool = Field(description="true: restart the node's processes to apply the change")


# ---------------------------------------------------------------------------------------------
# The API: handlers


def _api_actor() -> str:
    return f"api:{flask.g.api_user.username}"


def _one(name: str) -> dict[str, Any]:
    return next(row for row in plugin_list() if row["name"] == name)


def list_plugins():
    """List plugins.

    Every plugin of this node: the built-ins (always on) and the installed ones, with whether node.toml enables
    each and whether the running processes do, the hooks each implements, its level and its settings.
    """
    return json_response({"plugins": plugin_list()})


def _toggle(name: str, enable: bool):
    from ..errors import NotFound
    from ..nodedir import set_plugin_enabled
    from ..plugins import installed_plugins

    if name not in installed_plugins():
        raise NotFound(N_("no installed plugin is named %(name)s", name=repr(name)))
    changed = set_plugin_enabled(node_dir(), name, enable, actor=_api_actor())
    row = _one(name)
    return json_response({"plugin": row, "changed": changed, "restart_needed": row["running"] != row["enabled"]})


def enable_plugin(path: PluginPath):
    """Enable a plugin.

    Enable an installed plugin in node.toml, after checking the configuration it would run with (the same
    service as `shangliang plugins enable`); audited as `plugin.enable`. Restart the node's processes to apply.
    """
    return _toggle(path.name, True)


def disable_plugin(path: PluginPath):
    """Disable a plugin.

    Disable a plugin in node.toml (its settings stay); audited as `plugin.disable`. Restart the node's
    processes to apply.
    """
    return _toggle(path.name, False)


def configure_plugin(path: PluginPath, body: PluginSettingsIn):
    """Change the settings of a plugin.

    Change settings of an installed plugin in node.toml's `[plugins.<name>]` (the same service as `shangliang
    plugins configure`): each value must be of its declared kind, and the whole new configuration must pass the
    plugins' checks, else nothing is written (400 naming the setting). Audited as `plugin.configure` with the
    changed keys. Restart the node's processes to apply.
    """
    from ..nodedir import set_plugin_settings

    changed = set_plugin_settings(node_dir(), path.name, body.settings, actor=_api_actor())
    return json_response({"plugin": _one(path.name), "changed": changed, "restart_needed": bool(changed)})


def _config_error(exc: ConfigError):
    from ..errors import UnknownPluginError

    if isinstance(exc, UnknownPluginError):
        return error_response(404, "not_found", str(exc))
    return error_response(400, "invalid_input", str(exc), exc.setting)


api = api_blueprint("plugins_api", __name__, "/plugins", tag="plugins", write_roles=ADMIN,
                    description="The plugins of this node (built-in and installed), enabling and disabling "
                                "installed ones and changing their settings in node.toml; the role admin only. "
                                "A change applies when the node's processes restart.")
api.register_error_handler(ConfigError, _config_error)
api.get("", responses={200: PluginList, **errors(403)})(roles(*ADMIN)(list_plugins))
api.post("/<name>/enable", responses={200: PluginDetail, **errors(400, 403, 404, 415)})(
    roles(*ADMIN)(enable_plugin))
api.post("/<name>/disable", responses={200: PluginDetail, **errors(400, 403, 404, 415)})(
    roles(*ADMIN)(disable_plugin))
api.put("/<name>/settings", responses={200: PluginDetail, **errors(400, 403, 404, 413, 415)})(
    roles(*ADMIN)(configure_plugin))
