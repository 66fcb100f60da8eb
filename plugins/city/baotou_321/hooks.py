"""The hooks of the 321 proposal method: check the settings at start-up, refuse closing a proposal while a
communication, a face-to-face meeting or the publication is missing, the page and ``shangliang baotou-321``."""

from __future__ import annotations

from shangliang.core.plugins import hookimpl

from . import services, views
from .cli import baotou_321


@hookimpl
def node_configured(config, plugin_config):
    return services.check_settings(plugin_config[services.NAME]) or None


@hookimpl
def proposal_guard(proposal, action, fields, config):
    return services.guard(proposal, action, services.settings(config)) or None


@hookimpl
def register_blueprints(app):
    return views.bp


@hookimpl
def register_commands(cli):
    return baotou_321
