"""The plans URL table: the pages under /plans and the JSON API under /api/v1/plans, with what each API
operation answers (the OpenAPI document is generated from this table)."""

from __future__ import annotations

from flask import Blueprint
from shangliang.core.web import auth
from shangliang.core.web.api import api_blueprint, errors

from . import api as handlers
from . import services, views
from .schemas import PlanDetail, PlanForms, PlanList, PlanPublished

# -- /api/v1/plans ----------------------------------------------------------------------------------------

api = api_blueprint("plans_api", __name__, "/plans", tag="plans", write_roles=services.WRITERS,
                    description="Annual consultation plans (年度协商计划): draft a year's plan, add its topics, take "
                                "it through its approval steps in order, publish it, amend it; reading needs any user "
                                "of this node, writing the role admin or office.")

api.get("", responses={200: PlanList, **errors(400)})(handlers.list_plans)
api.post("", responses={201: PlanDetail, **errors(400, 403, 409, 413, 415)})(handlers.create_plan)
api.get("/forms", responses={200: PlanForms})(handlers.list_forms)
api.get("/<int:year>", responses={200: PlanDetail, **errors(404)})(handlers.show_plan)
api.post("/<int:year>/items", responses={201: PlanDetail, **errors(400, 403, 404, 409, 413, 415)})(handlers.add_item)
api.delete("/<int:year>/items/<int:item_id>",
           responses={200: PlanDetail, **errors(400, 403, 404, 409, 415)})(handlers.remove_item)
api.post("/<int:year>/steps", responses={201: PlanDetail, **errors(400, 403, 404, 409, 413, 415)})(handlers.take_step)
api.post("/<int:year>/publish",
         responses={200: PlanPublished, **errors(400, 403, 404, 409, 413, 415)})(handlers.publish)
api.post("/<int:year>/amendments",
         responses={201: PlanDetail, **errors(400, 403, 404, 409, 413, 415)})(handlers.amend)

# -- /plans ---------------------------------------------------------------------------------------------

pages = Blueprint("plans", __name__, url_prefix="/plans", template_folder="templates")
pages.context_processor(views.template_helpers)

writer = auth.roles_required(services.WRITERS)
pages.add_url_rule("", "index", auth.login_required(views.index))
pages.add_url_rule("", "create", writer(views.create), methods=["POST"])
pages.add_url_rule("/<int:year>", "show", auth.login_required(views.show))
pages.add_url_rule("/<int:year>/items", "add_item", writer(views.add_item), methods=["POST"])
pages.add_url_rule("/<int:year>/items/<int:item_id>/remove", "remove_item", writer(views.remove_item),
                   methods=["POST"])
pages.add_url_rule("/<int:year>/steps", "step", writer(views.take_step), methods=["POST"])
pages.add_url_rule("/<int:year>/publish", "publish", writer(views.publish), methods=["POST"])
pages.add_url_rule("/<int:year>/amendments", "amend", writer(views.amend), methods=["POST"])
