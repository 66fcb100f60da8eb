"""The plugin host: one pluggy manager per app; built-in plugins always on, installed ones where enabled."""

from __future__ import annotations

import difflib
import functools
import importlib
import logging
import os
import sys
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, PackageNotFoundError, entry_points, version as distribution_version
from pathlib import Path
from types import ModuleType
from typing import Any, Iterable, Mapping

import pluggy
from shangliang.core.i18n import N_

from . import hookspecs
from .errors import ConfigError, IncompatiblePluginError, PluginFailed, ShangliangError, UnknownPluginError

PROJECT = "shangliang"
ENTRY_POINT_GROUP = "shangliang.plugins"
EXTENSION = "shangliang.plugins"

hookimpl = pluggy.HookimplMarker(PROJECT)
log = logging.getLogger("shangliang.plugins")

# The node's own defaults, each a plugin (pytest's default_plugins, Datasette's DEFAULT_PLUGINS):
# core infrastructure's, then the federation layer's, then each feature's ``hooks`` module, in the
# order the layers depend on each other (docs/architecture.md). Named here, imported only when a
# plugin manager is built: the core never imports the layers above it.
BUILTIN_PLUGINS = (
    "shangliang.core.builtin.notifications",
    "shangliang.core.builtin.audit_log",
    "shangliang.core.builtin.schedule",
    "shangliang.core.builtin.plugin_admin",
    "shangliang.federation.hooks",
    "shangliang.core.members.hooks",
    "shangliang.core.users.hooks",
    "shangliang.core.units.hooks",
    "shangliang.core.topics.hooks",
    "shangliang.core.similar.hooks",
    "shangliang.core.plans.hooks",
    "shangliang.core.activities.hooks",
    "shangliang.core.proposals.hooks",
    "shangliang.core.opinions.hooks",
    "shangliang.core.duty.hooks",
    "shangliang.core.appraisal.hooks",
    "shangliang.core.workbench.hooks",
    "shangliang.core.admin.hooks",
    "shangliang.core.search.hooks",
    "shangliang.core.summaries.hooks",
)


def installed_plugins() -> dict[str, EntryPoint]:
    """Plugins installed through the ``shangliang.plugins`` entry-point group, by name.

    Finding them reads every installed distribution's metadata (about 10 ms), and every app the process builds
    asks twice: the answer is kept for as long as no folder of ``sys.path`` changes (installing or removing a
    distribution adds or removes its ``*.dist-info`` folder there, which changes the folder's modification time).
    """
    key = tuple(_modified(path) for path in sys.path)
    if _installed[0] != key:
        _installed[:] = [key, {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}]
    return dict(_installed[1])


_installed: list[Any] = [None, {}]  # (the key it was found under, the plugins found)


def _modified(path: str) -> tuple[str, int]:
    try:
        return path, os.stat(path or ".").st_mtime_ns
    except OSError:
        return path, -1


def builtin_name(module_name: str) -> str:
    """``shangliang.core.topics.hooks`` → ``topics``; ``shangliang.core.builtin.schedule`` → ``schedule``."""
    parts = module_name.split(".")
    return parts[-2] if parts[-1] == "hooks" else parts[-1]


def feature_packages() -> list[str]:
    """The packages of the built-in plugins that are feature packages (``shangliang.core.topics``, …)
    or the federation layer: where their models, tasks and templates live."""
    return [name.rsplit(".", 1)[0] for name in BUILTIN_PLUGINS if name.endswith(".hooks")]


def load_models() -> None:
    """Import the ``models`` module of every built-in feature (and the federation layer), so that
    ``Base.metadata`` holds every table — for migrations and schema checks."""
    import importlib.util

    for package in feature_packages():
        if importlib.util.find_spec(f"{package}.models") is not None:
            importlib.import_module(f"{package}.models")


def flatten(results: Iterable[Any]) -> list[Any]:
    """The results of an all-implementations hook as one list: None dropped, lists joined, single values kept."""
    out: list[Any] = []
    for found in results:
        if found is None:
            continue
        if isinstance(found, (list, tuple)):
            out.extend(item for item in found if item is not None)
        else:
            out.append(found)
    return out


