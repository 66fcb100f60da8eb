"""The workbench URL table: the inbox page and the JSON API under /api/v1/me (the OpenAPI document is
generated from this table). The workbench page itself is the node's home page."""

from __future__ import annotations

from flask import Blueprint
from shangliang.core.models import Role
from shangliang.core.web import auth
from shangliang.core.web.api import api_blueprint, errors, roles

from . import api as handlers
from . import views
from .schemas import InboxMarked, InboxView, WorkbenchView

EVERYONE = tuple(sorted(r.value for r in Role))

# -- /api/v1/me --------------------------------------------------------------------------------------------

api = api_blueprint("workbench_api", __name__, "/me", tag="workbench", write_roles=EVERYONE,
                    description="What waits for the signed-in user (the workbench) and their notification inbox; "
                                "any signed-in user, for themselves only.")

api.get("/workbench", responses={200: WorkbenchView, **errors(403)})(handlers.show_workbench)
api.get("/inbox", responses={200: InboxView, **errors(400, 403)})(handlers.list_inbox)
api.post("/inbox/read", responses={200: InboxMarked, **errors(400, 403, 404, 413, 415)})(
    roles(*EVERYONE)(handlers.mark_read))

# -- /inbox ----------------------------------------------------------------------------------------------

pages = Blueprint("workbench", __name__, url_prefix="/inbox", template_folder="templates")
pages.context_processor(views.template_helpers)
pages.add_url_rule("", "inbox", auth.login_required(views.inbox))
pages.add_url_rule("/read", "mark_read", auth.login_required(views.mark_read), methods=["POST"])
