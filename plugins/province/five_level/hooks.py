"""The hooks of 五级联动: check the settings and the node's place at start-up, add the command and the page."""

from __future__ import annotations

from shangliang.core.plugins import hookimpl

from . import services


@hookimpl
def node_configured(config, plugin_config):
    problems = services.check_settings(plugin_config[services.NAME])
    return (problems + services.check_node(config)) or None


@hookimpl
def register_commands(cli):
    from .cli import five_level

    return five_level


@hookimpl
def register_blueprints(app):
    from . import views

    return views.bp
