"""The hooks of 五个一: check the settings at start-up, and give the yearly assessment its five rules."""

from __future__ import annotations

from shangliang.core.plugins import hookimpl

from . import services


@hookimpl
def node_configured(config, plugin_config):
    return services.check_settings(plugin_config[services.NAME]) or None


@hookimpl
def assessment_rules(config):
    return services.rules(services.settings(config))
