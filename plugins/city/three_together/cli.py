"""``shangliang together report``: the year's topics, activities and adopted results against the targets."""

from __future__ import annotations

from typing import Any

import click
import flask

from shangliang.core.cli import emit, table, with_appcontext
from shangliang.core.db import get_session

from . import services

LABELS = {"topics": "topics planned together", "activities": "activities held together",
          "adopted_results": "results adopted"}


@click.group()
def together() -> None:
    """三个一起: topics, plans and activities together with the party committee and the government."""


@together.command("report")
@click.option("--year", type=int, default=None, help="the year (default: this year)")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def together_report(year: int | None, as_json: bool) -> None:
    """Count the year's topics, activities and adopted results against the targets."""
    config = flask.current_app.config
    found = services.report(get_session(), config, services.settings(config), year or services.this_year(config))

    def text(r: dict[str, Any]) -> str:
        plan = f"plan {r['year']}: {r['plan']['status']}, {r['plan']['items']} item(s)" if r["plan"] else \
            f"no plan for {r['year']}"
        rows = [[LABELS[row["key"]], row["count"], row["target"], row["short"] or "met"] for row in r["rows"]]
        return plan + "\n" + table(rows, ["what", "count", "target", "short"])

    emit(found, as_json, text)
