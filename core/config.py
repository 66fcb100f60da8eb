"""Node configuration: defaults, the node directory's ``node.toml``, ``SHANGLIANG_*`` environment, validation."""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
import tomllib
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Config
from shangliang.core.i18n import N_

from . import divisions
from .errors import ConfigError, NodeDirectoryError
from .settings import Setting

NODE_FILE = "node.toml"
SECRET_FILE = "secret_key"
SUPPORTED_LOCALES = ("zh_CN", "en")
LOG_FORMATS = ("text", "json")

DEFAULTS: dict[str, Any] = {
    "NODE_DIR": None,
    "NODE_ID": None,
    "NODE_NAME": None,
    "NODE_LEVEL": None,  # derived from the code unless configured
    "NODE_PARENT": None,  # derived from the code unless configured
    "PUBLIC_URL": None,
    "DATABASE_URL": None,  # default: SQLite file node.db in the node directory (WAL)
    "BROKER_URL": None,  # default: the embedded SQLite broker, broker.sqlite in the node directory
    "BROKER_POLLING_INTERVAL": 0.05,  # seconds; the embedded broker polls its table this often
    "TASK_QUEUE": None,  # default: shangliang.<node id>
    "PLUGINS_ENABLED": [],
    "PLUGIN_CONFIG": {},
    "LOCALE": "zh_CN",
    "TIMEZONE": "Asia/Shanghai",
    "HOLIDAYS": [],
    "EXTRA_WORKDAYS": [],
    "WEEKEND": [6, 7],  # ISO weekdays: Saturday, Sunday
    "HEARTBEAT_SECONDS": 30,
    # The largest request body read, in bytes; a page or API call that takes files raises it for
    # its own requests (core.web.auth.request_limit).
    "MAX_CONTENT_LENGTH": 1024 * 1024,
    "SECRET_KEY": None,
    "METRICS_TOKEN": None,  # environment only (SHANGLIANG_METRICS_TOKEN): the bearer token /metrics asks for
    "LOG_FORMAT": "text",  # text (as gunicorn and Celery print) or json (one object a line, core/logs.py)
}

# node.toml key -> config key. Sections [plugins] and [calendar] are handled below.
TOML_KEYS = {
    "id": "NODE_ID",
    "name": "NODE_NAME",
    "level": "NODE_LEVEL",
    "parent": "NODE_PARENT",
    "url": "PUBLIC_URL",
    "database_url": "DATABASE_URL",
    "broker_url": "BROKER_URL",
    "task_queue": "TASK_QUEUE",
    "locale": "LOCALE",
    "timezone": "TIMEZONE",
    "heartbeat_seconds": "HEARTBEAT_SECONDS",
    "max_request_bytes": "MAX_CONTENT_LENGTH",
    "log_format": "LOG_FORMAT",
}
CALENDAR_KEYS = {"holidays": "HOLIDAYS", "workdays": "EXTRA_WORKDAYS", "weekend": "WEEKEND"}
SECRET_WORDS = ("secret", "password", "passphrase", "private_key", "token")


def declared_settings() -> dict[str, Setting]:
    """The built-in features' settings, by configuration key."""
    from .plugins import builtin_settings

    found: dict[str, Setting] = {}
    for setting in builtin_settings():
        if setting.key in found:
            raise ConfigError(N_("two built-in features declare the setting %(toml)s", toml=setting.toml))
        found[setting.key] = setting
    return found


def read_node_toml(node_dir: Path) -> dict[str, Any]:
    """Read ``node.toml`` and return config keys; unknown or secret settings are refused."""
    path = Path(node_dir) / NODE_FILE
    if not path.is_file():
        raise NodeDirectoryError(N_("%(node_dir)s is not a node directory: %(node_file)s not found",
                                    node_dir=node_dir, node_file=NODE_FILE))
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(N_("%(path)s is not valid TOML: %(exc)s", path=path, exc=exc)) from None
    except UnicodeDecodeError:
        raise ConfigError(N_("%(path)s is not UTF-8", path=path)) from None
    return toml_to_config(data, source=str(path))


