"""The hooks of 六步议事: check the settings at start-up, guard each step forward of a topic, offer
``shangliang six-step``.

``topic_transition_guard`` is given the topic and the two stages only: the node's settings and the session of
the unit of work that asks (the activities linked to the topic) are the current app context's."""

from __future__ import annotations

import flask

from shangliang.core.plugins import hookimpl

from . import services
from .cli import six_step


def _context():
    """The session and this practice's settings of the current app (None and the defaults outside one)."""
    if not flask.has_app_context():
        return None, services.CONFIG_DEFAULTS
    from shangliang.core.db import get_session

    return get_session(), services.settings(flask.current_app.config)


@hookimpl
def node_configured(config, plugin_config):
    return services.check_settings(plugin_config[services.NAME]) or None


@hookimpl
def topic_transition_guard(topic, from_stage, to_stage):
    session, settings = _context()
    return services.guard(session, topic, from_stage, to_stage, settings) or None


@hookimpl
def register_commands(cli):
    return six_step
