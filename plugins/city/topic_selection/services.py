"""The rules of 选题-商题-定题 (Putian): the committee's chair meeting selects the topics, a joint meeting with
the party committee and the government discusses them, the party standing committee decides."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import lazy_gettext as _l

from shangliang.core.plans.forms import ApprovalStep

NAME = "topic_selection"
SELECTION, JOINT_MEETING, DECISION = "selection", "joint_meeting", "standing_committee"
#: Another practice that also gives the plan's approval steps (hook plan_approval_steps takes the first answer).
RIVAL = "plan_approval"

# The bodies that take each step, and the words by which the joint meeting's record shows who attended from the
# party committee (市委) and from the government (市政府): "与市委、市政府召开联席会议'商题'" (seed 003).
CONFIG_DEFAULTS: dict[str, Any] = {
    "selection_body": "政协主席会议",
    "joint_meeting_body": "市委、市政府、市政协联席会议",
    "standing_committee_body": "市委常委会议",
    "party_markers": ["市委", "党委"],
    "government_markers": ["市政府", "人民政府"],
}
BODIES = ("selection_body", "joint_meeting_body", "standing_committee_body")
MARKERS = ("party_markers", "government_markers")


def _setting(key: str) -> str:
    return f"plugins.{NAME}.{key}"


def check_settings(settings: Mapping[str, Any], enabled: Mapping[str, Any]) -> list[str]:
    """Problems with the settings, one line each, naming the setting; ``enabled``: every enabled plugin's settings."""
    problems = [f"must be a non-empty name (setting: {_setting(key)})" for key in BODIES
                if not isinstance(settings[key], str) or not settings[key].strip()]
    for key in MARKERS:
        value = settings[key]
        if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
            problems.append(f"must be a non-empty list of words (setting: {_setting(key)})")
    if RIVAL in enabled:
        problems.append(f"{NAME} and {RIVAL} both give the plan's approval steps: enable one of them "
                        "(setting: plugins.enabled)")
    return problems


def settings(config: Mapping[str, Any]) -> Mapping[str, Any]:
    """This practice's settings in a node's configuration (``config["PLUGIN_SETTINGS"]``)."""
    return config["PLUGIN_SETTINGS"][NAME]


def steps(settings: Mapping[str, Any]) -> list[ApprovalStep]:
    """选题 → 商题 → 定题; the joint meeting and the decision cite their minutes or document."""
    return [ApprovalStep(SELECTION, _l("Topic selection (选题)"), settings["selection_body"]),
            ApprovalStep(JOINT_MEETING, _l("Joint meeting with the party committee and government (商题)"),
                         settings["joint_meeting_body"], reference_required=True),
            ApprovalStep(DECISION, _l("Decision by the party standing committee (定题)"),
                         settings["standing_committee_body"], reference_required=True)]


def named(text: str, markers: list[str]) -> bool:
    return any(marker in text for marker in markers)


def guard(action: str, step: str | None, fields: Mapping[str, Any], settings: Mapping[str, Any]) -> list[str]:
    """Why the change is refused (empty: allowed): the joint meeting's approver or opinion names who attended
    from the party committee and from the government."""
    if action != "step" or step != JOINT_MEETING:
        return []
    record = f"{fields.get('approver') or ''} {fields.get('opinion') or ''}"
    missing = [(who, key) for who, key in (("the party committee", "party_markers"),
                                           ("the government", "government_markers"))
               if not named(record, settings[key])]
    return [f"商题 ({JOINT_MEETING}) is a joint meeting with the party committee and the government: its approver or "
            f"opinion names no one from {who} (words: {'、'.join(settings[key])}; setting {_setting(key)})"
            for who, key in missing]
