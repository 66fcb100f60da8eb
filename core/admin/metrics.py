"""The node's Prometheus metrics at ``/metrics``: each neighbour's health (``federation/health.py``), the outbox by
destination and status, the inbox, the topics by stage and the node's own facts, read from the database at
scrape time. Nothing is counted in memory: a node runs several gunicorn workers, and whichever one answers a
scrape reads the same rows.

Request counts and durations are the exception, kept by each process: they are recorded and exported only in
prometheus-client's multiprocess mode, which ``shangliang serve`` sets up for its gunicorn workers
(``PROMETHEUS_MULTIPROC_DIR``, core/serve.py), so that a scrape sums every worker's files; elsewhere (one app in
a test, a command) there are none rather than one worker's share.

Who may scrape: with ``SHANGLIANG_METRICS_TOKEN`` set, whoever sends ``Authorization: Bearer <token>``;
without it, only a direct request (no ``X-Forwarded-For`` or ``Forwarded``: a reverse proxy on the same host
would make every visitor look local) from an address in ``[metrics] allow`` (loopback by default)."""

from __future__ import annotations

import hmac
import ipaddress
import os
import time
from typing import Any, Callable, Iterator

import flask
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    multiprocess,
    values,
)
from prometheus_client.core import GaugeMetricFamily, InfoMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector
from shangliang.core.context import NodeContext
from shangliang.core.plugins import core_version
from shangliang.federation.health import health
from shangliang.federation.ids import now_ms
from shangliang.federation.models import FederationAlert, InboxTransfer, OutboxMessage
from sqlalchemy import func, select
from sqlalchemy.orm import Session

#: The statuses an outbox row has (federation/models.py); each neighbour gets all three, 0 when it has none.
OUTBOX_STATUSES = ("pending", "sent", "dead")
#: ``[metrics] allow`` by default: the node's own host.
LOOPBACK = ["127.0.0.1/8", "::1/128"]
PROXY_HEADERS = ("X-Forwarded-For", "X-Real-IP", "Forwarded")
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def _seconds(ms: int | None) -> float | None:
    return None if ms is None else ms / 1000.0


