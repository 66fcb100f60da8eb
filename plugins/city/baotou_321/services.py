"""The rules of the 321 proposal method (Baotou, seed 003: "321"提案工作法 — 三沟通、两见面、一公开): a proposal
is closed (办结) only when three communications with its proposers (before, during and after handling), two
face-to-face meetings with them and one publication are recorded on it. Core records the contacts (phase and
kind) and the publication; this practice counts them and refuses ``close`` while one is missing."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from shangliang.core.proposals import services as proposals
from shangliang.core.proposals.models import CONTACT_KINDS, PHASES, Proposal, ProposalAssignment, ProposalSigner

NAME = "baotou_321"
#: The statuses of a proposal still on its way to being closed (filed, being handled, replied, rated).
OPEN = ("filed", "assigned", "replied", "rated")
PUBLICATION_OF = ("proposal", "reply")

# phases: the phases that each need a communication with the proposers (三沟通: before, during, after handling);
# face_to_face: how many face-to-face meetings (两见面); meeting_kinds: the contact kinds that are a meeting in
# person; publication: one publication is required (一公开); publication_of: what must be public, the proposal
# (its reply may follow) or its reply as well.
CONFIG_DEFAULTS: dict[str, Any] = {"phases": list(PHASES), "face_to_face": 2,
                                   "meeting_kinds": ["face_to_face", "meeting"], "publication": True,
                                   "publication_of": "proposal"}

#: The seed's words for each thing counted.
WORDS = {"before": "办理前沟通", "during": "办理中沟通", "after": "办理后沟通", "face_to_face": "见面",
         "publication": "公开"}
PHASE_WORDS = {"before": "before handling", "during": "during handling", "after": "after handling"}


def _setting(key: str) -> str:
    return f"plugins.{NAME}.{key}"


def _choices(value: Any, allowed: tuple[str, ...]) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) and v in allowed for v in value) and \
        len(set(value)) == len(value)


def check_settings(settings: Mapping[str, Any]) -> list[str]:
    """Problems with the settings, one line each, naming the setting."""
    problems = []
    if not _choices(settings.get("phases"), PHASES):
        problems.append(f"{settings.get('phases')!r} must be a list of phases among {', '.join(PHASES)}, each once "
                        f"(setting: {_setting('phases')})")
    count = settings.get("face_to_face")
    if not isinstance(count, int) or isinstance(count, bool) or not 0 <= count <= 20:
        problems.append(f"{count!r} must be a whole number of face-to-face meetings from 0 to 20 "
                        f"(setting: {_setting('face_to_face')})")
    kinds = settings.get("meeting_kinds")
    if not _choices(kinds, CONTACT_KINDS) or not kinds:
        problems.append(f"{kinds!r} must be a non-empty list of contact kinds among {', '.join(CONTACT_KINDS)}, "
                        f"each once (setting: {_setting('meeting_kinds')})")
    if not isinstance(settings.get("publication"), bool):
        problems.append(f"{settings.get('publication')!r} must be true or false (setting: {_setting('publication')})")
    if settings.get("publication_of") not in PUBLICATION_OF:
        problems.append(f"{settings.get('publication_of')!r} must be one of {', '.join(PUBLICATION_OF)} "
                        f"(setting: {_setting('publication_of')})")
    return problems


def settings(config: Mapping[str, Any]) -> Mapping[str, Any]:
    """This practice's settings in a node's configuration (``config["PLUGIN_SETTINGS"]``)."""
    return config["PLUGIN_SETTINGS"][NAME]


# ---------------------------------------------------------------------------------------------
# What a proposal has and lacks


@dataclass(frozen=True)
class Item:
    """One thing the method requires of a proposal: a communication in a phase (``before``, ``during``,
    ``after``), the face-to-face meetings (``face_to_face``) or the publication (``publication``); how many are
    needed and how many are recorded."""

    key: str
    need: int
    have: int
    reason: str  # the sentence that refuses closing while it is missing

    @property
    def done(self) -> bool:
        return self.have >= self.need

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "words": WORDS[self.key], "need": self.need, "have": self.have, "done": self.done,
                "missing": max(0, self.need - self.have), "reason": None if self.done else self.reason}


def _published(proposal: Mapping[str, Any], what: str) -> bool:
    publication = proposal.get("publication") or {}
    return bool(publication.get("proposal")) and (what == "proposal" or bool(publication.get("reply")))


def check(proposal: Mapping[str, Any], settings: Mapping[str, Any]) -> list[Item]:
    """Everything the method requires of ``proposal`` (``Proposal.as_dict``), in order: a communication in each
    phase of ``phases``, ``face_to_face`` meetings (contacts of a kind in ``meeting_kinds``, in any phase), and
    the publication. A contact counts for its phase and, when it is a meeting, as a meeting too."""
    contacts = list(proposal.get("contacts") or ())
    items = []
    for phase in settings["phases"]:
        have = sum(1 for c in contacts if c["phase"] == phase)
        items.append(Item(phase, 1, have,
                          f"321 (三沟通): no communication with the proposers {PHASE_WORDS[phase]} ({WORDS[phase]}) is "
                          f"recorded — record a contact of phase {phase}"))
    need = settings["face_to_face"]
    if need:
        kinds = list(settings["meeting_kinds"])
        have = sum(1 for c in contacts if c["kind"] in kinds)
        more = max(0, need - have)
        items.append(Item("face_to_face", need, have,
                          f"321 (两见面): {have} of the {need} face-to-face meetings with the proposers (见面) "
                          f"recorded — record {more} more contact{'s' if more != 1 else ''} of kind "
                          f"{' or '.join(kinds)}"))
    if settings["publication"]:
        what = settings["publication_of"]
        items.append(Item("publication", 1, int(_published(proposal, what)),
                          "321 (一公开): the proposal is not published (公开) — the office publishes it"
                          if what == "proposal" else
                          "321 (一公开): the proposal and its reply are not both published (公开) — the office "
                          "publishes them"))
    return items


def lacks(proposal: Mapping[str, Any], settings: Mapping[str, Any]) -> list[Item]:
    """What ``proposal`` still lacks before it may close: [] when nothing."""
    return [item for item in check(proposal, settings) if not item.done]


def guard(proposal: Mapping[str, Any], action: str, settings: Mapping[str, Any]) -> list[str]:
    """``proposal_guard``: closing is refused while something is missing, one line per missing item."""
    if action != "close":
        return []
    return [item.reason for item in lacks(proposal, settings)]


def report(proposal: Mapping[str, Any], settings: Mapping[str, Any]) -> dict[str, Any]:
    """A proposal under the method: what it has, what it lacks, whether it may close by this rule."""
    items = [item.as_dict() for item in check(proposal, settings)]
    return {"ref": proposal["ref"], "number": proposal["number"], "id": proposal["id"], "title": proposal["title"],
            "status": proposal["status"], "items": items, "missing": [i for i in items if not i["done"]],
            "complete": all(i["done"] for i in items)}


# ---------------------------------------------------------------------------------------------
# Finding the proposals


def check_proposal(session: Session, ref: Any, who: proposals.Who, settings: Mapping[str, Any]) -> dict[str, Any]:
    """The report of the proposal ``ref`` (its number, or its id before it is filed) that ``who`` may see;
    ``NotFound`` otherwise."""
    return report(proposals.get_visible(session, ref, who).as_dict(), settings)


def open_proposals(session: Session, who: proposals.Who, settings: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The reports of the proposals on their way to being closed (filed, being handled, replied, rated) that
    ``who`` may see, by number."""
    loads = (selectinload(Proposal.signers).selectinload(ProposalSigner.member),
             selectinload(Proposal.assignments).selectinload(ProposalAssignment.unit), selectinload(Proposal.contacts))
    found = session.execute(select(Proposal).options(*loads).where(Proposal.status.in_(OPEN))
                            .order_by(Proposal.number, Proposal.id)).scalars()
    return [report(p.as_dict(), settings) for p in found if proposals.can_see(session, p, who)]
