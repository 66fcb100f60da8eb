"""The rules of 四个一 (Tongling, city seed ``003``): each member, each year, makes one proposal, writes one
social-opinion report (社情民意信息), offers one development idea (发展建言) and does one good deed (好事实事). The
record (core/duty) holds what the node knows — proposals from the proposals feature, reports from the opinions
feature, ideas and good deeds recorded by the office with evidence; this practice checks them as assessment rules."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shangliang.core.duty.rules import Rule, count_rule

NAME = "four_ones"

# Which record kinds count for each of the four, and how many of each a year (one each by default).
CONFIG_DEFAULTS: dict[str, Any] = {"proposal_kinds": ["proposal"], "social_opinion_kinds": ["social_opinion"],
                                   "idea_kinds": ["development_idea"], "good_deed_kinds": ["good_deed"],
                                   "per_year": 1}
ONES = (("proposal", "一件提案 one proposal", "proposal (提案)"),
        ("social_opinion", "一篇社情民意 one social-opinion report", "social-opinion report (社情民意信息)"),
        ("idea", "一条发展建言 one development idea", "development idea (发展建言)"),
        ("good_deed", "一件好事实事 one good deed", "good deed (好事实事)"))


def _setting(key: str) -> str:
    return f"plugins.{NAME}.{key}"


def check_settings(settings: Mapping[str, Any]) -> list[str]:
    """Problems with the settings, one line each, naming the setting."""
    problems = []
    for key, _label, _what in ONES:
        value = settings.get(f"{key}_kinds")
        if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
            problems.append(f"{value!r} must be a non-empty list of record kinds (setting: {_setting(key + '_kinds')})")
    count = settings.get("per_year")
    if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= 20:
        problems.append(f"{count!r} must be a whole number from 1 to 20 (setting: {_setting('per_year')})")
    return problems


def settings(config: Mapping[str, Any]) -> Mapping[str, Any]:
    """This practice's settings in a node's configuration (``config["PLUGIN_SETTINGS"]``)."""
    return config["PLUGIN_SETTINGS"][NAME]


def rules(s: Mapping[str, Any]) -> list[Rule]:
    return [count_rule(f"four_ones.{key}", label, s[f"{key}_kinds"], s["per_year"], NAME, None, what)
            for key, label, what in ONES]
