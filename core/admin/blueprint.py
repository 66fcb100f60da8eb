"""The administration URL table: the pages under /admin and the JSON API under /api/v1/peers, /api/v1/outbox,
/api/v1/bundles and /api/v1/audit, with what each API operation answers (the OpenAPI document is generated from this table).
The role admin changes; the office reads."""

from __future__ import annotations

from flask import Blueprint
from shangliang.core.web import auth
from shangliang.core.web.api import api_blueprint, errors, raw_body, roles
from shangliang.federation import bundles

from . import api as handlers
from . import metrics, services, views
from .schemas import (
    AuditList,
    AuditVerified,
    BundleFile,
    BundleReport,
    OutboxDetail,
    OutboxList,
    PeerDetail,
    PeerHealthList,
    PeerList,
    PeerRemoved,
)

ADMIN = tuple(sorted(services.ADMIN))
READERS = tuple(sorted(services.READERS))

# -- /api/v1/peers, /api/v1/outbox, /api/v1/audit ----------------------------------------------------------

peers_api = api_blueprint("peers_api", __name__, "/peers", tag="peers", write_roles=services.ADMIN,
                          description="This node's neighbours (its parent and children, pinned with their keys): "
                                      "this node's own pairing line, pinning one from its pairing line, naming and "
                                      "removing one, and each one's health; reading needs the role admin or office, "
                                      "changing the role admin.")
peers_api.get("", responses={200: PeerList, **errors(403)})(roles(*READERS)(handlers.list_peers))
peers_api.get("/health", responses={200: PeerHealthList, **errors(403)})(roles(*READERS)(handlers.peers_health))
peers_api.post("", responses={201: PeerDetail, **errors(400, 403, 413, 415)})(handlers.add_peer)
peers_api.patch("/<node_id>", responses={200: PeerDetail, **errors(400, 403, 413, 415)})(handlers.rename_peer)
peers_api.put("/<node_id>/delivery", responses={200: PeerDetail, **errors(400, 403, 413, 415)})(
    handlers.set_peer_delivery)
peers_api.delete("/<node_id>", responses={200: PeerRemoved, **errors(400, 403, 415)})(handlers.remove_peer)

outbox_api = api_blueprint("outbox_api", __name__, "/outbox", tag="outbox", write_roles=services.ADMIN,
                           description="The federation outbox: messages this node wrote or passed on, pending, "
                                       "delivered or dead-lettered, and retrying a dead letter; reading needs the role "
                                       "admin or office, retrying the role admin.")
outbox_api.get("", responses={200: OutboxList, **errors(400, 403)})(roles(*READERS)(handlers.list_outbox))
outbox_api.get("/<int:outbox_id>", responses={200: OutboxDetail, **errors(403, 404)})(
    roles(*READERS)(handlers.show_outbox))
outbox_api.post("/<int:outbox_id>/retry", responses={200: OutboxDetail, **errors(400, 403, 404, 415)})(
    handlers.retry_outbox)

bundles_api = api_blueprint("bundles_api", __name__, "/bundles", tag="bundles", write_roles=services.ADMIN,
                            description="Bundle files for neighbours without a network (docs/bundles.md): writing "
                                        "the messages waiting for one into a signed file, importing one through the "
                                        "inbox's checks; the role admin.")
bundles_api.post("/export", responses={200: BundleFile, **errors(400, 403, 413, 415)})(handlers.export_bundle)
bundles_api.post("/import", responses={200: BundleReport, **errors(400, 401, 403, 409, 413, 415)},
                 openapi_extensions={"requestBody": {"required": True, "description": "a bundle file",
                                                     "content": {"application/json": {"schema": {"type": "object"}}}}})(
    auth.request_limit(lambda config: bundles.MAX_BYTES)(raw_body("application/json")(handlers.import_bundle)))

audit_api = api_blueprint("audit_api", __name__, "/audit", tag="audit", write_roles=services.ADMIN,
                          description="The node's hash-chained audit log: browsing it and verifying the chain; the "
                                      "role admin or office.")
audit_api.get("", responses={200: AuditList, **errors(400, 403)})(roles(*READERS)(handlers.list_audit))
audit_api.get("/verify", responses={200: AuditVerified, **errors(400, 403)})(roles(*READERS)(handlers.verify_audit))

# -- /admin ------------------------------------------------------------------------------------------------

pages = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates")
pages.context_processor(views.template_helpers)

reader = auth.roles_required(services.READERS)
admin = auth.roles_required(services.ADMIN)
pages.add_url_rule("", "index", reader(views.index))
pages.add_url_rule("/peers", "peers", reader(views.peers_index))
pages.add_url_rule("/peers", "peers_add", admin(views.peers_add), methods=["POST"])
pages.add_url_rule("/peers/<node_id>/name", "peers_rename", admin(views.peers_rename), methods=["POST"])
pages.add_url_rule("/peers/<node_id>/delivery", "peers_delivery", admin(views.peers_delivery), methods=["POST"])
pages.add_url_rule("/bundles", "bundles", reader(views.bundles_index))
pages.add_url_rule("/bundles/export", "bundles_export", admin(views.bundles_export), methods=["POST"])
pages.add_url_rule("/bundles/import", "bundles_import", admin(auth.request_limit(lambda config: bundles.MAX_BYTES)(
    views.bundles_import)), methods=["POST"])
pages.add_url_rule("/peers/<node_id>/remove", "peers_remove", admin(views.peers_remove), methods=["POST"])
pages.add_url_rule("/outbox", "outbox", reader(views.outbox_index))
pages.add_url_rule("/outbox/<int:outbox_id>", "outbox_show", reader(views.outbox_show))
pages.add_url_rule("/outbox/<int:outbox_id>/retry", "outbox_retry", admin(views.outbox_retry), methods=["POST"])
pages.add_url_rule("/audit", "audit", reader(views.audit_index))
pages.add_url_rule("/audit/verify", "audit_verify", reader(views.audit_verify), methods=["POST"])

# -- /metrics (Prometheus; neither signed in nor CSRF-checked: its own rule, core/admin/metrics.py) --------

metrics_bp = Blueprint("metrics", __name__)
metrics_bp.add_url_rule("/metrics", "metrics", metrics.metrics)
metrics_bp.before_app_request(metrics.request_started)
metrics_bp.after_app_request(metrics.request_answered)
