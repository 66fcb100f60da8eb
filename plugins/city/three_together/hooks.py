"""The hooks of 三个一起: the guards on plan items and activities, the report page and command."""

from __future__ import annotations

from shangliang.core.plugins import hookimpl

from . import services, views
from .cli import together


@hookimpl
def node_configured(config, plugin_config):
    return services.check_settings(plugin_config[services.NAME]) or None


@hookimpl
def plan_guard(plan, action, step, fields, config):
    return services.plan_guard(action, fields, services.settings(config)) or None


@hookimpl
def activity_guard(activity, action, fields, config):
    return services.activity_guard(activity, action, services.settings(config)) or None


@hookimpl
def register_blueprints(app):
    return views.bp


@hookimpl
def register_commands(cli):
    return together
