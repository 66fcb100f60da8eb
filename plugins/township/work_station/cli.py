"""``shangliang station check``: the deputies against the members, and whether the head must be co-opted."""

from __future__ import annotations

from typing import Any

import click
import flask

from shangliang.core.cli import emit, with_appcontext
from shangliang.core.db import get_session

from . import services


@click.group()
def station() -> None:
    """The member work station (委员工作站): its head and deputy heads."""


@station.command("check")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def station_check(as_json: bool) -> None:
    """Check the deputies against the members and whether the head must be co-opted (exit 1 if so)."""
    report = services.station_report(get_session(), services.settings(flask.current_app.config))

    def text(r: dict[str, Any]) -> str:
        head = r["head"] or "(not named)"
        lines = [f"head: {head} ({'member' if r['head_is_member'] else 'not a member'})"]
        lines += [f"deputy {d['member_no']}: {d['name']}" for d in r["deputies"] if d["found"]]
        lines += r["problems"]
        lines.append("station complete" if r["ok"] else f"{len(r['problems'])} problem(s)")
        return "\n".join(lines)

    emit(report, as_json, text)
    if not report["ok"]:
        click.get_current_context().exit(1)
