"""The rules of 六步议事 (Gansu, seed 004): 收集议题、确定议题、议前调研、协商议事、办理实施、结果反馈 — each stage of a
topic needs its record before the topic moves on. Core keeps only the order of the stages; this practice asks,
at each step forward, whether the stage being left has its record, and names the one missing."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shangliang.core.activities import services as activities
from shangliang.core.activities.models import Activity, ActivityTopic, Research
from shangliang.core.context import NodeContext
from shangliang.core.errors import Conflict, InputError
from shangliang.core.i18n import N_
from shangliang.core.topics import services as topics

NAME = "six_step"
#: The six steps, in order (core/topics/models.py STAGES without ``closed``).
STEPS = ("collected", "determined", "researching", "consulting", "implementing", "feedback")

CONFIG_DEFAULTS: dict[str, Any] = {"min_description": 20, "enforced": list(STEPS)}

#: The topic events that are each stage's record. ``final_report_accepted`` is written by the implementation of
#: results (issue 12 item 2); the others by ``shangliang six-step record`` (:func:`record`).
DECIDED, RESEARCHED, MINUTES, FINAL_REPORT, FED_BACK = (
    "decided", "research_noted", "minutes_noted", "final_report_accepted", "fed_back")
#: What ``six-step record`` may record, by the word given: the event's action and the stage it belongs to.
RECORDS = {"decision": (DECIDED, "determined"), "research": (RESEARCHED, "researching"),
           "minutes": (MINUTES, "consulting"), "feedback": (FED_BACK, "feedback")}
NOTE_MAX = 2000

#: The seed's words for each step.
WORDS = {"collected": "收集议题", "determined": "确定议题", "researching": "议前调研", "consulting": "协商议事",
         "implementing": "办理实施", "feedback": "结果反馈"}
#: What each stage's record is, in a sentence's words.
RECORD_OF = {
    "collected": "its source and the reasons for it",
    "determined": "who decided it and when",
    "researching": "a research record",
    "consulting": "a consultation activity or its minutes",
    "implementing": "the lead unit's final report",
    "feedback": "the feedback to whoever raised it",
}


def _setting(key: str) -> str:
    return f"plugins.{NAME}.{key}"


def check_settings(settings: Mapping[str, Any]) -> list[str]:
    """Problems with the settings, one line each, naming the setting."""
    problems = []
    minimum = settings.get("min_description")
    if not isinstance(minimum, int) or isinstance(minimum, bool) or not 0 <= minimum <= 10_000:
        problems.append(f"{minimum!r} must be a whole number of characters from 0 to 10000 "
                        f"(setting: {_setting('min_description')})")
    enforced = settings.get("enforced")
    if not isinstance(enforced, list) or any(stage not in STEPS for stage in enforced):
        problems.append(f"{enforced!r} must be a list of stages among {', '.join(STEPS)} "
                        f"(setting: {_setting('enforced')})")
    return problems


def settings(config: Mapping[str, Any]) -> Mapping[str, Any]:
    """This practice's settings in a node's configuration (``config["PLUGIN_SETTINGS"]``)."""
    return config["PLUGIN_SETTINGS"][NAME]


@dataclass(frozen=True)
class StageCheck:
    """One stage of a topic under the rule: what its record is, whether it is there and what it lacks."""

    stage: str
    record: str
    enforced: bool
    lacks: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {"stage": self.stage, "words": WORDS[self.stage], "record": self.record, "enforced": self.enforced,
                "done": not self.lacks, "lacks": self.lacks}


def _events(topic: Mapping[str, Any], action: str) -> list[Mapping[str, Any]]:
    return [e for e in topic.get("events") or () if e["action"] == action]


def _linked_activities(session: Session | None, uid: str) -> list[Activity]:
    if session is None:
        return []
    return activities.activities_of_topic(session, uid)


def _research_rows(session: Session | None, uid: str) -> int:
    if session is None:
        return 0
    return len(session.execute(select(Research.id).join(ActivityTopic, ActivityTopic.activity_id == Research.activity_id)
                               .where(ActivityTopic.topic_uid == uid)).all())


def lacks(session: Session | None, topic: Mapping[str, Any], stage: str, settings: Mapping[str, Any]) -> list[str]:
    """What ``stage``'s record lacks on ``topic`` (``Topic.as_dict(events=True)``), one sentence each; [] when it is
    there. ``session`` reads the activities linked to the topic (None: only the topic's events count)."""
    uid = topic["uid"]
    if stage == "collected":
        found = []
        raised_by = topic.get("raised_by") or {}
        if not (raised_by.get("kind") and str(raised_by.get("name") or "").strip()):
            found.append("its source (who raised it) is not recorded")
        description = str(topic.get("description") or "").strip()
        if len(description) < settings["min_description"]:
            found.append(f"its reasons (the description) are {len(description)} characters, fewer than the "
                         f"{settings['min_description']} the rule asks for (setting: {_setting('min_description')})")
        return found
    if stage == "determined":
        decided = [e for e in topic.get("events") or () if e["to_stage"] == "determined" and str(e["note"]).strip()]
        if decided or _events(topic, DECIDED):
            return []
        return [("who decided it and when is not recorded: neither its move to determined carries a note naming "
                 "who decided (e.g. 主席会议) nor is a decision recorded "
                 f"(shangliang six-step record {uid} decision --note …)")]
    if stage == "researching":
        if _events(topic, RESEARCHED) or _research_rows(session, uid) \
                or any(a.form == "research" for a in _linked_activities(session, uid)):
            return []
        return [("no research record: record research on an activity of the topic (activities research), or a "
                f"research note (shangliang six-step record {uid} research --note …)")]
    if stage == "consulting":
        if _events(topic, "consulted") or _events(topic, MINUTES) or any(
                a.status == "closed" or a.minutes_approved_ms is not None for a in _linked_activities(session, uid)):
            return []
        return [("no consultation activity or minutes: hold and close an activity on the topic with its minutes, "
                f"or record the minutes (shangliang six-step record {uid} minutes --note …)")]
    if stage == "implementing":
        if _events(topic, FINAL_REPORT):
            return []
        return [f"the lead unit's final report is not accepted yet (no {FINAL_REPORT} event)"]
    if stage == "feedback":
        if _events(topic, FED_BACK):
            return []
        raised_by = (topic.get("raised_by") or {}).get("name") or "whoever raised it"
        return [(f"no feedback to {raised_by} is recorded: record it "
                f"(shangliang six-step record {uid} feedback --note …)")]
    return []


def _sentence(stage: str, missing: list[str]) -> str:
    return (f"six-step rule (六步议事): a topic leaves {stage} ({WORDS[stage]}) only with {RECORD_OF[stage]} — "
            + "; ".join(missing))


def guard(session: Session | None, topic: Mapping[str, Any], from_stage: str, to_stage: str,
          settings: Mapping[str, Any]) -> list[str]:
    """Reasons that refuse a step forward from ``from_stage``: its record is missing (when it is enforced)."""
    if from_stage not in STEPS or from_stage not in settings["enforced"] or to_stage == from_stage:
        return []
    missing = lacks(session, topic, from_stage, settings)
    return [_sentence(from_stage, missing)] if missing else []


def check(session: Session | None, topic: Mapping[str, Any], settings: Mapping[str, Any]) -> list[StageCheck]:
    """Each of the six stages of ``topic``: its record, whether the rule enforces it and what it still lacks."""
    return [StageCheck(stage, RECORD_OF[stage], stage in settings["enforced"], lacks(session, topic, stage, settings))
            for stage in STEPS]


def record(session: Session, node: NodeContext, uid: str, what: str, note: str, actor: str) -> dict[str, Any]:
    """Record a stage's record on a topic held here (``decision``, ``research``, ``minutes`` or ``feedback``) as a
    topic event; the note says who, when and what (e.g. "主席会议 2027-03-02 决定"). Returns the event."""
    if what not in RECORDS:
        raise InputError(N_("unknown record %(what)s; records: %(records)s", what=repr(str(what)[:40]),
                            records=', '.join(RECORDS)), field="what")
    note = str(note or "").strip()
    if not note:
        raise InputError(N_("a %(what)s record needs a note saying who, when and what", what=what), field="note")
    if len(note) > NOTE_MAX:
        raise InputError(N_("the note is %(count)s characters, more than %(note_max)s", count=len(note),
                            note_max=NOTE_MAX), field="note")
    topic = topics.get_topic(session, uid, lock=True)
    if topic.holder != node.id:
        raise Conflict(N_("topic %(uid)s is held by %(holder)s, not by this node", uid=topic.uid, holder=topic.holder))
    action, stage = RECORDS[what]
    if topic.stage != stage:
        raise Conflict(N_("topic %(uid)s is %(stage)s: a %(what)s record belongs to the %(stage2)s stage",
                          uid=topic.uid, stage=topic.stage, what=what, stage2=stage))
    event = topic.record(action, actor, node.id, node.now_ms(), note)
    session.flush()
    return {"uid": topic.uid, "stage": topic.stage, "action": event.action, "actor": event.actor,
            "at_ms": event.at_ms, "note": event.note}
