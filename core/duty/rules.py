"""What an assessment rule is (the ``assessment_rules`` hook): a key, a label and a check that reads a member's
duty record and says met or not met, with the reason. Practices build theirs from these; ``count_rule`` is the
common "at least N items of these kinds this year" rule."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from collections.abc import Callable, Iterable, Mapping

Record = Mapping[str, Any]
History = Callable[[int], Record]


@dataclass(frozen=True)
class Outcome:
    """A rule's verdict on one member's record: ``met``, and ``reason`` (what was found, or what is missing)."""

    met: bool
    reason: str


@dataclass(frozen=True)
class Rule:
    """An assessment rule: ``check(record, history)`` → ``Outcome``; ``source`` names the practice."""

    key: str
    label: str
    check: Callable[[Record, History], Outcome]
    source: str = ""


def matching(record: Record, kinds: Iterable[str], where: Callable[[Mapping[str, Any]], bool] | None = None
             ) -> list[Mapping[str, Any]]:
    """The record's items of ``kinds`` (and passing ``where``)."""
    kinds = set(kinds)
    return [item for item in record.get("items", []) if item.get("kind") in kinds and (where is None or where(item))]


def count_rule(key: str, label: str, kinds: Iterable[str], at_least: int = 1, source: str = "",
               where: Callable[[Mapping[str, Any]], bool] | None = None, what: str | None = None) -> Rule:
    """At least ``at_least`` items of ``kinds`` in the year's record."""
    kinds = tuple(kinds)
    what = what or " or ".join(kinds)

    def check(record: Record, history: History) -> Outcome:
        found = matching(record, kinds, where)
        if len(found) >= at_least:
            return Outcome(True, f"{len(found)} {what} found (at least {at_least})")
        return Outcome(False, f"{at_least - len(found)} more {what} needed ({len(found)} of {at_least})")

    return Rule(key, label, check, source)
