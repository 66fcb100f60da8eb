"""The rules of 1246+X (Huzhou): a year's plan holds 1 plenary consultation, 2 face-to-face consultations with
the party secretary and the mayor, 4 special-topic standing committee sessions and 6 bi-monthly forums, and
any number (X) of other forms; the plan is not published while one of the four is short."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import lazy_gettext as _l

from shangliang.core.plans.forms import Form, PlanCheck

NAME = "huzhou_1246"
FACE_TO_FACE = "face_to_face"

# How many of each form a year's plan holds (每年1次全体会议集中协商; 2次市委书记、市长与政协委员"面对面"高端协商;
# 4次常委会议专题协商; 6次双月座谈协商 — seed 003), by the form's key.
CONFIG_DEFAULTS: dict[str, Any] = {"plenary": 1, FACE_TO_FACE: 2, "standing_committee": 4, "forum": 6}
#: What each number counts, for the check's text: (singular, plural, the seed's words).
NOUNS = {
    "plenary": ("plenary consultation", "plenary consultations", "全体会议集中协商"),
    FACE_TO_FACE: ("face-to-face session", "face-to-face sessions", "书记、市长与委员面对面协商"),
    "standing_committee": ("special-topic standing committee session", "special-topic standing committee sessions",
                           "常委会议专题协商"),
    "forum": ("bi-monthly forum", "bi-monthly forums", "双月座谈协商"),
}

FORM = Form(FACE_TO_FACE, _l("Face-to-face consultation with the party secretary and the mayor"),
            "市委书记、市长与政协委员面对面协商", 2)


def _setting(key: str) -> str:
    return f"plugins.{NAME}.{key}"


def check_settings(settings: Mapping[str, Any]) -> list[str]:
    """Problems with the settings, one line each, naming the setting."""
    return [f"{settings[key]!r} must be a positive whole number of {NOUNS[key][1]} a year (setting: {_setting(key)})"
            for key in CONFIG_DEFAULTS
            if not isinstance(settings[key], int) or isinstance(settings[key], bool) or settings[key] <= 0]


def settings(config: Mapping[str, Any]) -> Mapping[str, Any]:
    """This practice's settings in a node's configuration (``config["PLUGIN_SETTINGS"]``)."""
    return config["PLUGIN_SETTINGS"][NAME]


def _count(n: int, key: str) -> str:
    singular, plural, _words = NOUNS[key]
    return f"{n} {singular if n == 1 else plural}"


def checks(items: list[Mapping[str, Any]], settings: Mapping[str, Any]) -> list[PlanCheck]:
    """One blocking check for each of 1, 2, 4 and 6 (what is short), and X: the other forms, counted, never short."""
    found = []
    for key in CONFIG_DEFAULTS:
        wanted, planned = settings[key], sum(1 for item in items if item["form"] == key)
        short = max(0, wanted - planned)
        detail = f"{_count(planned, key)} planned" + (f", {short} short" if short else "")
        found.append(PlanCheck(f"1246+X: {_count(wanted, key)} a year ({NOUNS[key][2]})", short == 0, detail, True,
                               NAME))
    others = sum(1 for item in items if item["form"] not in CONFIG_DEFAULTS)
    found.append(PlanCheck("1246+X: X, other forms as the year needs (对口、界别、提案办理、基层协商…)", True,
                           f"{others} planned", False, NAME))
    return found
