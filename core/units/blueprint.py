"""The units URL table: the pages under /units and the JSON API under /api/v1/units, with what each API
operation answers (the OpenAPI document is generated from this table)."""

from __future__ import annotations

from flask import Blueprint
from shangliang.core.web import auth
from shangliang.core.web.api import api_blueprint, errors, raw_body, roles

from . import api as handlers
from . import services, views
from .schemas import UnitDetail, UnitImported, UnitList

READERS = tuple(sorted(services.READERS))
CSV = {"schema": {"type": "string"}}

# -- /api/v1/units ----------------------------------------------------------------------------------------

api = api_blueprint("units_api", __name__, "/units", tag="units", write_roles=services.WRITERS,
                    description="Handling units (承办单位): the party committee's and government's departments and "
                                "other bodies this node assigns results and proposals to, with their contact users; "
                                "reading needs the role admin, office or handling_unit (its own unit only), writing "
                                "the role admin or office.")

api.get("", responses={200: UnitList, **errors(400, 403)})(roles(*READERS)(handlers.list_units))
api.post("", responses={201: UnitDetail, **errors(400, 403, 413, 415)})(handlers.create_unit)
api.post("/import", responses={201: UnitImported, **errors(400, 403, 413, 415)},
         openapi_extensions={"requestBody": {"required": True, "description": "a UTF-8 CSV file with a header row",
                                             "content": {"text/csv": CSV}}})(
    raw_body("text/csv")(handlers.import_units))
api.get("/<ref>", responses={200: UnitDetail, **errors(403, 404)})(roles(*READERS)(handlers.show_unit))
api.patch("/<ref>", responses={200: UnitDetail, **errors(400, 403, 404, 413, 415)})(handlers.update_unit)

# -- /units ----------------------------------------------------------------------------------------------

pages = Blueprint("units", __name__, url_prefix="/units", template_folder="templates")
pages.context_processor(views.template_helpers)

reader = auth.roles_required(services.READERS)
writer = auth.roles_required(services.WRITERS)
pages.add_url_rule("", "index", reader(views.index))
pages.add_url_rule("", "create", writer(views.create), methods=["POST"])
pages.add_url_rule("/import", "import_csv", writer(views.import_csv), methods=["POST"])
pages.add_url_rule("/<ref>", "show", reader(views.show))
pages.add_url_rule("/<ref>", "update", writer(views.update), methods=["POST"])