class NodeCollector(Collector):
    """The node's metrics, computed from a session of their own each time they are collected."""

    def __init__(self, new_session: Callable[[], Session], node: NodeContext, version: str):
        self.new_session = new_session
        self.node = node
        self.version = version

    def collect(self) -> Iterator[Metric]:
        session = self.new_session()
        try:
            yield from self._collect(session, now_ms())
        finally:
            session.close()

    def _collect(self, session: Session, now: int) -> Iterator[Metric]:
        info = InfoMetricFamily("shangliang_node", "This node: its id (division code), level and software version.")
        info.add_metric([], {"node": self.node.id, "level": self.node.level, "version": self.version})
        yield info

        peers = health(session, now)
        label = ["peer"]
        gauges: dict[str, GaugeMetricFamily] = {
            "info": GaugeMetricFamily("shangliang_peer_info", "A pinned neighbour (always 1), with its relation "
                                      "and name.", labels=["peer", "relation", "name"]),
            "ok": GaugeMetricFamily("shangliang_peer_ok", "1 when the neighbour shows no problem (no dead letters, "
                                    "no hold, no failures, no clock skew), else 0.", labels=label),
            "failures": GaugeMetricFamily("shangliang_peer_delivery_failures", "Consecutive failed deliveries to "
                                          "the neighbour (0 after a success).", labels=label),
            "held": GaugeMetricFamily("shangliang_peer_held_until_timestamp_seconds", "Until when delivery to the "
                                      "neighbour is held back after failures (Unix time); 0 when it is not held.",
                                      labels=label),
            "contact": GaugeMetricFamily("shangliang_peer_last_contact_age_seconds", "Seconds since the last "
                                         "contact with the neighbour (a transfer received from it, a message "
                                         "delivered to it); absent when there was none.", labels=label),
            "key": GaugeMetricFamily("shangliang_peer_key_age_seconds", "Seconds since the neighbour's current "
                                     "key was pinned (paired, or rotated to).", labels=label),
            "skew": GaugeMetricFamily("shangliang_peer_clock_skew_seconds", "The latest transfer from the "
                                      "neighbour: received here minus signed there (positive: delivery time or its "
                                      "clock behind; negative: its clock ahead); absent before the first.",
                                      labels=label),
            "skew_max": GaugeMetricFamily("shangliang_peer_clock_skew_max_abs_seconds", "The largest |skew| among "
                                          "the neighbour's latest transfers (federation/health.py SKEW_SAMPLE).",
                                          labels=label),
        }
        outbox = GaugeMetricFamily("shangliang_outbox_messages", "Outbox messages by destination and status: "
                                   "pending (waiting or retrying), sent, dead (dead-lettered).",
                                   labels=["destination", "status"])
        counted = {(d, s): n for d, s, n in session.execute(
            select(OutboxMessage.destination, OutboxMessage.status, func.count())
            .group_by(OutboxMessage.destination, OutboxMessage.status))}
        for peer in peers:
            pid = peer["id"]
            gauges["info"].add_metric([pid, peer["relation"], peer["name"] or ""], 1)
            gauges["ok"].add_metric([pid], 1 if peer["ok"] else 0)
            gauges["failures"].add_metric([pid], peer["failures"] or 0)
            gauges["held"].add_metric([pid], _seconds(peer["held_until_ms"]) or 0)
            if peer["last_contact_ms"] is not None:
                gauges["contact"].add_metric([pid], max(0, now - peer["last_contact_ms"]) / 1000.0)
            if peer["key_age_ms"] is not None:
                gauges["key"].add_metric([pid], peer["key_age_ms"] / 1000.0)
            if peer["clock_skew"]["latest_ms"] is not None:
                gauges["skew"].add_metric([pid], peer["clock_skew"]["latest_ms"] / 1000.0)
                gauges["skew_max"].add_metric([pid], peer["clock_skew"]["max_abs_ms"] / 1000.0)
            for status in OUTBOX_STATUSES:
                counted.setdefault((pid, status), 0)
        for (destination, status), count in sorted(counted.items()):
            outbox.add_metric([destination, status], count)
        yield from gauges.values()
        yield outbox

        inbox = GaugeMetricFamily("shangliang_inbox_transfers", "Transfers accepted into the inbox and still kept, "
                                  "by the neighbour that sent them.", labels=["sender"])
        for sender, count in session.execute(select(InboxTransfer.sender, func.count())
                                             .group_by(InboxTransfer.sender).order_by(InboxTransfer.sender)):
            inbox.add_metric([sender], count)
        yield inbox
        alerts = GaugeMetricFamily("shangliang_federation_alerts", "Federation alerts recorded (a neighbour's "
                                   "message refused for a conflict, a bad route…), by code.", labels=["code"])
        for code, count in session.execute(select(FederationAlert.code, func.count())
                                           .group_by(FederationAlert.code).order_by(FederationAlert.code)):
            alerts.add_metric([code], count)
        yield alerts

        from shangliang.core.topics.models import Topic

        topics = GaugeMetricFamily("shangliang_topics", "Topics this node holds, by stage.", labels=["stage"])
        for stage, count in session.execute(select(Topic.stage, func.count()).group_by(Topic.stage)
                                            .order_by(Topic.stage)):
            topics.add_metric([stage], count)
        yield topics


# -- requests, across gunicorn's worker processes ---------------------------------------------------------------


def multiprocess_mode() -> bool:
    """Whether this process writes its request metrics where every worker's are summed: the directory is set,
    and prometheus-client was imported after it was (it chooses how values are kept once, on import)."""
    return bool(os.environ.get(MULTIPROC_ENV)) and values.ValueClass is not values.MutexValue


