"""The rules of 年度协商计划 approval (Kailu): the chair meeting reviews, the party committee's standing
committee decides and its decision is issued as a document whose reference the plan records."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from shangliang.core.plans.forms import DEFAULT_STEPS, ApprovalStep

NAME = "plan_approval"
CHAIR_MEETING, STANDING_COMMITTEE = DEFAULT_STEPS[0].key, DEFAULT_STEPS[1].key

# chair_meeting_body: who reviews the draft (政协主席会议审议); standing_committee_body: who decides
# (县委召开常委会议研究确定, seed 001 9); standing_committee_marker: what the approver of the decision must name.
CONFIG_DEFAULTS: dict[str, Any] = {"chair_meeting_body": "政协主席会议", "standing_committee_body": "党委常委会",
                                   "standing_committee_marker": "常委会"}


def _setting(key: str) -> str:
    return f"plugins.{NAME}.{key}"


def check_settings(settings: Mapping[str, Any]) -> list[str]:
    """Problems with the settings, one line each, naming the setting."""
    return [f"must be a non-empty name (setting: {_setting(key)})" for key in CONFIG_DEFAULTS
            if not isinstance(settings[key], str) or not settings[key].strip()]


def settings(config: Mapping[str, Any]) -> Mapping[str, Any]:
    """This practice's settings in a node's configuration (``config["PLUGIN_SETTINGS"]``)."""
    return config["PLUGIN_SETTINGS"][NAME]


def steps(settings: Mapping[str, Any]) -> list[ApprovalStep]:
    """The default steps with this node's bodies; the standing committee's decision cites its document."""
    return [dataclasses.replace(DEFAULT_STEPS[0], body=settings["chair_meeting_body"]),
            dataclasses.replace(DEFAULT_STEPS[1], body=settings["standing_committee_body"], reference_required=True)]


def _decision(plan: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The current round's approved standing committee step, if taken."""
    return next((s for s in plan["steps"] if s["round"] == plan["round"] and s["step"] == STANDING_COMMITTEE
                 and s["decision"] == "approved"), None)


def guard(plan: Mapping[str, Any], action: str, step: str | None, fields: Mapping[str, Any],
          settings: Mapping[str, Any]) -> list[str]:
    """Why the change is refused (empty: allowed)."""
    body, marker = settings["standing_committee_body"], settings["standing_committee_marker"]
    if action == "step":
        approver = (fields.get("approver") or "").strip()
        if not approver:
            return [f"step {step} records who took it: the approver is empty"]
        if step != STANDING_COMMITTEE:
            return []
        reasons = []
        if marker not in approver:
            reasons.append(f"the plan is decided by the party committee's standing committee ({body}): approver "
                           f"{approver!r} does not name it (it must contain {marker!r}; setting "
                           f"{_setting('standing_committee_marker')})")
        if fields.get("decision") == "approved" and not (fields.get("reference") or "").strip():
            reasons.append(f"the standing committee's decision ({body}) is issued as a party committee office document: "
                           "give its reference (文号)")
        return reasons
    if action == "publish":
        decision = _decision(plan)
        if decision is None:
            return [f"the plan for {plan['year']} is published on the decision of the party committee's standing "
                    f"committee ({body}): round {plan['round']} has no approved {STANDING_COMMITTEE} step"]
        if not (decision.get("reference") or "").strip():
            return [f"the plan for {plan['year']} is published on the decision of the party committee's standing "
                    f"committee ({body}) with its document: the {STANDING_COMMITTEE} step of round {plan['round']} "
                    f"(approver {decision['approver']}, {decision['decided_on']}) has no reference (文号); return the "
                    "plan and record the decision with its reference"]
    return []
