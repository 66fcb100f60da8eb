"""The hooks of 季协商座谈会: check the settings at start-up, schedule the quarter's reminder and warning,
hold forum activities to a planned topic and a special committee's research, check the plan's quarters."""

from __future__ import annotations

from celery.schedules import crontab

from shangliang.core.db import get_session
from shangliang.core.plugins import hookimpl

from . import services, tasks


@hookimpl
def node_configured(config, plugin_config):
    return services.check_settings(plugin_config[services.NAME]) or None


@hookimpl
def beat_schedule(config):
    # 09:00 (the node's time zone) on the first day of each quarter; the warning on the first day of its last month.
    return {
        f"{services.NAME}.remind": {
            "task": tasks.TASK, "schedule": crontab(minute=0, hour=9, day_of_month=1, month_of_year="1,4,7,10")},
        f"{services.NAME}.warn": {
            "task": tasks.WARN, "schedule": crontab(minute=0, hour=9, day_of_month=1, month_of_year="3,6,9,12")},
    }


@hookimpl
def activity_guard(activity, action, fields, config):
    # The change runs in the app context's session (pages, API, commands, tasks): the guard reads in it.
    return services.guard(get_session, activity, action, config) or None


@hookimpl
def plan_checks(plan, config):
    return services.plan_checks(plan, config)
