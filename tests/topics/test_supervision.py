"""Supervision of due dates (督办): due dates on the node's working calendar, overdue topics marked and notified."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from shangliang.core.app import create_app
from shangliang.core.db import get_session, transaction
from shangliang.core.errors import ConfigError, InputError
from shangliang.core.models import Notification
from shangliang.core.plugins import get_plugin_manager
from shangliang.core.topics import services
from shangliang.core.topics.models import Topic
from shangliang.core.topics.supervision import due_in_working_days, mark_overdue, parse_due
from shangliang.core.topics.tasks import mark_overdue_task

SHANGHAI = ZoneInfo("Asia/Shanghai")
# National Day 2026 as the test_calendar example: Oct 1-7 off, Sunday Sep 27 and Saturday Oct 10 worked instead.
HOLIDAYS = "holidays = [" + ", ".join(f'"2026-10-0{d}"' for d in range(1, 8)) + "]"
WORKDAYS = 'workdays = ["2026-09-27", "2026-10-10"]'
OTHER_NODE = "620302001"


def at(year, month, day, hour=0, minute=0, second=0, ms=0, zone=SHANGHAI) -> int:
    """Epoch ms of a wall-clock time in ``zone`` (Asia/Shanghai unless told)."""
    moment = dt.datetime(year, month, day, hour, minute, second, ms * 1000, tzinfo=zone)
    return (moment - dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)) // dt.timedelta(milliseconds=1)


def end_of(year, month, day) -> int:
    return at(year, month, day, 23, 59, 59, 999)


WED_SEP_30 = at(2026, 9, 30, 10, 0)  # the last working day before the holiday


@pytest.fixture
def county(make_node):
    """A county node whose node.toml [calendar] has the National Day holiday and its swapped workdays."""
    node_dir = make_node()
    toml = node_dir / "node.toml"
    text = toml.read_text(encoding="utf-8")
    assert "holidays = []" in text and "workdays = []" in text
    toml.write_text(text.replace("holidays = []", HOLIDAYS).replace("workdays = []", WORKDAYS), encoding="utf-8")
    app = create_app(node_dir, test_config={"WTF_CSRF_ENABLED": False})
    yield app
    app.extensions["shangliang.db"].engine.dispose()


# -- parse_due: dates and working days on the node's calendar ---------------------------------------------


def test_the_node_calendar_is_read_from_node_toml(county):
    assert dt.date(2026, 10, 5) in county.config["HOLIDAYS"]
    assert dt.date(2026, 10, 10) in county.config["EXTRA_WORKDAYS"]


def test_a_date_is_due_at_the_end_of_that_day_in_the_node_time_zone(county):
    due = parse_due("2026-10-09", county.config, now_ms=WED_SEP_30)
    assert due == end_of(2026, 10, 9)
    assert dt.datetime.fromtimestamp(due / 1000, dt.timezone.utc).isoformat() == "2026-10-09T15:59:59.999000+00:00"
    assert parse_due("2026-09-30", county.config, now_ms=WED_SEP_30) == end_of(2026, 9, 30)  # today is not past


def test_working_days_skip_the_weekend(county):
    friday = at(2026, 11, 20, 16, 0)
    assert parse_due("+1", county.config, now_ms=friday) == end_of(2026, 11, 23)  # Monday
    assert parse_due("5wd", county.config, now_ms=friday) == end_of(2026, 11, 27)


def test_working_days_skip_holidays_and_count_swapped_workdays(county):
    config = county.config
    assert parse_due("+1", config, now_ms=WED_SEP_30) == end_of(2026, 10, 8)  # Oct 1-7 off
    assert parse_due("2wd", config, now_ms=WED_SEP_30) == end_of(2026, 10, 9)
    assert parse_due("+3", config, now_ms=WED_SEP_30) == end_of(2026, 10, 10)  # a Saturday worked instead
    assert parse_due("+4", config, now_ms=WED_SEP_30) == end_of(2026, 10, 12)  # Sunday Oct 11 is off
    friday = at(2026, 9, 25, 9, 0)
    assert parse_due("+1", config, now_ms=friday) == end_of(2026, 9, 27)  # Sunday Sep 27 is worked
    assert due_in_working_days(config, 3, now_ms=WED_SEP_30) == parse_due("+3", config, now_ms=WED_SEP_30)


def test_a_node_without_holidays_counts_only_weekends(app):
    assert parse_due("+1", app.config, now_ms=WED_SEP_30) == end_of(2026, 10, 1)


def test_full_width_input_and_spaces_are_read(county):
    config = county.config
    assert parse_due("＋３", config, now_ms=WED_SEP_30) == end_of(2026, 10, 10)
    assert parse_due(" 3 WD ", config, now_ms=WED_SEP_30) == end_of(2026, 10, 10)
    assert parse_due("２０２６－１０－０９", config, now_ms=WED_SEP_30) == end_of(2026, 10, 9)
    assert parse_due("+365", config, now_ms=WED_SEP_30) > end_of(2027, 9, 30)


def test_today_is_the_date_in_the_node_time_zone(county):
    # 16:30 UTC on Sep 30 is already 00:30 on Oct 1 in Shanghai: Sep 30 has passed there, not in UTC.
    late = at(2026, 9, 30, 16, 30, zone=dt.timezone.utc)
    with pytest.raises(InputError, match="has passed"):
        parse_due("2026-09-30", county.config, now_ms=late)
    utc = {**county.config, "TIMEZONE": "UTC"}
    assert parse_due("2026-09-30", utc, now_ms=late) == at(2026, 9, 30, 23, 59, 59, 999, zone=dt.timezone.utc)
    # From Thursday Oct 1 (a holiday) in Shanghai, the first working day is Oct 8.
    assert parse_due("+1", county.config, now_ms=late) == end_of(2026, 10, 8)


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "empty"),
        ("   ", "empty"),
        ("tomorrow", "not understood"),
        ("2026/10/09", "not understood"),
        ("2026-10-9", "not understood"),
        ("09-10-2026", "not understood"),
        ("2026-13-01", "not a calendar date"),
        ("2026-02-30", "not a calendar date"),
        ("+1.5", "not understood"),
        ("-3", "not understood"),
        ("+", "not understood"),
        ("wd", "not understood"),
        ("+0", "at least 1"),
        ("0wd", "at least 1"),
        ("+366", "at most 365"),
        ("100000wd", "at most 365"),
        ("2026-09-29", "has passed"),
        ("2020-01-01", "has passed"),
    ],
)
def test_malformed_or_past_due_dates_are_refused(county, text, message):
    with pytest.raises(InputError, match=message):
        parse_due(text, county.config, now_ms=WED_SEP_30)


def test_the_helper_refuses_out_of_range_and_non_integer_days(county):
    for days in (0, -1, 366):
        with pytest.raises(InputError):
            due_in_working_days(county.config, days, now_ms=WED_SEP_30)
    with pytest.raises(InputError):
        due_in_working_days(county.config, True, now_ms=WED_SEP_30)
    with pytest.raises(InputError):
        parse_due(None, county.config, now_ms=WED_SEP_30)
    assert due_in_working_days(county.config, 365, now_ms=WED_SEP_30) > WED_SEP_30


# -- mark_overdue on a frozen clock ------------------------------------------------------------------------


def _topic(session, config, title, due_ms, holder=None, stage=None) -> Topic:
    from shangliang.core.context import node_context
    from shangliang.core.topics.schemas import TopicIn

    topic, _ = services.raise_topic(session, node_context(), TopicIn(
        title=title, category="交通", areas=["620302"], raised_by_kind="public", raised_by_name="村民"), "test")
    topic.due_ms = due_ms
    if holder is not None:
        topic.holder = holder
    if stage is not None:
        topic.stage = stage
        if stage == "closed":
            topic.closed_ms = WED_SEP_30
    return topic


def _run(app, now_ms):
    with app.app_context():
        with transaction(actor="test") as session:
            return [t.uid for t in mark_overdue(session, app.config, now_ms=now_ms)]


def _state(app, uid):
    with app.app_context():
        session = get_session()
        topic = session.execute(select(Topic).where(Topic.uid == uid)).scalar_one()
        return topic.overdue, [(e.action, e.note, e.actor, e.node, e.at_ms) for e in topic.events
                               if e.action.startswith("overdue")]


def check_notifications(app, expected_titles):
    with app.app_context():
        rows = get_session().execute(select(Notification).where(Notification.source == "topics")
                                     .order_by(Notification.id)).scalars().all()
        assert [r.subject for r in rows] == [f"议题逾期:{t}" for t in expected_titles]
        assert all(r.recipient_role == "office" and r.recipient_user_id is None for r in rows)
        return rows


def test_overdue_topics_are_marked_once_and_cleared_when_closed_or_due_later(county):
    config = county.config
    with county.app_context():
        with transaction(actor="test") as session:
            before = _topic(session, config, "节前到期", parse_due("2026-09-30", config, now_ms=WED_SEP_30))
            after = _topic(session, config, "节后到期", parse_due("2wd", config, now_ms=WED_SEP_30))  # Oct 9
            closed = _topic(session, config, "已办结", end_of(2026, 9, 30), stage="closed")
            elsewhere = _topic(session, config, "已下放", end_of(2026, 9, 30), holder=OTHER_NODE)
            undated = _topic(session, config, "无期限", None)
            uids = {t.title: t.uid for t in (before, after, closed, elsewhere, undated)}

    # Not yet: the last moment of Sep 30 is still within the due date.
    assert _run(county, end_of(2026, 9, 30)) == []
    # During the holiday, and on Thursday Oct 8, the first working day after it: only the one due before it.
    assert _run(county, at(2026, 10, 1, 0, 0)) == [uids["节前到期"]]
    assert _run(county, at(2026, 10, 8, 9, 0)) == []  # a second run marks nothing
    assert _run(county, end_of(2026, 10, 9)) == []

    overdue, events = _state(county, uids["节前到期"])
    assert overdue is True
    assert events == [("overdue", "due 2026-09-30 passed", "system", "620302", at(2026, 10, 1, 0, 0))]
    for title in ("节后到期", "已办结", "已下放", "无期限"):
        assert _state(county, uids[title]) == (False, []), title
    rows = check_notifications(county, ["节前到期"])
    assert uids["节前到期"] in rows[0].body and "2026-09-30" in rows[0].body

    # The day after Oct 9 the second one is overdue too; the notification rows follow.
    assert _run(county, at(2026, 10, 10, 0, 0)) == [uids["节后到期"]]
    check_notifications(county, ["节前到期", "节后到期"])

    # A later due date clears the flag, with an event; so does closing the topic.
    now = at(2026, 10, 12, 9, 0)
    with county.app_context():
        with transaction(actor="test") as session:
            moved = services.get_topic(session, uids["节前到期"])
            moved.due_ms = parse_due("+3", config, now_ms=now)
            done = services.get_topic(session, uids["节后到期"])
            done.stage, done.closed_ms = "closed", now
    assert _run(county, now) == []
    overdue, events = _state(county, uids["节前到期"])
    assert overdue is False
    assert events[-1][:3] == ("overdue_cleared", "due 2026-10-15 not passed", "system")
    overdue, events = _state(county, uids["节后到期"])
    assert overdue is False and events[-1][:2] == ("overdue_cleared", "closed")

    # Nothing more happens on a further run; no new notification is written for clearing.
    assert _run(county, now) == []
    assert [e[0] for e in _state(county, uids["节前到期"])[1]] == ["overdue", "overdue_cleared"]
    check_notifications(county, ["节前到期", "节后到期"])
    # When the moved date passes as well, the topic is marked and notified again.
    assert _run(county, at(2026, 10, 16, 0, 0)) == [uids["节前到期"]]
    check_notifications(county, ["节前到期", "节后到期", "节前到期"])


def test_an_overdue_topic_that_leaves_the_node_is_cleared(county):
    """Once another node holds it, the due date is that node's to keep: the flag here is cleared."""
    config = county.config
    with county.app_context():
        with transaction(actor="test") as session:
            uid = _topic(session, config, "已上交", end_of(2026, 9, 30)).uid
    assert _run(county, at(2026, 10, 1, 0, 0)) == [uid]
    with county.app_context():
        with transaction(actor="test") as session:
            services.get_topic(session, uid).holder = "6203"
    assert _run(county, at(2026, 10, 2, 0, 0)) == []
    overdue, events = _state(county, uid)
    assert overdue is False and events[-1][:2] == ("overdue_cleared", "held by 6203")


