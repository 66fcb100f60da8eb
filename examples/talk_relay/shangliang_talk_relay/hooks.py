"""The hooks of the 民情恳谈 relay, thin: they call services."""

from __future__ import annotations

from shangliang.core.plugins import hookimpl

from . import services


@hookimpl
def node_configured(config, plugin_config):
    return services.check_settings(plugin_config[services.NAME]) or None


@hookimpl
def federation_kinds():
    return [services.TALK]


@hookimpl
def federation_message_accepted(session, envelope, transfer, node):
    if envelope["kind"] == services.KIND:
        services.accept(session, node, envelope, transfer)


@hookimpl
def register_commands(cli):
    from .cli import talk_relay

    return talk_relay
