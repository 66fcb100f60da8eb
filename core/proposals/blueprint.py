"""The proposals URL table: the pages under /proposals and the JSON API under /api/v1/proposals, with what each
API operation answers (the OpenAPI document is generated from this table)."""

from __future__ import annotations

from flask import Blueprint

from shangliang.core.web import auth
from shangliang.core.web.api import api_blueprint, error_response, errors, roles

from . import api as handlers, services, statistics_web, views
from .errors import NotAllowed
from .schemas import ProposalAnswer, ProposalForwardAnswer, ProposalList, ProposalPublicList, ProposalStandards

WRITE = errors(400, 403, 404, 409, 413, 415)

# -- /api/v1/proposals ------------------------------------------------------------------------------------

api = api_blueprint("proposals_api", __name__, "/proposals", tag="proposals", write_roles=services.OFFICE,
                    description="Proposals (提案): submitted by members (with co-signers who confirm) or bodies, the "
                                "filing review (立案审查), handling units with deadlines, replies, contacts, the "
                                "proposer's satisfaction, supervision (督办), publication and closing. Reading needs "
                                "any user of this node (each sees what is theirs to see); each step names the roles "
                                "that take it, and the service checks the person (the proposer, a co-signer, an "
                                "assigned unit's contact).")
# A refusal of who asks (not the proposer, not an assigned unit, not the office): 403 forbidden.
api.register_error_handler(NotAllowed, lambda exc: error_response(403, "forbidden", str(exc)))

SUBMITTERS, MEMBERS, UNITS = (tuple(sorted(r)) for r in (services.SUBMITTERS, services.MEMBERS, services.UNITS))
RECORDERS = tuple(sorted(services.CONTACT_RECORDERS))

api.get("", responses={200: ProposalList, **errors(400)})(handlers.list_proposals)
api.post("", responses={201: ProposalAnswer, **errors(400, 403, 413, 415)})(roles(*SUBMITTERS)(handlers.submit_proposal))
api.post("/from-topic", responses={201: ProposalAnswer, **WRITE})(handlers.proposal_from_topic)
api.get("/public", responses={200: ProposalPublicList})(handlers.public_proposals)
api.get("/standards", responses={200: ProposalStandards})(handlers.filing_standards)
api.get("/<ref>", responses={200: ProposalAnswer, **errors(404)})(handlers.show_proposal)
api.post("/<ref>/signers/confirm", responses={200: ProposalAnswer, **WRITE})(roles(*MEMBERS)(handlers.confirm_signature))
api.post("/<ref>/revision", responses={200: ProposalAnswer, **WRITE})(roles(*SUBMITTERS)(handlers.revise_proposal))
api.post("/<ref>/review", responses={200: ProposalAnswer, **WRITE})(handlers.review_proposal)
api.post("/<ref>/flags", responses={200: ProposalAnswer, **WRITE})(handlers.set_flags)
api.post("/<ref>/assignments", responses={200: ProposalAnswer, **WRITE})(handlers.assign_units)
api.post("/<ref>/reassignment-requests", responses={201: ProposalAnswer, **WRITE})(
    roles(*UNITS)(handlers.request_reassignment))
api.post("/<ref>/reassignment-requests/<int:request_id>/decision", responses={200: ProposalAnswer, **WRITE})(
    handlers.decide_reassignment)
api.post("/<ref>/replies", responses={201: ProposalAnswer, **WRITE})(roles(*UNITS)(handlers.reply))
api.post("/<ref>/contacts", responses={201: ProposalAnswer, **WRITE})(roles(*RECORDERS)(handlers.record_contact))
api.post("/<ref>/ratings", responses={201: ProposalAnswer, **WRITE})(roles(*SUBMITTERS)(handlers.rate))
api.post("/<ref>/supervision", responses={201: ProposalAnswer, **WRITE})(handlers.supervise)
api.post("/<ref>/publication", responses={200: ProposalAnswer, **WRITE})(handlers.publish)
api.post("/<ref>/close", responses={200: ProposalAnswer, **WRITE})(handlers.close)
# Across levels: the proposer's consent, forwarding to the parent node.
api.post("/<ref>/consent", responses={200: ProposalAnswer, **WRITE})(roles(*SUBMITTERS)(handlers.consent_to_forwarding))
api.post("/<ref>/forward", responses={200: ProposalForwardAnswer, **WRITE})(handlers.forward_proposal)

# -- /proposals -------------------------------------------------------------------------------------------

pages = Blueprint("proposals", __name__, url_prefix="/proposals", template_folder="templates")
pages.context_processor(views.template_helpers)
# the topic's page shows the proposals made from its result (and the office's form that makes one)
pages.app_context_processor(views.topic_page_helpers)

office = auth.roles_required(services.OFFICE)
submitter = auth.roles_required(services.SUBMITTERS)
member = auth.roles_required(services.MEMBERS)
unit = auth.roles_required(services.UNITS)
pages.add_url_rule("", "index", auth.login_required(views.index))
pages.add_url_rule("", "submit", submitter(views.submit), methods=["POST"])
pages.add_url_rule("/new", "new", submitter(views.new))
pages.add_url_rule("/mine", "mine", auth.login_required(views.mine))
pages.add_url_rule("/assigned", "assigned", auth.login_required(views.assigned))
pages.add_url_rule("/public", "public", views.public)
pages.add_url_rule("/<ref>", "show", auth.login_required(views.show))
pages.add_url_rule("/<ref>/office", "office_act", office(views.office_act), methods=["POST"])
pages.add_url_rule("/<ref>/proposer", "proposer_act", member(views.proposer_act), methods=["POST"])
pages.add_url_rule("/from-topic", "from_topic", office(views.from_topic), methods=["POST"])
pages.add_url_rule("/<ref>/consent", "consent", submitter(views.consent), methods=["POST"])
pages.add_url_rule("/<ref>/forward", "forward", office(views.forward), methods=["POST"])
pages.add_url_rule("/<ref>/unit", "unit_act", unit(views.unit_act), methods=["POST"])
# /proposals/statistics (with ?format=xlsx) and /api/v1/proposals/statistics: see statistics_web.py
statistics_web.register(api, pages)
