"""The users URL table: the pages under /admin/users and the JSON API under /api/v1/users, with what each API
operation answers (the OpenAPI document is generated from this table). The role admin only."""

from __future__ import annotations

from flask import Blueprint
from shangliang.core.web import auth
from shangliang.core.web.api import api_blueprint, errors, roles

from . import api as handlers
from . import views
from .schemas import UserDetail, UserList, UserPasswordSet

ADMIN = frozenset({"admin"})

api = api_blueprint("users_api", __name__, "/users", tag="users", write_roles=ADMIN,
                    description="The accounts that sign in to this node: adding one, changing its role, turning it "
                                "off or on, setting its password; the role admin only. The last active admin can be "
                                "neither demoted nor turned off.")
api.get("", responses={200: UserList, **errors(400, 403)})(roles(*ADMIN)(handlers.list_users))
api.post("", responses={201: UserDetail, **errors(400, 403, 413, 415)})(handlers.create_user)
api.get("/<username>", responses={200: UserDetail, **errors(403, 404)})(roles(*ADMIN)(handlers.show_user))
api.patch("/<username>", responses={200: UserDetail, **errors(400, 403, 404, 409, 413, 415)})(handlers.update_user)
api.put("/<username>/password", responses={200: UserPasswordSet, **errors(400, 403, 404, 413, 415)})(
    handlers.set_password)

pages = Blueprint("users", __name__, url_prefix="/admin/users", template_folder="templates")
pages.context_processor(views.template_helpers)

admin = auth.roles_required(ADMIN)
pages.add_url_rule("", "index", admin(views.index))
pages.add_url_rule("", "create", admin(views.create), methods=["POST"])
pages.add_url_rule("/<username>/role", "set_role", admin(views.set_role), methods=["POST"])
pages.add_url_rule("/<username>/active", "set_active", admin(views.set_active), methods=["POST"])
pages.add_url_rule("/<username>/password", "set_password", admin(views.set_password), methods=["POST"])