def toml_to_config(data: dict[str, Any], source: str = NODE_FILE) -> dict[str, Any]:
    config: dict[str, Any] = {}
    sections: dict[str, dict[str, Setting]] = {}
    for setting in declared_settings().values():
        sections.setdefault(setting.section, {})[setting.name] = setting
    for key, value in data.items():
        if any(word in key.lower() for word in SECRET_WORDS):
            raise ConfigError(
                N_("secrets do not belong in node.toml: set them in the environment (SHANGLIANG_SECRET_KEY, "
                   "SHANGLIANG_DATABASE_URL) or in the 0600 file secret_key"),
                key,
                source,
            )
        if key in TOML_KEYS:
            config[TOML_KEYS[key]] = value
        elif key == "plugins":
            if not isinstance(value, dict):
                raise ConfigError(N_("must be a table"), "plugins", source)
            for pkey, pvalue in value.items():
                if pkey == "enabled":
                    config["PLUGINS_ENABLED"] = pvalue
                elif isinstance(pvalue, dict):
                    config.setdefault("PLUGIN_CONFIG", {})[pkey] = pvalue
                else:
                    raise ConfigError(
                        N_("expected 'enabled = [...]' or a table [plugins.<name>]"), f"plugins.{pkey}", source
                    )
        elif key == "calendar":
            if not isinstance(value, dict):
                raise ConfigError(N_("must be a table"), "calendar", source)
            for ckey, cvalue in value.items():
                if ckey not in CALENDAR_KEYS:
                    raise ConfigError(
                        N_("unknown setting; known: %(calendar_keys)s",
                           calendar_keys=', '.join(CALENDAR_KEYS)), f"calendar.{ckey}", source
                    )
                config[CALENDAR_KEYS[ckey]] = cvalue
        elif key in sections:
            if not isinstance(value, dict):
                raise ConfigError(N_("must be a table"), key, source)
            for skey, svalue in value.items():
                if any(word in skey.lower() for word in SECRET_WORDS):  # [metrics] token = … is no better
                    raise ConfigError(N_("secrets do not belong in node.toml: set them in the environment (e.g. "
                                         "SHANGLIANG_METRICS_TOKEN)"), f"{key}.{skey}", source)
                if skey not in sections[key]:
                    raise ConfigError(N_("unknown setting; known: %(sections)s",
                                         sections=', '.join(sections[key])), f"{key}.{skey}", source)
                config[sections[key][skey].key] = svalue
        else:
            raise ConfigError(
                N_("unknown setting; known: %(value)s",
                   value=', '.join([*TOML_KEYS, 'plugins', 'calendar', *sections])), key, source
            )
    for url_key in ("DATABASE_URL", "BROKER_URL"):
        url = config.get(url_key)
        if isinstance(url, str) and urlsplit(url).password:
            raise ConfigError(
                N_("a password does not belong in node.toml: set the URL in the environment (SHANGLIANG_%(url_key)s) "
                   "instead", url_key=url_key),
                url_key.lower(),
                source,
            )
    return config


def read_secret_key(node_dir: Path) -> str | None:
    path = Path(node_dir) / SECRET_FILE
    if not path.exists():
        return None
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise ConfigError(N_("%(path)s is readable by others (mode %(mode)s); run: chmod 600 %(path)s", path=path,
                             mode=format(mode, '04o')), "secret_key")
    return path.read_text(encoding="ascii").strip()


def _dates(value: Any, setting: str) -> list[dt.date]:
    if not isinstance(value, list):
        raise ConfigError(N_("must be a list of dates (YYYY-MM-DD)"), setting)
    out = []
    for item in value:
        if isinstance(item, dt.date):
            out.append(item)
            continue
        try:
            out.append(dt.date.fromisoformat(str(item)))
        except ValueError:
            raise ConfigError(N_("%(item)s is not a date (YYYY-MM-DD)", item=repr(str(item)[:40])), setting) from None
    return out


