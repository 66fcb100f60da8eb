"""The rules of 五个一 (Kailu, county seed ``001`` 23): each member, each year, attends the plenary session, makes
at least one proposal, writes at least one social-opinion report (社情民意信息) and takes part in at least one
activity; and in each term (届) gives at least one plenary speech or research report. The record (core/duty)
holds what the node knows; this practice says which items count and checks them as assessment rules."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shangliang.core.duty.rules import Outcome, Rule, count_rule, matching

NAME = "five_ones"

# plenary_forms: the activity forms that are the plenary session (全体会议); proposal_roles: the roles in a proposal
# that count (lead = proposer, cosigner = 联名); activity_kinds: the record kinds that are an activity besides
# attending a meeting that is not the plenary; term_first_year and term_years: the current term (届), for the rule
# of one plenary speech or research report per term; research_kinds: the kinds that are a research report.
CONFIG_DEFAULTS: dict[str, Any] = {"plenary_forms": ["plenary"], "proposal_roles": ["lead", "cosigner"],
                                   "activity_kinds": ["research", "visit", "consultation_home", "work_station"],
                                   "term_first_year": 2022, "term_years": 5, "research_kinds": ["research"]}


def _setting(key: str) -> str:
    return f"plugins.{NAME}.{key}"


def _words(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) and v.strip() for v in value)


def _whole(value: Any, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def check_settings(settings: Mapping[str, Any]) -> list[str]:
    """Problems with the settings, one line each, naming the setting."""
    problems = []
    for key in ("plenary_forms", "proposal_roles", "activity_kinds", "research_kinds"):
        if not _words(settings.get(key)) or (key != "activity_kinds" and not settings.get(key)):
            problems.append(f"{settings.get(key)!r} must be a list of words (setting: {_setting(key)})")
    if not _whole(settings.get("term_first_year"), 1949, 9999):
        problems.append(f"{settings.get('term_first_year')!r} must be a year (setting: {_setting('term_first_year')})")
    if not _whole(settings.get("term_years"), 1, 10):
        problems.append(f"{settings.get('term_years')!r} must be a whole number of years from 1 to 10 "
                        f"(setting: {_setting('term_years')})")
    return problems


def settings(config: Mapping[str, Any]) -> Mapping[str, Any]:
    """This practice's settings in a node's configuration (``config["PLUGIN_SETTINGS"]``)."""
    return config["PLUGIN_SETTINGS"][NAME]


def term_of(year: int, first: int, length: int) -> tuple[int, int]:
    """The first and last year of the term that ``year`` falls in (terms follow each other from ``first``)."""
    start = first + ((year - first) // length) * length
    return start, start + length - 1


def rules(s: Mapping[str, Any]) -> list[Rule]:
    plenary = set(s["plenary_forms"])

    def is_plenary(item: Mapping[str, Any]) -> bool:
        return item.get("form") in plenary

    def term_rule(record, history) -> Outcome:
        year = record["year"]
        first, last = term_of(year, s["term_first_year"], s["term_years"])
        for y in range(first, year + 1):
            rec = record if y == year else history(y)
            found = matching(rec, ["speech"], is_plenary) + matching(rec, s["research_kinds"])
            if found:
                return Outcome(True, f"{found[0]['kind']} {found[0]['title']} ({found[0]['date']}) in the term "
                                     f"{first}–{last}")
        return Outcome(False, f"no plenary speech or research report yet in the term {first}–{last} (大会发言或调研报告)")

    roles = set(s["proposal_roles"])
    return [
        count_rule("five_ones.plenary", "出席全体会议 attend the plenary", ["attendance"], 1, NAME, is_plenary,
                   "plenary attendance (出席全会)"),
        count_rule("five_ones.proposal", "至少一件提案 at least one proposal", ["proposal"], 1, NAME,
                   lambda i: i.get("role", "lead") in roles, "proposal (提案)"),
        count_rule("five_ones.social_opinion", "至少一篇社情民意 at least one social-opinion report",
                   ["social_opinion"], 1, NAME, None, "social-opinion report (社情民意信息)"),
        count_rule("five_ones.activity", "至少参加一次活动 at least one activity",
                   ["attendance", *s["activity_kinds"]], 1, NAME,
                   lambda i: i.get("kind") != "attendance" or not is_plenary(i), "activity (活动)"),
        Rule("five_ones.term", "每届至少一次大会发言或调研报告 one plenary speech or research report per term",
             term_rule, NAME),
    ]
