"""The hooks of 协商民主之家: check the homes at start-up, schedule the quarter's reminder, add the page."""

from __future__ import annotations

from celery.schedules import crontab

from shangliang.core.plugins import hookimpl

from . import services, tasks, views


@hookimpl
def node_configured(config, plugin_config):
    return services.check_homes(plugin_config[services.NAME]["homes"]) or None


@hookimpl
def register_blueprints(app):
    return views.bp


@hookimpl
def beat_schedule(config):
    # 09:00 (the node's time zone) on the first day of each quarter.
    return {f"{services.NAME}.quarterly_reminder": {
        "task": tasks.TASK, "schedule": crontab(minute=0, hour=9, day_of_month=1, month_of_year="1,4,7,10")}}
