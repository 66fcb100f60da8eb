"""The administration JSON API: /api/v1/peers, /api/v1/outbox, /api/v1/bundles and /api/v1/audit. Each handler takes the
validated request, calls one service and answers JSON; the URL table is in ``blueprint.py``."""

from __future__ import annotations

from shangliang.core import audit
from shangliang.core.context import node_context
from shangliang.core.db import get_session, transaction
import flask
from shangliang.core.web.api import actor, error_response, json_response
from shangliang.federation import bundles, outbox, peers
from shangliang.federation.errors import BundleRefused

from . import services
from .schemas import (
    AuditQuery,
    BundleExportIn,
    AuditVerifyQuery,
    OutboxPath,
    OutboxQuery,
    PeerIn,
    PeerPath,
    PeerDelivery,
    PeerRename,
)


def list_peers():
    """List the neighbours.

    This node's own pairing data (`own.line` is the line to give a neighbour) and every pinned neighbour with its
    keys and delivery state.
    """
    session = get_session()
    return json_response({"own": services.own_pairing(session, node_context()),
                          "peers": [peers.peer_dict(p) for p in peers.list_peers(session)]})


def peers_health():
    """Health of the neighbours.

    For each pinned neighbour: last contact (the last transfer received from it, the last message delivered to
    it), messages pending and dead-lettered, delivery held back after failures, the age of its pinned key and
    the clock skew its hops show (`shangliang peers health --json`).
    """
    return json_response({"peers": services.peers_health(get_session())})


def add_peer(body: PeerIn):
    """Pin a neighbour.

    Pin the neighbour a pasted pairing line names (the same rules as `shangliang peers add`): its id must be
    this node's parent or child by their codes (or `relation` given for a non-standard id), its URL http(s),
    its key `ed25519:<id>:<base64url>`.
    """
    with transaction(actor()) as session:
        peer = services.add_peer(session, node_context(), body.pairing, body.relation, body.name, body.delivery)
        data = peers.peer_dict(peer)
    return json_response({"peer": data}, 201)


def rename_peer(path: PeerPath, body: PeerRename):
    """Name a neighbour.

    Give a pinned neighbour its committee's name (null forgets it), as `shangliang peers name`.
    """
    with transaction(actor()) as session:
        peer = peers.set_name(session, path.node_id, body.name)
        data = peers.peer_dict(peer)
    return json_response({"peer": data})


def set_peer_delivery(path: PeerPath, body: PeerDelivery):
    """Reach a neighbour over HTTP or by bundle files.

    `http`: the delivery worker POSTs its messages to its URL; `bundle`: never tried over HTTP, its messages
    wait for a bundle export (`shangliang peers delivery`, docs/bundles.md).
    """
    with transaction(actor()) as session:
        peer = peers.set_delivery(session, path.node_id, body.delivery)
        data = peers.peer_dict(peer)
    return json_response({"peer": data})


def remove_peer(path: PeerPath):
    """Unpin a neighbour.

    Forget a neighbour and its keys (`shangliang peers remove`): nothing more is accepted from it or sent to it.
    """
    with transaction(actor()) as session:
        peers.remove_peer(session, path.node_id)
    return json_response({"removed": path.node_id})


def list_outbox(query: OutboxQuery):
    """List outbox messages.

    Messages this node wrote or passed on, the newest first: pending, sent or dead-lettered (`status`), to one
    neighbour (`to`).
    """
    found = outbox.page_messages(get_session(), query.status, query.to, query.limit, query.cursor)
    return json_response({"messages": [outbox.message_dict(r) for r in found.items], "next_cursor": found.next_cursor})


def show_outbox(path: OutboxPath):
    """Inspect an outbox message.

    Its kind, destination, status, attempts and last error, with a summary of its envelope (origin, id, body
    fields, each hop) — not its signatures.
    """
    return json_response({"message": services.message(get_session(), path.outbox_id)})


def retry_outbox(path: OutboxPath):
    """Retry a dead letter.

    Queue a dead-lettered message again (`shangliang outbox retry`), audited as `outbox.retry`; refused unless it
    is dead and its transfer has not expired.
    """
    with transaction(actor()) as session:
        outbox.retry(session, path.outbox_id)
    return json_response({"message": services.message(get_session(), path.outbox_id)})


def export_bundle(body: BundleExportIn):
    """Write a bundle file.

    The messages waiting in the outbox for the neighbour `to` (with `again`, also those handed over in an
    earlier bundle), in one file signed by this node (`shangliang bundle export`, docs/bundles.md); they are
    marked handed over. The answer is the file itself (`Content-Disposition: attachment`). Refused (400) when no
    message waits.
    """
    with transaction(actor()) as session:
        exported = bundles.export(session, node_context(), body.to, body.again)
    if exported.empty:
        raise exported.nothing_waits(body.again)
    return flask.Response(exported.data, 200, mimetype="application/json",
                          headers={"Content-Disposition": f'attachment; filename="{bundles.file_name(exported)}"'})


def import_bundle():
    """Import a bundle file.

    The body is a bundle file (`shangliang bundle import`, docs/bundles.md). Refused whole, nothing applied,
    with a named code: `bundle_malformed` (400), `bundle_for_another_node`, `bundle_not_from_a_peer` (403),
    `bundle_bad_signature`, `bundle_tampered` (401), `bundle_replayed` (409, every message imported before;
    `report` beside the error). Otherwise every message goes through the inbox and the report says of each:
    accepted, duplicate (nothing applied again) or refused with its protocol error code.
    """
    session = get_session()
    session.info["actor"] = actor()
    try:
        report = bundles.import_bundle(flask.current_app._get_current_object(), session, flask.request.get_data())
    except BundleRefused as exc:
        response = error_response(exc.status, exc.code, exc.message, "bundle")
        if exc.report is not None:
            body = response.get_json()
            body["report"] = exc.report
            return json_response(body, exc.status)
        return response
    return json_response(report)


def list_audit(query: AuditQuery):
    """Browse the audit log.

    The hash-chained audit rows, the newest first, a page at a time (`action` filters).
    """
    found = audit.page_events(get_session(), query.action, query.limit, query.cursor)
    return json_response({"events": [audit.event_dict(r) for r in found.items], "next_cursor": found.next_cursor})


def verify_audit(query: AuditVerifyQuery):
    """Verify the audit log.

    Walk the chain from its first row and report the first row edited, inserted or deleted (`shangliang audit
    verify`); with `against_parent`, also check it reaches the head the parent keeps.
    """
    return json_response(services.verify_audit(get_session(), node_context(), query.against_parent))
