"""The hooks of 选题-商题-定题: the three steps, and the guard on the joint meeting's attendance."""

from __future__ import annotations

from shangliang.core.plugins import hookimpl

from . import services


@hookimpl
def node_configured(config, plugin_config):
    return services.check_settings(plugin_config[services.NAME], plugin_config) or None


@hookimpl
def plan_approval_steps(config):
    return services.steps(services.settings(config))


@hookimpl
def plan_guard(plan, action, step, fields, config):
    return services.guard(action, step, fields, services.settings(config)) or None
