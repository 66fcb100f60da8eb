"""The members URL table: the pages under /admin/members and the JSON API under /api/v1/members, with what each
API operation answers (the OpenAPI document is generated from this table). The roles admin and office."""

from __future__ import annotations

from flask import Blueprint
from shangliang.core.web import auth
from shangliang.core.web.api import api_blueprint, errors, raw_body, roles

from . import api as handlers
from . import views
from .schemas import MemberDetail, MemberImported, MemberList

READERS = tuple(sorted(views.READERS))
CSV = {"schema": {"type": "string"}}

api = api_blueprint("members_api", __name__, "/members", tag="members", write_roles=views.WRITERS,
                    description="The committee's members (委员) on this node: listing, adding one, importing a CSV "
                                "file; the role admin or office.")
api.get("", responses={200: MemberList, **errors(400, 403)})(roles(*READERS)(handlers.list_members))
api.post("", responses={201: MemberDetail, **errors(400, 403, 413, 415)})(handlers.create_member)
api.post("/import", responses={201: MemberImported, **errors(400, 403, 413, 415)},
         openapi_extensions={"requestBody": {"required": True, "description": "a UTF-8 CSV file with a header row",
                                             "content": {"text/csv": CSV}}})(
    raw_body("text/csv")(handlers.import_members))

pages = Blueprint("members", __name__, url_prefix="/admin/members", template_folder="templates")

reader = auth.roles_required(views.READERS)
writer = auth.roles_required(views.WRITERS)
pages.add_url_rule("", "index", reader(views.index))
pages.add_url_rule("", "create", writer(views.create), methods=["POST"])
pages.add_url_rule("/import", "import_csv", writer(views.import_csv), methods=["POST"])
