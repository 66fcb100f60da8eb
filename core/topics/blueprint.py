"""The topics URL table: the pages under /topics and the JSON API under /api/v1/topics, with what each
API operation answers (the OpenAPI document is generated from this table)."""

from __future__ import annotations

from flask import Blueprint

from shangliang.core.web import auth
from shangliang.core.models import Role
from shangliang.core.web.api import api_blueprint, error_response, errors, raw_body, roles

from . import api as handlers, services, statistics_web, views
from .schemas import Acted, AssignmentList, Attached, Implementation, Raised, ReportFiled, TopicDetail, TopicList

BINARY = {"schema": {"type": "string", "format": "binary"}}

# -- /api/v1/topics ---------------------------------------------------------------------------------------

api = api_blueprint("topics_api", __name__, "/topics", tag="topics", write_roles=services.WRITERS,
                    description="Topics (协商议题): raise, list, show with the route, and act on them; reading needs "
                                "any user of this node, writing the role admin or office; a member or the public raises "
                                "topics as themselves and lists its own (/topics/mine).")

api.get("", responses={200: TopicList, **errors(400)})(handlers.list_topics)
api.register_error_handler(services.NotAllowed, lambda exc: error_response(403, "forbidden", str(exc), exc.field))
api.post("", responses={201: Raised, **errors(400, 403, 413, 415)})(roles(*services.RAISERS)(handlers.create_topic))
api.get("/mine", responses={200: TopicList})(handlers.my_topics)
api.get("/assignments", responses={200: AssignmentList})(handlers.list_assignments)
api.get("/<uid>", responses={200: TopicDetail, **errors(404)})(handlers.show_topic)
api.post("/<uid>/actions", responses={200: Acted, **errors(400, 403, 404, 409, 413, 415)})(handlers.act_on_topic)
api.post("/<uid>/attachments", responses={201: Attached, **errors(400, 403, 404, 409, 413, 415)},
         openapi_extensions={"requestBody": {"required": True, "description": "the file's raw bytes",
                                             "content": {"application/octet-stream": BINARY}}})(
    auth.request_limit(services.upload_limit)(raw_body("application/octet-stream")(handlers.attach_file)))
api.get("/<uid>/attachments/<sha256>",
        responses={200: {"description": "the file's bytes", "content": {"application/octet-stream": BINARY}},
                   **errors(404)})(handlers.download_attachment)

# implementation of a result (办理实施): the office assigns, records instructions and reviews; units report
api.get("/<uid>/implementation", responses={200: Implementation, **errors(404)})(handlers.show_implementation)
api.post("/<uid>/implementation/assignments", responses={201: Implementation, **errors(400, 403, 404, 409, 415)})(
    handlers.assign_units)
api.post("/<uid>/implementation/instructions", responses={201: Implementation, **errors(400, 403, 404, 409, 415)})(
    handlers.add_instruction)
api.post("/<uid>/implementation/reports", responses={201: ReportFiled, **errors(400, 403, 404, 409, 415)})(
    roles(Role.HANDLING_UNIT.value)(handlers.file_report))
api.post("/<uid>/implementation/reports/<int:report_id>/review",
         responses={200: Implementation, **errors(400, 403, 404, 409, 415)})(handlers.review_report)

# -- /topics ---------------------------------------------------------------------------------------------

pages = Blueprint("topics", __name__, url_prefix="/topics", template_folder="templates")
pages.context_processor(views.template_helpers)

writer = auth.roles_required(services.WRITERS)
pages.add_url_rule("", "index", auth.login_required(views.index))
pages.add_url_rule("", "raise_topic", auth.roles_required(services.RAISERS)(views.raise_topic), methods=["POST"])
pages.add_url_rule("/mine", "mine", auth.login_required(views.mine))
pages.add_url_rule("/assignments", "assignments", auth.login_required(views.assignments))
pages.add_url_rule("/<uid>", "show", auth.login_required(views.show))
pages.add_url_rule("/<uid>/attach", "attach", auth.request_limit(services.upload_limit)(writer(views.attach)),
                   methods=["POST"])
pages.add_url_rule("/<uid>/attachments/<sha256>", "attachment", auth.login_required(views.attachment))
pages.add_url_rule("/<uid>/act", "act", writer(views.act), methods=["POST"])
pages.add_url_rule("/<uid>/implementation/assign", "assign_unit", writer(views.assign_unit), methods=["POST"])
pages.add_url_rule("/<uid>/implementation/instruct", "instruct", writer(views.instruct), methods=["POST"])
pages.add_url_rule("/<uid>/implementation/report", "file_report",
                   auth.roles_required({Role.HANDLING_UNIT.value})(views.file_report), methods=["POST"])
pages.add_url_rule("/<uid>/implementation/reports/<int:report_id>/review", "review_report",
                   writer(views.review_report), methods=["POST"])

# /topics/statistics (with ?format=xlsx) and /api/v1/topics/statistics: see statistics_web.py
statistics_web.register(api, pages)
