"""The hooks of 年度协商计划 approval: the steps with the decision's document required, and the guard."""

from __future__ import annotations

from shangliang.core.plugins import hookimpl

from . import services


@hookimpl
def node_configured(config, plugin_config):
    return services.check_settings(plugin_config[services.NAME]) or None


@hookimpl
def plan_approval_steps(config):
    return services.steps(services.settings(config))


@hookimpl
def plan_guard(plan, action, step, fields, config):
    return services.guard(plan, action, step, fields, services.settings(config)) or None
