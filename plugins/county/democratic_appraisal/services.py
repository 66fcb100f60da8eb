"""The rules of the democratic appraisal practice (民主评议; county ``000``: "把上年度的重点协商(调研)议题转化为下年度
评议议题", Jiaxing and Baotou ``003``): when a year's appraisal is created, last year's key topics — the topics
of last year's published consultation plan that reached a result (``core.appraisal.services.key_topics``) —
become its subjects, each ``proposed`` until the office confirms or dismisses it. An appraisal of the
implementation of key topics gets the topics (with the unit that led their implementation); an appraisal of
government departments gets the units that implemented them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shangliang.core.appraisal import services as appraisal
from shangliang.core.appraisal.models import KINDS
from shangliang.core.context import NodeContext
from sqlalchemy.orm import Session

NAME = "democratic_appraisal"

# kinds: the appraisal kinds that get last year's key topics as proposed subjects; years_back: how many past
# years' key topics (1: last year's only, as the practice says).
CONFIG_DEFAULTS: dict[str, Any] = {"kinds": list(KINDS), "years_back": 1}


def _setting(key: str) -> str:
    return f"plugins.{NAME}.{key}"


def check_settings(settings: Mapping[str, Any]) -> list[str]:
    """Problems with the settings, one line each, naming the setting."""
    problems = []
    kinds = settings.get("kinds")
    if not isinstance(kinds, list) or not all(isinstance(k, str) and k in KINDS for k in kinds) or \
            len(set(kinds)) != len(kinds):
        problems.append(f"{kinds!r} must be a list of appraisal kinds among {', '.join(KINDS)}, each once "
                        f"(setting: {_setting('kinds')})")
    years = settings.get("years_back")
    if not isinstance(years, int) or isinstance(years, bool) or not 1 <= years <= 5:
        problems.append(f"{years!r} must be a whole number of years from 1 to 5 (setting: {_setting('years_back')})")
    return problems


def settings(config: Mapping[str, Any]) -> Mapping[str, Any]:
    """This practice's settings in a node's configuration (``config["PLUGIN_SETTINGS"]``)."""
    return config["PLUGIN_SETTINGS"][NAME]


def candidates(session: Session, node: NodeContext, year: int, kind: str,
               rules: Mapping[str, Any]) -> list[dict[str, Any]]:
    """What this practice proposes for the ``year``'s appraisal of ``kind``: nothing for a kind it is not set for;
    for ``key_topics`` each key topic of the past ``years_back`` years (with its lead unit, when known here);
    for ``departments`` each unit known here that implemented one of them, once."""
    if kind not in rules["kinds"]:
        return []
    found: list[dict[str, Any]] = []
    seen: set[str] = set()
    for back in range(rules["years_back"]):
        for c in appraisal.candidate_subjects(session, node, year - back):
            note = f"{c['plan_year']}年重点协商议题「{c['title']}」"
            if kind == "key_topics":
                if c["topic"] not in seen:
                    seen.add(c["topic"])
                    found.append({"topic": c["topic"], "unit": c["unit"], "source": NAME, "note": note})
            elif c["unit"] is not None and c["unit"] not in seen:
                seen.add(c["unit"])
                found.append({"unit": c["unit"], "source": NAME, "note": note})
    return found


def propose(session: Session, node: NodeContext, appraisal_id: int, rules: Mapping[str, Any], actor: str
            ) -> list[dict[str, Any]]:
    """Propose this practice's candidates for an appraisal made before the practice was enabled (the command);
    the subjects newly proposed (those already subjects are left out)."""
    found = appraisal.get_appraisal(session, appraisal_id, lock=True)
    made = appraisal.propose_subjects(session, node, found.id, candidates(session, node, found.year, found.kind,
                                                                          rules), actor)
    return [appraisal.subject_dict(found, s) for s in made]
