"""The duty URL table: the pages under /duty and the JSON API under /api/v1/duty and /api/v1/members/{ref}/duty,
with what each API operation answers (the OpenAPI document is generated from this table)."""

from __future__ import annotations

from flask import Blueprint

from shangliang.core.web import auth
from shangliang.core.web.api import api_blueprint, error_response, errors, roles

from . import api as handlers, services, views
from .errors import NotAllowed
from .schemas import DutyAssessmentAnswer, DutyItemAnswer, DutyRecordAnswer, DutyRemindAnswer, DutyReportAnswer

OFFICE = tuple(sorted(services.OFFICE))
READERS = tuple(sorted(services.READERS))
WRITE = errors(400, 403, 404, 413, 415)

# -- /api/v1/duty ------------------------------------------------------------------------------------------

api = api_blueprint("duty_api", __name__, "/duty", tag="duty", write_roles=services.OFFICE,
                    description="Members' duty records (委员履职档案) and the yearly assessment (履职考核): the table of "
                                "every member's standing under the enabled practices' rules, items recorded by hand "
                                "with evidence, items reported to a higher committee, reminders. The office's.")
api.get("", responses={200: DutyAssessmentAnswer, **errors(400, 403)})(roles(*OFFICE)(handlers.assessment))
api.post("/items", responses={201: DutyItemAnswer, **WRITE})(handlers.add_item)
api.post("/reports", responses={201: DutyReportAnswer, **WRITE})(handlers.report)
api.post("/reminders", responses={200: DutyRemindAnswer, **WRITE})(handlers.remind)

# -- /api/v1/members/{ref}/duty ----------------------------------------------------------------------------

member_api = api_blueprint("duty_members_api", __name__, "/members", tag="duty", write_roles=services.OFFICE,
                           description="Members' duty records (委员履职档案).")
member_api.register_error_handler(NotAllowed, lambda exc: error_response(403, "forbidden", str(exc)))
member_api.get("/<ref>/duty", responses={200: DutyRecordAnswer, **errors(400, 403, 404)})(
    roles(*READERS)(handlers.member_duty))

# -- /duty ------------------------------------------------------------------------------------------------

pages = Blueprint("duty", __name__, url_prefix="/duty", template_folder="templates")
pages.register_error_handler(NotAllowed, views.not_allowed)

office = auth.roles_required(services.OFFICE)
reader = auth.roles_required(services.READERS)
pages.add_url_rule("", "index", reader(views.index))
pages.add_url_rule("/items", "add_item", auth.request_limit(lambda config: services.MAX_FILE + 256 * 1024)(
    office(views.add_item)), methods=["POST"])
pages.add_url_rule("/reports", "report", office(views.report), methods=["POST"])
pages.add_url_rule("/items/<int:item_id>/evidence", "evidence", office(views.evidence))
pages.add_url_rule("/members/<ref>", "member", reader(views.member))
