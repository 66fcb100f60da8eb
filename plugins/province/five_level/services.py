"""五级联动 five-level linkage: the rules.

Seed ``004`` (Gansu), 一, the fourth mechanism: "探索实行省、市、县、乡、村五级联动协商，由县区政协统筹，协商议题既可以
逐级上交，也可以指定下放" — consultation linked across five levels, province, city, county, township and village,
coordinated by the county committee; a topic is passed up level by level or handed down to a named level.

What the core already guarantees: an escalation goes to the node's configured parent and a delegation to a
child (a division code one level down, or a peer paired as a child). What it does not: a node's parent may be
configured freely when either id is not a standard division code, and a peer may be paired as a child whatever
its level. This practice refuses the first at start-up (:func:`check_node`) and names the second
(:func:`skipping_peers`); and it gives the county the list of topics that came up from a village through a
township for it to coordinate (:func:`to_coordinate`).
"""

from __future__ import annotations

from typing import Any, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from shangliang.core import divisions
from shangliang.core.topics import route as topic_route
from shangliang.core.topics.models import Topic

NAME = "five_level"
CONFIG_DEFAULTS: dict[str, Any] = {
    # The level that coordinates (统筹): the county committee (县区政协).
    "coordinator_level": "county",
    # A topic waiting this many days or more for the county since it arrived is marked as waiting long.
    "waiting_days": 15,
}
DAY_MS = 24 * 3600 * 1000


def _setting(key: str) -> str:
    return f"plugins.{NAME}.{key}"


def settings_of(config: Mapping[str, Any]) -> dict[str, Any]:
    """This practice's settings in a node's configuration (``config["PLUGIN_SETTINGS"]``)."""
    return config["PLUGIN_SETTINGS"][NAME]


def check_settings(settings: Mapping[str, Any]) -> list[str]:
    """Problems with the settings, one line each, naming the setting."""
    problems = []
    if settings["coordinator_level"] not in divisions.LEVELS:
        problems.append(f"coordinator_level must be one of {', '.join(divisions.LEVELS)} "
                        f"(setting: {_setting('coordinator_level')})")
    days = settings["waiting_days"]
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 365:
        problems.append(f"waiting_days must be a whole number of days from 1 to 365 (setting: {_setting('waiting_days')})")
    return problems


def level_above(level: str) -> str | None:
    index = divisions.LEVELS.index(level)
    return divisions.LEVELS[index - 1] if index else None


def check_node(config: Mapping[str, Any]) -> list[str]:
    """A topic passes up level by level: the node's parent must be the node one level up (a standard division
    code of that level), so that an escalation never skips a level. A village's parent is its township."""
    level, parent = config.get("NODE_LEVEL"), config.get("NODE_PARENT")
    if level not in divisions.LEVELS or parent is None:
        return []  # a province (no parent), or a node the core already refuses
    want = level_above(level)
    found = divisions.level_of(parent) if divisions.is_standard(parent) else None
    if found != want:
        return [f"five-level linkage passes topics level by level: this {level} node's parent {parent!r} must be "
                f"the {want} one level up (a {want} division code), not {found or 'a node of unknown level'} "
                f"(setting: parent)"]
    return []


def skipping_peers(session: Session, node_id: str, level: str) -> list[str]:
    """Peers paired with this node as parent or child whose level is not the next one up or down: a topic sent
    to one would skip a level (or its level cannot be told from its id). One line each."""
    from shangliang.federation.models import Peer

    index = divisions.LEVELS.index(level) if level in divisions.LEVELS else None
    problems = []
    for peer in session.scalars(select(Peer).order_by(Peer.node_id)):
        relation = peer.relation
        if relation not in ("parent", "child") or index is None:
            continue
        want_index = index - 1 if relation == "parent" else index + 1
        want = divisions.LEVELS[want_index] if 0 <= want_index < len(divisions.LEVELS) else None
        found = divisions.level_of(peer.node_id) if divisions.is_standard(peer.node_id) else None
        if found != want:
            problems.append(f"peer {peer.node_id} is paired as this {level} node's {relation}, but is "
                            f"{'a ' + found if found else 'of unknown level'}, not {'a ' + want if want else 'possible'}: "
                            f"a topic sent there would not pass level by level")
    return problems


def coordinates(config: Mapping[str, Any]) -> bool:
    """Whether this node is the coordinating level (统筹)."""
    return config.get("NODE_LEVEL") == settings_of(config)["coordinator_level"]


def to_coordinate(session: Session, node_id: str, now_ms: int, waiting_days: int) -> list[dict[str, Any]]:
    """The county's to-coordinate list (统筹): the open topics held here that were raised on a village node and
    came up through a township to this node, each passed up one level at a time. From the topic and the
    envelope that brought it (its hop chain): origin village, township, stage, when it was raised and arrived,
    how many days it has waited, whether it was accepted; the longest waiting first."""
    rows = []
    held = session.scalars(select(Topic).where(Topic.holder == node_id, Topic.stage != "closed"))
    for topic in held:
        envelope = topic_route.latest_received(session, topic.uid)
        if envelope is None:
            continue
        path = topic_route.path_of(envelope["hops"])
        if path[-1] != node_id or len(path) < 3:
            continue
        levels = [divisions.level_of(n) if divisions.is_standard(n) else None for n in path]
        if levels[0] != "village" or levels[1] != "township":
            continue
        arrived = next(hop for hop in reversed(envelope["hops"]) if hop["to"] == node_id)
        if arrived["action"] != "escalate":
            continue
        arrived_ms = int(arrived["at_ms"])
        days = max(0, (now_ms - arrived_ms) // DAY_MS)
        rows.append({"uid": topic.uid, "title": topic.title, "village": path[0], "township": path[1],
                     "path": path, "stage": topic.stage, "raised_ms": topic.raised_ms, "arrived_ms": arrived_ms,
                     "waiting_days": days, "waiting_long": days >= waiting_days,
                     "accepted": topic.accepted_ms is not None})
    rows.sort(key=lambda r: (r["arrived_ms"], r["uid"]))
    return rows
