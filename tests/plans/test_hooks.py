"""Practices change a plan's approval through hooks: their own steps (plan_approval_steps), a check that
blocks publication (plan_checks), a guard that refuses a change (plan_guard), and hearing of publication
(plan_published, after commit)."""

import pytest
from shangliang.core.errors import Conflict, InputError
from shangliang.core.plans.forms import DEFAULT_STEPS, ApprovalStep, PlanCheck
from shangliang.core.plugins import hookimpl

from .conftest import add, counts, create, publish, show, step


class Putian:
    """选题-商题-定题: select, a joint meeting with party and government, the standing committee decides; and a
    plan needs two special consultation meetings before it is published."""

    def __init__(self):
        self.published: list = []

    @hookimpl
    def plan_approval_steps(self, config):
        return [ApprovalStep("selection", "选题", "政协主席会议"),
                ApprovalStep("joint_meeting", "商题", "党政联席会议", reference_required=True), DEFAULT_STEPS[1]]

    @hookimpl
    def plan_checks(self, plan, config):
        specials = sum(1 for item in plan["items"] if item["form"] == "special")
        return [PlanCheck("2 special consultation meetings", specials >= 2, f"{specials} planned", True, "putian")]

    @hookimpl
    def plan_guard(self, plan, action, step, fields, config):
        if action == "add_item" and not fields["participants"]["departments"]:
            return ["三个一起: an item names the party and government departments taking part"]
        return None

    @hookimpl
    def plan_published(self, plan, actor):
        self.published.append((plan["year"], plan["status"], actor))


@pytest.fixture
def practice(app):
    plugin = Putian()
    app.extensions["shangliang.plugins"].register(plugin, name="putian_test")
    return plugin


def test_a_practice_replaces_the_steps_and_blocks_publication_until_its_check_is_met(app, practice):
    create(app)
    add(app, form="special")
    detail = show(app)
    assert [s["key"] for s in detail["approval"]["steps"]] == ["selection", "joint_meeting", "standing_committee"]
    with pytest.raises(InputError, match="unknown approval step .chair_meeting.; steps: selection, joint_meeting"):
        step(app, "chair_meeting")
    with pytest.raises(InputError, match="next step of the plan for 2027 is selection"):
        step(app, "joint_meeting", reference="联席会议纪要1号")
    step(app, "selection")
    before = counts(app)
    with pytest.raises(InputError, match="cites its document or minute"):
        step(app, "joint_meeting")
    assert counts(app) == before
    step(app, "joint_meeting", reference="联席会议纪要1号")
    step(app, "standing_committee")
    detail = show(app)
    blocking = [c for c in detail["checks"] if c["source"] == "putian"]
    assert blocking == [{"rule": "2 special consultation meetings", "met": False, "detail": "1 planned",
                         "blocks": True, "source": "putian"}]
    assert detail["approval"]["can_publish"] is False
    before = counts(app)
    with pytest.raises(Conflict, match="short: 2 special consultation meetings"):
        publish(app)
    assert counts(app) == before and practice.published == []


def test_a_guard_refuses_and_publication_is_heard_after_commit(app, practice):
    create(app)
    before = counts(app)
    with pytest.raises(InputError, match="三个一起"):
        add(app, form="special", participants={"departments": []})
    assert counts(app) == before
    add(app, form="special")
    add(app, form="special", topic={"title": "第二个专题", "category": "经济", "areas": ["620302"],
                                    "raised_by_kind": "government", "raised_by_name": "区政府"})
    step(app, "selection")
    step(app, "joint_meeting", reference="联席会议纪要1号")
    step(app, "standing_committee")
    publish(app)
    assert practice.published == [(2027, "published", "test")]


def test_without_the_practice_the_default_steps_apply(app):
    assert [s["key"] for s in show_steps(app)] == ["chair_meeting", "standing_committee"]


def show_steps(app):
    create(app)
    return show(app)["approval"]["steps"]