def _load(ep: EntryPoint) -> ModuleType:
    try:
        return ep.load()
    except Exception as exc:  # a broken plugin must not look like a missing one
        raise ConfigError(N_("plugin %(name)s (%(value)s) failed to import: %(exc)s", name=repr(ep.name),
                             value=ep.value, exc=exc), "plugins.enabled") from None


def core_version() -> str:
    """The version of the installed ``shangliang`` distribution (what ``REQUIRES_CORE`` is checked against)."""
    try:
        return distribution_version("shangliang")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "0"


def requires_core(module: Any) -> str | None:
    """The core versions a plugin states it supports (its ``REQUIRES_CORE``, a PEP 440 specifier such as
    ``">=0.1,<1"``), or None when it states none."""
    spec = getattr(module, "REQUIRES_CORE", None)
    return None if spec is None else str(spec)


def check_core_version(name: str, module: Any, current: str | None = None) -> None:
    """Refuse a plugin whose ``REQUIRES_CORE`` does not admit this core version (IncompatiblePluginError with the
    reason); a plugin that states none is taken as it is."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet
    from packaging.version import InvalidVersion, Version

    spec = requires_core(module)
    if spec is None:
        return
    current = current or core_version()
    try:
        allowed = SpecifierSet(spec)
    except InvalidSpecifier:
        raise IncompatiblePluginError(N_("plugin %(name)s states REQUIRES_CORE = %(spec)s, which is not a version "
                                         'specifier (say ">=0.1,<1")', name=repr(name), spec=repr(spec)), "plugins.enabled") from None
    try:
        supported = allowed.contains(Version(current), prereleases=True)
    except InvalidVersion:
        supported = False
    if not supported:
        raise IncompatiblePluginError(N_("plugin %(name)s supports shangliang %(spec)s; this node runs shangliang "
                                         "%(current)s: install a version of the plugin made for it", name=repr(name),
                                         spec=spec, current=current), "plugins.enabled")


def migrations_folder(module: Any) -> Path | None:
    """A plugin package's ``migrations/`` folder (its Alembic revisions, one file each), or None when it has none."""
    file = getattr(module, "__file__", None)
    if not file or Path(file).name != "__init__.py":
        return None
    folder = Path(file).parent / "migrations"
    if folder.is_dir() and any(p.name != "__init__.py" for p in folder.glob("*.py")):
        return folder
    return None


