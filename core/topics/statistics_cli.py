"""``shangliang topics statistics``: the year's topics by stage and by area, and the implementation of results
(assignments by state and per unit, overdue, results by completion), as tables, JSON or an .xlsx file (the
same counts and the same workbook as the page ``/topics/statistics``)."""

from __future__ import annotations

from pathlib import Path

import click
from shangliang.core.clitools import emit, table, with_appcontext
from shangliang.core.context import node_context
from shangliang.core.db import get_session

from . import statistics


@click.command("statistics")
@click.option("--year", type=int, help="The year the topics were raised in (default: this year, node's time zone).")
@click.option("--xlsx", "xlsx", type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="Also write the counts to this .xlsx file (one sheet per table).")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def topics_statistics(year, xlsx, as_json) -> None:
    """Topics raised in a year, counted by stage and by area; assignments made and results recorded in it."""
    from .statistics_web import export

    node = node_context()
    stats = statistics.topic_statistics(get_session(), node, year)
    if xlsx is not None:
        xlsx.write_bytes(export(stats, node))
    emit(stats, as_json, lambda s: "\n\n".join([
        f"{s['year']}: {s['total']} topics, {s['overdue']} overdue",
        table([[r["stage"], r["count"]] for r in s["by_stage"]], ["stage", "topics"]),
        table([[r["area"], r["count"]] for r in s["by_area"]], ["area", "topics"]),
        *_implementation(s["implementation"]),
    ] + ([f"written: {xlsx}"] if xlsx is not None else [])))


def _implementation(impl: dict) -> list[str]:
    def share(value):
        return "-" if value is None else f"{value * 100:.0f}%"

    results = impl["results"]
    return [
        (f"{impl['year']}: {impl['assignments']} assignments, {impl['overdue']} overdue, {impl['on_time']} on time; "
         f"{results['total']} results"),
        table([[r["state"], r["count"]] for r in impl["by_state"]], ["state", "assignments"]),
        table([[u["unit"], u["assigned"], u["accepted"], u["overdue"], u["on_time"], share(u["on_time_share"])]
               for u in impl["by_unit"]], ["unit", "assigned", "accepted", "overdue", "on time", "on-time share"]),
        table([[r["completion"], r["count"]] for r in results["by_completion"]], ["implementation", "results"]),
    ]