def finalize(config: dict[str, Any]) -> None:
    """Validate settings in place and fill in the values derived from others."""
    node_dir = config.get("NODE_DIR")
    if not config.get("NODE_ID"):
        raise ConfigError(N_("the node id is missing"), "id")
    node_id = divisions.validate_node_id(config["NODE_ID"], "id")
    standard = divisions.is_standard(node_id)

    level = config.get("NODE_LEVEL")
    if level is not None and level not in divisions.LEVELS:
        raise ConfigError(N_("unknown level %(level)s; known: %(levels)s", level=repr(str(level)[:40]),
                             levels=', '.join(divisions.LEVELS)), "level")
    if standard:
        derived = divisions.level_of(node_id)
        if level is not None and level != derived:
            raise ConfigError(N_("level %(level)s contradicts id %(node_id)s, which is a %(derived)s code",
                                 level=repr(level), node_id=repr(node_id), derived=derived), "level")
        config["NODE_LEVEL"] = derived
    elif level is None:
        raise ConfigError(N_("id %(node_id)s is not a standard division code, so its level must be configured",
                             node_id=repr(node_id)), "level")

    parent = config.get("NODE_PARENT")
    if parent is not None:
        parent = divisions.validate_node_id(parent, "parent")
        if standard and divisions.is_standard(parent) and parent != divisions.parent_of(node_id):
            raise ConfigError(N_("parent %(parent)s is not the parent of %(node_id)s", parent=repr(parent),
                                 node_id=repr(node_id)), "parent")
        config["NODE_PARENT"] = parent
    elif standard:
        config["NODE_PARENT"] = divisions.parent_of(node_id)
    elif config["NODE_LEVEL"] != "province":
        raise ConfigError(N_("id %(node_id)s is not a standard division code, so its parent must be configured",
                             node_id=repr(node_id)), "parent")

    name = config.get("NODE_NAME")
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(N_("the node name is missing"), "name")
    url = config.get("PUBLIC_URL")
    parts = urlsplit(url) if isinstance(url, str) else None
    if not parts or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(N_("public URL %(url)s must be an http:// or https:// URL", url=repr(str(url)[:80])), "url")
    config["PUBLIC_URL"] = url.rstrip("/")

    if config.get("LOCALE") not in SUPPORTED_LOCALES:
        raise ConfigError(
            N_("unsupported locale %(value)s; supported: %(supported_locales)s",
               value=repr(str(config.get('LOCALE'))[:20]), supported_locales=', '.join(SUPPORTED_LOCALES)),
            "locale",
        )

    enabled = config.get("PLUGINS_ENABLED") or []
    if isinstance(enabled, str):  # SHANGLIANG_PLUGINS_ENABLED=a,b
        enabled = [name.strip() for name in enabled.split(",") if name.strip()]
    if not isinstance(enabled, list) or not all(isinstance(n, str) for n in enabled):
        raise ConfigError(N_("must be a list of plugin names"), "plugins.enabled")
    config["PLUGINS_ENABLED"] = list(dict.fromkeys(enabled))

    config["HOLIDAYS"] = _dates(config.get("HOLIDAYS") or [], "calendar.holidays")
    config["EXTRA_WORKDAYS"] = _dates(config.get("EXTRA_WORKDAYS") or [], "calendar.workdays")
    weekend = config.get("WEEKEND")
    if not isinstance(weekend, list) or not all(isinstance(d, int) and 1 <= d <= 7 for d in weekend):
        raise ConfigError(N_("must be a list of ISO weekday numbers (1 = Monday … 7 = Sunday)"), "calendar.weekend")

    zone = config.get("TIMEZONE")
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ConfigError(N_("unknown time zone %(zone)s", zone=repr(str(zone)[:60])), "timezone") from None
    limit = config.get("MAX_CONTENT_LENGTH")
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1024 <= limit <= 1024 ** 3:
        raise ConfigError(N_("must be a number of bytes from 1024 to 1073741824, not %(limit)s",
                             limit=repr(str(limit)[:40])),
                          "max_request_bytes")

    if config.get("LOG_FORMAT") not in LOG_FORMATS:
        raise ConfigError(N_("unknown log format %(value)s; known: %(log_formats)s",
                             value=repr(str(config.get('LOG_FORMAT'))[:20]), log_formats=', '.join(LOG_FORMATS)), "log_format")
    token = config.get("METRICS_TOKEN")
    if isinstance(token, int) and not isinstance(token, bool):  # an environment value of digits only
        token = config["METRICS_TOKEN"] = str(token)
    if token is not None and (not isinstance(token, str) or len(token.strip()) < 16):
        raise ConfigError(N_("must be at least 16 characters (e.g. openssl rand -hex 32)"), "SHANGLIANG_METRICS_TOKEN")

    for setting in declared_settings().values():
        value = config.get(setting.key, setting.default)
        problem = setting.check(value) if setting.check else None
        if problem:
            raise ConfigError(problem, setting.toml)
        config[setting.key] = value

    if not config.get("DATABASE_URL"):
        if not node_dir:
            raise ConfigError(N_("no database URL and no node directory to keep a SQLite file in"), "database_url")
        config["DATABASE_URL"] = f"sqlite:///{Path(node_dir).resolve() / 'node.db'}"
    if not config.get("BROKER_URL"):
        if not node_dir:
            raise ConfigError(N_("no broker URL and no node directory to keep the embedded broker in"), "broker_url")
        config["BROKER_URL"] = f"embedded+sqlite:///{Path(node_dir).resolve() / 'broker.sqlite'}"
    if not config.get("TASK_QUEUE"):
        config["TASK_QUEUE"] = f"shangliang.{node_id}"

    if not config.get("SECRET_KEY") and node_dir:
        config["SECRET_KEY"] = read_secret_key(Path(node_dir))
    if not config.get("SECRET_KEY"):
        raise ConfigError(
            N_("no secret key: set SHANGLIANG_SECRET_KEY or keep one in the node directory's secret_key file (mode "
               "0600)"),
            "secret_key",
        )


def build_config(node_path: Path | None, test_config: Mapping[str, Any] | None = None,
                 node_toml: Mapping[str, Any] | None = None) -> Config:
    """Defaults, then node.toml (or ``node_toml`` already read), then ``SHANGLIANG_*``, then test config; validated."""
    config = Config(str(node_path or "."), DEFAULTS)
    config["NODE_DIR"] = str(node_path) if node_path else None
    if node_toml is not None:
        config.update(node_toml)
    elif node_path is not None:
        config.update(read_node_toml(node_path))
    config.from_prefixed_env("SHANGLIANG", loads=_env_value)
    if test_config:
        config.update(test_config)
    finalize(config)
    return config


def _env_value(value: str) -> Any:
    """Environment values: JSON where they parse as JSON (numbers, lists), strings otherwise."""
    try:
        return json.loads(value)
    except ValueError:
        return value


def resolve_node_dir(node_dir: str | os.PathLike | None) -> Path | None:
    if node_dir is None:
        node_dir = os.environ.get("SHANGLIANG_NODE")
    if node_dir is None and Path(NODE_FILE).is_file():
        node_dir = "."
    return Path(node_dir).resolve() if node_dir is not None else None


def is_embedded_broker(url: str) -> bool:
    return url.startswith("embedded+")
