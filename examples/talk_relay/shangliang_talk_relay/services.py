"""The rules of the 民情恳谈 relay: what a talk message holds, sending one to a neighbour, and keeping one received
(a notification for the role the settings name, in the inbox's transaction)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from shangliang.core.context import NodeContext
from shangliang.core.errors import InputError
from shangliang.core.models import Notification, Role
from shangliang.core.notifications import notify
from shangliang.federation import outbox
from shangliang.federation.errors import InvalidBody
from shangliang.federation.kinds import Kind, text, texts

NAME = "talk_relay"
LEVEL = "township"
#: The message kind: x-<plugin>.<name> (PROTOCOL.md §8). A node without this plugin enabled answers 422 unknown_kind.
KIND = f"x-{NAME}.talk"
MAX_POINTS = 50

CONFIG_DEFAULTS: dict[str, Any] = {
    # Who is told of a talk received from a neighbour: a role of this node.
    "notify_role": "office",
}


def setting(name: str) -> str:
    return f"plugins.{NAME}.{name}"


def check_settings(values: Mapping[str, Any]) -> list[str]:
    roles = sorted(role.value for role in Role)
    if values.get("notify_role") not in roles:
        return [f"must be one of the roles {', '.join(roles)} (setting: {setting('notify_role')})"]
    return []


def validate(body: Mapping[str, Any]) -> None:
    """A talk: ``title`` (the talk), ``held_on`` (YYYY-MM-DD), ``points`` (the people's points, 1 to 50 texts)."""
    text(body, "title")
    text(body, "held_on")
    try:
        dt.date.fromisoformat(body["held_on"])
    except ValueError:
        raise InvalidBody("body.held_on is not a date YYYY-MM-DD") from None
    texts(body, "points")
    if not 1 <= len(body["points"]) <= MAX_POINTS:
        raise InvalidBody(f"body.points must hold 1 to {MAX_POINTS} points")
    unknown = sorted(set(body) - {"title", "held_on", "points"})
    if unknown:
        raise InvalidBody(f"body has unknown field(s) {', '.join(unknown)}")


#: ``reply``: a message between neighbours either way, about no topic.
TALK = Kind(KIND, "reply", False, validate)


def send(session: Session, node: NodeContext, destination: str, title: str, held_on: str,
         points: list[str]) -> tuple[dict[str, Any], Any]:
    """Queue a talk for the neighbour ``destination``; refused (nothing queued) when the talk does not fit."""
    body = {"title": title, "held_on": held_on, "points": list(points)}
    try:
        validate(body)
    except InvalidBody as exc:
        raise InputError(str(exc)) from None
    return outbox.originate(session, node, KIND, body, destination, TALK.action)


def settings(config: Mapping[str, Any]) -> dict[str, Any]:
    return {**CONFIG_DEFAULTS, **(config["PLUGIN_SETTINGS"].get(NAME) or {})}


def accept(session: Session, node: NodeContext, envelope: Mapping[str, Any], transfer: Mapping[str, Any]) -> None:
    """Keep a talk received: a notification for ``notify_role``, committed with the inbox record."""
    body = envelope["body"]
    subject = f"民情恳谈 from {envelope['origin']}: {body['title']} ({body['held_on']})"
    lines = [f"- {point}" for point in body["points"]]
    notify(session, subject=subject, body="\n".join(lines), role=settings(node.config)["notify_role"], source=NAME)


def received(session: Session, limit: int = 100) -> list[dict[str, Any]]:
    """The talks received, newest first, as their notifications say them."""
    rows = session.execute(select(Notification).where(Notification.source == NAME)
                           .order_by(Notification.id.desc()).limit(limit)).scalars()
    return [{"subject": row.subject, "body": row.body, "role": row.recipient_role} for row in rows]
