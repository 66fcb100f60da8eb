"""Where a matter belongs: the lowest common parent of its areas, and what this node should do about it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Iterable

from shangliang.core import divisions
from shangliang.core.i18n import N_

LEVEL_LENGTHS = sorted(divisions.LEVEL_BY_LENGTH)  # 2, 4, 6, 9, 12
#: The levels as a reason names them (translated where the reason is shown).
LEVELS = {"province": N_("province"), "city": N_("city"), "county": N_("county"), "township": N_("township"),
          "village": N_("village")}


@dataclass(frozen=True)
class Route:
    """A routing suggestion: the level where the matter belongs and this node's next step."""

    belongs_to: str  # the division code of the node where the matter belongs
    action: str  # keep, escalate or delegate
    to: str | None  # the parent (escalate) or the child (delegate); None to keep
    reason: str

    def as_dict(self) -> dict:
        return asdict(self)


def common_parent(areas: Iterable[str]) -> str:
    """The lowest division containing every area: 620302001 + 620302002 → 620302 (their county)."""
    areas = list(areas)
    if not areas:
        raise ValueError("a topic concerns at least one area")
    for area in areas:
        divisions.validate_code(area, "area")
    shortest = min(len(a) for a in areas)
    for length in reversed([n for n in LEVEL_LENGTHS if n <= shortest]):
        prefix = areas[0][:length]
        if all(a[:length] == prefix for a in areas):
            return prefix
    raise ValueError(f"the areas {', '.join(sorted(set(areas)))} share no province: no single node holds them")


def suggest(node_id: str, areas: Iterable[str]) -> Route:
    """Keep, escalate to the parent, or delegate to the child on the way to where the matter belongs."""
    areas = sorted(set(areas))
    target = common_parent(areas)
    level = divisions.level_of(target)
    level = LEVELS.get(level, level)
    if target == node_id:
        return Route(target, "keep", None, N_("all its areas lie within %(target)s (%(level)s): it is consulted here",
                                              target=target, level=level))
    if divisions.is_ancestor(node_id, target):
        child_length = next(n for n in LEVEL_LENGTHS if n > len(node_id))
        child = target[:child_length]
        return Route(target, "delegate", child,
                     N_("its areas all lie within %(target)s (%(level)s), below this node: delegate it to %(child)s",
                        target=target, level=level, child=child))
    parent = divisions.parent_of(node_id)
    if parent is None:
        return Route(target, "keep", None, N_("it belongs to %(target)s (%(level)s), outside this province; kept here",
                                              target=target, level=level))
    if divisions.is_ancestor(target, node_id):
        why = N_("its areas (%(areas)s) cross this node's boundary; their common parent is %(target)s (%(level)s)",
                 areas=", ".join(areas), target=target, level=level)
    else:
        why = N_("it belongs to %(target)s (%(level)s), which is not below this node", target=target, level=level)
    return Route(target, "escalate", parent, N_("%(why)s: escalate it to %(parent)s", why=why, parent=parent))
