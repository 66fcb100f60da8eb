"""The summaries URL table: the page /summaries, its download /summaries.xlsx and GET /api/v1/summaries (the
OpenAPI document is generated from this table). Office and admin only."""

from __future__ import annotations

from flask import Blueprint

from shangliang.core.web import auth
from shangliang.core.web.api import api_blueprint, errors

from . import api as handlers
from . import views
from .schemas import SummaryView

OFFICE = ("office", "admin")

api = api_blueprint("summaries_api", __name__, "/summaries", tag="summaries", write_roles=(),
                    description="A level sees its subtree: this node's own figures and the latest each node under "
                                "it reported (x-summaries.report), summed, with silent nodes flagged stale. Office "
                                "and admin.")
api.get("", responses={200: SummaryView, **errors(403)})(handlers.subtree)

pages = Blueprint("summaries", __name__, template_folder="templates")
pages.add_url_rule("/summaries", "index", auth.roles_required(OFFICE)(views.page))
pages.add_url_rule("/summaries.xlsx", "xlsx", auth.roles_required(OFFICE)(views.xlsx))
