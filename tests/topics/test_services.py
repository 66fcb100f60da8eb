"""The topics rules at the service: routing a matter to where it belongs; plugin guards and observers of stages."""

import pytest
from hypothesis import given, strategies as st

from shangliang.core import divisions
from shangliang.core.app import create_app
from shangliang.core.plugins import hookimpl
from shangliang.core.topics.routing import common_parent, suggest

# -- routing: properties over generated division codes ---------------------------------------------------

digits = st.text("0123456789", min_size=1, max_size=1)


@st.composite
def code(draw, length):
    return "".join(draw(digits) for _ in range(length))


@st.composite
def area_sets(draw):
    """Areas under one province, at any levels below it."""
    province = draw(code(2))
    count = draw(st.integers(1, 4))
    areas = []
    for _ in range(count):
        length = draw(st.sampled_from([4, 6, 9, 12]))
        areas.append(province + draw(code(length - 2)))
    return areas


@given(area_sets())
def test_the_common_parent_contains_every_area_and_no_lower_level_does(areas):
    parent = common_parent(areas)
    assert divisions.is_standard(parent)
    assert all(a == parent or divisions.is_ancestor(parent, a) for a in areas)
    below = [n for n in (4, 6, 9, 12) if n > len(parent)]
    if below and all(len(a) >= below[0] for a in areas):
        assert len({a[:below[0]] for a in areas}) > 1  # the next level down would not hold them all


@given(area_sets(), st.data())
def test_the_suggestion_moves_one_step_towards_where_the_matter_belongs(areas, data):
    target = common_parent(areas)
    node = data.draw(st.sampled_from([target[:n] for n in (2, 4, 6, 9, 12) if n <= len(target)]
                                     + [target[:2] + "9" * (n - 2) for n in (4, 6, 9) if n - 2 > 0]))
    route = suggest(node, areas)
    assert route.belongs_to == target
    if node == target:
        assert (route.action, route.to) == ("keep", None)
    elif divisions.is_ancestor(node, target):
        assert route.action == "delegate" and divisions.parent_of(route.to) == node
        assert route.to == target or divisions.is_ancestor(route.to, target)
    else:
        assert route.action == "escalate" and route.to == divisions.parent_of(node)


@pytest.mark.parametrize(
    "areas, node, expected",
    [
        (["620302001"], "620302001", ("620302001", "keep", None)),
        (["620302001", "620302002"], "620302001", ("620302", "escalate", "620302")),
        (["620302001", "620302002"], "620302", ("620302", "keep", None)),
        (["620302001", "620303001"], "620302", ("6203", "escalate", "6203")),
        (["620302", "620421"], "6203", ("62", "escalate", "62")),
        (["620302001"], "6203", ("620302001", "delegate", "620302")),
        (["620302001"], "620302", ("620302001", "delegate", "620302001")),
    ],
)
def test_routing_examples_from_the_source_documents(areas, node, expected):
    route = suggest(node, areas)
    assert (route.belongs_to, route.action, route.to) == expected
    assert route.reason


def test_areas_in_two_provinces_have_no_common_node():
    with pytest.raises(ValueError, match="share no province"):
        common_parent(["620302", "320703"])


# -- plugin guards and observers of stage changes ---------------------------------------------------------


class SixStep:
    """A guard as Gansu's six-step plugin would add one, and an observer."""

    def __init__(self):
        self.changes = []

    @hookimpl
    def topic_transition_guard(self, topic, from_stage, to_stage):
        if to_stage == "researching" and not any(e["note"] for e in topic["events"]):
            return ["record how the topic was determined (确定议题) first"]
        return None

    @hookimpl
    def topic_stage_changed(self, topic, from_stage, to_stage, actor):
        self.changes.append((topic["uid"], from_stage, to_stage, actor))


def test_plugin_guards_block_and_observers_hear_of_committed_changes(township):
    from shangliang.core.context import node_context
    from shangliang.core.db import transaction
    from shangliang.core.errors import InputError
    from shangliang.core.topics import services
    from shangliang.core.topics.schemas import TopicIn

    plugin = SixStep()
    app = create_app(township, plugins=[plugin])
    with app.app_context():
        node = node_context()
        with transaction() as session:
            topic, _ = services.raise_topic(session, node, TopicIn(
                title="路", category="交通", areas=["620302001"], raised_by_kind="public", raised_by_name="村民"), "t")
        with transaction() as session:
            services.advance(session, node, services.get_topic(session, topic.uid), "determined", actor="t")
        with pytest.raises(InputError, match="record how the topic was determined"):
            with transaction() as session:
                services.advance(session, node, services.get_topic(session, topic.uid), "researching", actor="t")
        with transaction() as session:
            stored = services.get_topic(session, topic.uid)
            assert stored.stage == "determined"
            stored.events[-1].note = "联席会议确定"
        with transaction() as session:
            services.advance(session, node, services.get_topic(session, topic.uid), "researching", actor="t")
    assert plugin.changes == [(topic.uid, "collected", "determined", "t"), (topic.uid, "determined", "researching", "t")]
    app.extensions["shangliang.db"].engine.dispose()
