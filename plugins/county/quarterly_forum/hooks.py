"""The hooks of 季协商座谈会: check the setting at start-up, schedule the quarter's reminder."""

from __future__ import annotations

from celery.schedules import crontab

from shangliang.core.plugins import hookimpl

from . import services, tasks


@hookimpl
def node_configured(config, plugin_config):
    return services.check_lead_days(plugin_config[services.NAME]["research_lead_days"]) or None


@hookimpl
def beat_schedule(config):
    # 09:00 (the node's time zone) on the first day of each quarter.
    return {f"{services.NAME}.remind": {
        "task": tasks.TASK, "schedule": crontab(minute=0, hour=9, day_of_month=1, month_of_year="1,4,7,10")}}
