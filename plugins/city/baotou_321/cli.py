"""``shangliang baotou-321 check REF``: what a proposal has and still lacks under the 321 method;
``baotou-321 list``: the proposals on their way to being closed, with what each lacks."""

from __future__ import annotations

from typing import Any

import click
import flask

from shangliang.core.cli import emit, table, with_appcontext
from shangliang.core.db import get_session
from shangliang.core.proposals.services import OPERATOR

from . import services

#: What each item is, for the table.
LABELS = {"before": "communication before handling", "during": "communication during handling",
          "after": "communication after handling", "face_to_face": "face-to-face meetings",
          "publication": "publication"}


def _text(r: dict[str, Any]) -> str:
    head = f"{r['ref']} {r['title']} ({r['status']})"
    rows = [[f"{LABELS[i['key']]} ({i['words']})", i["need"], i["have"], i["missing"] or "done"] for i in r["items"]]
    body = table(rows, ["what", "needed", "recorded", "missing"]) if rows else "the method requires nothing here"
    if r["complete"]:
        return f"{head}\n{body}\nnothing missing: the 321 method lets it close"
    return f"{head}\n{body}\nclosing is refused while these are missing:\n" + \
        "\n".join(f"  - {i['reason']}" for i in r["missing"])


@click.group("baotou-321")
def baotou_321() -> None:
    """321 proposal method (三沟通、两见面、一公开): what a proposal lacks before it closes."""


@baotou_321.command("check")
@click.argument("ref")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def baotou_321_check(ref: str, as_json: bool) -> None:
    """What the proposal REF (its number, or its id before it is filed) has and still lacks."""
    found = services.check_proposal(get_session(), ref, OPERATOR, services.settings(flask.current_app.config))
    emit(found, as_json, _text)


@baotou_321.command("list")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def baotou_321_list(as_json: bool) -> None:
    """The proposals filed and not yet closed, with what each still lacks."""
    found = services.open_proposals(get_session(), OPERATOR, services.settings(flask.current_app.config))
    emit(found, as_json, lambda rs: table(
        [[r["ref"], r["title"], r["status"],
          "complete" if r["complete"] else "; ".join(f"{LABELS[i['key']]} {i['missing']}" for i in r["missing"])]
         for r in rs], ["proposal", "title", "status", "missing"]) if rs else "no filed proposal is open")
