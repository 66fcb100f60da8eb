"""The hooks of 领导包抓: check the setting at start-up, tell the leader of an overdue item, offer
``shangliang leaders`` and the page /practices/leader-follow-up/."""

from __future__ import annotations

from shangliang.core.plugins import hookimpl

from . import services
from .cli import leaders


@hookimpl
def node_configured(config, plugin_config):
    return services.check_leaders(config["NODE_ID"], plugin_config[services.NAME]["leaders"]) or None


@hookimpl
def item_overdue(session, item, config):
    services.notify_leaders(session, item, config)


@hookimpl
def register_blueprints(app):
    from .views import bp

    return bp


@hookimpl
def register_commands(cli):
    return leaders
