"""Built-in periodic tasks: the worker heartbeat and the nightly audit-chain check."""

from __future__ import annotations

from celery.schedules import crontab
from shangliang.core.i18n import N_

from ..plugins import hookimpl


@hookimpl
def beat_schedule(config):
    return {
        "core.heartbeat": {"task": "shangliang.core.heartbeat", "schedule": float(config["HEARTBEAT_SECONDS"])},
        "core.verify_audit": {"task": "shangliang.core.verify_audit", "schedule": crontab(hour=2, minute=17)},
    }

#: The plugin's line on the plugins page, in the page's language.
SUMMARY = N_("Built-in periodic tasks: the worker heartbeat and the nightly audit-chain check.")
