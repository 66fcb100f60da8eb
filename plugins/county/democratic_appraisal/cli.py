"""``shangliang democratic-appraisal candidates YEAR KIND``: what the practice proposes for a year's appraisal;
``democratic-appraisal propose ID``: propose them for an appraisal made before the practice was enabled."""

from __future__ import annotations

import click
import flask
from shangliang.core.appraisal.models import KINDS
from shangliang.core.cli import emit, table, with_appcontext
from shangliang.core.clitools import _os_user, rehearsable
from shangliang.core.context import node_context
from shangliang.core.db import get_session, transaction

from . import services


def _rows(rows: list[dict]) -> str:
    if not rows:
        return "nothing to propose: no key topic of last year reached a result here (or it is a subject already)"
    return table([[r.get("id", ""), r.get("topic") or "", r.get("unit") or "", r.get("note") or ""] for r in rows],
                 ["subject", "topic", "unit", "note"])


@click.group("democratic-appraisal")
def democratic_appraisal() -> None:
    """民主评议: last year's key topics proposed as this year's appraisal subjects."""


@democratic_appraisal.command("candidates")
@click.argument("year", type=int)
@click.argument("kind", type=click.Choice(KINDS))
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def democratic_appraisal_candidates(year: int, kind: str, as_json: bool) -> None:
    """What the practice proposes for YEAR's appraisal of KIND (nothing is stored)."""
    found = services.candidates(get_session(), node_context(), year, kind, services.settings(flask.current_app.config))
    emit(found, as_json, _rows)


@democratic_appraisal.command("propose")
@click.argument("appraisal_id", type=int)
@click.option("--json", "as_json", is_flag=True)
@rehearsable
@with_appcontext
def democratic_appraisal_propose(appraisal_id: int, as_json: bool) -> None:
    """Propose last year's key topics as subjects of the appraisal APPRAISAL_ID (each awaits the office)."""
    with transaction(f"cli:{_os_user()}") as session:
        made = services.propose(session, node_context(), appraisal_id, services.settings(flask.current_app.config),
                                f"cli:{_os_user()}")
    emit(made, as_json, _rows)
