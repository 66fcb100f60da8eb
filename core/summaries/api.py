"""The summaries JSON API (GET /api/v1/summaries): call the subtree service, answer JSON; the URL table is in
``blueprint.py``."""

from __future__ import annotations

from shangliang.core.context import node_context
from shangliang.core.db import get_session
from shangliang.core.web.api import json_response, roles

from . import services


@roles("office", "admin")
def subtree():
    """The subtree of this node: its own figures and those of every node under it.

    This node's own figures (counted now, for its current year) and the latest figures each node under it
    reported through its children (`x-summaries.report`), summed in `totals`; each node with its overdue
    share and flagged `stale` when its figures are older than `[summaries] stale_seconds`. Office and admin
    only; counts only, no person named.
    """
    return json_response(services.subtree(get_session(), node_context()))
