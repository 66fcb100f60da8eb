"""``shangliang proposals statistics``: the year's proposals by status, filing review, category, handling unit and
satisfaction, as tables, JSON or an .xlsx file (the same counts and the same workbook as the page
``/proposals/statistics``)."""

from __future__ import annotations

from pathlib import Path

import click
from shangliang.core.clitools import emit, table, with_appcontext
from shangliang.core.context import node_context
from shangliang.core.db import get_session

from . import statistics
from .models import CLASSIFICATIONS


@click.command("statistics")
@click.option("--year", type=int, help="The proposals' year (default: this year, node's time zone).")
@click.option("--term", type=int, help="Only this term (届).")
@click.option("--session", "session_no", type=int, help="Only this session (次).")
@click.option("--xlsx", "xlsx", type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="Also write the counts to this .xlsx file (one sheet per table).")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def proposals_statistics(year, term, session_no, xlsx, as_json) -> None:
    """A year's proposals by status, review, category, handling unit and satisfaction."""
    from .statistics_web import export

    stats = statistics.proposal_statistics(get_session(), node_context(), year, term, session_no)
    if xlsx is not None:
        xlsx.write_bytes(export(stats))
    emit(stats, as_json, lambda s: "\n\n".join([
        f"{s['year']}: {s['total']} proposals, {s['key']} key, {s['face_to_face']} face to face",
        table([[r["status"], r["count"]] for r in s["by_status"]], ["status", "proposals"]),
        table([[r["review"], r["count"]] for r in s["review"]], ["review", "proposals"]),
        table([[r["category"], r["count"]] for r in s["by_category"]], ["category", "proposals"]),
        table([[u["unit"], u["lead"], u["co"], u["replied"], u["overdue"], *[u[c] for c in CLASSIFICATIONS]]
               for u in s["units"]["by_unit"]], ["unit", "lead", "co", "replied", "overdue", *CLASSIFICATIONS]),
        table([[r["level"], r["count"]] for r in s["satisfaction"]["overall"]], ["satisfaction", "proposals"]),
    ] + ([f"written: {xlsx}"] if xlsx is not None else [])))
