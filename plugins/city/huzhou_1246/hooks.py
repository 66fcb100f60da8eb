"""The hooks of 1246+X: the face-to-face form, and the plan's yearly numbers as blocking checks."""

from __future__ import annotations

from shangliang.core.plugins import hookimpl

from . import services


@hookimpl
def node_configured(config, plugin_config):
    return services.check_settings(plugin_config[services.NAME]) or None


@hookimpl
def consultation_forms():
    return [services.FORM]


@hookimpl
def plan_checks(plan, config):
    return services.checks(plan["items"], services.settings(config))
