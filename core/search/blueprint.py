"""The search URL table: the page /search and the JSON API GET /api/v1/search (the OpenAPI document is generated
from this table). Reading needs a signed-in user; what each finds is what their lists show."""

from __future__ import annotations

from flask import Blueprint

from shangliang.core.web import auth
from shangliang.core.web.api import api_blueprint, errors

from . import api as handlers
from . import views
from .schemas import SearchView

api = api_blueprint("search_api", __name__, "/search", tag="search", write_roles=(),
                    description="Search across topics, proposals and social-opinion reports, for Chinese text: "
                                "every word as written, two-character words too, with filters by kind, stage "
                                "or status, area (a division and all under it), category and year. Any signed-in "
                                "user; each sees what their lists show.")
api.get("", responses={200: SearchView, **errors(400)})(handlers.search)

pages = Blueprint("search", __name__, url_prefix="/search", template_folder="templates")
pages.add_url_rule("", "index", auth.login_required(views.search_page))