_REQUEST_METRICS: dict[str, Any] = {}


def _request_metrics() -> tuple[Counter, Histogram]:
    if not _REQUEST_METRICS:  # registered nowhere: a scrape reads them from the directory
        _REQUEST_METRICS["count"] = Counter("shangliang_http_requests", "Requests answered by the web app, by "
                                            "method, URL rule (endpoint; none for a URL that matches none) and "
                                            "status.", ["method", "endpoint", "status"], registry=None)
        _REQUEST_METRICS["duration"] = Histogram("shangliang_http_request_duration_seconds", "How long the web "
                                                 "app took to answer, by method and URL rule.",
                                                 ["method", "endpoint"], registry=None)
    return _REQUEST_METRICS["count"], _REQUEST_METRICS["duration"]


def request_started() -> None:
    flask.g.metrics_started = time.perf_counter()


def request_answered(response: flask.Response) -> flask.Response:
    started = flask.g.get("metrics_started")
    if started is None or not multiprocess_mode():
        return response
    rule = flask.request.url_rule
    endpoint = rule.endpoint if rule is not None else "none"
    count, duration = _request_metrics()
    count.labels(flask.request.method, endpoint, str(response.status_code)).inc()
    duration.labels(flask.request.method, endpoint).observe(time.perf_counter() - started)
    return response


# -- who may scrape -----------------------------------------------------------------------------------------


def check_allow(value: Any) -> str | None:
    """``[metrics] allow``: a list of addresses or networks (``127.0.0.1``, ``10.0.0.0/8``, ``::1``)."""
    if not isinstance(value, list):
        return f"must be a list of addresses or networks, not {str(value)[:40]!r}"
    for item in value:
        try:
            ipaddress.ip_network(str(item), strict=False)
        except ValueError:
            return f"{str(item)[:40]!r} is not an address or network (e.g. 127.0.0.1 or 10.0.0.0/8)"
    return None


def refusal(config: Any, request: flask.Request) -> tuple[int, str] | None:
    """Why ``request`` may not read the metrics, as (status, reason), or None when it may."""
    token = config.get("METRICS_TOKEN")
    if token:
        sent = request.headers.get("Authorization", "")
        scheme, _, given = sent.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), str(token).encode()):
            return 401, "a bearer token is required (Authorization: Bearer <SHANGLIANG_METRICS_TOKEN>)"
        return None
    if any(request.headers.get(h) for h in PROXY_HEADERS):
        return 403, "forwarded by a proxy: set SHANGLIANG_METRICS_TOKEN to scrape through one"
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return 403, "unknown address"
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    allowed = [ipaddress.ip_network(str(n), strict=False) for n in config.get("METRICS_ALLOW") or []]
    if not any(address.version == net.version and address in net for net in allowed):
        return 403, f"{address} is not in [metrics] allow"
    return None


def metrics():
    """``GET /metrics``: the Prometheus text format (OpenMetrics when the scraper asks for it), or 401/403 in plain
    text."""
    from shangliang.core.context import node_context
    from shangliang.core.db import get_db

    refused = refusal(flask.current_app.config, flask.request)
    if refused:
        status, reason = refused
        response = flask.Response(reason + "\n", status=status, mimetype="text/plain")
        if status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    registry = CollectorRegistry(auto_describe=False)
    registry.register(NodeCollector(get_db().new_session, node_context(), core_version()))
    if multiprocess_mode():
        multiprocess.MultiProcessCollector(registry)  # every gunicorn worker's request metrics, summed
    # the text format Prometheus asks for in Accept (OpenMetrics, or the classic text format otherwise)
    encode, content_type = choose_encoder(flask.request.headers.get("Accept", ""))
    response = flask.Response(encode(registry), status=200)
    response.headers["Content-Type"] = content_type
    response.headers["Cache-Control"] = "no-store"
    return response
