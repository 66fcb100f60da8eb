"""The hooks of 协商民主之家: check the settings at start-up, schedule the quarter's reminder and warning,
add the page, offer the home's consultation form and hold its activities to the home's rules."""

from __future__ import annotations

from celery.schedules import crontab

from shangliang.core.plugins import hookimpl

from . import services, tasks, views


@hookimpl
def node_configured(config, plugin_config):
    return services.check_settings(plugin_config[services.NAME]) or None


@hookimpl
def register_blueprints(app):
    return views.bp


@hookimpl
def beat_schedule(config):
    # 09:00 (the node's time zone) on the first day of each quarter; the warning on the first day of its last month.
    return {
        f"{services.NAME}.quarterly_reminder": {
            "task": tasks.TASK, "schedule": crontab(minute=0, hour=9, day_of_month=1, month_of_year="1,4,7,10")},
        f"{services.NAME}.quarter_warning": {
            "task": tasks.WARN, "schedule": crontab(minute=0, hour=9, day_of_month=1, month_of_year="3,6,9,12")},
    }


@hookimpl
def consultation_forms():
    return [services.FORM]


@hookimpl
def activity_guard(activity, action, fields, config):
    return services.guard(activity, action, fields, config) or None
