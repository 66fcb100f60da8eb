"""The similar-matters URL table: the page /similar and the JSON API under /api/v1/similar (the OpenAPI document is
generated from this table). Reading and deciding are the office's (and admins')."""

from __future__ import annotations

from flask import Blueprint

from shangliang.core.web import auth
from shangliang.core.web.api import api_blueprint, errors, roles

from . import api as handlers, services, views
from .schemas import SimilarDecided, SimilarList

api = api_blueprint("similar_api", __name__, "/similar", tag="similar", write_roles=services.DECIDERS,
                    description="Similar matters (集中的问题): suggestions to group topics held here with similar "
                                "content from different places into one matter, with the reasons; the office "
                                "merges, keeps separate or dismisses. The role admin or office.")

office = roles(*services.DECIDERS)
api.get("", responses={200: SimilarList, **errors(400, 403)})(office(handlers.list_suggestions))
api.get("/<int:suggestion_id>", responses={200: SimilarDecided, **errors(403, 404)})(office(handlers.show_suggestion))
api.post("/<int:suggestion_id>/merge", responses={200: SimilarDecided, **errors(400, 403, 404, 409, 415)})(
    handlers.merge)
api.post("/<int:suggestion_id>/separate", responses={200: SimilarDecided, **errors(400, 403, 404, 409, 415)})(
    handlers.separate)
api.post("/<int:suggestion_id>/dismiss", responses={200: SimilarDecided, **errors(400, 403, 404, 409, 415)})(
    handlers.dismiss)

pages = Blueprint("similar", __name__, url_prefix="/similar", template_folder="templates")
pages.app_context_processor(views.topic_page_helpers)

decider = auth.roles_required(services.DECIDERS)
pages.add_url_rule("", "index", decider(views.index))
pages.add_url_rule("/<int:suggestion_id>/decide", "decide", decider(views.decide), methods=["POST"])
