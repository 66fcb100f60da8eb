"""The opinions URL table: the pages under /opinions and the JSON API under /api/v1/opinions, with what each API
operation answers (the OpenAPI document is generated from this table)."""

from __future__ import annotations

from flask import Blueprint

from shangliang.core.web import auth
from shangliang.core.web.api import api_blueprint, error_response, errors, roles

from . import api as handlers, services, views
from .errors import NotAllowed
from .schemas import (OpinionAnswer, OpinionDecisionAnswer, OpinionIssueAnswer, OpinionIssueList, OpinionList,
                      OpinionStatistics)

WRITE = errors(400, 403, 404, 409, 413, 415)

api = api_blueprint("opinions_api", __name__, "/opinions", tag="opinions", write_roles=services.OFFICE,
                    description="Social-opinion reports (社情民意信息): written by members (their own) or, through "
                                "the office, by bodies; edited, compiled into issues (期) and decided by the office "
                                "— used, forwarded up level by level, sent to the party committee or government, "
                                "not used, adopted, instructed — every decision above told back down to where the "
                                "report was written. Every user of the node reads.")
api.register_error_handler(NotAllowed, lambda exc: error_response(403, "forbidden", str(exc)))

WRITERS = tuple(sorted(services.WRITERS))

api.get("", responses={200: OpinionList, **errors(400)})(handlers.list_opinions)
api.post("", responses={201: OpinionAnswer, **errors(400, 403, 413, 415)})(roles(*WRITERS)(handlers.write_opinion))
api.get("/statistics", responses={200: OpinionStatistics, **errors(400)})(handlers.opinion_statistics)
api.get("/issues", responses={200: OpinionIssueList})(handlers.list_issues)
api.post("/issues", responses={201: OpinionIssueAnswer, **WRITE})(handlers.compile_issue)
api.post("/from-proposal", responses={201: OpinionAnswer, **WRITE})(handlers.opinion_from_proposal)
api.get("/<ref>", responses={200: OpinionAnswer, **errors(404)})(handlers.show_opinion)
api.patch("/<ref>", responses={200: OpinionAnswer, **WRITE})(handlers.edit_opinion)
api.post("/<ref>/decisions", responses={201: OpinionDecisionAnswer, **WRITE})(handlers.decide_opinion)

pages = Blueprint("opinions", __name__, url_prefix="/opinions", template_folder="templates")
pages.context_processor(views.template_helpers)

office = auth.roles_required(services.OFFICE)
writer = auth.roles_required(services.WRITERS)
pages.add_url_rule("", "index", auth.login_required(views.index))
pages.add_url_rule("", "write", writer(views.write), methods=["POST"])
pages.add_url_rule("/new", "new", writer(views.new))
pages.add_url_rule("/issues", "issues", auth.login_required(views.issues))
pages.add_url_rule("/issues", "compile_issue", office(views.compile_issue), methods=["POST"])
pages.add_url_rule("/statistics", "statistics", auth.login_required(views.statistics_page))
pages.add_url_rule("/<ref>", "show", auth.login_required(views.show))
pages.add_url_rule("/<ref>/edit", "edit", office(views.edit), methods=["POST"])
pages.add_url_rule("/<ref>/decide", "decide", office(views.decide), methods=["POST"])
