"""The duty assessment practices on real nodes: 五个一 (five_ones, Kailu ``001`` 23) on a county and 四个一
(four_ones, Tongling ``003``) on a city. Each member's standing follows what the record holds (attendance at the
plenary, proposals, speeches, items recorded by hand with evidence, social-opinion reports given by another
feature through the hook); what is missing is said per rule; the per-term rule reads earlier years; bad settings
stop the node by name; the settings change what counts."""

from __future__ import annotations

import pytest

from shangliang.core.app import create_app
from shangliang.core.duty import services
from shangliang.core.errors import ConfigError
from shangliang.core.plugins import hookimpl

from ..duty.conftest import JUNE, YEAR, plenary_and_speech, proposal, read, run, setup_members


def node(make_node, runner, plugin, node_id="150428", name="开鲁县政协", extra_toml=""):
    node_dir = make_node(node_id=node_id, name=name, plugins=[plugin], extra_toml=extra_toml)
    setup_members(runner, node_dir)
    return create_app(node_dir, test_config={"WTF_CSRF_ENABLED": False})


class Opinions:
    """What core/opinions gives the record (built in parallel): one social-opinion report of 李强's."""

    @hookimpl
    def duty_record_items(self, session, node, member, year):
        if member["member_no"] == "J001" and year == YEAR:
            return [{"kind": "social_opinion", "title": "关于乡村学校的社情民意", "date": f"{YEAR}-04-02",
                     "source": "opinions", "ref": "o-1"}]
        return None


def standing(app, number, year=YEAR):
    table = read(app, lambda s, n: services.assessment(s, n, year))
    return next(r for r in table["members"] if r["member"]["member_no"] == number)


def hand(app, number, kind, date=f"{YEAR}-05-01"):
    run(app, lambda s, n: services.add_item(s, n, number, kind, f"{kind} 事项", date, evidence_text="照片与说明",
                                            actor="test"))


def test_five_ones_says_who_meets_it_and_what_is_missing(make_node, runner):
    app = node(make_node, runner, "five_ones")
    with app.app_context():
        from shangliang.core.context import node_context

        node_context().pm.register(Opinions())
    table = read(app, lambda s, n: services.assessment(s, n, YEAR))
    assert [r["rule"] for r in table["rules"]] == ["five_ones.plenary", "five_ones.proposal",
                                                   "five_ones.social_opinion", "five_ones.activity", "five_ones.term"]
    zhang = standing(app, "J003")
    assert zhang["standing"] == "behind" and len(zhang["missing"]) == 5
    assert "no plenary speech or research report yet in the term 2022–2026" in zhang["missing"][-1]

    plenary_and_speech(app, "J001")  # the plenary attended, with a speech there: plenary and term rules
    proposal(app, "J001", role="cosigner", status="not_filed")  # co-signed, not filed: counts
    li = standing(app, "J001")
    assert li["missing"] == ["1 more activity (活动) needed (0 of 1)"]
    plenary_and_speech(app, "J001", at=JUNE + 30 * 86_400_000, form="forum")  # a forum: an activity
    assert standing(app, "J001")["standing"] == "met"

    # a research report two years ago, in the same term, meets the term rule for 王芳
    hand(app, "J002", "research", date=f"{YEAR - 2}-09-01")
    fang = standing(app, "J002")
    term = next(o for o in fang["outcomes"] if o["rule"] == "five_ones.term")
    assert term["met"] and f"{YEAR - 2}-09-01" in term["reason"]
    # …but not in the next term (2027–2031)
    assert not next(o for o in standing(app, "J002", 2027)["outcomes"] if o["rule"] == "five_ones.term")["met"]


def test_four_ones_counts_hand_items_with_evidence(make_node, runner):
    app = node(make_node, runner, "four_ones", node_id="3407", name="铜陵市政协")
    with app.app_context():
        from shangliang.core.context import node_context

        node_context().pm.register(Opinions())
    proposal(app, "J001")
    assert standing(app, "J001")["missing"] == ["1 more development idea (发展建言) needed (0 of 1)",
                                                "1 more good deed (好事实事) needed (0 of 1)"]
    hand(app, "J001", "development_idea")
    hand(app, "J001", "good_deed")
    assert standing(app, "J001")["standing"] == "met"
    assert standing(app, "J002")["standing"] == "behind"


def test_four_ones_settings_change_what_counts(make_node, runner):
    app = node(make_node, runner, "four_ones", node_id="3407", name="铜陵市政协",
               extra_toml='\n[plugins.four_ones]\nper_year = 2\ngood_deed_kinds = ["good_deed", "visit"]\n')
    hand(app, "J001", "good_deed")
    hand(app, "J001", "visit")
    outcome = next(o for o in standing(app, "J001")["outcomes"] if o["rule"] == "four_ones.good_deed")
    assert outcome["met"] and outcome["reason"].startswith("2 good deed")


@pytest.mark.parametrize("plugin, toml, setting", [
    ("five_ones", "term_years = 0", "plugins.five_ones.term_years"),
    ("five_ones", 'plenary_forms = "plenary"', "plugins.five_ones.plenary_forms"),
    ("five_ones", "term_first_year = 12", "plugins.five_ones.term_first_year"),
    ("four_ones", "per_year = 0", "plugins.four_ones.per_year"),
    ("four_ones", "idea_kinds = []", "plugins.four_ones.idea_kinds"),
])
def test_bad_settings_stop_the_node_naming_the_setting(make_node, plugin, toml, setting):
    node_dir = make_node(node_id="150428", name="开鲁县政协", plugins=[plugin], extra_toml=f"\n[plugins.{plugin}]\n{toml}\n")
    with pytest.raises(ConfigError) as caught:
        create_app(node_dir)
    assert setting in str(caught.value)
