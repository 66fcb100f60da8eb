"""The hooks of 领导包抓: check the setting at start-up, offer ``shangliang leaders``."""

from __future__ import annotations

from shangliang.core.plugins import hookimpl

from . import services
from .cli import leaders


@hookimpl
def node_configured(config, plugin_config):
    return services.check_leaders(config["NODE_ID"], plugin_config[services.NAME]["leaders"]) or None


@hookimpl
def register_commands(cli):
    return leaders
