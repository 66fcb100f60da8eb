"""The hooks of the democratic appraisal practice: check the settings at start-up, propose last year's key topics
as a new appraisal's subjects, and ``shangliang democratic-appraisal``."""

from __future__ import annotations

from shangliang.core.plugins import hookimpl

from . import services
from .cli import democratic_appraisal


@hookimpl
def node_configured(config, plugin_config):
    return services.check_settings(plugin_config[services.NAME]) or None


@hookimpl
def appraisal_subject_candidates(session, node, appraisal):
    return services.candidates(session, node, appraisal["year"], appraisal["kind"],
                               services.settings(node.config)) or None


@hookimpl
def register_commands(cli):
    return democratic_appraisal
