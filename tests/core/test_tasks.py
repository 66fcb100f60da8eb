"""Celery on a node: tasks run in the app context through the node's real broker; beat schedules come from plugins."""

import threading
import time

import pytest
from celery.contrib.testing.worker import start_worker
from celery.schedules import crontab

from shangliang.core.app import create_app
from shangliang.core.db import get_session, transaction
from shangliang.core.errors import ConfigError
from shangliang.core.models import Notification
from shangliang.core.notifications import notify
from shangliang.core.plugins import hookimpl


class SmsChannel:
    """A delivery channel as a plugin would add one."""

    def __init__(self):
        self.delivered = []
        self.done = threading.Event()

    @hookimpl
    def deliver_notification(self, notification):
        self.delivered.append((notification["subject"], [r["username"] for r in notification["recipients"]]))
        self.done.set()
        return "sms"


@pytest.fixture
def sms_app(node_dir, runner):
    from ..conftest import invoke

    assert invoke(runner, node_dir, "users", "add", "wang", "--role", "office", "--no-password").exit_code == 0
    channel = SmsChannel()
    app = create_app(node_dir, plugins=[channel])
    yield app, channel
    app.extensions["shangliang.db"].engine.dispose()


def test_a_worker_delivers_a_notification_through_every_channel(sms_app):
    app, channel = sms_app
    celery_app = app.extensions["celery"]
    with start_worker(celery_app, pool="threads", concurrency=1, perform_ping_check=False, shutdown_timeout=10):
        with app.app_context():
            with transaction(actor="t") as session:
                notification_id = notify(session, "季度协商提醒", "请安排本季度协商", role="office").id
            assert channel.done.wait(20), "the worker did not deliver the notification"
            deadline = time.time() + 10
            while time.time() < deadline:
                get_session().expire_all()
                stored = get_session().get(Notification, notification_id)
                if stored.delivered_at is not None:
                    break
                time.sleep(0.05)
    assert channel.delivered == [("季度协商提醒", ["wang"])]
    assert stored.delivered_at is not None
    assert set(stored.channels.split(",")) == {"sms", "inbox"}


def test_no_task_is_sent_when_the_transaction_rolls_back(sms_app):
    app, channel = sms_app
    celery_app = app.extensions["celery"]
    with app.app_context():
        with pytest.raises(RuntimeError):
            with transaction(actor="t") as session:
                notify(session, "作废", role="office")
                raise RuntimeError("abandon")
    with start_worker(celery_app, pool="threads", concurrency=1, perform_ping_check=False, shutdown_timeout=10):
        assert not channel.done.wait(1.5)
    with app.app_context():
        assert get_session().query(Notification).count() == 0


def test_notification_needs_exactly_one_recipient_kind(app):
    from shangliang.core.errors import InputError

    with app.app_context(), pytest.raises(InputError):
        with transaction() as session:
            notify(session, "x", role="office", user_id=1)


class Reminder:
    @hookimpl
    def beat_schedule(self, config):
        return {"test.reminder": {"task": "shangliang.core.heartbeat", "schedule": crontab(minute=0, hour=9)}}


class Clash:
    @hookimpl
    def beat_schedule(self, config):
        return {"core.heartbeat": {"task": "x", "schedule": 5.0}}


def test_beat_schedule_merges_core_and_plugin_entries(node_dir):
    app = create_app(node_dir, plugins=[Reminder()])
    schedule = app.extensions["celery"].conf.beat_schedule
    assert {"core.heartbeat", "core.verify_audit", "test.reminder"} <= set(schedule)
    assert schedule["core.heartbeat"]["schedule"] == 30.0


def test_two_entries_with_one_name_are_refused(node_dir):
    with pytest.raises(ConfigError, match="core.heartbeat"):
        create_app(node_dir, plugins=[Clash()])


def test_a_rehearsed_unit_of_work_stores_nothing_and_runs_no_after_commit_callback(sms_app):
    from shangliang.core.db import after_commit, rehearsal

    app, _channel = sms_app
    ran = []
    with app.app_context():
        with rehearsal() as counter:
            with transaction(actor="t") as session:
                notify(session, "演练", role="office")
                after_commit(session, lambda: ran.append("after"))
        assert counter == [1] and ran == []
        assert get_session().query(Notification).count() == 0
        with transaction(actor="t") as session:  # outside the rehearsal, the same unit of work commits
            notify(session, "正式", role="office")
            after_commit(session, lambda: ran.append("after"))
        assert ran == ["after"] and get_session().query(Notification).count() == 1
