"""The duty rules at the service: a record built from what the node knows (attendance and speeches from
activities, proposals as proposer or co-signer, items recorded by hand) in date order; a hand item refused
without evidence (or with a bad date, kind, member) storing nothing; the assessment by a plugin's rules, with a
rule that raises reported as a rule failure; months left; reminders to members behind."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import select

from shangliang.core.context import node_context
from shangliang.core.db import transaction
from shangliang.core.duty import services
from shangliang.core.duty.errors import MissingEvidence, NotAllowed
from shangliang.core.duty.rules import Outcome, Rule, count_rule
from shangliang.core.errors import InputError, NotFound
from shangliang.core.plugins import hookimpl

from .conftest import JUNE, YEAR, duty_rows, plenary_and_speech, proposal, read, run


def add(app, member="J001", **fields):
    values = {"kind": "good_deed", "title": "捐助学校", "date": f"{YEAR}-03-05", "evidence_text": "受助学校的感谢信"}
    values.update(fields)
    return run(app, lambda s, n: services.add_item(s, n, member, actor="test", **values).as_dict())


def test_the_record_joins_what_the_node_knows_in_date_order(app):
    plenary_and_speech(app)
    proposal(app, role="lead", status="filed")
    proposal(app, role="cosigner", status="not_filed")
    add(app, kind="training", title="履职培训", date=f"{YEAR}-02-01")
    rec = read(app, lambda s, n: services.record(s, n, "J001", YEAR))
    assert rec["member"]["name"] == "李强"
    kinds = [i["kind"] for i in rec["items"]]
    assert kinds[0] == "training"  # February first
    assert rec["counts"] == {"attendance": 1, "proposal": 2, "speech": 1, "training": 1}
    attendance = next(i for i in rec["items"] if i["kind"] == "attendance")
    assert attendance["form"] == "plenary" and attendance["source"] == "activities"
    roles = sorted((i["role"], i["filed"]) for i in rec["items"] if i["kind"] == "proposal")
    assert roles == [("cosigner", False), ("lead", True)]
    assert [i["date"] for i in rec["items"]] == sorted(i["date"] for i in rec["items"])
    # another year and another member see none of it
    assert read(app, lambda s, n: services.record(s, n, "J001", YEAR - 1))["items"] == []
    assert read(app, lambda s, n: services.record(s, n, "J002", YEAR))["items"] == []


def test_a_hand_item_is_kept_with_its_evidence_text_or_file(app):
    item = add(app)
    assert item["evidence"]["text"] == "受助学校的感谢信" and item["year"] == YEAR
    filed = add(app, evidence_text=None, file_name="C:\\docs\\照片.jpg", file_type="image/jpeg", file_data=b"\xff\xd8jpg")
    assert filed["evidence"]["file"] == "照片.jpg" and filed["evidence"]["size"] == 5
    assert duty_rows(app) == 2


@pytest.mark.parametrize("fields, error, field", [
    ({"evidence_text": None}, MissingEvidence, "evidence"),
    ({"evidence_text": "   "}, MissingEvidence, "evidence"),
    ({"evidence_text": None, "file_name": "x.pdf", "file_data": b""}, MissingEvidence, "evidence"),
    ({"date": "2026-02-30"}, InputError, "date"),
    ({"date": "2026/03/05"}, InputError, "date"),
    ({"kind": "好事"}, InputError, "kind"),
    ({"title": ""}, InputError, "title"),
    ({"title": "x" * 301}, InputError, "title"),
    ({"file_name": "big.bin", "file_data": b"0" * (services.MAX_FILE + 1)}, InputError, "evidence_file"),
])
def test_bad_hand_items_are_refused_by_name_and_nothing_is_stored(app, fields, error, field):
    with pytest.raises(error) as caught:
        add(app, **fields)
    assert caught.value.field == field
    assert duty_rows(app) == 0


def test_an_unknown_member_is_not_found_and_nothing_is_stored(app):
    with pytest.raises(NotFound):
        add(app, member="J999")
    with pytest.raises(InputError):
        read(app, lambda s, n: services.record(s, n, "J001", 1800))
    assert duty_rows(app) == 0


def test_only_hand_items_are_removed_here(app):
    item = add(app)
    run(app, lambda s, n: services.remove_item(s, item["id"]))
    assert duty_rows(app) == 0
    with pytest.raises(NotFound):
        run(app, lambda s, n: services.remove_item(s, item["id"]))


def test_a_member_reads_only_their_own_record(app):
    from shangliang.core.users.models import User

    def as_user(name, ref):
        def work(s, n):
            user = s.execute(select(User).where(User.username == name)).scalar_one()
            return services.member_record(s, n, ref, YEAR, user)
        return read(app, work)

    assert as_user("li", "J001")["member"]["member_no"] == "J001"
    assert as_user("wang", "J002")["member"]["member_no"] == "J002"
    with pytest.raises(NotAllowed):
        as_user("li", "J002")


class Rules:
    """A practice with two rules: one proposal, and one that raises for 王芳 only."""

    @hookimpl
    def assessment_rules(self, config):
        def fragile(record, history):
            if record["member"]["name"] == "王芳":
                raise KeyError("form")
            return Outcome(True, "fine")

        return [count_rule("t.proposal", "one proposal", ["proposal"], 1, "test"), Rule("t.fragile", "fragile", fragile)]


@pytest.fixture
def rules(app):
    with app.app_context():
        pm = node_context().pm
        plugin = Rules()
        pm.register(plugin)
        yield plugin
        pm.unregister(plugin)


def test_no_rule_by_default_no_member_is_assessed(app):
    table = read(app, lambda s, n: services.assessment(s, n, YEAR))
    assert table["rules"] == [] and {r["standing"] for r in table["members"]} == {"no_rules"}


def test_the_assessment_applies_the_rules_and_reports_a_rule_that_raises(app, rules):
    proposal(app, "J001")
    table = read(app, lambda s, n: services.assessment(s, n, YEAR))
    by_name = {r["member"]["name"]: r for r in table["members"]}
    assert [r["rule"] for r in table["rules"]] == ["t.proposal", "t.fragile"]
    assert by_name["李强"]["standing"] == "met" and by_name["李强"]["missing"] == []
    assert by_name["张伟"]["standing"] == "behind"
    assert by_name["张伟"]["missing"] == ["1 more proposal needed (0 of 1)"]
    fang = by_name["王芳"]
    assert fang["standing"] == "behind" and fang["failures"] == ["t.fragile"]
    failed = next(o for o in fang["outcomes"] if o["rule"] == "t.fragile")
    assert failed["failed"] and failed["reason"].startswith("rule failure: KeyError")
    assert table["counts"] == {"met": 1, "behind": 2}


def test_months_left_follow_the_nodes_clock(app):
    with app.app_context():
        node = node_context()
        march = dataclasses.replace(node, clock=lambda: JUNE - 80 * 86_400_000)  # 2026-03-13
        assert services.months_left(march, YEAR) == 9
        assert services.months_left(march, YEAR + 1) == 12
        assert services.months_left(march, YEAR - 1) == 0


def test_reminders_go_to_members_behind_with_an_account_and_the_office(app, rules):
    from shangliang.core.models import Notification

    proposal(app, "J001")
    with app.app_context():
        node = dataclasses.replace(node_context(), clock=lambda: JUNE)
        with transaction("test") as session:
            done = services.remind(session, node, YEAR)
        assert done["reminded"] == ["王芳"] and done["without_account"] == ["张伟"]
        from shangliang.core.db import get_session

        notes = get_session().execute(select(Notification).where(Notification.source == "duty")).scalars().all()
        assert sorted((n.recipient_role or "user") for n in notes) == ["office", "user"]
        to_fang = next(n for n in notes if n.recipient_user_id is not None)
        assert "rule failure" in to_fang.body and "6 month(s) left" in to_fang.body


def test_cancelled_activities_hidden_opinions_and_absence_are_not_in_the_record(app):
    from shangliang.core.activities.models import Activity, Invitation, Opinion

    plenary_and_speech(app)

    def change(session, node):
        session.execute(Activity.__table__.update().values(status="cancelled"))

    run(app, change)
    assert read(app, lambda s, n: services.record(s, n, "J001", YEAR))["counts"] == {"speech": 1}

    def hide(session, node):
        session.execute(Opinion.__table__.update().values(hidden=True))
        session.execute(Activity.__table__.update().values(status="closed"))
        session.execute(Invitation.__table__.update().values(attended=False))

    run(app, hide)
    assert read(app, lambda s, n: services.record(s, n, "J001", YEAR))["items"] == []


def test_the_beat_task_reminds_this_year(app, rules):
    from shangliang.core.duty.tasks import remind_task
    from shangliang.core.models import Notification

    with app.app_context():
        assert remind_task() == 2  # 李强 (no proposal) and 王芳 (a rule failure); 张伟 has no account
        from shangliang.core.db import get_session

        assert get_session().query(Notification).filter(Notification.source == "duty").count() == 3
