"""``shangliang six-step check UID``: what each stage of a topic still lacks; ``six-step record``: a stage's
record (a decision, a research note, minutes, the feedback) as a topic event."""

from __future__ import annotations

import click
import flask

from shangliang.core.cli import _os_user, emit, table, with_appcontext
from shangliang.core.context import node_context
from shangliang.core.db import get_session, transaction
from shangliang.core.topics import services as topics

from . import services


@click.group("six-step")
def six_step() -> None:
    """Six-step rule (六步议事): each stage of a topic needs its record before the next."""


@six_step.command("check")
@click.argument("uid")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def six_step_check(uid: str, as_json: bool) -> None:
    """Each stage of a topic: its record, whether the rule enforces it, what it still lacks."""
    session = get_session()
    topic = topics.get_topic(session, uid).as_dict(events=True)
    rows = [row.as_dict() for row in services.check(session, topic, services.settings(flask.current_app.config))]
    emit({"uid": uid, "stage": topic["stage"], "stages": rows}, as_json, lambda d: f"{d['uid']} is {d['stage']}\n" + table(
        [[r["stage"], r["words"], r["record"], "yes" if r["enforced"] else "no",
          "done" if r["done"] else "; ".join(r["lacks"])] for r in d["stages"]],
        ["stage", "步骤", "record", "enforced", "lacks"]))


@six_step.command("record")
@click.argument("uid")
@click.argument("what", type=click.Choice(list(services.RECORDS)))
@click.option("--note", required=True, help="Who, when and what (e.g. 主席会议 2027-03-02 决定).")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def six_step_record(uid: str, what: str, note: str, as_json: bool) -> None:
    """Record a stage's record on a topic held here: decision, research, minutes or feedback."""
    with transaction() as session:
        event = services.record(session, node_context(), uid, what, note, f"cli:{_os_user()}")
    emit(event, as_json, lambda d: f"{d['uid']}: {d['action']} recorded at {d['stage']}")
