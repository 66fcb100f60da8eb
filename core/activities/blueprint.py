"""The activities URL table: the pages under /activities and the JSON API under /api/v1/activities (and its
calendar, /api/v1/activities.ics), with what each API operation answers (the OpenAPI document is generated
from this table)."""

from __future__ import annotations

from flask import Blueprint

from shangliang.core.web import auth
from shangliang.core.web.api import api_blueprint, errors, raw_body, roles

from . import api as handlers, services, views
from .schemas import (ActivityActed, ActivityDetail, ActivityList, ActivityMaterialAdded, ActivityOpinionPosted,
                      ActivityRemote, ActivityRemoteActed, ActivityRemoteList)

BINARY = {"schema": {"type": "string", "format": "binary"}}
ONLINE = tuple(sorted(services.ONLINE_ROLES))

# -- /api/v1/activities -----------------------------------------------------------------------------------

api = api_blueprint("activities_api", __name__, "/activities", tag="activities", write_roles=services.WRITERS,
                    description="Consultation activities (协商活动): plan, invite, take attendance, record research and "
                                "opinions, run an online window, reach a consensus, approve minutes, close; reading "
                                "needs any user of this node, writing the role admin or office, posting an opinion "
                                "online the role member or public.")

api.get("", responses={200: ActivityList, **errors(400)})(handlers.list_activities)
# A lower node's activities, as this level sees them (before /<uid>: a fixed path wins over a variable one)
api.get("/remote", responses={200: ActivityRemoteList})(handlers.list_remote)
api.get("/remote/<uid>", responses={200: ActivityRemote, **errors(404)})(handlers.show_remote)
api.post("/remote/<uid>/actions", responses={200: ActivityRemoteActed, **errors(400, 403, 409, 413, 415)})(
    handlers.act_on_remote)
api.post("", responses={201: ActivityActed, **errors(400, 403, 413, 415)})(handlers.create_activity)
api.get("/<uid>", responses={200: ActivityDetail, **errors(404)})(handlers.show_activity)
api.post("/<uid>/actions", responses={200: ActivityActed, **errors(400, 403, 404, 409, 413, 415)})(
    handlers.act_on_activity)
api.post("/<uid>/opinions", responses={201: ActivityOpinionPosted, **errors(400, 403, 404, 413, 415)})(
    roles(*ONLINE)(handlers.post_opinion))
api.post("/<uid>/materials", responses={201: ActivityMaterialAdded, **errors(400, 403, 404, 409, 413, 415)},
         openapi_extensions={"requestBody": {"required": True, "description": "the file's raw bytes",
                                             "content": {"application/octet-stream": BINARY}}})(
    auth.request_limit(services.upload_limit)(raw_body("application/octet-stream")(handlers.add_material)))
api.get("/<uid>/materials/<sha256>",
        responses={200: {"description": "the file's bytes", "content": {"application/octet-stream": BINARY}},
                   **errors(404)})(handlers.download_material)

# /api/v1/activities.ics: beside the collection, so on a blueprint of its own at /api/v1
calendar = api_blueprint("activities_calendar", __name__, "", tag="activities", write_roles=services.WRITERS,
                         description="Consultation activities (协商活动) as iCalendar.")
calendar.get("/activities.ics", responses={200: {"description": "an iCalendar file (RFC 5545)",
                                                 "content": {"text/calendar": {"schema": {"type": "string"}}}}})(
    handlers.calendar)

# -- /activities -----------------------------------------------------------------------------------------

pages = Blueprint("activities", __name__, url_prefix="/activities", template_folder="templates")
pages.context_processor(views.template_helpers)

writer = auth.roles_required(services.WRITERS)
online = auth.roles_required(services.ONLINE_ROLES)
pages.add_url_rule("", "index", auth.login_required(views.index))
pages.add_url_rule("", "create", writer(views.create), methods=["POST"])
pages.add_url_rule("/remote", "remote", auth.login_required(views.remote))
pages.add_url_rule("/remote", "remote_act", writer(views.remote_act), methods=["POST"])
pages.add_url_rule("/<uid>", "show", auth.login_required(views.show))
pages.add_url_rule("/<uid>/act", "act", writer(views.act), methods=["POST"])
pages.add_url_rule("/<uid>/opinions", "post_opinion", online(views.post_opinion), methods=["POST"])
pages.add_url_rule("/<uid>/materials", "add_material", auth.request_limit(services.upload_limit)(
    writer(views.add_material)), methods=["POST"])
pages.add_url_rule("/<uid>/materials/<sha256>", "material", auth.login_required(views.material))