def _check_hook_names(pm: pluggy.PluginManager) -> None:
    """``check_pending`` naming the plugin and the hook: an implementation of a hook no specification declares
    (a misspelled name) stops the node at start-up."""
    known = sorted(name for name in dir(pm.hook) if not name.startswith("_")
                   and getattr(pm.hook, name).has_spec())
    for name in sorted(dir(pm.hook)):
        if name.startswith("_"):
            continue
        caller = getattr(pm.hook, name)
        if caller.has_spec():
            continue
        for impl in caller.get_hookimpls():
            if impl.optionalhook:
                continue
            close = difflib.get_close_matches(name, known, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            who = impl.plugin_name
            if who.isdigit():  # an object registered without a name (tests' extra plugins): pluggy names it by id
                who = getattr(impl.plugin, "__name__", None) or type(impl.plugin).__name__
            raise ConfigError(N_("plugin %(who)s implements hook %(name)s, which does not exist%(hint)s",
                                 who=repr(who), name=repr(name), hint=hint),
                              f"plugins.{who}")


def guarded(plugin: str, hook: str, function: Any) -> Any:
    """``function``, one of ``plugin``'s implementations of ``hook``, raising :class:`PluginFailed` for an
    unexpected exception (a ``ShangliangError`` or an ``HTTPException`` passes unchanged)."""

    @functools.wraps(function)
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except ShangliangError:  # a refusal on purpose: the caller reports it as it is
            raise
        except Exception as exc:
            from werkzeug.exceptions import HTTPException

            if isinstance(exc, HTTPException):
                raise
            log.exception("plugin %r failed in hook %s", plugin, hook)
            raise PluginFailed(plugin, hook, exc) from exc

    call.__shangliang_guarded__ = True  # type: ignore[attr-defined]
    return call


def guard_hooks(pm: pluggy.PluginManager, names: Iterable[str]) -> None:
    """Wrap every plain hook implementation of the plugins ``names`` so that an unexpected exception becomes
    :class:`PluginFailed` naming the plugin and the hook (a ``ShangliangError`` passes unchanged; wrappers are
    left alone)."""
    names = set(names)
    for hook in dir(pm.hook):
        if hook.startswith("_"):
            continue
        for impl in getattr(pm.hook, hook).get_hookimpls():
            if impl.plugin_name not in names or impl.hookwrapper or getattr(impl, "wrapper", False):
                continue
            if not getattr(impl.function, "__shangliang_guarded__", False):
                impl.function = guarded(impl.plugin_name, hook, impl.function)


def create_plugin_manager(enabled: Iterable[str] = (), extra: Iterable[Any] = ()) -> pluggy.PluginManager:
    """Register the built-ins, then each enabled installed plugin (refused unless it supports this core version),
    then ``extra`` objects (tests). An enabled plugin's hooks are guarded (:func:`guard_hooks`)."""
    pm = pluggy.PluginManager(PROJECT)
    pm.add_hookspecs(hookspecs)
    # Every plugin registered from here on may add hook specifications of its own.
    pm.hook.add_hookspecs.call_historic(kwargs={"pm": pm})
    for module_name in BUILTIN_PLUGINS:
        pm.register(importlib.import_module(module_name), name=builtin_name(module_name))
    available = installed_plugins()
    enabled = list(enabled)
    for name in enabled:
        if name not in available:
            known = ", ".join(sorted(available)) or "none"
            raise UnknownPluginError(N_("unknown plugin %(name)s; installed: %(known)s", name=repr(name),
                                        known=known), "plugins.enabled")
        module = _load(available[name])
        check_core_version(name, module)
        pm.register(module, name=name)
    for plugin in extra:
        pm.register(plugin)
    _check_hook_names(pm)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise ConfigError(N_("a plugin implements a hook that does not exist: %(exc)s",
                             exc=exc), "plugins.enabled") from None
    guard_hooks(pm, enabled)
    return pm


def plugin_config(pm: pluggy.PluginManager, node_plugin_config: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Each registered plugin's declared ``CONFIG_DEFAULTS`` with the node's settings over them."""
    merged: dict[str, dict[str, Any]] = {}
    for name, plugin in pm.list_name_plugin():
        defaults = dict(getattr(plugin, "CONFIG_DEFAULTS", {}) or {})
        own = dict(node_plugin_config.get(name, {}) or {})
        unknown = sorted(set(own) - set(defaults))
        if unknown:
            raise ConfigError(
                N_("unknown setting(s) %(unknown)s for plugin %(name)s; known: %(value)s", unknown=', '.join(unknown),
                   name=repr(name), value=', '.join(sorted(defaults)) or 'none'),
                f"plugins.{name}",
            )
        merged[name] = {**defaults, **own}
    installed = installed_plugins()
    for name in node_plugin_config:
        # Settings of an installed plugin that is disabled are kept for when it is enabled again.
        if name not in merged and name not in installed:
            raise ConfigError(N_("settings for plugin %(name)s, which is not installed",
                                 name=repr(name)), f"plugins.{name}")
    return merged


def hook_names(plugin: Any) -> list[str]:
    """The hooks a plugin object implements (functions marked with ``hookimpl``)."""
    names = []
    for attr in dir(plugin):
        try:
            value = getattr(plugin, attr)
        except Exception:  # a proxy such as flask.current_app outside an app context
            continue
        if callable(value) and hasattr(value, f"{PROJECT}_impl"):
            names.append(attr)
    return sorted(names)


@dataclass
class PluginInfo:
    name: str
    kind: str  # builtin or installed
    enabled: bool
    module: str
    level: str | None
    hooks: list[str] = field(default_factory=list)
    summary: str = ""
    error: str | None = None
    #: its settings with the values this node runs it with: an installed plugin's ``CONFIG_DEFAULTS`` overlaid by
    #: the node's ``[plugins.<name>]``; a built-in feature's declared settings (``declare_settings``) at their
    #: defaults (``shangliang config`` shows them as the node sets them)
    settings: dict[str, Any] = field(default_factory=dict)
    #: the core versions it supports (``REQUIRES_CORE``), None when it states none (a built-in: this core)
    requires_core: str | None = None
    #: whether this core version is one of them
    compatible: bool = True
    #: whether it ships migrations (tables of its own)
    migrations: bool = False

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def describe(enabled: Iterable[str], plugin_config: Mapping[str, Any] | None = None) -> list[PluginInfo]:
    """Everything installed, built-in first: enabled state, the hooks each implements, its level, its settings
    (an installed plugin's with ``plugin_config``, the node's ``[plugins.<name>]`` tables, over its defaults)."""
    enabled = set(enabled)
    plugin_config = plugin_config or {}
    infos = []
    for module_name in BUILTIN_PLUGINS:
        module = importlib.import_module(module_name)
        declared = getattr(module, "declare_settings", None)
        settings = {f"{s.section}.{s.name}": s.default for s in (declared() or [])} if callable(declared) else {}
        infos.append(PluginInfo(builtin_name(module_name), "builtin", True, module_name, None,
                                hook_names(module), _summary(module), settings=settings))
    for name, ep in sorted(installed_plugins().items()):
        parts = ep.value.split(".")
        level = parts[2] if len(parts) > 3 and parts[:2] == ["shangliang", "plugins"] else None
        try:
            module = ep.load()
            # A plugin from outside the repository may say its level itself (``LEVEL``, as `plugins new` writes).
            level = level or (getattr(module, "LEVEL", None) if isinstance(getattr(module, "LEVEL", None), str) else None)
            own = plugin_config.get(name)
            settings = {**dict(getattr(module, "CONFIG_DEFAULTS", None) or {}),
                        **(dict(own) if isinstance(own, Mapping) else {})}
            try:
                check_core_version(name, module)
                compatible = True
            except IncompatiblePluginError:
                compatible = False
            infos.append(PluginInfo(name, "installed", name in enabled, ep.value, level,
                                    hook_names(module), _summary(module), settings=settings,
                                    requires_core=requires_core(module), compatible=compatible,
                                    migrations=migrations_folder(module) is not None))
        except Exception as exc:
            infos.append(PluginInfo(name, "installed", name in enabled, ep.value, level, error=str(exc)[:200]))
    return infos


def _summary(module: ModuleType) -> str:
    """The plugin's one line: its ``SUMMARY`` (a catalogue text, shown in the page's language) or the first line
    of its docstring."""
    summary = getattr(module, "SUMMARY", None)
    if isinstance(summary, str) and summary:
        return summary
    return (module.__doc__ or "").strip().splitlines()[0] if module.__doc__ else ""


_BUILTINS: pluggy.PluginManager | None = None


def builtin_plugin_manager() -> pluggy.PluginManager:
    """A plugin manager with the built-in plugins only, made once per process: what every node has,
    whatever it enables (its settings, its commands)."""
    global _BUILTINS
    if _BUILTINS is None:
        _BUILTINS = create_plugin_manager()
    return _BUILTINS


def builtin_settings() -> list[Any]:
    """The settings the built-in features declare (``declare_settings``), in registration order."""
    return flatten(builtin_plugin_manager().hook.declare_settings())


def get_plugin_manager(app=None) -> pluggy.PluginManager:
    from flask import current_app

    return (app or current_app).extensions[EXTENSION]


# ---------------------------------------------------------------------------------------------
# Editing an installed plugin's settings (the admin page, the API, ``plugins configure``)

#: How a setting is edited, from the type of its default (or of its current value):
#: ``bool`` a checkbox, ``int`` / ``float`` a number, ``str`` a line, ``list`` comma- or line-separated
#: text, ``json`` a structured value (a list of tables, a table) written as JSON.
SETTING_KINDS = ("bool", "int", "float", "str", "list", "json")
_TRUE = {"true", "yes", "on", "1", "是"}
_FALSE = {"false", "no", "off", "0", "否", ""}


def setting_kind(default: Any, current: Any = None) -> str:
    """The kind of a setting whose declared default is ``default`` (``current``: its value on the node,
    which tells a list of tables from a list of words when the default is an empty list)."""
    if isinstance(default, bool):
        return "bool"
    if isinstance(default, int):
        return "int"
    if isinstance(default, float):
        return "float"
    if isinstance(default, str):
        return "str"
    if isinstance(default, (list, tuple)):
        items = list(default) + (list(current) if isinstance(current, (list, tuple)) else [])
        return "json" if any(isinstance(item, (dict, list)) for item in items) else "list"
    return "json"


def _list_items(text: str) -> list[str]:
    import re

    return [part.strip() for part in re.split(r"[\n,，、;；]", text) if part.strip()]


def coerce_setting(plugin: str, key: str, default: Any, current: Any, value: Any) -> Any:
    """``value`` (typed, or text from a form or the command line) as the setting's kind; a value that is
    not of it is refused with :class:`ConfigError` naming ``plugins.<plugin>.<key>``."""
    import json

    kind = setting_kind(default, current)
    where = f"plugins.{plugin}.{key}"

    def refuse(what: str) -> ConfigError:
        return ConfigError(f"{key} must be {what}; got {str(value)[:60]!r}", where)

    if kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise refuse("true or false")
    if kind in ("int", "float"):
        if isinstance(value, bool):
            raise refuse("a whole number" if kind == "int" else "a number")
        if kind == "int":
            if isinstance(value, int):
                return value
            if isinstance(value, float) and value.is_integer():
                return int(value)
            try:
                return int(str(value).strip())
            except ValueError:
                raise refuse("a whole number") from None
        if isinstance(value, (int, float)):
            return float(value)
        try:
            return float(str(value).strip())
        except ValueError:
            raise refuse("a number") from None
    if kind == "str":
        if isinstance(value, str):
            return value.strip()
        raise refuse("text")
    if kind == "list":
        if isinstance(value, str) and value.strip().startswith("["):  # a list of tables, written as JSON
            try:
                value = json.loads(value)
            except ValueError as exc:
                raise ConfigError(N_("%(key)s must be a list (%(exc)s)", key=key, exc=exc), where) from None
            if not isinstance(value, list):
                raise refuse("a list")
            if any(isinstance(item, (dict, list)) for item in value):
                return value
        items = value if isinstance(value, (list, tuple)) else _list_items(value) if isinstance(value, str) else None
        if items is None:
            raise refuse("a list")
        numbers = [d for d in (default or []) if not isinstance(d, bool) and isinstance(d, int)]
        if numbers and len(numbers) == len(default):
            try:
                return [int(str(item).strip()) for item in items]
            except ValueError:
                raise refuse("a list of whole numbers") from None
        if not all(isinstance(item, str) for item in items):
            raise refuse("a list of words")
        return [item.strip() for item in items if item.strip()]
    # json: a list of tables or a table
    parsed = value
    if isinstance(value, str):
        try:
            parsed = json.loads(value) if value.strip() else type(default)()
        except ValueError as exc:
            raise ConfigError(N_("%(key)s must be JSON (%(exc)s)", key=key, exc=exc), where) from None
    if isinstance(default, dict) and not isinstance(parsed, dict):
        raise refuse("a table (a JSON object)")
    if isinstance(default, (list, tuple)) and not isinstance(parsed, list):
        raise refuse("a list (a JSON array)")
    return parsed


def call_hookimpl(function: Any, **kwargs: Any) -> Any:
    """Call one plugin's hook implementation directly with the arguments it names (as pluggy would)."""
    import inspect

    names = inspect.signature(function).parameters
    return function(**{name: value for name, value in kwargs.items() if name in names})