def test_marking_is_audited_and_rolls_back_with_the_transaction(county):
    config = county.config
    with county.app_context():
        with transaction(actor="test") as session:
            uid = _topic(session, config, "回滚", end_of(2026, 9, 30)).uid
        with pytest.raises(RuntimeError):
            with transaction(actor="test") as session:
                assert len(mark_overdue(session, config, now_ms=at(2026, 10, 8, 9, 0))) == 1
                raise RuntimeError("abandon")
    assert _state(county, uid) == (False, [])
    check_notifications(county, [])
    assert _run(county, at(2026, 10, 8, 9, 0)) == [uid]


def test_an_english_node_writes_english_notifications(make_node):
    app = create_app(make_node(), test_config={"LOCALE": "en"})
    try:
        with app.app_context():
            with transaction(actor="test") as session:
                _topic(session, app.config, "Road repair", end_of(2026, 9, 30))
                mark_overdue(session, app.config, now_ms=at(2026, 10, 8))
            subjects = get_session().execute(select(Notification.subject)).scalars().all()
        assert subjects == ["Topic overdue: Road repair"]
    finally:
        app.extensions["shangliang.db"].engine.dispose()


# -- the periodic task and its schedule ---------------------------------------------------------------------


def test_the_task_marks_topics_past_due_now_and_returns_the_count(county):
    import time

    now = int(time.time() * 1000)
    with county.app_context():
        with transaction(actor="test") as session:
            uid = _topic(session, county.config, "已过期", now - 60_000).uid
            _topic(session, county.config, "未到期", now + 86_400_000)
    assert "shangliang.topics.mark_overdue" in county.extensions["celery"].tasks
    assert mark_overdue_task.apply().get() == 1
    assert mark_overdue_task.apply().get() == 0
    overdue, events = _state(county, uid)
    assert overdue is True and [(e[0], e[2]) for e in events] == [("overdue", "system")]


