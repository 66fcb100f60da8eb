"""The appraisal URL table: the pages under /appraisal and the JSON API under /api/v1/appraisals, with what each
API operation answers (the OpenAPI document is generated from this table)."""

from __future__ import annotations

from flask import Blueprint
from shangliang.core.web import auth
from shangliang.core.web.api import api_blueprint, errors, roles

from . import api as handlers
from . import services, views
from .schemas import (
                      AppraisalAnswer,
                      AppraisalCandidateList,
                      AppraisalList,
                      AppraisalRectificationAnswer,
                      AppraisalRectificationList,
)

WRITE = errors(400, 403, 404, 409, 413, 415)
UNITS = tuple(sorted(services.UNITS))

# -- /api/v1/appraisals ------------------------------------------------------------------------------------

api = api_blueprint("appraisal_api", __name__, "/appraisals", tag="appraisals", write_roles=services.WRITERS,
                    description="Democratic appraisal (民主评议): the year's appraisal of government departments or of "
                                "the implementation of key topics — subjects (last year's key topics proposed by a "
                                "practice, confirmed by the office), groups of members with a leader, visits and "
                                "findings, ratings, the report to the party committee and government, and the "
                                "departments' rectification (整改) with the units' reports. Reading needs any user "
                                "of this node (a handling unit's user sees its own unit's rectifications only; who "
                                "rated what, the office and admins only); writing the role admin or office, but "
                                "a rectification report the role handling_unit (the unit's contact user).")

api.get("", responses={200: AppraisalList, **errors(400)})(handlers.list_appraisals)
api.post("", responses={201: AppraisalAnswer, **errors(400, 403, 409, 413, 415)})(handlers.create_appraisal)
api.get("/candidates", responses={200: AppraisalCandidateList, **errors(400)})(handlers.candidates)
api.get("/rectifications", responses={200: AppraisalRectificationList})(handlers.list_rectifications)
api.get("/rectifications/<int:rectification_id>", responses={200: AppraisalRectificationAnswer, **errors(404)})(
    handlers.show_rectification)
api.post("/rectifications/<int:rectification_id>/reports", responses={201: AppraisalRectificationAnswer, **WRITE})(
    roles(*UNITS)(handlers.file_report))
api.post("/rectifications/<int:rectification_id>/reports/<int:report_id>/review",
         responses={200: AppraisalRectificationAnswer, **WRITE})(handlers.review_report)
api.get("/<int:appraisal_id>", responses={200: AppraisalAnswer, **errors(404)})(handlers.show_appraisal)
api.post("/<int:appraisal_id>/subjects", responses={201: AppraisalAnswer, **WRITE})(handlers.add_subject)
api.post("/<int:appraisal_id>/subjects/<int:subject_id>/decision", responses={200: AppraisalAnswer, **WRITE})(
    handlers.decide_subject)
api.post("/<int:appraisal_id>/groups", responses={201: AppraisalAnswer, **WRITE})(handlers.add_group)
api.post("/<int:appraisal_id>/visits", responses={201: AppraisalAnswer, **WRITE})(handlers.record_visit)
api.post("/<int:appraisal_id>/ratings", responses={201: AppraisalAnswer, **WRITE})(handlers.rate)
api.post("/<int:appraisal_id>/report", responses={200: AppraisalAnswer, **WRITE})(handlers.send_report)
api.post("/<int:appraisal_id>/rectifications", responses={201: AppraisalRectificationAnswer, **WRITE})(
    handlers.assign_rectification)

# -- /appraisal -----------------------------------------------------------------------------------------------

pages = Blueprint("appraisal", __name__, url_prefix="/appraisal", template_folder="templates")
pages.context_processor(views.template_helpers)

office = auth.roles_required(services.WRITERS)
unit = auth.roles_required(services.UNITS)
pages.add_url_rule("", "index", auth.login_required(views.index))
pages.add_url_rule("", "create", office(views.create), methods=["POST"])
pages.add_url_rule("/rectifications", "rectifications", auth.login_required(views.rectifications))
pages.add_url_rule("/rectifications/<int:rectification_id>", "unit_report", unit(views.unit_report),
                   methods=["POST"])
pages.add_url_rule("/<int:appraisal_id>", "show", auth.login_required(views.show))
pages.add_url_rule("/<int:appraisal_id>", "office_act", office(views.office_act), methods=["POST"])
