"""The hooks of 委员工作站: check the settings at start-up, offer ``shangliang station``, add the page."""

from __future__ import annotations

from shangliang.core.plugins import hookimpl

from . import services, views
from .cli import station


@hookimpl
def node_configured(config, plugin_config):
    return services.check_settings(plugin_config[services.NAME]) or None


@hookimpl
def register_commands(cli):
    return station


@hookimpl
def register_blueprints(app):
    return views.bp