def test_the_beat_schedule_runs_the_task_every_five_minutes_by_default(county):
    entries = {}
    for found in get_plugin_manager(county).hook.beat_schedule(config=county.config):
        entries.update(found or {})
    assert entries["topics.mark_overdue"] == {"task": "shangliang.topics.mark_overdue", "schedule": 300.0}
    assert county.extensions["celery"].conf.beat_schedule["topics.mark_overdue"]["schedule"] == 300.0


def test_the_interval_can_be_set_and_a_bad_one_is_refused(node_dir, monkeypatch):
    app = create_app(node_dir, test_config={"TOPICS_OVERDUE_SECONDS": 60})
    assert app.extensions["celery"].conf.beat_schedule["topics.mark_overdue"]["schedule"] == 60.0
    app.extensions["shangliang.db"].engine.dispose()
    monkeypatch.setenv("SHANGLIANG_TOPICS_OVERDUE_SECONDS", "90")
    app = create_app(node_dir)
    assert app.extensions["celery"].conf.beat_schedule["topics.mark_overdue"]["schedule"] == 90.0
    app.extensions["shangliang.db"].engine.dispose()
    for bad in (0, "often", True):
        with pytest.raises(ConfigError, match="topics.overdue_seconds"):
            create_app(node_dir, test_config={"TOPICS_OVERDUE_SECONDS": bad})


def test_an_unknown_time_zone_is_refused_at_start(node_dir):
    with pytest.raises(ConfigError, match="unknown time zone"):
        create_app(node_dir, test_config={"TIMEZONE": "Mars/Olympus"})
